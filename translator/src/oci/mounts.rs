//! `mounts` → the plan's mount entries, in order, each destination inside
//! the jail's root.
//!
//! - a bind mount (`bind`/`rbind` option, type `bind`, or no type, as in
//!   ocijail's mount.cpp) becomes nullfs, its source joined to the bundle
//!   directory when relative (config.md "Mounts");
//! - tmpfs, devfs, fdescfs, procfs, linprocfs, linsysfs and other FreeBSD
//!   types pass through with their options; devfs `ruleset=N` is checked and
//!   ocijail's devfs `rule=RULE` pseudo-option becomes a
//!   `devfs -m DIR rule apply RULE` command run once the mounts are made;
//! - Linux-only filesystem types and options are unsupported;
//! - containerd's default Linux mounts, which its spec generator writes
//!   into every Linux spec, become their jail equivalents: `/proc` procfs,
//!   `/dev` (with `/dev/pts` and `/dev/shm`) one devfs with ruleset 4,
//!   `/run` tmpfs; `/sys` and `/dev/mqueue`, which FreeBSD has nothing
//!   for, are not made, with a warning (runj's Go shim drops them all,
//!   samuelkarp/runj containerd/bundle.go).

use std::path::Path;

use oci_spec::runtime::Mount as OciMount;

use super::paths::{inside_root, normalize};
use super::report::Report;
use crate::plan::Mount;

/// A devfs rule to apply to a devfs mount once mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DevfsRule {
    /// Where the devfs is mounted, inside the jail.
    pub destination: String,
    /// The rule, as devfs(8) `rule apply` takes it (`path pf unhide`).
    pub rule: Vec<String>,
    /// The JSON path the rule comes from.
    pub subject: String,
}

/// Linux filesystem types and what FreeBSD has instead.
const LINUX_TYPES: &[(&str, &str)] = &[
    (
        "proc",
        "FreeBSD's are procfs and, for Linux binaries, linprocfs",
    ),
    ("sysfs", "FreeBSD has linsysfs for Linux binaries"),
    ("devpts", "FreeBSD's devfs provides /dev/pts"),
    ("mqueue", "FreeBSD's is mqueuefs"),
    ("cgroup", "FreeBSD has no cgroups"),
    ("cgroup2", "FreeBSD has no cgroups"),
    ("overlay", "FreeBSD has no overlay filesystem"),
    ("securityfs", "FreeBSD has no securityfs"),
    ("debugfs", "FreeBSD has no debugfs"),
    ("tracefs", "FreeBSD has no tracefs"),
    ("bpf", "FreeBSD has no BPF filesystem"),
    ("hugetlbfs", "FreeBSD has no hugetlbfs"),
    ("configfs", "FreeBSD has no configfs"),
    ("binfmt_misc", "FreeBSD has no binfmt_misc"),
];

/// Mount propagation modes; FreeBSD mounts never propagate.
const PROPAGATION: &[&str] = &[
    "shared",
    "rshared",
    "slave",
    "rslave",
    "unbindable",
    "runbindable",
];

/// Options FreeBSD always behaves by: mounts are private, and device nodes
/// exist only on devfs.
const IMPLIED: &[&str] = &["private", "rprivate", "nodev"];

/// What one of containerd's default Linux mounts becomes in a jail.
#[derive(Debug, Clone, Copy)]
enum Becomes {
    /// A FreeBSD mount of this type, source and options.
    Mount(&'static str, &'static str, &'static [&'static str]),
    /// Part of the jail's devfs on /dev (ruleset 4 shows ptys).
    InDevfs,
    /// Not mounted: FreeBSD has nothing for it.
    Nothing(&'static str),
}

/// containerd's default Linux mounts (destination, type, source,
/// options), which its spec generator writes into every Linux spec
/// (containerd/containerd pkg/oci/mounts.go `defaultMounts`), matched
/// exactly, and what each becomes (docs/spec-coverage.md).
const LINUX_DEFAULTS: &[(&str, &str, &str, &[&str], Becomes)] = &[
    (
        "/proc",
        "proc",
        "proc",
        &["nosuid", "noexec", "nodev"],
        Becomes::Mount("procfs", "proc", &["nosuid", "noexec"]),
    ),
    (
        "/dev",
        "tmpfs",
        "tmpfs",
        &["nosuid", "strictatime", "mode=755", "size=65536k"],
        Becomes::Mount("devfs", "devfs", &["ruleset=4"]),
    ),
    (
        "/dev/pts",
        "devpts",
        "devpts",
        &[
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ],
        Becomes::InDevfs,
    ),
    (
        "/dev/shm",
        "tmpfs",
        "shm",
        &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        Becomes::InDevfs,
    ),
    (
        "/dev/mqueue",
        "mqueue",
        "mqueue",
        &["nosuid", "noexec", "nodev"],
        Becomes::Nothing("POSIX message queues need no filesystem on FreeBSD"),
    ),
    (
        "/sys",
        "sysfs",
        "sysfs",
        &["nosuid", "noexec", "nodev", "ro"],
        Becomes::Nothing("FreeBSD has no sysfs (linsysfs is for Linux binaries: mount it by name)"),
    ),
    (
        "/run",
        "tmpfs",
        "tmpfs",
        &["nosuid", "strictatime", "mode=755", "size=65536k"],
        Becomes::Mount("tmpfs", "tmpfs", &["nosuid", "mode=755", "size=65536k"]),
    ),
];

/// The mounts and the devfs rules they ask for.
pub(super) fn translate(
    mounts: &[OciMount],
    dir: &Path,
    report: &mut Report,
) -> (Vec<Mount>, Vec<DevfsRule>) {
    let mut entries = Vec::new();
    let mut rules = Vec::new();
    for (i, m) in mounts.iter().enumerate() {
        if let Some(mount) = one(&format!("mounts[{i}]"), m, dir, report, &mut rules) {
            entries.push(mount);
        }
    }
    (entries, rules)
}

fn one(
    at: &str,
    m: &OciMount,
    dir: &Path,
    report: &mut Report,
    rules: &mut Vec<DevfsRule>,
) -> Option<Mount> {
    let destination_text = m.destination().to_string_lossy();
    let source_text = m
        .source()
        .as_ref()
        .map(|s| s.to_string_lossy().into_owned());
    let given = m.options().clone().unwrap_or_default();
    if let Some(becomes) = linux_default(
        &destination_text,
        m.typ().as_deref(),
        source_text.as_deref(),
        &given,
    ) {
        return match becomes {
            Becomes::Mount(fstype, source, options) => Some(Mount {
                fstype: fstype.into(),
                source: source.into(),
                destination: destination_text.into_owned(),
                options: options.iter().map(|o| o.to_string()).collect(),
            }),
            Becomes::InDevfs => None,
            Becomes::Nothing(why) => {
                report.warning(
                    at,
                    format!("containerd's default mount of {destination_text} is not made: {why}"),
                );
                None
            }
        };
    }
    let destination = inside_root(&destination_text, &format!("{at}.destination"), report);
    let fstype = fstype(m.typ().as_deref(), &given);
    if let Some((_, instead)) = LINUX_TYPES.iter().find(|(t, _)| *t == fstype) {
        report.unsupported(
            format!("{at}.type"),
            &format!("\"{fstype}\" is a Linux filesystem type ({instead})"),
        );
        return None;
    }
    let source = source(at, &fstype, source_text, dir, report);
    let mut devfs_rules = Vec::new();
    let options = options(at, &fstype, &given, report, &mut devfs_rules);
    let destination = destination?;
    rules.extend(devfs_rules.into_iter().map(|(subject, rule)| DevfsRule {
        destination: destination.clone(),
        rule,
        subject,
    }));
    Some(Mount {
        fstype,
        source: source?,
        destination,
        options,
    })
}

fn linux_default(
    destination: &str,
    fstype: Option<&str>,
    source: Option<&str>,
    options: &[String],
) -> Option<Becomes> {
    LINUX_DEFAULTS
        .iter()
        .find(|(d, t, s, o, _)| {
            *d == destination
                && Some(*t) == fstype
                && Some(*s) == source
                && options.iter().map(String::as_str).eq(o.iter().copied())
        })
        .map(|(.., becomes)| *becomes)
}

/// The FreeBSD type: bind mounts are nullfs.
fn fstype(given: Option<&str>, options: &[String]) -> String {
    let bind_option = options.iter().any(|o| o == "bind" || o == "rbind");
    match given {
        _ if bind_option => "nullfs".to_string(),
        None | Some("" | "bind") => "nullfs".to_string(),
        Some(t) => t.to_string(),
    }
}

/// What is mounted: for nullfs a host path (relative ones are under the
/// bundle directory), otherwise a name, the type's own by default.
fn source(
    at: &str,
    fstype: &str,
    given: Option<String>,
    dir: &Path,
    report: &mut Report,
) -> Option<String> {
    let given = given.filter(|s| !s.is_empty());
    if fstype != "nullfs" {
        return Some(given.unwrap_or_else(|| fstype.to_string()));
    }
    let Some(text) = given else {
        report.error(
            format!("{at}.source"),
            "a bind (nullfs) mount needs a source",
        );
        return None;
    };
    let joined = dir.join(&text).to_string_lossy().into_owned();
    normalize(&joined).or_else(|| {
        report.error(format!("{at}.source"), format!("\"{text}\" climbs above /"));
        None
    })
}

/// The options mount(8) gets; pseudo-options are taken out, devfs rules
/// into `rules` with where they come from.
fn options(
    at: &str,
    fstype: &str,
    given: &[String],
    report: &mut Report,
    rules: &mut Vec<(String, Vec<String>)>,
) -> Vec<String> {
    let mut kept = Vec::new();
    for (j, option) in given.iter().enumerate() {
        let subject = format!("{at}.options[{j}]");
        match option.as_str() {
            "bind" => {}
            "rbind" => report.warning(
                subject,
                "nullfs does not show the filesystems mounted below its source (rbind); only the source's own is mounted",
            ),
            o if IMPLIED.contains(&o) => {}
            o if PROPAGATION.contains(&o) => report.unsupported(subject, "mount propagation is Linux-only"),
            "idmap" | "ridmap" => report.unsupported(subject, "ID-mapped mounts are Linux-only"),
            "tmpcopyup" => report.unsupported(
                subject,
                "copying the image's files into the tmpfs (ocijail's tmpcopyup) is not part of a jail plan",
            ),
            o => match (fstype, o.split_once('=')) {
                ("devfs", Some(("rule", rule))) => match rule.split_whitespace().map(str::to_string).collect::<Vec<_>>() {
                    words if words.is_empty() => report.error(subject, "an empty devfs rule"),
                    words => rules.push((subject, words)),
                },
                (_, Some(("rule", _))) => report.error(subject, "rule= applies to devfs mounts only"),
                ("devfs", Some(("ruleset", n))) if n.parse::<u16>().is_err() => {
                    report.error(subject, format!("ruleset \"{n}\" is not a number from 0 to 65535"))
                }
                _ => kept.push(o.to_string()),
            },
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn translated(
        mounts: serde_json::Value,
        allow: bool,
    ) -> (Vec<Mount>, Vec<DevfsRule>, Vec<String>) {
        let mounts: Vec<OciMount> = serde_json::from_value(mounts).unwrap();
        let mut report = Report::new(allow);
        let (m, r) = translate(&mounts, Path::new("/bundle"), &mut report);
        (m, r, report.diagnostics.messages())
    }

    fn mount(fstype: &str, source: &str, destination: &str, options: &[&str]) -> Mount {
        Mount {
            fstype: fstype.into(),
            source: source.into(),
            destination: destination.into(),
            options: options.iter().map(|o| o.to_string()).collect(),
        }
    }

    #[test]
    fn every_type() {
        let (m, r, shown) = translated(
            json!([
                { "destination": "/a", "type": "bind", "source": "/data", "options": ["rbind", "ro", "rprivate"] },
                { "destination": "/b", "source": "data" },
                { "destination": "/c", "type": "none", "source": "/c", "options": ["bind", "rw"] },
                { "destination": "/tmp", "type": "tmpfs", "options": ["size=64m", "mode=1777"] },
                { "destination": "/dev", "type": "devfs", "source": "devfs", "options": ["ruleset=4", "rule=path shm unhide mode 1777"] },
                { "destination": "/dev/fd", "type": "fdescfs", "source": "fdesc" },
                { "destination": "/proc", "type": "procfs" },
                { "destination": "/compat/proc", "type": "linprocfs", "source": "linproc" },
                { "destination": "/compat/sys", "type": "linsysfs", "source": "linsys" },
                { "destination": "/nfs", "type": "nfs", "source": "server:/export", "options": ["nfsv4"] }
            ]),
            false,
        );
        assert_eq!(
            m,
            [
                mount("nullfs", "/data", "/a", &["ro"]),
                mount("nullfs", "/bundle/data", "/b", &[]),
                mount("nullfs", "/c", "/c", &["rw"]),
                mount("tmpfs", "tmpfs", "/tmp", &["size=64m", "mode=1777"]),
                mount("devfs", "devfs", "/dev", &["ruleset=4"]),
                mount("fdescfs", "fdesc", "/dev/fd", &[]),
                mount("procfs", "procfs", "/proc", &[]),
                mount("linprocfs", "linproc", "/compat/proc", &[]),
                mount("linsysfs", "linsys", "/compat/sys", &[]),
                mount("nfs", "server:/export", "/nfs", &["nfsv4"]),
            ]
        );
        assert_eq!(
            r,
            [DevfsRule {
                destination: "/dev".into(),
                rule: ["path", "shm", "unhide", "mode", "1777"]
                    .map(String::from)
                    .to_vec(),
                subject: "mounts[4].options[1]".into(),
            }]
        );
        assert_eq!(
            shown,
            [
                "warning: mounts[0].options[0]: nullfs does not show the filesystems mounted below its source (rbind); only the source's own is mounted"
            ]
        );
    }

    /// containerd's default Linux mounts become the jail's: only when they
    /// are exactly containerd's (a changed one is read as any mount is).
    #[test]
    fn containerd_linux_defaults_become_the_jail_s() {
        let (m, _, shown) = translated(
            json!([
                { "destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"] },
                { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
                { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
                { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
                { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"] },
                { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] },
                { "destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
                { "destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"] }
            ]),
            false,
        );
        assert_eq!(
            m,
            [
                mount("procfs", "proc", "/proc", &["nosuid", "noexec"]),
                mount("devfs", "devfs", "/dev", &["ruleset=4"]),
                mount(
                    "tmpfs",
                    "tmpfs",
                    "/run",
                    &["nosuid", "mode=755", "size=65536k"]
                ),
                mount("tmpfs", "tmpfs", "/run", &["size=1m"]),
            ]
        );
        assert_eq!(
            shown,
            [
                "warning: mounts[4]: containerd's default mount of /dev/mqueue is not made: POSIX message queues need no filesystem on FreeBSD",
                "warning: mounts[5]: containerd's default mount of /sys is not made: FreeBSD has no sysfs (linsysfs is for Linux binaries: mount it by name)",
            ]
        );
    }

    #[test]
    fn errors() {
        let (m, _, shown) = translated(
            json!([
                { "destination": "/p", "type": "proc", "source": "proc" },
                { "destination": "/../x", "type": "tmpfs" },
                { "destination": "/n", "type": "nullfs" },
                { "destination": "/t", "type": "tmpfs", "options": ["tmpcopyup", "rshared"] },
                { "destination": "/d", "type": "devfs", "options": ["ruleset=x", "rule="] },
                { "destination": "/e", "type": "tmpfs", "options": ["rule=path a unhide"] },
                { "destination": "/f", "source": "../../up" }
            ]),
            false,
        );
        assert_eq!(m.len(), 3, "options are dropped, not their mounts: {m:?}");
        assert_eq!(
            shown,
            [
                "error: mounts[0].type: \"proc\" is a Linux filesystem type (FreeBSD's are procfs and, for Linux binaries, linprocfs); runj cannot honour it",
                "error: mounts[1].destination: \"/../x\" leaves the container's root",
                "error: mounts[2].source: a bind (nullfs) mount needs a source",
                "error: mounts[3].options[0]: copying the image's files into the tmpfs (ocijail's tmpcopyup) is not part of a jail plan; runj cannot honour it",
                "error: mounts[3].options[1]: mount propagation is Linux-only; runj cannot honour it",
                "error: mounts[4].options[0]: ruleset \"x\" is not a number from 0 to 65535",
                "error: mounts[4].options[1]: an empty devfs rule",
                "error: mounts[5].options[0]: rule= applies to devfs mounts only",
                "error: mounts[6].source: \"../../up\" climbs above /",
            ]
        );
        let (m, _, shown) = translated(
            json!([{ "destination": "/t", "type": "tmpfs", "options": ["tmpcopyup"] }]),
            true,
        );
        assert_eq!(m, [mount("tmpfs", "tmpfs", "/t", &[])]);
        assert!(shown[0].starts_with("warning: "));
    }
}
