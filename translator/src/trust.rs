//! What a bundle's annotations may set.
//!
//! The trust model (docs/security.md): config.json's own fields and the
//! files of the bundle directory are written by the container engine and
//! trusted; annotations are not, because CRI and podman forward them from
//! users who may not be trusted with the host. A jail parameter given as an
//! `org.freebsd.jail.param.NAME` annotation is therefore taken only when it
//! neither acts on the host nor widens the jail, unless the operator trusts
//! annotations (`--trust-annotations`, `RUNJ_TRUST_ANNOTATIONS`). ocijail's
//! own annotations (`org.freebsd.jail.vnet`, `…allow.NAME`, …) are taken as
//! ocijail takes them (dfr/ocijail ocijail/create.cpp).

use crate::catalog::{self, Consumer, Type};
use crate::plan::{JailPlan, Mode, Value};
use crate::typing::{int_value, jailsys_value};

/// The `allow.*` names ocijail takes from annotations: what an annotation
/// may allow.
pub const OCIJAIL_ALLOW: &[&str] = &[
    "adjtime",
    "chflags",
    "extattr",
    "mlock",
    "mount",
    "mount.devfs",
    "mount.fdescfs",
    "mount.nullfs",
    "mount.procfs",
    "mount.tmpfs",
    "mount.zfs",
    "nfsd",
    "quotas",
    "raw_sockets",
    "read_msgbuf",
    "reserved_ports",
    "routing",
    "set_hostname",
    "setaudit",
    "settime",
    "socket_af",
    "suser",
    "sysvipc",
    "unprivileged_parent_tampering",
    "unprivileged_proc_debug",
];

/// Whether a parameter may come from an annotation: the catalog's column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FromAnnotation {
    /// Any value: it changes nothing outside the jail and widens nothing.
    Any,
    /// Only values that do not widen the jail (see [`refusal`]).
    Narrowing,
    /// Never: it runs or mounts something on the host, names host
    /// resources, or is not known.
    Never,
}

/// jail(8)'s parameters that act only inside the jail, or on nothing.
const JAIL8_INSIDE: &[&str] = &[
    "exec.start",
    "exec.stop",
    "command",
    "exec.clean",
    "exec.jail_user",
    "exec.timeout",
    "stop.timeout",
    "allow.dying",
];

/// Kernel parameters an annotation may never set: where the jail is
/// rooted, which jail it is, and MAC labels.
const KERNEL_NEVER: &[&str] = &[
    "path",
    "name",
    "jid",
    "parent",
    "mac.label",
    "devfs_ruleset",
];

/// Kernel parameters whose values can widen the jail.
const KERNEL_NARROWING: &[&str] = &["enforce_statfs", "children.max", "securelevel"];

/// The column for one parameter (its positive name).
pub fn from_annotation(name: &str) -> FromAnnotation {
    let Some(lookup) = catalog::lookup(name) else {
        return FromAnnotation::Never;
    };
    let spec = lookup.spec;
    match spec.consumer {
        Consumer::Jail8 if JAIL8_INSIDE.contains(&spec.name) => FromAnnotation::Any,
        Consumer::Jail8 => FromAnnotation::Never,
        Consumer::Kernel if KERNEL_NEVER.contains(&spec.name) => FromAnnotation::Never,
        Consumer::Kernel if KERNEL_NARROWING.contains(&spec.name) => FromAnnotation::Narrowing,
        Consumer::Kernel => match spec.ty {
            Type::JailSys | Type::Ip4List | Type::Ip6List | Type::MacLabel => {
                FromAnnotation::Narrowing
            }
            Type::Bool if name.starts_with("allow.") => FromAnnotation::Narrowing,
            _ => FromAnnotation::Any,
        },
    }
}

/// Why `name = values` may not be taken from an untrusted annotation for
/// `plan` (the bundle's own settings so far), or `None` when it may.
pub fn refusal(name: &str, values: &[String], plan: &JailPlan) -> Option<String> {
    let positive = catalog::positive_name(name);
    let negated = positive != name;
    match from_annotation(&positive) {
        FromAnnotation::Any => None,
        FromAnnotation::Never => Some(match catalog::lookup(name) {
            None => format!("{name} is not a parameter runj knows, so it cannot tell what it does"),
            Some(l) if l.spec.consumer == Consumer::Jail8 => {
                format!("{name} acts on the host (jail(8) runs or mounts it there)")
            }
            Some(_) => format!("{name} decides what the jail is and where it lives"),
        }),
        FromAnnotation::Narrowing => narrowing(&positive, negated, values, plan),
    }
}

fn narrowing(name: &str, negated: bool, values: &[String], plan: &JailPlan) -> Option<String> {
    let lookup = catalog::lookup(name)?;
    match lookup.spec.ty {
        Type::Bool => {
            let on = crate::typing::bool_value(values, negated).ok()?;
            let allowed = name
                .strip_prefix("allow.")
                .is_some_and(|a| OCIJAIL_ALLOW.contains(&a));
            (on && !allowed)
                .then(|| format!("{name} widens the jail beyond what ocijail's annotations allow"))
        }
        Type::JailSys => (jailsys_value(values).ok()? == Mode::Inherit).then(|| {
            let what = match name {
                "vnet" | "ip4" | "ip6" => "network",
                "host" => "host name and id",
                n if n.starts_with("sysv") => "System V IPC",
                _ => "settings",
            };
            format!("{name} = inherit shares the host's {what}")
        }),
        Type::Ip4List | Type::Ip6List => values
            .iter()
            .flat_map(|v| v.split(','))
            .any(|a| a.contains('|'))
            .then(|| format!("{name}: an address on a host interface adds an alias on the host")),
        _ => {
            let value = int_value(values, i64::MIN, i64::MAX).ok()?;
            let bundle = match plan.param(name) {
                Some(Value::Int(i)) => Some(*i),
                _ => None,
            };
            match name {
                "enforce_statfs" if value < 2 => {
                    Some("enforce_statfs below 2 shows the jail mounts outside it".into())
                }
                "children.max" if value > 0 => {
                    Some("children.max above 0 lets the jail create jails".into())
                }
                "securelevel" if bundle.is_some_and(|b| value < b) => Some(format!(
                    "securelevel {value} is lower than the bundle's {}",
                    bundle.unwrap_or_default()
                )),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn refused(name: &str, values: &[&str]) -> bool {
        refusal(name, &v(values), &JailPlan::default()).is_some()
    }

    #[test]
    fn host_side_parameters_are_never_taken() {
        for name in [
            "exec.prepare",
            "exec.prestart",
            "exec.created",
            "exec.poststart",
            "exec.prestop",
            "exec.poststop",
            "exec.release",
            "exec.system_user",
            "exec.consolelog",
            "exec.system_jail_user",
            "exec.fib",
            "path",
            "mount",
            "mount.fstab",
            "mount.devfs",
            "mount.fdescfs",
            "mount.procfs",
            "devfs_ruleset",
            "interface",
            "vnet.interface",
            "depend",
            "zfs.dataset",
            "ip_hostname",
            "jid",
            "mac.label",
            "frobnicate",
        ] {
            assert!(refused(name, &["x"]), "{name}");
        }
    }

    #[test]
    fn what_widens_the_jail_is_refused_and_what_narrows_it_taken() {
        for (name, values, widens) in [
            ("allow.raw_sockets", vec!["true"], false),
            ("allow.mount.zfs", vec![], false),
            ("allow.vmm", vec![], true),
            ("allow.novmm", vec![], false),
            ("allow.vmm", vec!["0"], false),
            ("enforce_statfs", vec!["1"], true),
            ("enforce_statfs", vec!["2"], false),
            ("children.max", vec!["4"], true),
            ("children.max", vec!["0"], false),
            ("vnet", vec!["inherit"], true),
            ("vnet", vec!["new"], false),
            ("host", vec!["2"], true),
            ("ip4", vec!["inherit"], true),
            ("sysvshm", vec!["inherit"], true),
            ("ip4.addr", vec!["192.0.2.1"], false),
            ("ip4.addr", vec!["em0|192.0.2.1"], true),
            ("host.hostname", vec!["x"], false),
            ("exec.start", vec!["/bin/sh /etc/rc"], false),
            ("persist", vec![], false),
        ] {
            assert_eq!(refused(name, &values), widens, "{name} = {values:?}");
        }
    }

    #[test]
    fn securelevel_may_only_rise_above_the_bundle_s() {
        let mut plan = JailPlan::default();
        assert!(refusal("securelevel", &v(&["-1"]), &plan).is_none());
        plan.parameters.insert("securelevel".into(), Value::Int(2));
        assert!(refusal("securelevel", &v(&["3"]), &plan).is_none());
        let why = refusal("securelevel", &v(&["1"]), &plan).unwrap();
        assert_eq!(why, "securelevel 1 is lower than the bundle's 2");
    }
}
