//! `freebsd.devices` and devfs rules.
//!
//! A jail sees the devices its devfs mount shows, and the runtime-spec
//! expects devfs on `/dev` with a ruleset that hides most devices
//! (config-freebsd.md "Devices"). Each extra device becomes the devfs(8)
//! rule `path PATH unhide [mode MODE]`, applied to the `/dev` devfs mount
//! once the jail's filesystems are mounted (`exec.prestart`, which jail(8)
//! runs right after mounting), the same way ocijail applies its devfs
//! `rule=` mount option (dfr/ocijail ocijail/mount.cpp). A bundle with
//! devices but no devfs on `/dev` is an error: there is nowhere to show
//! them.

use super::freebsd::Device;
use super::mounts::DevfsRule;
use super::paths::on_host;
use super::report::Report;
use crate::plan::Mount;

/// devfs(8), which applies a rule to a mounted devfs.
const DEVFS: &str = "/sbin/devfs";

/// The rules exposing `devices` on the `/dev` devfs mount.
pub(super) fn rules(devices: &[Device], mounts: &[Mount], report: &mut Report) -> Vec<DevfsRule> {
    if devices.is_empty() {
        return Vec::new();
    }
    if !mounts
        .iter()
        .any(|m| m.fstype == "devfs" && m.destination == "/dev")
    {
        report.error(
            "freebsd.devices",
            "exposing devices needs a devfs mount on /dev (mounts[].type \"devfs\")",
        );
        return Vec::new();
    }
    devices
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let subject = format!("freebsd.devices[{i}]");
            rule(d, &subject, report).map(|rule| DevfsRule {
                destination: "/dev".into(),
                rule,
                subject,
            })
        })
        .collect()
}

fn rule(device: &Device, at: &str, report: &mut Report) -> Option<Vec<String>> {
    let path = &device.path;
    let bad_path = path.is_empty()
        || path.starts_with('/')
        || path.split('/').any(|c| c == ".." || c.is_empty());
    if bad_path {
        report.error(
            format!("{at}.path"),
            format!("\"{path}\" is not a path relative to /dev"),
        );
    }
    let mode = match device.mode {
        Some(m) if m > 0o777 => {
            report.error(
                format!("{at}.mode"),
                format!("{m} is not a file mode (0 to 511, that is 0777)"),
            );
            return None;
        }
        m => m,
    };
    if bad_path {
        return None;
    }
    let mut words = vec!["path".to_string(), path.clone(), "unhide".to_string()];
    if let Some(m) = mode {
        words.extend(["mode".to_string(), format!("{m:04o}")]);
    }
    Some(words)
}

/// The command applying a devfs rule to its mount under the jail's root,
/// quoted so that jail(8) runs exactly this argv.
pub(super) fn rule_command(root: &str, rule: &DevfsRule) -> Result<String, String> {
    let mount_point = on_host(root, &rule.destination);
    let argv = [DEVFS, "-m", &mount_point, "rule", "apply"]
        .into_iter()
        .chain(rule.rule.iter().map(String::as_str));
    shlex::try_join(argv).map_err(|e| format!("cannot quote the devfs rule {:?}: {e}", rule.rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devfs() -> Vec<Mount> {
        vec![Mount {
            fstype: "devfs".into(),
            source: "devfs".into(),
            destination: "/dev".into(),
            options: vec!["ruleset=4".into()],
        }]
    }

    fn device(path: &str, mode: Option<u32>) -> Device {
        Device {
            path: path.into(),
            mode,
        }
    }

    #[test]
    fn devices_become_unhide_rules() {
        let mut report = Report::new(false);
        let rules = rules(
            &[device("pf", Some(448)), device("bpf*", None)],
            &devfs(),
            &mut report,
        );
        assert!(report.diagnostics.0.is_empty());
        let commands: Vec<String> = rules
            .iter()
            .map(|r| rule_command("/j/my root", r).unwrap())
            .collect();
        assert_eq!(
            commands,
            [
                "/sbin/devfs -m '/j/my root/dev' rule apply path pf unhide mode 0700",
                "/sbin/devfs -m '/j/my root/dev' rule apply path 'bpf*' unhide",
            ]
        );
    }

    #[test]
    fn errors() {
        let mut report = Report::new(false);
        assert!(rules(&[device("pf", None)], &[], &mut report).is_empty());
        let rules = rules(
            &[device("../mem", None), device("pf", Some(512))],
            &devfs(),
            &mut report,
        );
        assert!(rules.is_empty());
        let shown: Vec<String> = report.diagnostics.messages();
        assert_eq!(
            shown,
            [
                "error: freebsd.devices: exposing devices needs a devfs mount on /dev (mounts[].type \"devfs\")",
                "error: freebsd.devices[0].path: \"../mem\" is not a path relative to /dev",
                "error: freebsd.devices[1].mode: 512 is not a file mode (0 to 511, that is 0777)",
            ]
        );
    }
}
