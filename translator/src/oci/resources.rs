//! `linux.resources` → rctl(8) rules. containerd, nerdctl and podman write
//! their limits there on every OS (`ctr run --memory-limit`, `--cpus`,
//! nerdctl `--memory`, `--pids-limit`); each limit with a FreeBSD
//! equivalent becomes a rule (runtime-spec config-linux.md "Control
//! groups" for the fields' meaning):
//!
//! | field | rule |
//! |---|---|
//! | `memory.limit` | `memoryuse:deny=LIMIT` |
//! | `memory.swap` (memory plus swap) | `swapuse:deny=SWAP-LIMIT` |
//! | `pids.limit` | `maxproc:deny=LIMIT` |
//! | `cpu.quota` / `cpu.period` | `pcpu:deny=⌈100·QUOTA/PERIOD⌉` (percent of one CPU) |
//! | `blockIO.throttle{Read,Write}{Bps,IOPS}Device` | `{read,write}{bps,iops}:throttle=RATE` |
//!
//! An rctl rule covers the whole jail, not one device, so the throttles of
//! several devices must agree on one rate. Unlimited values (`-1`, and `0`
//! where runc reads it as unset) give no rule. containerd's default device
//! rules and CPU weight pass; every other field is unsupported, named by
//! its JSON path.

use serde_json::Value as Json;

use super::report::Report;
use crate::rctl::{Rule, Rules};

/// runc's CFS period when a quota comes alone (libcontainer/cgroups/fs
/// cpu.go: the kernel's default, 100 ms).
const DEFAULT_PERIOD: u64 = 100_000;

/// The kernel's default CPU weight, which `ctr run` writes.
const DEFAULT_SHARES: u64 = 1024;

/// The character devices containerd allows by default (`ctr run`:
/// pkg/oci `WithDefaultUnixDevices`): null, random, full, tty, zero,
/// urandom, console, the ptys and ptmx, as (major, minor); `None` is any
/// minor. A jail's devfs ruleset 4 shows it these.
const DEFAULT_DEVICES: &[(u64, Option<u64>)] = &[
    (1, Some(3)),
    (1, Some(8)),
    (1, Some(7)),
    (5, Some(0)),
    (1, Some(5)),
    (1, Some(9)),
    (5, Some(1)),
    (136, None),
    (5, Some(2)),
];

/// The block-IO throttles and the resource each becomes.
const THROTTLES: &[(&str, &str)] = &[
    ("throttleReadBpsDevice", "readbps"),
    ("throttleWriteBpsDevice", "writebps"),
    ("throttleReadIOPSDevice", "readiops"),
    ("throttleWriteIOPSDevice", "writeiops"),
];

/// The rules of a running container after runc's `update --resources`
/// (the JSON of `linux.resources`): only the limits the update names
/// change (runc update.go), each replacing its resource's `deny` or
/// `throttle` rule; an unlimited value (`-1`) removes it. Errors name the
/// field (`resources.memory.limit`); a field runj cannot honour is one, or,
/// when unsupported fields are allowed, a warning returned with the rules
/// (the CRI's updates carry a CPU weight, for one).
pub fn updated(
    current: &Rules,
    resources: &Json,
    allow_unsupported: bool,
) -> Result<(Rules, Vec<String>), Vec<String>> {
    let mut report = Report::new(allow_unsupported);
    let given = rules(resources, "resources", &mut report);
    if report.diagnostics.has_errors() {
        return Err(report.diagnostics.messages());
    }
    let warnings = report.diagnostics.messages();
    let named = named(resources);
    let mut next: Rules = current
        .iter()
        .filter(|r| {
            let limit = matches!(r.action(), "deny" | "throttle") && r.per() == "jail";
            !(limit && named.contains(&r.resource()))
        })
        .cloned()
        .collect();
    for rule in given {
        next.add(rule);
    }
    Ok((next, warnings))
}

/// The resources whose limits a `linux.resources` document gives.
fn named(resources: &Json) -> Vec<&'static str> {
    let has = |path: &[&str]| {
        path.iter()
            .try_fold(resources, |v, key| v.get(*key))
            .is_some_and(|v| !v.is_null())
    };
    let mut named: Vec<&'static str> = [
        (&["memory", "limit"][..], "memoryuse"),
        (&["memory", "swap"][..], "swapuse"),
        (&["pids", "limit"][..], "maxproc"),
        (&["cpu", "quota"][..], "pcpu"),
    ]
    .into_iter()
    .filter(|(path, _)| has(path))
    .map(|(_, resource)| resource)
    .collect();
    named.extend(
        THROTTLES
            .iter()
            .filter(|(field, _)| has(&["blockIO", field]))
            .map(|(_, resource)| *resource),
    );
    named
}

/// The rules `linux.resources` (at `at`) asks for; what cannot be honoured
/// is reported.
pub(super) fn rules(value: &Json, at: &str, report: &mut Report) -> Vec<Rule> {
    let mut rules = Vec::new();
    let Some(fields) = value.as_object() else {
        report.unsupported(at, "not an object");
        return rules;
    };
    for (key, value) in fields {
        let at = format!("{at}.{key}");
        let mut walk = Walk {
            at: &at,
            report,
            rules: &mut rules,
        };
        match key.as_str() {
            "devices" => devices(value, &at, walk.report),
            "memory" => walk.memory(value),
            "cpu" => walk.cpu(value),
            "pids" => walk.object(value, |w, key, v| match key {
                "limit" => w.limit("maxproc", v),
                _ => w.other(key),
            }),
            "blockIO" => walk.block_io(value),
            _ => report.unsupported(&at, "rctl has no equivalent of this resource"),
        }
    }
    rules
}

/// One object of `linux.resources` being translated.
struct Walk<'a> {
    at: &'a str,
    report: &'a mut Report,
    rules: &'a mut Vec<Rule>,
}

impl Walk<'_> {
    /// Each field of an object, or an error if it is not one.
    fn object(&mut self, value: &Json, mut field: impl FnMut(&mut Self, &str, &Json)) {
        match value.as_object() {
            Some(fields) => fields
                .iter()
                .filter(|(_, v)| !v.is_null())
                .for_each(|(k, v)| field(self, k, v)),
            None => self.report.error(self.at, "not an object"),
        }
    }

    fn other(&mut self, key: &str) {
        self.report.unsupported(
            format!("{}.{key}", self.at),
            "rctl has no equivalent of this limit",
        );
    }

    fn rule(&mut self, key: &str, resource: &str, action: &str, amount: u64) {
        match Rule::new(resource, action, amount) {
            Ok(rule) => self.rules.push(rule),
            Err(e) => self
                .report
                .error(format!("{}.{key}", self.at), e.to_string()),
        }
    }

    /// A number of `at.key`, or an error.
    fn number(&mut self, key: &str, value: &Json) -> Option<i64> {
        let n = value.as_i64();
        if n.is_none() {
            self.report
                .error(format!("{}.{key}", self.at), "not an integer");
        }
        n
    }

    /// A limit where `0` and below mean none (runc's reading).
    fn limit(&mut self, resource: &str, value: &Json) {
        if let Some(n) = self.number("limit", value).filter(|n| *n > 0) {
            self.rule("limit", resource, "deny", n as u64);
        }
    }

    fn memory(&mut self, value: &Json) {
        let mut limit = None;
        let mut swap = None;
        self.object(value, |w, key, v| match key {
            "limit" => limit = w.number(key, v).filter(|n| *n > 0),
            "swap" => swap = w.number(key, v).filter(|n| *n >= 0),
            _ => w.other(key),
        });
        if let Some(limit) = limit {
            self.rule("limit", "memoryuse", "deny", limit as u64);
        }
        match (swap, limit) {
            (None, _) => {}
            (Some(swap), Some(limit)) if swap >= limit => {
                self.rule("swap", "swapuse", "deny", (swap - limit) as u64)
            }
            (Some(_), Some(_)) => self.report.error(
                format!("{}.swap", self.at),
                "memory plus swap is less than the memory limit",
            ),
            (Some(_), None) => self.report.error(
                format!("{}.swap", self.at),
                "a memory plus swap limit needs a memory limit (as runc)",
            ),
        }
    }

    fn cpu(&mut self, value: &Json) {
        let mut quota = None;
        let mut period = None;
        self.object(value, |w, key, v| match key {
            "shares" if v.as_u64() == Some(DEFAULT_SHARES) => {}
            "shares" => w.report.unsupported(
                format!("{}.shares", w.at),
                "a relative CPU weight has no rctl equivalent; limit with cpu.quota",
            ),
            "quota" => quota = w.number(key, v).filter(|n| *n > 0),
            "period" => period = w.number(key, v).filter(|n| *n > 0),
            _ => w.other(key),
        });
        if let Some(quota) = quota {
            let period = period.map_or(DEFAULT_PERIOD, |p| p as u64);
            let percent = (quota as u64 * 100).div_ceil(period);
            self.rule("quota", "pcpu", "deny", percent);
        }
    }

    fn block_io(&mut self, value: &Json) {
        self.object(value, |w, key, v| {
            match THROTTLES.iter().find(|(field, _)| *field == key) {
                Some((_, resource)) => w.throttle(key, resource, v),
                None => w.other(key),
            }
        });
    }

    /// One throttle list: one rate for the whole jail.
    fn throttle(&mut self, key: &str, resource: &str, list: &Json) {
        let rates: Option<Vec<u64>> = list.as_array().and_then(|devices| {
            devices
                .iter()
                .map(|d| d.get("rate").and_then(Json::as_u64))
                .collect()
        });
        let at = format!("{}.{key}", self.at);
        match rates.as_deref() {
            None => self
                .report
                .error(at, "not a list of devices with a numeric rate"),
            Some([]) => {}
            Some([rate, rest @ ..]) if rest.iter().all(|r| r == rate) => {
                self.rule(key, resource, "throttle", *rate)
            }
            Some(_) => self.report.unsupported(
                at,
                "rctl throttles the jail as a whole, and these devices have different rates",
            ),
        }
    }
}

/// `devices`: containerd's default device rules (deny all, then allow the
/// basic devices, which is what a jail's devfs ruleset 4 shows) pass.
fn devices(list: &Json, at: &str, report: &mut Report) {
    let Some(items) = list.as_array() else {
        return report.unsupported(at, "not a list");
    };
    for (i, rule) in items.iter().enumerate() {
        if !default_device_rule(rule) {
            report.unsupported(
                format!("{at}[{i}]"),
                "a device cgroup rule beyond containerd's defaults; the jail's devfs ruleset decides its devices",
            );
        }
    }
}

/// containerd's deny-all rule, or one of its default allowed devices.
fn default_device_rule(rule: &Json) -> bool {
    let Some(fields) = rule.as_object() else {
        return false;
    };
    if rule.get("access").and_then(Json::as_str) != Some("rwm") {
        return false;
    }
    match rule.get("allow") {
        Some(Json::Bool(false)) => fields.len() == 2,
        Some(Json::Bool(true)) => {
            let major = rule.get("major").and_then(Json::as_u64);
            let minor = rule.get("minor").and_then(Json::as_u64);
            rule.get("type").and_then(Json::as_str) == Some("c")
                && fields
                    .keys()
                    .all(|k| ["allow", "type", "major", "minor", "access"].contains(&k.as_str()))
                && DEFAULT_DEVICES
                    .iter()
                    .any(|(ma, mi)| major == Some(*ma) && minor == *mi)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn translated(resources: Json, allow: bool) -> (Vec<String>, Vec<String>) {
        let mut report = Report::new(allow);
        let rules = rules(&resources, "linux.resources", &mut report);
        (
            rules.iter().map(ToString::to_string).collect(),
            report.diagnostics.messages(),
        )
    }

    #[test]
    fn limits_become_rules() {
        let (rules, shown) = translated(
            json!({
                "memory": { "limit": 33554432, "swap": 67108864 },
                "cpu": { "shares": 1024, "quota": 50000, "period": 100000 },
                "pids": { "limit": 8 },
                "blockIO": {
                    "throttleReadBpsDevice": [{ "major": 8, "minor": 0, "rate": 1048576 }],
                    "throttleWriteIOPSDevice": [{ "major": 8, "minor": 0, "rate": 100 }, { "major": 8, "minor": 16, "rate": 100 }]
                }
            }),
            false,
        );
        assert!(shown.is_empty(), "{shown:?}");
        assert_eq!(
            rules,
            [
                "memoryuse:deny=33554432",
                "swapuse:deny=33554432",
                "pcpu:deny=50",
                "maxproc:deny=8",
                "readbps:throttle=1048576",
                "writeiops:throttle=100",
            ]
        );
    }

    #[test]
    fn a_quota_rounds_up_and_defaults_its_period() {
        let (rules, _) = translated(json!({ "cpu": { "quota": 20001 } }), false);
        assert_eq!(rules, ["pcpu:deny=21"]);
        let (rules, _) = translated(
            json!({ "cpu": { "quota": 250000, "period": 100000 } }),
            false,
        );
        assert_eq!(rules, ["pcpu:deny=250"]);
    }

    #[test]
    fn unlimited_values_give_no_rule() {
        let (rules, shown) = translated(
            json!({ "memory": { "limit": -1, "swap": -1 }, "pids": { "limit": 0 }, "cpu": { "quota": -1 } }),
            false,
        );
        assert!(rules.is_empty() && shown.is_empty(), "{rules:?} {shown:?}");
    }

    #[test]
    fn what_rctl_cannot_say_is_named() {
        let (rules, shown) = translated(
            json!({
                "memory": { "limit": 1024, "reservation": 512, "swappiness": 10 },
                "cpu": { "shares": 512, "cpus": "0-1" },
                "blockIO": { "weight": 10, "throttleReadBpsDevice": [
                    { "major": 8, "minor": 0, "rate": 1 }, { "major": 8, "minor": 16, "rate": 2 }] },
                "hugepageLimits": [],
                "unified": { "memory.high": "1" }
            }),
            false,
        );
        assert_eq!(rules, ["memoryuse:deny=1024"]);
        assert_eq!(
            shown,
            [
                "error: linux.resources.memory.reservation: rctl has no equivalent of this limit; runj cannot honour it",
                "error: linux.resources.memory.swappiness: rctl has no equivalent of this limit; runj cannot honour it",
                "error: linux.resources.cpu.shares: a relative CPU weight has no rctl equivalent; limit with cpu.quota; runj cannot honour it",
                "error: linux.resources.cpu.cpus: rctl has no equivalent of this limit; runj cannot honour it",
                "error: linux.resources.blockIO.weight: rctl has no equivalent of this limit; runj cannot honour it",
                "error: linux.resources.blockIO.throttleReadBpsDevice: rctl throttles the jail as a whole, and these devices have different rates; runj cannot honour it",
                "error: linux.resources.hugepageLimits: rctl has no equivalent of this resource; runj cannot honour it",
                "error: linux.resources.unified: rctl has no equivalent of this resource; runj cannot honour it",
            ]
        );
        let (_, shown) = translated(json!({ "memory": { "reservation": 512 } }), true);
        assert!(shown[0].starts_with("warning: linux.resources.memory.reservation"));
    }

    #[test]
    fn swap_needs_a_memory_limit_at_least_as_large() {
        let (_, shown) = translated(json!({ "memory": { "swap": 100 } }), false);
        assert_eq!(
            shown,
            [
                "error: linux.resources.memory.swap: a memory plus swap limit needs a memory limit (as runc)"
            ]
        );
        let (_, shown) = translated(json!({ "memory": { "limit": 200, "swap": 100 } }), false);
        assert_eq!(
            shown,
            ["error: linux.resources.memory.swap: memory plus swap is less than the memory limit"]
        );
        let (rules, _) = translated(json!({ "memory": { "limit": 100, "swap": 100 } }), false);
        assert_eq!(rules, ["memoryuse:deny=100", "swapuse:deny=0"]);
    }

    #[test]
    fn an_update_changes_only_what_it_names() {
        let current: Rules = [
            "memoryuse:deny=1g",
            "maxproc:deny=10",
            "maxproc:log=5",
            "openfiles:deny=100",
        ]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
        let (next, warnings) = updated(
            &current,
            &json!({ "memory": { "limit": 33554432 }, "pids": { "limit": -1 } }),
            false,
        )
        .unwrap();
        assert!(warnings.is_empty());
        let shown: Vec<String> = next.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "maxproc:log=5",
                "openfiles:deny=100",
                "memoryuse:deny=33554432"
            ]
        );
        assert_eq!(
            updated(&current, &json!({ "memory": { "kernel": 1 } }), false).unwrap_err(),
            [
                "error: resources.memory.kernel: rctl has no equivalent of this limit; runj cannot honour it"
            ]
        );
        // What the CRI sends: a CPU weight, which only unsupported fields
        // allowed let through, with a warning.
        let cri = json!({ "cpu": { "shares": 512 }, "memory": { "limit": 1048576 } });
        assert!(updated(&current, &cri, false).is_err());
        let (next, warnings) = updated(&current, &cri, true).unwrap();
        assert_eq!(next.denied("memoryuse"), Some(1048576));
        assert_eq!(
            warnings,
            [
                "warning: resources.cpu.shares: a relative CPU weight has no rctl equivalent; limit with cpu.quota; runj cannot honour it: dropped, as unsupported fields are allowed"
            ]
        );
    }

    #[test]
    fn bad_values_are_errors() {
        let (_, shown) = translated(
            json!({ "memory": { "limit": "1G" }, "pids": 5, "blockIO": { "throttleReadBpsDevice": [{ "major": 8 }] } }),
            false,
        );
        assert_eq!(
            shown,
            [
                "error: linux.resources.memory.limit: not an integer",
                "error: linux.resources.pids: not an object",
                "error: linux.resources.blockIO.throttleReadBpsDevice: not a list of devices with a numeric rate",
            ]
        );
    }
}
