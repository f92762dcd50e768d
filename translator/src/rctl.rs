//! Resource limits as rctl(8) rules, checked by FreeBSD's rules.
//!
//! A rule is written without its subject, which is always the jail:
//! `RESOURCE:ACTION=AMOUNT[/PER]` (`memoryuse:deny=512M`, `pcpu:deny=50`,
//! `maxproc:log=100/jail`). The names are the kernel's
//! (freebsd/freebsd-src sys/kern/kern_rctl.c `resourcenames`,
//! `actionnames`, `subjectnames`); the amount takes rctl(8)'s suffixes,
//! expanded as usr.bin/rctl/rctl.c `expand_amount` does with
//! expand_number(3) (`k`, `m`, `g`, `t`, `p`, `e`, powers of 1024, in
//! either case; runj takes decimal digits only). A rule is refused where
//! `rctl_rule_add` refuses it (EOPNOTSUPP): `deny` for a resource the
//! kernel cannot deny, `throttle` for one that does not decay, or per
//! process for a resource only counted per credential.
//!
//! A rule is kept and printed in the kernel's own form (amount expanded,
//! `/PER` only when it is not the jail: kern_rctl.c `rctl_rule_to_sbuf`),
//! so that equal limits compare equal however they were written.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What racct(9) says of a resource (sys/sys/racct.h), as far as rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Traits {
    deniable: bool,
    decaying: bool,
    sloppy: bool,
    /// Kept ×10⁶ in the kernel: the amount must fit after scaling.
    in_millions: bool,
}

const fn traits(deniable: bool, decaying: bool, sloppy: bool, in_millions: bool) -> Traits {
    Traits {
        deniable,
        decaying,
        sloppy,
        in_millions,
    }
}

/// The resources, in kern_rctl.c's order, with their kern_racct.c
/// `racct_types` flags. `memoryuse` and `pcpu` are not deniable in the
/// racct sense, but `rctl_rule_add` takes `deny` for them (enforced another
/// way), so they are marked deniable here.
const RESOURCES: &[(&str, Traits)] = &[
    ("cputime", traits(false, false, false, true)),
    ("datasize", traits(true, false, false, false)),
    ("stacksize", traits(true, false, false, false)),
    ("coredumpsize", traits(true, false, false, false)),
    ("memoryuse", traits(true, false, false, false)),
    ("memorylocked", traits(true, false, false, false)),
    ("maxproc", traits(true, false, false, false)),
    ("openfiles", traits(true, false, false, false)),
    ("vmemoryuse", traits(true, false, false, false)),
    ("pseudoterminals", traits(true, false, true, false)),
    ("swapuse", traits(true, false, true, false)),
    ("nthr", traits(true, false, false, false)),
    ("msgqqueued", traits(true, false, true, false)),
    ("msgqsize", traits(true, false, true, false)),
    ("nmsgq", traits(true, false, true, false)),
    ("nsem", traits(true, false, true, false)),
    ("nsemop", traits(true, false, false, false)),
    ("nshm", traits(true, false, true, false)),
    ("shmsize", traits(true, false, true, false)),
    ("wallclock", traits(false, false, false, true)),
    ("pcpu", traits(true, true, false, true)),
    ("readbps", traits(false, true, false, false)),
    ("writebps", traits(false, true, false, false)),
    ("readiops", traits(false, true, false, false)),
    ("writeiops", traits(false, true, false, false)),
];

/// The actions but the signals' (kern_rctl.c `actionnames`).
const ACTIONS: &[&str] = &["deny", "log", "devctl", "throttle"];

/// The signals an action may send (`actionnames`, `sighup` … `sigthr`).
const SIGNALS: &[&str] = &[
    "sighup",
    "sigint",
    "sigquit",
    "sigill",
    "sigtrap",
    "sigabrt",
    "sigemt",
    "sigfpe",
    "sigkill",
    "sigbus",
    "sigsegv",
    "sigsys",
    "sigpipe",
    "sigalrm",
    "sigterm",
    "sigurg",
    "sigstop",
    "sigtstp",
    "sigchld",
    "sigttin",
    "sigttou",
    "sigio",
    "sigxcpu",
    "sigxfsz",
    "sigvtalrm",
    "sigprof",
    "sigwinch",
    "siginfo",
    "sigusr1",
    "sigusr2",
    "sigthr",
];

/// What the amount is counted for (`subjectnames`).
const PERS: &[&str] = &["process", "user", "loginclass", "jail"];

/// One rctl(8) rule for a jail.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    resource: &'static str,
    action: &'static str,
    amount: u64,
    /// `None`: per jail, the subject.
    per: Option<&'static str>,
}

/// Why a rule is refused; the message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rctl rule \"{rule}\": {reason}")]
pub struct RuleError {
    pub rule: String,
    pub reason: String,
}

impl Rule {
    /// A rule from its parts, checked as [`FromStr`] checks a written one.
    pub fn new(resource: &str, action: &str, amount: u64) -> Result<Rule, RuleError> {
        format!("{resource}:{action}={amount}").parse()
    }

    pub fn resource(&self) -> &'static str {
        self.resource
    }

    pub fn action(&self) -> &'static str {
        self.action
    }

    /// The amount as the user gives it (seconds, bytes, percent, count).
    pub fn amount(&self) -> u64 {
        self.amount
    }

    /// What the amount counts for: `process`, `user`, `loginclass`, or
    /// `jail` (the default).
    pub fn per(&self) -> &'static str {
        self.per.unwrap_or("jail")
    }

    /// The rule with its subject, as rctl_add_rule(2) takes it
    /// (`jail:NAME:memoryuse:deny=536870912`). A jail name with `:` or
    /// `,` would be read as more fields or rules by the kernel.
    pub fn for_jail(&self, jail: &str) -> Result<String, RuleError> {
        if jail.contains([':', ',']) || jail.is_empty() {
            return Err(RuleError {
                rule: self.to_string(),
                reason: format!(
                    "the jail name \"{jail}\" cannot be an rctl subject (it is empty or has ':' or ',')"
                ),
            });
        }
        Ok(format!("jail:{jail}:{self}"))
    }

    /// What tells rules apart but their amount: resource, action, per.
    pub fn key(&self) -> (&'static str, &'static str, &'static str) {
        (self.resource, self.action, self.per())
    }

    /// The filter rctl_remove_rule(2) takes for every rule of the jail
    /// with this key, whatever its amount (`jail:NAME:memoryuse:deny=/jail`:
    /// an empty amount matches any; kern_rctl.c `rctl_rule_matches`).
    pub fn filter_for_jail(&self, jail: &str) -> Result<String, RuleError> {
        self.for_jail(jail)?;
        Ok(format!(
            "jail:{jail}:{}:{}=/{}",
            self.resource,
            self.action,
            self.per()
        ))
    }

    /// Whether `other` takes this rule's place when added after it: the
    /// kernel drops `deny` rules that differ only in amount, and exact
    /// duplicates of the others (kern_rctl.c `rctl_rule_add`).
    pub fn replaced_by(&self, other: &Rule) -> bool {
        let same_limit =
            self.resource == other.resource && self.action == other.action && self.per == other.per;
        same_limit && (self.action == "deny" || self.amount == other.amount)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}={}", self.resource, self.action, self.amount)?;
        match self.per {
            Some(per) => write!(f, "/{per}"),
            None => Ok(()),
        }
    }
}

impl FromStr for Rule {
    type Err = RuleError;

    fn from_str(text: &str) -> Result<Rule, RuleError> {
        let fail = |reason: String| RuleError {
            rule: text.to_string(),
            reason,
        };
        let (resource, rest) = text
            .split_once(':')
            .ok_or_else(|| fail("expected RESOURCE:ACTION=AMOUNT[/PER]".into()))?;
        let (action, rest) = rest
            .split_once('=')
            .ok_or_else(|| fail("expected ACTION=AMOUNT after the resource".into()))?;
        let (amount, per) = match rest.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (rest, None),
        };
        let (resource, traits) = RESOURCES
            .iter()
            .find(|(name, _)| *name == resource)
            .copied()
            .ok_or_else(|| {
                fail(format!(
                    "unknown resource \"{resource}\" (one of: {})",
                    RESOURCES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        let action = ACTIONS
            .iter()
            .chain(SIGNALS)
            .find(|a| **a == action)
            .copied()
            .ok_or_else(|| {
                fail(format!(
                    "unknown action \"{action}\" (deny, log, devctl, throttle or a signal such as sigterm)"
                ))
            })?;
        let per = match per {
            None | Some("jail") => None,
            Some(p) => Some(PERS.iter().find(|n| **n == p).copied().ok_or_else(|| {
                fail(format!(
                    "unknown per \"{p}\" (process, user, loginclass or jail)"
                ))
            })?),
        };
        let amount = expand_amount(amount).map_err(fail)?;
        let limit = if traits.in_millions {
            i64::MAX as u64 / 1_000_000
        } else {
            i64::MAX as u64
        };
        if amount > limit {
            return Err(fail(format!("the amount is larger than {limit}")));
        }
        if action == "deny" && !traits.deniable {
            return Err(fail(format!(
                "{resource} cannot be denied; use log, devctl or a signal"
            )));
        }
        if action == "throttle" && (!traits.decaying || resource == "pcpu") {
            return Err(fail(
                "throttle applies only to readbps, writebps, readiops and writeiops".into(),
            ));
        }
        if per == Some("process") && traits.sloppy {
            return Err(fail(format!(
                "{resource} is counted per credential, not per process"
            )));
        }
        Ok(Rule {
            resource,
            action,
            amount,
            per,
        })
    }
}

/// An amount with expand_number(3)'s suffixes (`512M`), as rctl(8) reads
/// it.
pub fn expand_amount(text: &str) -> Result<u64, String> {
    let bad = || format!("invalid amount \"{text}\" (digits, optionally with k, m, g, t, p or e)");
    let (digits, shift) = match text.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_lowercase() {
                'b' => 0,
                'k' => 10,
                'm' => 20,
                'g' => 30,
                't' => 40,
                'p' => 50,
                'e' => 60,
                _ => return Err(bad()),
            };
            (&text[..at], shift)
        }
        _ => (text, 0),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let value: u64 = digits.parse().map_err(|_| bad())?;
    value
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("the amount \"{text}\" is too large"))
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A jail's rules in the order they are added, each later rule taking the
/// place of one it replaces as the kernel would ([`Rule::replaced_by`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Rules(Vec<Rule>);

impl<'de> Deserialize<'de> for Rules {
    /// As added one by one: a later rule replaces an earlier one.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<Rule>::deserialize(d)?.into_iter().collect())
    }
}

impl Rules {
    /// Adds a rule; returns the one it replaced, if any.
    pub fn add(&mut self, rule: Rule) -> Option<Rule> {
        match self.0.iter().position(|r| r.replaced_by(&rule)) {
            Some(at) => Some(std::mem::replace(&mut self.0[at], rule)),
            None => {
                self.0.push(rule);
                None
            }
        }
    }

    /// Removes every rule with `rule`'s key; whether there was one.
    pub fn remove_key(&mut self, rule: &Rule) -> bool {
        let before = self.0.len();
        self.0.retain(|r| r.key() != rule.key());
        self.0.len() != before
    }

    /// The rules with `rule`'s key.
    pub fn with_key<'a>(&'a self, rule: &'a Rule) -> impl Iterator<Item = &'a Rule> + 'a {
        self.0.iter().filter(move |r| r.key() == rule.key())
    }

    /// One rule of each key, in order: what a removal of all of them
    /// passes to rctl_remove_rule(2) as filters.
    pub fn keys(&self) -> Vec<&Rule> {
        let mut seen = Vec::new();
        for rule in &self.0 {
            if !seen.iter().any(|r: &&Rule| r.key() == rule.key()) {
                seen.push(rule);
            }
        }
        seen
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Rule> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The deny limit on `resource` per jail, if any.
    pub fn denied(&self, resource: &str) -> Option<u64> {
        self.0
            .iter()
            .find(|r| r.resource == resource && r.action == "deny" && r.per.is_none())
            .map(|r| r.amount)
    }
}

impl FromIterator<Rule> for Rules {
    fn from_iter<I: IntoIterator<Item = Rule>>(iter: I) -> Self {
        let mut rules = Rules::default();
        for rule in iter {
            rules.add(rule);
        }
        rules
    }
}

impl<'a> IntoIterator for &'a Rules {
    type Item = &'a Rule;
    type IntoIter = std::slice::Iter<'a, Rule>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> Result<String, String> {
        text.parse::<Rule>()
            .map(|r| r.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn amounts_are_expanded_as_rctl8_does() {
        assert_eq!(
            rule("memoryuse:deny=512M").unwrap(),
            "memoryuse:deny=536870912"
        );
        assert_eq!(
            rule("memoryuse:deny=1g").unwrap(),
            "memoryuse:deny=1073741824"
        );
        assert_eq!(rule("openfiles:deny=1024").unwrap(), "openfiles:deny=1024");
        assert_eq!(rule("vmemoryuse:deny=2k").unwrap(), "vmemoryuse:deny=2048");
        assert_eq!(
            rule("readbps:throttle=1T").unwrap(),
            "readbps:throttle=1099511627776"
        );
        assert_eq!(rule("maxproc:log=100/jail").unwrap(), "maxproc:log=100");
        assert_eq!(
            rule("maxproc:sigterm=100/process").unwrap(),
            "maxproc:sigterm=100/process"
        );
    }

    #[test]
    fn the_kernel_s_refusals_name_the_rule() {
        for (text, reason) in [
            ("memory:deny=1", "unknown resource \"memory\""),
            ("maxproc:kill=1", "unknown action \"kill\""),
            ("maxproc:deny=1/host", "unknown per \"host\""),
            ("maxproc:deny", "expected ACTION=AMOUNT"),
            ("maxproc", "expected RESOURCE:ACTION=AMOUNT"),
            ("maxproc:deny=", "invalid amount \"\""),
            ("maxproc:deny=-1", "invalid amount \"-1\""),
            ("maxproc:deny=0x10", "invalid amount \"0x10\""),
            ("maxproc:deny=5x", "invalid amount \"5x\""),
            ("memoryuse:deny=20000000e", "too large"),
            ("cputime:deny=10", "cputime cannot be denied"),
            ("readbps:deny=10", "readbps cannot be denied"),
            ("maxproc:throttle=10", "throttle applies only to readbps"),
            ("pcpu:throttle=10", "throttle applies only to readbps"),
            (
                "swapuse:deny=1/process",
                "swapuse is counted per credential",
            ),
            ("cputime:log=9223372036855", "larger than 9223372036854"),
            (
                "memoryuse:deny=9223372036854775808",
                "larger than 9223372036854775807",
            ),
        ] {
            let error = rule(text).unwrap_err();
            assert!(
                error.starts_with(&format!("rctl rule \"{text}\": ")) && error.contains(reason),
                "{text}: {error}"
            );
        }
        assert_eq!(
            rule("cputime:log=9223372036854").unwrap(),
            "cputime:log=9223372036854"
        );
        assert_eq!(rule("pcpu:deny=50").unwrap(), "pcpu:deny=50");
        assert_eq!(
            rule("memoryuse:sigkill=1m").unwrap(),
            "memoryuse:sigkill=1048576"
        );
    }

    #[test]
    fn rules_carry_the_jail_as_subject() {
        let r: Rule = "memoryuse:deny=512M".parse().unwrap();
        assert_eq!(
            r.for_jail("www").unwrap(),
            "jail:www:memoryuse:deny=536870912"
        );
        assert!(r.for_jail("a:b").is_err());
        assert!(r.for_jail("a,b").is_err());
        assert!(r.for_jail("").is_err());
    }

    #[test]
    fn later_rules_replace_as_the_kernel_does() {
        let rules: Rules = [
            "memoryuse:deny=1g",
            "maxproc:log=10",
            "memoryuse:deny=512m",
            "maxproc:log=20",
            "maxproc:log=10",
            "memoryuse:deny=1m/process",
        ]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
        let shown: Vec<String> = rules.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "memoryuse:deny=536870912",
                "maxproc:log=10",
                "maxproc:log=20",
                "memoryuse:deny=1048576/process"
            ]
        );
        assert_eq!(rules.denied("memoryuse"), Some(536870912));
        assert_eq!(rules.denied("maxproc"), None);
    }

    #[test]
    fn removal_filters_match_any_amount() {
        let r: Rule = "memoryuse:deny=512M".parse().unwrap();
        assert_eq!(
            r.filter_for_jail("www").unwrap(),
            "jail:www:memoryuse:deny=/jail"
        );
        let r: Rule = "maxproc:log=5/process".parse().unwrap();
        assert_eq!(
            r.filter_for_jail("www").unwrap(),
            "jail:www:maxproc:log=/process"
        );
        let rules: Rules = ["readbps:throttle=1", "readbps:throttle=2", "pcpu:deny=5"]
            .iter()
            .map(|t| t.parse().unwrap())
            .collect();
        let keys: Vec<String> = rules.keys().iter().map(|r| r.to_string()).collect();
        assert_eq!(keys, ["readbps:throttle=1", "pcpu:deny=5"]);
    }

    #[test]
    fn rules_serialize_in_the_kernel_s_form() {
        let rules: Rules =
            serde_json::from_str(r#"["pcpu:deny=50", "memoryuse:deny=1k"]"#).unwrap();
        assert_eq!(
            serde_json::to_string(&rules).unwrap(),
            r#"["pcpu:deny=50","memoryuse:deny=1024"]"#
        );
        let bad = serde_json::from_str::<Rules>(r#"["pcpu:deny=5%"]"#).unwrap_err();
        assert!(bad.to_string().contains("invalid amount \"5%\""), "{bad}");
    }
}
