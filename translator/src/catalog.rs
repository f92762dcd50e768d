//! The jail parameter catalog: every parameter of current FreeBSD (14/15),
//! kernel parameters and jail(8)'s own, with its type and whether it can only
//! be set at creation. Typing, validation, printing and the executor's
//! encoding all read this one table.
//!
//! Sources: freebsd/freebsd-src sys/kern/kern_jail.c (`SYSCTL_JAIL_PARAM*`),
//! sys/kern/kern_jailmeta.c, and usr.sbin/jail/config.c `intparams[]`.

use std::collections::HashMap;
use std::sync::OnceLock;

/// What values a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Type {
    /// `I`: a C `int`.
    Int,
    /// `IU`: an unsigned int.
    UInt,
    /// `LU`: an unsigned long (`host.hostid`).
    ULong,
    /// `A`: a string of at most this many bytes (including the NUL).
    Str(usize),
    /// `B`: a boolean; `false` is spelled with a `no` prefix.
    Bool,
    /// `E,jailsys`: `disable` (0), `new` (1) or `inherit` (2).
    JailSys,
    /// `S,in_addr,a`: IPv4 addresses (jail(8) also takes `iface|addr/mask`).
    Ip4List,
    /// `S,in6_addr,a`: IPv6 addresses.
    Ip6List,
    /// `S,mac`: a MAC label.
    MacLabel,
    /// `A,keyvalue`: a `meta.KEY` / `env.KEY` string.
    KeyValue,
    /// jail(8): a list of commands, run in order.
    Commands,
    /// jail(8): a list of strings (interfaces, datasets, jail names, files).
    Strings,
    /// jail(8): fstab(5) lines.
    FstabLines,
}

/// Who consumes a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Consumer {
    /// Passed to the kernel with jail_set(2).
    Kernel,
    /// Read by jail(8) itself, never passed to the kernel.
    Jail8,
}

/// When a parameter may be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// At creation and later (`CTLFLAG_RW`).
    Any,
    /// At creation only (`CTLFLAG_RDTUN`).
    CreateOnly,
    /// Never: reported by the kernel (`CTLFLAG_RD`).
    ReadOnly,
}

/// One catalog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Spec {
    pub name: &'static str,
    pub ty: Type,
    pub access: Access,
    pub consumer: Consumer,
}

const fn k(name: &'static str, ty: Type, access: Access) -> Spec {
    Spec {
        name,
        ty,
        access,
        consumer: Consumer::Kernel,
    }
}

const fn j(name: &'static str, ty: Type) -> Spec {
    Spec {
        name,
        ty,
        access: Access::Any,
        consumer: Consumer::Jail8,
    }
}

use Access::{Any, CreateOnly, ReadOnly};
use Type::*;

/// MAXHOSTNAMELEN, MAXPATHLEN and the other string limits of kern_jail.c.
const HOSTNAME: usize = 256;

/// Every known parameter, kernel first, then jail(8)'s.
pub const CATALOG: &[Spec] = &[
    k("jid", Int, CreateOnly),
    k("parent", Int, ReadOnly),
    k("name", Str(HOSTNAME), Any),
    k("path", Str(1024), CreateOnly),
    k("securelevel", Int, Any),
    k("osreldate", Int, CreateOnly),
    k("osrelease", Str(32), CreateOnly),
    k("enforce_statfs", Int, Any),
    k("devfs_ruleset", Int, Any),
    k("persist", Bool, Any),
    k("vnet", JailSys, CreateOnly),
    k("dying", Bool, ReadOnly),
    k("children.cur", Int, ReadOnly),
    k("children.max", Int, Any),
    k("host", JailSys, Any),
    k("host.hostname", Str(HOSTNAME), Any),
    k("host.domainname", Str(HOSTNAME), Any),
    k("host.hostuuid", Str(64), Any),
    k("host.hostid", ULong, Any),
    k("cpuset.id", Int, ReadOnly),
    k("mac.label", MacLabel, Any),
    k("ip4", JailSys, CreateOnly),
    k("ip4.addr", Ip4List, Any),
    k("ip4.saddrsel", Bool, Any),
    k("ip6", JailSys, CreateOnly),
    k("ip6.addr", Ip6List, Any),
    k("ip6.saddrsel", Bool, Any),
    k("allow.set_hostname", Bool, Any),
    k("allow.sysvipc", Bool, Any),
    k("allow.raw_sockets", Bool, Any),
    k("allow.chflags", Bool, Any),
    k("allow.mount", Bool, Any),
    k("allow.quotas", Bool, Any),
    k("allow.socket_af", Bool, Any),
    k("allow.mlock", Bool, Any),
    k("allow.reserved_ports", Bool, Any),
    k("allow.read_msgbuf", Bool, Any),
    k("allow.unprivileged_proc_debug", Bool, Any),
    k("allow.suser", Bool, Any),
    k("allow.extattr", Bool, Any),
    k("allow.adjtime", Bool, Any),
    k("allow.settime", Bool, Any),
    k("allow.nfsd", Bool, Any),
    k("allow.routing", Bool, Any),
    k("allow.unprivileged_parent_tampering", Bool, Any),
    k("allow.setaudit", Bool, Any),
    k("allow.vmm", Bool, Any),
    k("allow.vmm_ppt", Bool, Any),
    k("linux", JailSys, Any),
    k("linux.osname", Str(32), Any),
    k("linux.osrelease", Str(32), Any),
    k("linux.oss_version", Int, Any),
    k("sysvmsg", JailSys, Any),
    k("sysvsem", JailSys, Any),
    k("sysvshm", JailSys, Any),
    k("zfs.mount_snapshot", Int, Any),
    k("meta", KeyValue, Any),
    k("env", KeyValue, Any),
    j("exec.prepare", Commands),
    j("exec.prestart", Commands),
    j("exec.created", Commands),
    j("exec.start", Commands),
    j("command", Commands),
    j("exec.poststart", Commands),
    j("exec.prestop", Commands),
    j("exec.stop", Commands),
    j("exec.poststop", Commands),
    j("exec.release", Commands),
    j("exec.clean", Bool),
    j("exec.jail_user", Str(HOSTNAME)),
    j("exec.system_jail_user", Bool),
    j("exec.system_user", Str(HOSTNAME)),
    j("exec.timeout", Int),
    j("exec.consolelog", Str(1024)),
    j("exec.fib", Int),
    j("stop.timeout", Int),
    j("interface", Str(HOSTNAME)),
    j("ip_hostname", Bool),
    j("mount", FstabLines),
    j("mount.fstab", Strings),
    j("mount.devfs", Bool),
    j("mount.fdescfs", Bool),
    j("mount.procfs", Bool),
    j("vnet.interface", Strings),
    j("zfs.dataset", Strings),
    j("depend", Strings),
    j("allow.dying", Bool),
];

/// A parameter name looked up in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup {
    pub spec: Spec,
    /// The name was the `no` form of a boolean (`nopersist`,
    /// `allow.nomount`): it sets the parameter to false.
    pub negated: bool,
}

/// The `no` spelling of a boolean's name: the last component takes the
/// `no` (`persist` → `nopersist`, `allow.mount` → `allow.nomount`), as
/// libjail's `JP_NOBOOL` and jail(8)'s `bool_param` read it.
pub fn negated_name(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((prefix, last)) => format!("{prefix}.no{last}"),
        None => format!("no{name}"),
    }
}

/// The name without the `no` its last component starts with
/// (`nopersist` → `persist`, `allow.nomount` → `allow.mount`).
pub fn without_no(name: &str) -> Option<String> {
    let (prefix, last) = name.rsplit_once('.').map_or(("", name), |(p, l)| (p, l));
    let rest = last.strip_prefix("no")?;
    Some(if prefix.is_empty() {
        rest.to_string()
    } else {
        format!("{prefix}.{rest}")
    })
}

/// The positive name of a parameter: a catalogued boolean written with
/// `no` without it, anything else as it is.
pub fn positive_name(name: &str) -> String {
    match lookup(name) {
        Some(l) if l.negated => without_no(name).unwrap_or_else(|| name.to_string()),
        _ => name.to_string(),
    }
}

/// Finds a parameter, also under its `no` form for booleans and for the
/// dynamic families `allow.mount.<fs>` (boolean) and `meta.<key>`,
/// `env.<key>` (key-value). `None` for a parameter runj does not know.
pub fn lookup(name: &str) -> Option<Lookup> {
    if let Some(found) = index().get(name) {
        return Some(*found);
    }
    let positive = |spec| Lookup {
        spec,
        negated: false,
    };
    if let Some(spec) = dynamic(name) {
        return Some(positive(spec));
    }
    let spec = dynamic(&without_no(name)?).filter(|s| s.ty == Bool)?;
    Some(Lookup {
        spec,
        negated: true,
    })
}

/// Every catalogued name, and the `no` form of each boolean, with what it
/// is: looked up for every parameter of every jail lowered, so one hash
/// lookup rather than a walk through the table or a `no` form built.
fn index() -> &'static HashMap<Box<str>, Lookup, rustc_hash::FxBuildHasher> {
    static INDEX: OnceLock<HashMap<Box<str>, Lookup, rustc_hash::FxBuildHasher>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = HashMap::default();
        // The first entry of a name wins, and a name as written before a
        // `no` form of another.
        for spec in CATALOG.iter().rev().filter(|s| s.ty == Bool) {
            let lookup = Lookup {
                spec: *spec,
                negated: true,
            };
            index.insert(negated_name(spec.name).into_boxed_str(), lookup);
        }
        for spec in CATALOG.iter().rev() {
            let lookup = Lookup {
                spec: *spec,
                negated: false,
            };
            index.insert(spec.name.into(), lookup);
        }
        index
    })
}

/// The dynamic families: `allow.mount.<fs>` (boolean), `meta.<key>` and
/// `env.<key>` (key-value).
fn dynamic(name: &str) -> Option<Spec> {
    let dynamic = |family: &'static str, ty| Spec {
        name: family,
        ty,
        access: Any,
        consumer: Consumer::Kernel,
    };
    match name.split_once('.') {
        Some(("allow", rest)) if rest.strip_prefix("mount.").is_some_and(is_fs_name) => {
            Some(dynamic("allow.mount.<fs>", Bool))
        }
        Some(("meta", key)) if !key.is_empty() => Some(dynamic("meta.<key>", KeyValue)),
        Some(("env", key)) if !key.is_empty() => Some(dynamic("env.<key>", KeyValue)),
        _ => None,
    }
}

/// A filesystem name; one starting with `no` is read as the `no` form of
/// the name after it, as libjail does when no such filesystem exists.
fn is_fs_name(fs: &str) -> bool {
    !fs.is_empty()
        && !fs.starts_with("no")
        && fs.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (i, a) in CATALOG.iter().enumerate() {
            assert!(
                CATALOG[i + 1..].iter().all(|b| b.name != a.name),
                "{} twice",
                a.name
            );
        }
    }

    #[test]
    fn no_forms_of_booleans() {
        let l = lookup("nopersist").unwrap();
        assert_eq!((l.spec.name, l.negated), ("persist", true));
        let l = lookup("allow.nomount").unwrap();
        assert_eq!((l.spec.name, l.negated), ("allow.mount", true));
        let l = lookup("ip4.nosaddrsel").unwrap();
        assert_eq!((l.spec.name, l.negated), ("ip4.saddrsel", true));
        assert!(lookup("nopath").is_none(), "only booleans have a no form");
    }

    #[test]
    fn dynamic_families() {
        assert_eq!(lookup("allow.mount.nullfs").unwrap().spec.ty, Bool);
        let l = lookup("allow.mount.nonullfs").unwrap();
        assert!(l.negated);
        assert_eq!(lookup("meta.owner").unwrap().spec.ty, KeyValue);
        assert_eq!(lookup("env.TZ").unwrap().spec.ty, KeyValue);
        assert!(lookup("allow.mount.").is_none());
        assert!(lookup("frobnicate").is_none());
    }

    #[test]
    fn create_only_parameters() {
        for name in [
            "path",
            "vnet",
            "ip4",
            "ip6",
            "osrelease",
            "osreldate",
            "jid",
        ] {
            assert_eq!(lookup(name).unwrap().spec.access, CreateOnly, "{name}");
        }
        assert_eq!(lookup("securelevel").unwrap().spec.access, Any);
    }
}
