//! Name rules of jail(8): `no`-prefix equivalence, wildcard jails, and the
//! parameters jail(8) itself knows (freebsd/freebsd-src usr.sbin/jail/config.c
//! `equalopts`, `wild_jail_name`, `wild_jail_match`, `intparams[]`).

/// True when two parameter names denote the same parameter: equal, or equal
/// once a `no` prefix is removed from the whole name or from the rest of the
/// name after any of its dots (`persist`/`nopersist`,
/// `allow.mount`/`allow.nomount`, `allow.mount.nullfs`/`allow.mount.nonullfs`).
pub fn equalopts(a: &str, b: &str) -> bool {
    // Only a `no` (two bytes) can make the lengths differ: reject early.
    if !matches!(a.len().abs_diff(b.len()), 0 | 2) {
        return false;
    }
    fn same_but_no(a: &str, b: &str) -> bool {
        a == b || a.strip_prefix("no") == Some(b) || b.strip_prefix("no") == Some(a)
    }
    if same_but_no(a, b) {
        return true;
    }
    let (mut a, mut b) = (a, b);
    while let Some(dot) = a.find('.') {
        let prefix = &a[..=dot];
        if !b.starts_with(prefix) {
            return false;
        }
        a = &a[dot + 1..];
        b = &b[dot + 1..];
        if a.strip_prefix("no") == Some(b) || b.strip_prefix("no") == Some(a) {
            return true;
        }
    }
    false
}

/// True when some dot-separated component of the name is exactly `*`.
pub fn is_wildcard(name: &str) -> bool {
    name.split('.').any(|c| c == "*")
}

/// Whether jail `name` matches wildcard `wild`: a non-final `*` matches one
/// component, a final `*` one or more; other components must be equal.
pub fn wildcard_matches(name: &str, wild: &str) -> bool {
    let (mut j, mut w) = (name, wild);
    while let (Some(jd), Some(wd)) = (j.find('.'), w.find('.')) {
        // strncmp(jc, wc, jd - jc + 1): the jail component and its dot.
        if j.as_bytes().get(..=jd) != w.as_bytes().get(..=jd) && !w.starts_with("*.") {
            return false;
        }
        j = &j[jd + 1..];
        w = &w[wd + 1..];
    }
    j == w || w == "*"
}

/// Flags jail(8)'s own table gives a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub name: &'static str,
    /// `name` and `jid` cannot be redefined (`PF_IMMUTABLE`).
    pub immutable: bool,
}

const fn known(name: &'static str) -> Known {
    Known {
        name,
        immutable: false,
    }
}

/// The parameters of jail(8)'s `intparams[]`, in table order (the
/// `PF_CONV` copies excluded). A variable may not share a name with any of
/// them.
pub const KNOWN: &[Known] = &[
    known("allow.dying"),
    known("command"),
    known("depend"),
    known("exec.clean"),
    known("exec.consolelog"),
    known("exec.fib"),
    known("exec.jail_user"),
    known("exec.poststart"),
    known("exec.poststop"),
    known("exec.prepare"),
    known("exec.prestart"),
    known("exec.prestop"),
    known("exec.release"),
    known("exec.created"),
    known("exec.start"),
    known("exec.stop"),
    known("exec.system_jail_user"),
    known("exec.system_user"),
    known("exec.timeout"),
    known("interface"),
    known("ip_hostname"),
    known("mount"),
    known("mount.devfs"),
    known("mount.fdescfs"),
    known("mount.procfs"),
    known("mount.fstab"),
    known("stop.timeout"),
    known("vnet.interface"),
    known("zfs.dataset"),
    known("allow.chflags"),
    known("allow.mount"),
    known("allow.raw_sockets"),
    known("allow.set_hostname"),
    known("allow.socket_af"),
    known("allow.sysvipc"),
    known("devfs_ruleset"),
    known("host.hostname"),
    known("ip4.addr"),
    known("ip6.addr"),
    Known {
        name: "jid",
        immutable: true,
    },
    Known {
        name: "name",
        immutable: true,
    },
    known("path"),
    known("persist"),
    known("securelevel"),
    known("vnet"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_prefix_on_whole_name_or_any_component() {
        assert!(equalopts("persist", "nopersist"));
        assert!(equalopts("nopersist", "persist"));
        assert!(equalopts("allow.mount", "allow.nomount"));
        assert!(equalopts("allow.mount.nullfs", "allow.mount.nonullfs"));
        assert!(equalopts("allow.nomount.nullfs", "allow.mount.nullfs"));
        assert!(equalopts("path", "nopath"));
        assert!(!equalopts("allow.mount", "allow.mount.nullfs"));
        assert!(!equalopts("persist", "nonopersist"));
        assert!(!equalopts("a.b", "c.b"));
    }

    #[test]
    fn wildcard_names() {
        assert!(is_wildcard("*"));
        assert!(is_wildcard("a.*"));
        assert!(is_wildcard("*.b"));
        assert!(is_wildcard("a.*.c"));
        assert!(!is_wildcard("a*"));
        assert!(!is_wildcard("*a.b"));
    }

    #[test]
    fn wildcard_matching_is_by_component() {
        assert!(wildcard_matches("a", "*"));
        assert!(wildcard_matches("a.b.c", "*"));
        assert!(wildcard_matches("a.b", "a.*"));
        assert!(wildcard_matches("a.b.c", "a.*"));
        assert!(!wildcard_matches("a", "a.*"));
        assert!(wildcard_matches("x.b", "*.b"));
        assert!(!wildcard_matches("x.a.b", "*.b"));
        assert!(wildcard_matches("a.x.c", "a.*.c"));
        assert!(!wildcard_matches("ab.c", "a.*"));
        assert!(!wildcard_matches("b", "a"));
    }
}
