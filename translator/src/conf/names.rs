//! Name rules of jail(8): `no`-prefix equivalence, wildcard jails, and the
//! parameters jail(8) itself knows (freebsd/freebsd-src usr.sbin/jail/config.c
//! `equalopts`, `wild_jail_name`, `wild_jail_match`, `intparams[]`).
//! Names are bytes, as jail(8) reads them; `&str` and `&[u8]` both do.

use std::collections::HashMap;
use std::sync::OnceLock;

/// True when two parameter names denote the same parameter: equal, or equal
/// once a `no` prefix is removed from the whole name or from the rest of the
/// name after any of its dots (`persist`/`nopersist`,
/// `allow.mount`/`allow.nomount`, `allow.mount.nullfs`/`allow.mount.nonullfs`).
#[inline]
pub fn equalopts(a: impl AsRef<[u8]>, b: impl AsRef<[u8]>) -> bool {
    // Resolution compares every statement with every parameter already set,
    // so this must be cheap. Only a `no` (two bytes) can make the lengths
    // differ; names of the same length are the same parameter only when
    // equal, since taking a `no` from one would leave it shorter. Different
    // names mostly differ in their last byte: look at it first.
    let (a, b) = (a.as_ref(), b.as_ref());
    match a.len().checked_sub(b.len()) {
        Some(0) => a.last() == b.last() && a == b,
        Some(2) => no_inserted(a, b),
        _ if b.len().checked_sub(a.len()) == Some(2) => no_inserted(b, a),
        _ => false,
    }
}

/// A key that names `equalopts` takes to be the same parameter share: a
/// hash of the name with every `no` taken from the start of each of its
/// components (`nopersist`, `persist` and `nonopersist` all hash
/// `persist`). Different keys prove that two names differ, so merging
/// compares keys first and calls [`equalopts`] only on a match.
pub(super) fn opt_key(name: &[u8]) -> u32 {
    use std::hash::Hasher;
    let mut hasher = rustc_hash::FxHasher::default();
    for component in name.split(|&b| b == b'.') {
        let mut rest = component;
        while let Some(shorter) = rest.strip_prefix(b"no") {
            rest = shorter;
        }
        hasher.write(rest);
        hasher.write_u8(b'.');
    }
    // The high half of the hash is the better mixed.
    (hasher.finish() >> 32) as u32
}

/// `long` is `short` with `no` put in at the start of one of its components.
fn no_inserted(long: &[u8], short: &[u8]) -> bool {
    // Unless the `no` went in at the very end, both end alike.
    if long.last() != short.last() && !long.ends_with(b"no") {
        return false;
    }
    // Both agree before the place of the `no`, so it is at most the length
    // of their common prefix.
    let common = long.iter().zip(short).take_while(|(l, s)| l == s).count();
    (0..=common).any(|at| {
        (at == 0 || short[at - 1] == b'.')
            && &long[at..at + 2] == b"no"
            && long[at + 2..] == short[at..]
    })
}

/// True when some dot-separated component of the name is exactly `*`.
pub fn is_wildcard(name: impl AsRef<[u8]>) -> bool {
    name.as_ref().split(|&b| b == b'.').any(|c| c == b"*")
}

/// Whether jail `name` matches wildcard `wild`: a non-final `*` matches one
/// component, a final `*` one or more; other components must be equal.
pub fn wildcard_matches(name: impl AsRef<[u8]>, wild: impl AsRef<[u8]>) -> bool {
    let (mut j, mut w) = (name.as_ref(), wild.as_ref());
    let dot = |s: &[u8]| s.iter().position(|&b| b == b'.');
    while let (Some(jd), Some(wd)) = (dot(j), dot(w)) {
        // strncmp(jc, wc, jd - jc + 1): the jail component and its dot.
        if j.get(..=jd) != w.get(..=jd) && !w.starts_with(b"*.") {
            return false;
        }
        j = &j[jd + 1..];
        w = &w[wd + 1..];
    }
    j == w || w == b"*"
}

/// The entry of [`KNOWN`] that a parameter name denotes: the first `k` for
/// which `equalopts(name, k.name)` holds. A table of every spelling
/// `equalopts` accepts for each entry, so that resolution does not compare
/// each statement with the whole table.
pub(crate) fn known_param(name: impl AsRef<[u8]>) -> Option<&'static Known> {
    static SPELLINGS: OnceLock<HashMap<Vec<u8>, usize, rustc_hash::FxBuildHasher>> =
        OnceLock::new();
    let spellings = SPELLINGS.get_or_init(|| {
        let mut map = HashMap::default();
        for (i, k) in KNOWN.iter().enumerate() {
            for spelling in no_spellings(k.name) {
                map.entry(spelling.into_bytes()).or_insert(i);
            }
        }
        map
    });
    spellings.get(name.as_ref()).map(|&i| &KNOWN[i])
}

/// Every name `equalopts` takes to be `name`: itself, and itself with `no`
/// put before, or taken from the start of, one of its components.
fn no_spellings(name: &str) -> Vec<String> {
    let mut out = vec![name.to_string()];
    let starts = std::iter::once(0).chain(name.match_indices('.').map(|(dot, _)| dot + 1));
    for at in starts {
        let (head, rest) = name.split_at(at);
        out.push(format!("{head}no{rest}"));
        if let Some(rest) = rest.strip_prefix("no") {
            out.push(format!("{head}{rest}"));
        }
    }
    out
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
        assert!(!equalopts("exec.start", "exec.clean"));
        assert!(!equalopts("no.a", "nob.a"));
        assert!(equalopts("exec.clean", "exec.clean"));
        assert!(equalopts("a.nob", "a.b"));
        assert!(equalopts("noa.b", "a.b"));
        assert!(!equalopts("a.b", "a.b.no"));
    }

    /// `config.c` `equalopts()` transcribed without shortcuts.
    fn equalopts_reference(a: &str, b: &str) -> bool {
        if a == b {
            return true;
        }
        let (mut a, mut b) = (a, b);
        loop {
            if a.strip_prefix("no") == Some(b) || b.strip_prefix("no") == Some(a) {
                return true;
            }
            let Some(dot) = a.find('.') else { return false };
            if !b.starts_with(&a[..=dot]) {
                return false;
            }
            a = &a[dot + 1..];
            b = &b[dot + 1..];
        }
    }

    #[test]
    fn equalopts_agrees_with_the_plain_algorithm_and_keys() {
        let mut names = vec![String::new()];
        for len in 1..=4 {
            let shorter: Vec<String> = names
                .iter()
                .filter(|n| n.len() == len - 1)
                .cloned()
                .collect();
            for n in shorter {
                names.extend("noab.".chars().map(|c| format!("{n}{c}")));
            }
        }
        for a in &names {
            for b in &names {
                let same = equalopts(a, b);
                assert_eq!(same, equalopts_reference(a, b), "{a:?} {b:?}");
                // Merging trusts different keys to mean different names.
                if same {
                    let (ka, kb) = (opt_key(a.as_bytes()), opt_key(b.as_bytes()));
                    assert_eq!(ka, kb, "{a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn known_is_the_first_table_entry_equalopts_accepts() {
        let mut names: Vec<String> = KNOWN
            .iter()
            .flat_map(|k| no_spellings(k.name))
            .flat_map(|n| no_spellings(&n))
            .collect();
        names.extend(
            [
                "",
                "no",
                "nono",
                ".",
                "no.",
                "allow",
                "allow.",
                "allow.mount.",
                "nonopersist",
            ]
            .map(String::from),
        );
        for name in &names {
            let linear = KNOWN.iter().find(|k| equalopts(name, k.name));
            assert_eq!(known_param(name), linear, "{name:?}");
        }
        assert_eq!(
            known_param("allow.nomount").map(|k| k.name),
            Some("allow.mount")
        );
        assert_eq!(known_param("noname").map(|k| k.immutable), Some(true));
        assert_eq!(known_param("allow.mount.nullfs"), None);
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
