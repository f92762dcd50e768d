//! The action trace: one line per action of a jail's creation or removal,
//! in the format FreeBSD's jail(8) is recorded in (`runj apply --dry-run
//! --format trace`; the format is described in `docs/executor.md`). Both
//! the printed steps ([`crate::steps::Step::trace`]) and the recording
//! backend ([`crate::record`]) render through these functions, so the test
//! that compares them proves that the steps run what the trace shows.

use std::fmt::Write;

use runj_translator::plan::ExecOptions;

use crate::host::{Alias, MountForm, MountPoint, Place};
use crate::params::Param;

/// A JSON string as the trace writes it: compact, `"` `\` and the control
/// characters escaped (`\n` `\t` `\r` `\b` `\f`, others and DEL as
/// `\u00XX`), everything else as it is.
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON array of strings.
pub fn json_strings<S: AsRef<str>>(items: &[S]) -> String {
    let shown: Vec<String> = items.iter().map(|s| json_string(s.as_ref())).collect();
    format!("[{}]", shown.join(","))
}

/// An attribute value: bare when it holds only `[A-Za-z0-9._/@%+,=-]`, a
/// JSON string otherwise.
fn attribute_value(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/@%+,=-".contains(&b));
    if plain {
        text.to_string()
    } else {
        json_string(text)
    }
}

/// `exec host|jail ATTRS: ARGV`: a program jail(8) runs, with the
/// attributes of freebsd/freebsd-src usr.sbin/jail/command.c `run_command`
/// that apply (the user of its side, `exec.clean`, for commands in the
/// jail `exec.fib` and `exec.consolelog`, `exec.timeout`, a background
/// command).
/// A bridge action ([`runj_translator::bridge::Action`]): the command
/// jail.conf shows for it, as jail(8) runs it.
pub fn wire_line(action: &runj_translator::bridge::Action, options: &ExecOptions) -> String {
    let place = if action.in_jail() {
        Place::Jail
    } else {
        Place::Host
    };
    exec_line(place, options, false, &action.command().invocation().argv)
}

pub fn exec_line(place: Place, options: &ExecOptions, background: bool, argv: &[String]) -> String {
    let mut line = String::from(match place {
        Place::Host => "exec host",
        Place::Jail => "exec jail",
    });
    let user = match place {
        Place::Host => &options.system_user,
        Place::Jail => &options.jail_user,
    };
    if let Some(user) = user {
        let _ = write!(line, " user={}", attribute_value(user));
    }
    if options.clean {
        line.push_str(" clean");
    }
    if place == Place::Jail {
        if let Some(fib) = options.fib {
            let _ = write!(line, " fib={fib}");
        }
        if let Some(log) = &options.consolelog {
            let _ = write!(line, " consolelog={}", attribute_value(log));
        }
    }
    if let Some(timeout) = options.timeout.filter(|t| *t != 0) {
        let _ = write!(line, " timeout={timeout}");
    }
    if background {
        line.push_str(" bg");
    }
    let _ = write!(line, ": {}", json_strings(argv));
    line
}

/// `jail_set create|update: PAIRS`, each parameter as jail(8) imports it.
pub fn jail_set_line(create: bool, params: &[Param]) -> String {
    let pairs: Vec<String> = params
        .iter()
        .map(|p| {
            let value = p.import.text.as_deref().map_or("null".into(), json_string);
            format!("[{},{value}]", json_string(&p.import.name))
        })
        .collect();
    let op = if create { "create" } else { "update" };
    format!("jail_set {op}: [{}]", pairs.join(","))
}

/// `jail_set update` of jail(8)'s `clear_persist`: the jail's id, then
/// `nopersist`.
pub fn clear_persist_line() -> String {
    r#"jail_set update: [["jid","JID"],["nopersist",null]]"#.to_string()
}

/// ifconfig(8) as jail(8) runs it for an address alias.
pub fn alias_line(alias: &Alias, add: bool, options: &ExecOptions) -> String {
    exec_line(Place::Host, options, false, &alias.ifconfig_argv(add))
}

/// mount(8) or umount(8) as jail(8) runs it.
pub fn mount_line(mount: &MountPoint, up: bool, options: &ExecOptions) -> String {
    exec_line(Place::Host, options, false, &mount_argv(mount, up))
}

/// The argv of mount(8) (`up`) or umount(8) for a mount, as jail(8) builds
/// it: an fstab entry as `mount -t TYPE [-o OPTS] DEV MNTPT` and `umount -t
/// TYPE MNTPT`; `mount.devfs`, `mount.fdescfs` and `mount.procfs` as
/// `mount -t TYPE [-oOPTS] . MNTPT` and `umount MNTPT`.
pub fn mount_argv(mount: &MountPoint, up: bool) -> Vec<String> {
    let target = mount.target_text();
    let options = mount.options.join(",");
    let mut argv: Vec<String> = Vec::with_capacity(7);
    match (mount.form, up) {
        (_, true) => {
            argv.extend(["/sbin/mount".into(), "-t".into(), mount.fstype.clone()]);
            match mount.form {
                MountForm::Fstab if !options.is_empty() => {
                    argv.extend(["-o".into(), options]);
                    argv.push(mount.source.clone());
                }
                MountForm::Fstab => argv.push(mount.source.clone()),
                MountForm::Special if !options.is_empty() => {
                    argv.extend([format!("-o{options}"), ".".into()]);
                }
                MountForm::Special => argv.push(".".into()),
            }
        }
        (MountForm::Fstab, false) => {
            argv.extend(["/sbin/umount".into(), "-t".into(), mount.fstype.clone()]);
        }
        (MountForm::Special, false) => argv.push("/sbin/umount".into()),
    }
    argv.push(target);
    argv
}

/// `ifconfig IF vnet|-vnet JAIL`, `JAIL` being the jail's configured
/// `jid`, else its name.
pub fn vnet_argv(interface: &str, into: bool, designation: &str) -> Vec<String> {
    vec![
        "/sbin/ifconfig".into(),
        interface.into(),
        if into { "vnet" } else { "-vnet" }.into(),
        designation.into(),
    ]
}

/// The `stop.timeout` phase: SIGTERM to the jail's processes, then the
/// wait.
pub fn terminate_lines(timeout_secs: u64) -> [String; 2] {
    [
        "kill jail: SIGTERM".to_string(),
        format!("wait jail: stop.timeout={timeout_secs}"),
    ]
}

/// jail_remove(2).
pub const REMOVE_LINE: &str = "jail_remove";

/// The check that resource limits can be enforced, before a jail with
/// rctl rules is created (runj's own: jail(8) adds no rules).
pub const CHECK_LIMITS_LINE: &str = "check racct: kern.racct.enable=1";

/// rctl_add_rule(2) or rctl_remove_rule(2) of a whole rule.
pub fn rctl_line(add: bool, rule: &str) -> String {
    let call = if add {
        "rctl_add_rule"
    } else {
        "rctl_remove_rule"
    };
    format!("{call}: {rule}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_as_the_trace_does() {
        assert_eq!(json_string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(json_string("\n\t\r\u{8}\u{c}"), r#""\n\t\r\b\f""#);
        assert_eq!(json_string("\u{1}\u{1f}\u{7f}"), r#""\u0001\u001f\u007f""#);
        assert_eq!(json_string("caf\u{e9} /x"), "\"caf\u{e9} /x\"");
    }

    #[test]
    fn attribute_values_are_quoted_unless_plain() {
        assert_eq!(attribute_value("root"), "root");
        assert_eq!(attribute_value("/var/log/j.log"), "/var/log/j.log");
        assert_eq!(attribute_value("a b"), r#""a b""#);
        assert_eq!(attribute_value(""), r#""""#);
        assert_eq!(attribute_value("x;y"), r#""x;y""#);
    }

    #[test]
    fn attributes_follow_the_side_of_the_command() {
        let options = ExecOptions {
            clean: true,
            jail_user: Some("www".into()),
            system_user: Some("root".into()),
            fib: Some(2),
            consolelog: Some("/var/log/c".into()),
            timeout: Some(9),
            ..ExecOptions::default()
        };
        let argv = vec!["a".to_string()];
        assert_eq!(
            exec_line(Place::Host, &options, false, &argv),
            r#"exec host user=root clean timeout=9: ["a"]"#
        );
        assert_eq!(
            exec_line(Place::Jail, &options, true, &argv),
            r#"exec jail user=www clean fib=2 consolelog=/var/log/c timeout=9 bg: ["a"]"#
        );
    }
}
