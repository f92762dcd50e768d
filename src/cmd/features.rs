//! `runj features`: what this runtime supports, as the runtime-spec's
//! `features.md` document (the same one `runc features` prints).

use std::process::ExitCode;

use anyhow::Result;

/// The mount options the executor understands.
const MOUNT_OPTIONS: &[&str] = &[
    "ro", "rw", "nosuid", "noexec", "nodev", "bind", "rbind", "ruleset", "size", "mode", "uid",
    "gid", "inodes",
];

pub fn run() -> Result<ExitCode> {
    let features = serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": runj_executor::state::OCI_VERSION,
        "hooks": ["createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": MOUNT_OPTIONS,
        "annotations": {
            "org.opencontainers.runtime-spec.features.name": "runj",
            "org.opencontainers.runtime-spec.features.version": env!("CARGO_PKG_VERSION"),
        },
    });
    println!("{}", serde_json::to_string_pretty(&features)?);
    Ok(ExitCode::SUCCESS)
}
