//! Fields of config.json that a jail cannot honour. Each is taken out of
//! the document before it is read (so that oci-spec's strict Linux types
//! never reject a bundle over a section runj does not use) and reported:
//! an error, or a warning when unsupported fields are allowed.

use serde_json::Value as Json;

use super::report::Report;

/// JSON paths runj cannot honour, with the reason.
const UNSUPPORTED: &[(&[&str], &str)] = &[
    (
        &["linux"],
        "Linux-specific configuration (namespaces, cgroups, seccomp, devices, sysctl, …)",
    ),
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

/// Takes every unsupported field out of `doc` and reports it. Linux
/// capabilities are only a warning: the runtime-spec says such
/// capabilities MUST be logged as a warning and SHOULD NOT fail the
/// container (config.md "Linux Process").
pub(super) fn take(doc: &mut Json, report: &mut Report) {
    for (path, reason) in UNSUPPORTED {
        if remove(doc, path).is_some() {
            report.unsupported(path.join("."), reason);
        }
    }
    if remove(doc, &["process", "capabilities"]).is_some() {
        report.warning(
            "process.capabilities",
            "FreeBSD has no Linux capabilities; ignored, as the runtime-spec asks for capabilities that cannot be granted",
        );
    }
    let Some(Json::Array(mounts)) = doc.get_mut("mounts") else {
        return;
    };
    for (i, mount) in mounts.iter_mut().enumerate() {
        for (field, reason) in MOUNT_UNSUPPORTED {
            if remove(mount, &[field]).is_some() {
                report.unsupported(format!("mounts[{i}].{field}"), reason);
            }
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
                "error: linux: Linux-specific configuration (namespaces, cgroups, seccomp, devices, sysctl, …); runj cannot honour it",
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

    #[test]
    fn remove_walks_objects_only() {
        let mut doc = json!({ "process": "sh" });
        assert_eq!(remove(&mut doc, &["process", "user", "username"]), None);
        assert_eq!(remove(&mut doc, &["process"]), Some(json!("sh")));
    }
}
