//! `process` → the plan's process: argv (kept as given, never re-split),
//! environment, working directory, user and groups, umask, rlimits,
//! terminal and its size, no-new-privileges (runtime-spec config.md
//! "Process", "POSIX process", "User").

use std::collections::HashSet;

use oci_spec::runtime::Process as OciProcess;

use super::config::Rlimit as OciRlimit;
use super::report::Report;
use crate::plan::{ConsoleSize, Process, Rlimit, User, freebsd_resource};

/// Linux's resource limits that FreeBSD lacks (getrlimit(2) on Linux).
const LINUX_RLIMITS: &[&str] = &[
    "RLIMIT_LOCKS",
    "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",
    "RLIMIT_RTPRIO",
    "RLIMIT_RTTIME",
];

/// The plan's process; `None` after an error.
pub(super) fn translate(
    p: &OciProcess,
    rlimits: &[OciRlimit],
    report: &mut Report,
) -> Option<Process> {
    let errors_before = report.diagnostics.errors().count();
    let args = p.args().clone().unwrap_or_default();
    if args.is_empty() {
        report.error(
            "process.args",
            "at least one argument is required (runtime-spec config.md)",
        );
    }
    let env = p.env().clone().unwrap_or_default();
    for (i, entry) in env.iter().enumerate() {
        if !matches!(entry.split_once('='), Some((name, _)) if !name.is_empty()) {
            report.error(
                format!("process.env[{i}]"),
                format!("\"{entry}\" is not NAME=VALUE"),
            );
        }
    }
    let cwd = p.cwd().to_string_lossy().into_owned();
    if !cwd.starts_with('/') {
        report.error("process.cwd", format!("\"{cwd}\" is not an absolute path"));
    }
    let user = p.user();
    let umask = user.umask();
    if let Some(u) = umask.filter(|u| *u > 0o777) {
        report.error(
            "process.user.umask",
            format!("{u} is not a umask (0 to 511, that is 0777)"),
        );
    }
    let terminal = p.terminal().unwrap_or(false);
    let process = Process {
        args,
        env,
        cwd,
        user: User {
            uid: user.uid(),
            gid: user.gid(),
            additional_gids: user.additional_gids().clone().unwrap_or_default(),
        },
        rlimits: translate_rlimits(rlimits, report),
        terminal,
        // config.md: runtimes MUST ignore consoleSize without a terminal.
        console_size: p
            .console_size()
            .filter(|_| terminal)
            .and_then(|b| console_size(b, report)),
        umask,
        no_new_privileges: p.no_new_privileges().unwrap_or(false),
    };
    (report.diagnostics.errors().count() == errors_before).then_some(process)
}

fn console_size(b: oci_spec::runtime::Box, report: &mut Report) -> Option<ConsoleSize> {
    match (u32::try_from(b.height()), u32::try_from(b.width())) {
        (Ok(height), Ok(width)) => Some(ConsoleSize { height, width }),
        _ => {
            report.error("process.consoleSize", "larger than a terminal can be");
            None
        }
    }
}

/// Limits FreeBSD has; Linux-only ones are unsupported, unknown names and
/// repeated types errors (config.md "POSIX process").
fn translate_rlimits(rlimits: &[OciRlimit], report: &mut Report) -> Vec<Rlimit> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, r) in rlimits.iter().enumerate() {
        let at = format!("process.rlimits[{i}]");
        let kind = r.kind.as_str();
        if !seen.insert(kind) {
            report.error(
                format!("{at}.type"),
                format!("{kind} is given more than once"),
            );
        } else if LINUX_RLIMITS.contains(&kind) {
            report.unsupported(
                format!("{at}.type"),
                &format!("{kind} is a Linux resource limit FreeBSD does not have"),
            );
        } else if freebsd_resource(kind).is_none() {
            report.error(
                format!("{at}.type"),
                format!("{kind} is not a FreeBSD resource limit (getrlimit(2))"),
            );
        } else if r.soft > r.hard {
            report.error(
                at,
                format!(
                    "the soft limit {} is above the hard limit {}",
                    r.soft, r.hard
                ),
            );
        } else {
            out.push(Rlimit {
                kind: r.kind.clone(),
                soft: r.soft,
                hard: r.hard,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn translated(
        process: serde_json::Value,
        rlimits: serde_json::Value,
    ) -> (Option<Process>, Vec<String>) {
        let p: OciProcess = serde_json::from_value(process).unwrap();
        let r: Vec<OciRlimit> = serde_json::from_value(rlimits).unwrap();
        let mut report = Report::new(false);
        let out = translate(&p, &r, &mut report);
        (out, report.diagnostics.messages())
    }

    #[test]
    fn every_field() {
        let (p, shown) = translated(
            json!({
                "terminal": true, "consoleSize": { "height": 24, "width": 80 },
                "args": ["/bin/echo", "a b", "$HOME"], "env": ["A=1", "B="], "cwd": "/srv",
                "user": { "uid": 1001, "gid": 1002, "additionalGids": [5, 6], "umask": 18 },
                "noNewPrivileges": true
            }),
            json!([{ "type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096 }, { "type": "RLIMIT_SWAP", "soft": 0, "hard": 0 }]),
        );
        assert!(shown.is_empty(), "{shown:?}");
        let p = p.unwrap();
        assert_eq!(p.args, ["/bin/echo", "a b", "$HOME"]);
        assert_eq!(p.env, ["A=1", "B="]);
        assert_eq!(p.cwd, "/srv");
        assert_eq!(p.user.uid, 1001);
        assert_eq!(p.user.gid, 1002);
        assert_eq!(p.user.additional_gids, [5, 6]);
        assert_eq!(p.umask, Some(0o022));
        assert!(p.terminal && p.no_new_privileges);
        assert_eq!(
            p.console_size,
            Some(ConsoleSize {
                height: 24,
                width: 80
            })
        );
        assert_eq!(p.rlimits.len(), 2);
    }

    #[test]
    fn console_size_fits_a_terminal() {
        let (p, shown) = translated(
            json!({ "terminal": true, "consoleSize": { "height": 4294967296u64, "width": 80 }, "args": ["sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 } }),
            json!([]),
        );
        assert!(p.is_none());
        assert_eq!(
            shown,
            ["error: process.consoleSize: larger than a terminal can be"]
        );
    }

    #[test]
    fn console_size_needs_a_terminal() {
        let (p, _) = translated(
            json!({ "consoleSize": { "height": 24, "width": 80 }, "args": ["sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 } }),
            json!([]),
        );
        assert_eq!(p.unwrap().console_size, None);
    }

    #[test]
    fn errors() {
        let (p, shown) = translated(
            json!({ "args": [], "env": ["PATH"], "cwd": "srv", "user": { "uid": 0, "gid": 0, "umask": 4096 } }),
            json!([
                { "type": "RLIMIT_NOFILE", "soft": 2, "hard": 1 },
                { "type": "RLIMIT_CPU", "soft": 1, "hard": 1 },
                { "type": "RLIMIT_CPU", "soft": 1, "hard": 1 },
                { "type": "RLIMIT_RTPRIO", "soft": 1, "hard": 1 },
                { "type": "RLIMIT_FROB", "soft": 1, "hard": 1 }
            ]),
        );
        assert!(p.is_none());
        assert_eq!(
            shown,
            [
                "error: process.args: at least one argument is required (runtime-spec config.md)",
                "error: process.env[0]: \"PATH\" is not NAME=VALUE",
                "error: process.cwd: \"srv\" is not an absolute path",
                "error: process.user.umask: 4096 is not a umask (0 to 511, that is 0777)",
                "error: process.rlimits[0]: the soft limit 2 is above the hard limit 1",
                "error: process.rlimits[2].type: RLIMIT_CPU is given more than once",
                "error: process.rlimits[3].type: RLIMIT_RTPRIO is a Linux resource limit FreeBSD does not have; runj cannot honour it",
                "error: process.rlimits[4].type: RLIMIT_FROB is not a FreeBSD resource limit (getrlimit(2))",
            ]
        );
    }
}
