//! ocijail's annotations, which configure a jail where ocijail does not read
//! the `freebsd` object (dfr/ocijail ocijail/create.cpp):
//!
//! - `org.freebsd.parentJail`: the parent jail, so the name is `PARENT.ID`;
//! - `org.freebsd.jail.vnet`: `new` → `vnet = new`; `inherit` → the host's
//!   (or parent's) network: `vnet = inherit` and `ip4`/`ip6 = inherit`;
//! - `org.freebsd.jail.ip4.addr`, `…ip6.addr` (also the misspelt
//!   `…ip6.add`): comma-separated numeric addresses, read unless vnet is
//!   `new`. ocijail pairs them with `ip4`/`ip6 = inherit`, which the kernel
//!   turns into `new` when addresses are given; the plan says `ip4.addr`
//!   alone, which means the same;
//! - `org.freebsd.jail.sysvmsg`, `.sysvsem`, `.sysvshm`: a mode;
//! - `org.freebsd.jail.allow.NAME`: `"true"` or `"1"` sets `allow.NAME` for
//!   the names ocijail accepts; any other value or name is reported and left
//!   alone, as ocijail does.
//!
//! ocijail's own defaults (`persist`, `enforce_statfs = 1`,
//! `allow.raw_sockets`, `allow.chflags`) are not bundle settings and are
//! not added.

use indexmap::IndexMap;

use super::jail::addresses;
use super::report::Report;
use super::tracked::Tracked;

pub(super) const PARENT: &str = "org.freebsd.parentJail";
const VNET: &str = "org.freebsd.jail.vnet";
const IP4: &str = "org.freebsd.jail.ip4.addr";
const IP6: &str = "org.freebsd.jail.ip6.addr";
/// The misspelling ocijail also accepts when `IP6` is absent.
const IP6_TYPO: &str = "org.freebsd.jail.ip6.add";
const SYSV: [&str; 3] = ["sysvmsg", "sysvsem", "sysvshm"];
const ALLOW_PREFIX: &str = "org.freebsd.jail.allow.";

/// The `allow.*` names ocijail accepts in annotations.
const ALLOWED: &[&str] = crate::trust::OCIJAIL_ALLOW;

/// How an annotation is named as a source.
pub(super) fn label(key: &str) -> String {
    format!("annotations[\"{key}\"]")
}

/// Applies ocijail's annotations to the plan.
pub(super) fn apply(annotations: &IndexMap<String, String>, t: &mut Tracked, report: &mut Report) {
    if let Some(parent) = annotations.get(PARENT) {
        t.set_parent(&label(PARENT), parent, report);
    }
    let vnet = annotations.get(VNET).map(String::as_str);
    let ip4 = annotations.get_key_value(IP4);
    let ip6 = annotations
        .get_key_value(IP6)
        .or(annotations.get_key_value(IP6_TYPO));
    if annotations.contains_key(IP6) && annotations.contains_key(IP6_TYPO) {
        report.warning(
            label(IP6_TYPO),
            format!("ignored: {IP6} is also given (as ocijail does)"),
        );
    }
    match vnet {
        None => {}
        Some("new") => t.param(&label(VNET), "vnet", &["new"], report),
        Some("inherit") => {
            t.param(&label(VNET), "vnet", &["inherit"], report);
            for (family, given) in [("ip4", ip4), ("ip6", ip6)] {
                if given.is_none() {
                    t.param(&label(VNET), family, &["inherit"], report);
                }
            }
        }
        Some(other) => report.error(
            label(VNET),
            format!("\"{other}\" is not valid here: use \"new\" or \"inherit\""),
        ),
    }
    for (given, v4) in [(ip4, true), (ip6, false)] {
        let Some((key, list)) = given else {
            continue;
        };
        if vnet == Some("new") {
            report.warning(
                label(key),
                format!("ignored: {VNET} is \"new\" (as ocijail does)"),
            );
            continue;
        }
        let texts: Vec<String> = list
            .split(',')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        addresses(t, &label(key), &texts, v4, report);
    }
    for name in SYSV {
        let key = format!("org.freebsd.jail.{name}");
        match annotations.get(&key).map(String::as_str) {
            None => {}
            Some(mode @ ("new" | "inherit" | "disable")) => {
                t.param(&label(&key), name, &[mode], report)
            }
            Some(other) => report.error(
                label(&key),
                format!("\"{other}\" is not valid here: use \"new\", \"inherit\" or \"disable\""),
            ),
        }
    }
    for (key, value) in annotations {
        if let Some(name) = key.strip_prefix(ALLOW_PREFIX) {
            allow(key, name, value, t, report);
        }
    }
}

fn allow(key: &str, name: &str, value: &str, t: &mut Tracked, report: &mut Report) {
    let param = format!("allow.{name}");
    if !ALLOWED.contains(&name) {
        report.warning(
            label(key),
            format!("{param} is not a parameter ocijail accepts here; ignored"),
        );
    } else if value == "true" || value == "1" {
        t.param(&label(key), &param, &[], report);
    } else {
        report.warning(
            label(key),
            format!("only \"true\" or \"1\" sets {param} (as in ocijail); left at its default"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Value;

    fn applied(pairs: &[(&str, &str)]) -> (Tracked, Vec<String>) {
        let annotations: IndexMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut t = Tracked::default();
        let mut report = Report::new(false);
        apply(&annotations, &mut t, &mut report);
        let shown = report.diagnostics.messages();
        (t, shown)
    }

    fn text(s: &str) -> Option<Value> {
        Some(Value::Mode(crate::plan::Mode::parse(s).unwrap()))
    }

    #[test]
    fn parent_vnet_sysv_allow() {
        let (t, shown) = applied(&[
            (PARENT, "pod"),
            (VNET, "new"),
            ("org.freebsd.jail.sysvshm", "inherit"),
            ("org.freebsd.jail.allow.mlock", "true"),
            ("org.freebsd.jail.allow.raw_sockets", "1"),
            ("org.freebsd.jail.allow.mount.tmpfs", "1"),
        ]);
        assert!(shown.is_empty(), "{shown:?}");
        assert_eq!(t.parent.as_deref(), Some("pod"));
        let p = |n: &str| t.plan.param(n).cloned();
        assert_eq!(p("vnet"), text("new"));
        assert_eq!(p("sysvshm"), text("inherit"));
        assert_eq!(p("allow.mlock"), Some(Value::Bool(true)));
        assert_eq!(p("allow.raw_sockets"), Some(Value::Bool(true)));
        assert_eq!(p("allow.mount.tmpfs"), Some(Value::Bool(true)));
    }

    #[test]
    fn inherit_shares_the_network_unless_addresses_are_given() {
        let (t, shown) = applied(&[(VNET, "inherit"), (IP6_TYPO, "fd00::1,,fd00::2")]);
        assert!(shown.is_empty(), "{shown:?}");
        assert_eq!(t.plan.param("ip4"), text("inherit").as_ref());
        assert_eq!(t.plan.param("ip6"), None);
        assert_eq!(t.plan.network.ip6.len(), 2);
        let (t, _) = applied(&[(IP4, "192.0.2.1")]);
        assert_eq!(t.plan.network.ip4.len(), 1);
        assert_eq!(t.plan.param("ip4"), None, "no vnet annotation: no mode");
    }

    #[test]
    fn reported_not_applied() {
        let (t, shown) = applied(&[
            (VNET, "new"),
            (IP4, "192.0.2.1"),
            (IP6, "fd00::1"),
            (IP6_TYPO, "fd00::2"),
            ("org.freebsd.jail.allow.mlock", "false"),
            ("org.freebsd.jail.allow.vmm", "true"),
        ]);
        assert!(t.plan.network.ip4.is_empty());
        assert_eq!(
            shown,
            [
                "warning: annotations[\"org.freebsd.jail.ip6.add\"]: ignored: org.freebsd.jail.ip6.addr is also given (as ocijail does)",
                "warning: annotations[\"org.freebsd.jail.ip4.addr\"]: ignored: org.freebsd.jail.vnet is \"new\" (as ocijail does)",
                "warning: annotations[\"org.freebsd.jail.ip6.addr\"]: ignored: org.freebsd.jail.vnet is \"new\" (as ocijail does)",
                "warning: annotations[\"org.freebsd.jail.allow.mlock\"]: only \"true\" or \"1\" sets allow.mlock (as in ocijail); left at its default",
                "warning: annotations[\"org.freebsd.jail.allow.vmm\"]: allow.vmm is not a parameter ocijail accepts here; ignored",
            ]
        );
    }

    #[test]
    fn bad_values_are_errors() {
        let (_, shown) = applied(&[
            (VNET, "disable"),
            ("org.freebsd.jail.sysvmsg", "no"),
            (IP4, "192.0.2.1,bad"),
        ]);
        assert_eq!(
            shown,
            [
                "error: annotations[\"org.freebsd.jail.vnet\"]: \"disable\" is not valid here: use \"new\" or \"inherit\"",
                "error: annotations[\"org.freebsd.jail.ip4.addr\"]: \"bad\" is not a numeric IPv4 address",
                "error: annotations[\"org.freebsd.jail.sysvmsg\"]: \"no\" is not valid here: use \"new\", \"inherit\" or \"disable\"",
            ]
        );
    }
}
