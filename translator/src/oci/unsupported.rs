//! Fields of config.json that a jail cannot honour. Each is taken out of
//! the document before it is read (so that oci-spec's strict Linux types
//! never reject a bundle over a section runj does not use) and reported:
//! an error, or a warning when unsupported fields are allowed.

use serde_json::Value as Json;

use super::report::Report;
use crate::rctl::Rule;

/// JSON paths runj cannot honour, with the reason.
const UNSUPPORTED: &[(&[&str], &str)] = &[
    (&["solaris"], "Solaris-specific configuration"),
    (&["windows"], "Windows-specific configuration"),
    (&["vm"], "virtual-machine configuration"),
    (&["zos"], "z/OS-specific configuration"),
    (&["process", "apparmorProfile"], "AppArmor is Linux-only"),
    (&["process", "selinuxLabel"], "SELinux is Linux-only"),
    (&["process", "oomScoreAdj"], "the OOM score is Linux-only"),
    (
        &["process", "scheduler"],
        "sched_setattr(2) policies are Linux-only",
    ),
    (
        &["process", "ioPriority"],
        "I/O priority classes are Linux-only",
    ),
    (
        &["process", "execCPUAffinity"],
        "the plan has no CPU affinity for the process",
    ),
    (
        &["process", "commandLine"],
        "a command line is Windows-only",
    ),
    (
        &["process", "user", "username"],
        "a user name is Windows-only",
    ),
];

/// Per-mount fields runj cannot honour.
const MOUNT_UNSUPPORTED: &[(&str, &str)] = &[
    ("uidMappings", "ID-mapped mounts are Linux-only"),
    ("gidMappings", "ID-mapped mounts are Linux-only"),
];

/// The `linux` namespaces containerd's spec generator asks for
/// (containerd/containerd pkg/oci/spec.go `defaultUnixNamespaces`, plus
/// the cgroup namespace CRI adds): a jail has each of them by nature.
const DEFAULT_NAMESPACES: &[&str] = &["pid", "ipc", "uts", "mount", "network", "cgroup"];

/// containerd's `linux.maskedPaths` (pkg/oci/spec.go): Linux files a jail
/// does not have.
const DEFAULT_MASKED: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    "/proc/scsi",
];

/// containerd's `linux.readonlyPaths` (pkg/oci/spec.go).
const DEFAULT_READONLY: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The capability sets of containerd 2.x (`defaultUnixCaps`) and 1.7.
const DEFAULT_CAPS: &[&[&str]] = &[
    &[
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FSETID",
        "CAP_FOWNER",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_KILL",
    ],
    &[
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FSETID",
        "CAP_FOWNER",
        "CAP_MKNOD",
        "CAP_NET_RAW",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETFCAP",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
        "CAP_KILL",
        "CAP_AUDIT_WRITE",
    ],
];

/// Takes every unsupported field out of `doc` and reports it. Linux
/// capabilities are only a warning: the runtime-spec says such
/// capabilities MUST be logged as a warning and SHOULD NOT fail the
/// container (config.md "Linux Process"); containerd's default sets,
/// which every container it makes has, pass without one.
pub(super) fn take(doc: &mut Json, report: &mut Report) -> Vec<Rule> {
    let rules = match remove(doc, &["linux"]) {
        Some(linux) => linux_section(&linux, report),
        None => Vec::new(),
    };
    for (path, reason) in UNSUPPORTED {
        if remove(doc, path).is_some() {
            report.unsupported(path.join("."), reason);
        }
    }
    if let Some(caps) = remove(doc, &["process", "capabilities"])
        && !default_caps(&caps)
    {
        report.warning(
            "process.capabilities",
            "FreeBSD has no Linux capabilities; ignored, as the runtime-spec asks for capabilities that cannot be granted",
        );
    }
    if let Some(Json::Array(mounts)) = doc.get_mut("mounts") {
        for (i, mount) in mounts.iter_mut().enumerate() {
            for (field, reason) in MOUNT_UNSUPPORTED {
                if remove(mount, &[field]).is_some() {
                    report.unsupported(format!("mounts[{i}].{field}"), reason);
                }
            }
        }
    }
    rules
}

/// containerd's default capabilities: every set present one of
/// [`DEFAULT_CAPS`] (the same one), nothing else.
fn default_caps(caps: &Json) -> bool {
    let Some(sets) = caps.as_object() else {
        return false;
    };
    DEFAULT_CAPS.iter().any(|default| {
        sets.iter().all(|(set, list)| {
            matches!(set.as_str(), "bounding" | "permitted" | "effective")
                && list.as_array().is_some_and(|l| {
                    l.iter()
                        .map(Json::as_str)
                        .eq(default.iter().map(|c| Some(*c)))
                })
        })
    })
}

/// The `linux` section: what containerd writes into every spec it
/// generates, on Linux and on FreeBSD alike (pkg/oci/spec.go
/// `populateDefaultUnixSpec`), is what a jail is anyway and passes;
/// anything beyond it is unsupported, named by its JSON path. The limits
/// of `resources` become rctl rules ([`super::resources`]).
fn linux_section(linux: &Json, report: &mut Report) -> Vec<Rule> {
    let mut rules = Vec::new();
    let Some(fields) = linux.as_object() else {
        report.unsupported("linux", "Linux-specific configuration");
        return rules;
    };
    for (key, value) in fields {
        let at = format!("linux.{key}");
        match key.as_str() {
            "namespaces" => each(value, &at, report, |ns| {
                let kind = ns.get("type").and_then(Json::as_str).unwrap_or_default();
                match (DEFAULT_NAMESPACES.contains(&kind), ns.get("path")) {
                    (true, None) => None,
                    (true, Some(_)) => {
                        Some("joining an existing namespace by path is Linux-only".to_string())
                    }
                    (false, _) => Some(format!("a {kind} namespace is Linux-only")),
                }
            }),
            "maskedPaths" | "readonlyPaths" => {
                let defaults = if key == "maskedPaths" {
                    DEFAULT_MASKED
                } else {
                    DEFAULT_READONLY
                };
                each(value, &at, report, |p| {
                    let path = p.as_str().unwrap_or_default();
                    (!defaults.contains(&path)).then(|| {
                        format!("{path}: only containerd's default paths, which a jail does not have, are taken")
                    })
                })
            }
            // A cgroup's name: jails have none; limits come from
            // `resources`.
            "cgroupsPath" if value.is_string() => {}
            "resources" => rules = super::resources::rules(value, &at, report),
            _ => report.unsupported(&at, "Linux-specific configuration"),
        }
    }
    rules
}

/// Checks each item of a list; `why` says what is wrong with one.
fn each(list: &Json, at: &str, report: &mut Report, why: impl Fn(&Json) -> Option<String>) {
    let Some(items) = list.as_array() else {
        return report.unsupported(at, "not a list");
    };
    for (i, item) in items.iter().enumerate() {
        if let Some(reason) = why(item) {
            report.unsupported(format!("{at}[{i}]"), &reason);
        }
    }
}

/// Removes the value at `path` (object keys), if present and not `null`.
pub(super) fn remove(doc: &mut Json, path: &[&str]) -> Option<Json> {
    let (last, parents) = path.split_last()?;
    let mut object = doc;
    for key in parents {
        object = object.get_mut(*key)?;
    }
    object
        .as_object_mut()?
        .remove(*last)
        .filter(|v| !v.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn taken(mut doc: Json, allow: bool) -> (Json, Vec<String>) {
        let mut report = Report::new(allow);
        take(&mut doc, &mut report);
        (doc, report.diagnostics.messages())
    }

    #[test]
    fn linux_sections_are_errors_or_warnings() {
        let doc = json!({
            "linux": { "seccomp": {} },
            "process": { "args": ["sh"], "capabilities": { "bounding": ["CAP_KILL"] }, "oomScoreAdj": 5 },
            "mounts": [{ "destination": "/a", "uidMappings": [] }],
            "windows": null
        });
        let (rest, shown) = taken(doc.clone(), false);
        assert_eq!(
            rest,
            json!({ "process": { "args": ["sh"] }, "mounts": [{ "destination": "/a" }] })
        );
        assert_eq!(
            shown,
            [
                "error: linux.seccomp: Linux-specific configuration; runj cannot honour it",
                "error: process.oomScoreAdj: the OOM score is Linux-only; runj cannot honour it",
                "warning: process.capabilities: FreeBSD has no Linux capabilities; ignored, as the runtime-spec asks for capabilities that cannot be granted",
                "error: mounts[0].uidMappings: ID-mapped mounts are Linux-only; runj cannot honour it",
            ]
        );
        let (_, shown) = taken(doc, true);
        assert!(
            shown.iter().all(|s| s.starts_with("warning: ")),
            "{shown:?}"
        );
        assert!(shown[0].ends_with("dropped, as unsupported fields are allowed"));
    }

    /// What containerd 2.x writes into every spec (pkg/oci/spec.go
    /// `populateDefaultUnixSpec`).
    fn containerd_default() -> Json {
        json!({
            "process": { "args": ["sh"], "noNewPrivileges": true, "capabilities": {
                "bounding": DEFAULT_CAPS[0], "permitted": DEFAULT_CAPS[0], "effective": DEFAULT_CAPS[0] } },
            "linux": {
                "maskedPaths": DEFAULT_MASKED,
                "readonlyPaths": DEFAULT_READONLY,
                "cgroupsPath": "/default/web",
                "resources": { "devices": [
                    { "allow": false, "access": "rwm" },
                    { "allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm" },
                    { "allow": true, "type": "c", "major": 136, "access": "rwm" }
                ], "cpu": { "shares": 1024 } },
                "namespaces": [{ "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "network" }]
            }
        })
    }

    #[test]
    fn containerd_s_defaults_pass_without_a_word() {
        let (rest, shown) = taken(containerd_default(), false);
        assert!(shown.is_empty(), "{shown:?}");
        assert_eq!(
            rest,
            json!({ "process": { "args": ["sh"], "noNewPrivileges": true } })
        );
    }

    #[test]
    fn what_goes_beyond_the_defaults_is_named() {
        let mut doc = containerd_default();
        let linux = doc["linux"].as_object_mut().unwrap();
        linux.insert(
            "seccomp".into(),
            json!({ "defaultAction": "SCMP_ACT_ERRNO" }),
        );
        linux.insert("sysctl".into(), json!({ "net.ipv4.ip_forward": "1" }));
        linux["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "type": "user" }));
        linux["namespaces"][1] = json!({ "type": "ipc", "path": "/proc/1/ns/ipc" });
        linux["maskedPaths"]
            .as_array_mut()
            .unwrap()
            .push(json!("/etc/secret"));
        linux["resources"]["memory"] = json!({ "reservation": 1 << 25 });
        linux["resources"]["devices"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw" }));
        linux["resources"]["devices"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "allow": true, "type": "c", "major": 136, "access": "rwm" }));
        doc["process"]["capabilities"]["bounding"]
            .as_array_mut()
            .unwrap()
            .push(json!("CAP_SYS_ADMIN"));
        let (_, shown) = taken(doc, false);
        assert_eq!(
            shown,
            [
                "error: linux.maskedPaths[11]: /etc/secret: only containerd's default paths, which a jail does not have, are taken; runj cannot honour it",
                "error: linux.resources.devices[3]: a device cgroup rule beyond containerd's defaults; the jail's devfs ruleset decides its devices; runj cannot honour it",
                "error: linux.resources.memory.reservation: rctl has no equivalent of this limit; runj cannot honour it",
                "error: linux.namespaces[1]: joining an existing namespace by path is Linux-only; runj cannot honour it",
                "error: linux.namespaces[5]: a user namespace is Linux-only; runj cannot honour it",
                "error: linux.seccomp: Linux-specific configuration; runj cannot honour it",
                "error: linux.sysctl: Linux-specific configuration; runj cannot honour it",
                "warning: process.capabilities: FreeBSD has no Linux capabilities; ignored, as the runtime-spec asks for capabilities that cannot be granted",
            ]
        );
    }

    #[test]
    fn remove_walks_objects_only() {
        let mut doc = json!({ "process": "sh" });
        assert_eq!(remove(&mut doc, &["process", "user", "username"]), None);
        assert_eq!(remove(&mut doc, &["process"]), Some(json!("sh")));
    }
}
