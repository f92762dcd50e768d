//! Running jail(8)'s commands (`exec.*`, `command`) as
//! freebsd/freebsd-src usr.sbin/jail/command.c `run_command` does: through
//! `/bin/sh -c` only when the string has shell metacharacters, a trailing
//! `&` in the background, in the jail after chdir to its path and
//! jail_attach, as `exec.jail_user` / `exec.system_user`, with
//! `exec.clean`, `exec.consolelog`, `exec.timeout`, and `JID`, `JNAME`,
//! `JPATH` in the environment.

use std::ffi::CString;
use std::fs::OpenOptions;
use std::time::Duration;

use nix::unistd::{Pid, User, chdir, dup2_stderr, dup2_stdout, setpgid, setsid};

use crate::child::{Ended, Exec, Reporter, c_strings, lookup_user, spawn, wait};
use crate::error::{Context, Error, Result};
use crate::host::{Attach, Command, Place};

/// `PATH` under `exec.clean`.
const CLEAN_PATH: &str = "/bin:/usr/bin";

/// Runs one command to completion (or starts it, with a trailing `&`).
/// `attach` joins the jail, for commands run there.
pub fn run(command: &Command<'_>, attach: Option<&dyn Attach>) -> Result<()> {
    let background = command.background;
    let text = command.argv.join(" ");
    if command.argv.is_empty() {
        return Ok(());
    }
    let options = command.options;
    if options.fib.is_some() && !cfg!(target_os = "freebsd") {
        return Err(Error::Unsupported(
            "exec.fib: routing tables (setfib) exist only on FreeBSD".into(),
        ));
    }
    let log = match &options.consolelog {
        Some(path) => Some(
            OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
                .context(|| format!("exec.consolelog: open {path}"))?,
        ),
        None => None,
    };
    let argv = c_strings(command.argv)?;
    let inherited = if options.clean {
        Vec::new()
    } else {
        environment(command)?
    };
    let user = match command.place {
        Place::Jail => options.jail_user.clone(),
        Place::Host => options.system_user.clone(),
    };
    // exec.system_jail_user: the jail user comes from the host's passwd.
    let host_user = match (&user, command.place, options.system_jail_user) {
        (Some(name), Place::Host, _) | (Some(name), Place::Jail, true) => {
            Some(lookup_user(name).map_err(Error::Plan)?)
        }
        _ => None,
    };
    let what = format!("{} {}", command.stage, text);
    let (pid, _) = spawn(&what, |_: &mut Reporter| {
        if background {
            setsid().map_err(|e| format!("setsid: {}", e.desc()))?;
        } else {
            setpgid(Pid::from_raw(0), Pid::from_raw(0))
                .map_err(|e| format!("setpgid: {}", e.desc()))?;
        }
        if command.place == Place::Jail {
            chdir(&command.jail.path)
                .map_err(|e| format!("chdir {}: {}", command.jail.path.display(), e.desc()))?;
            set_fib(options.fib)?;
            if let Some(attach) = attach {
                attach.attach().map_err(|e| format!("jail_attach: {e}"))?;
            }
        }
        let user = match (host_user, &user) {
            (Some(u), _) => Some(u),
            (None, Some(name)) => Some(lookup_user(name)?),
            (None, None) => None,
        };
        if let Some(log) = &log {
            dup2_stdout(log).map_err(|e| format!("dup2: {}", e.desc()))?;
            dup2_stderr(log).map_err(|e| format!("dup2: {}", e.desc()))?;
        }
        let env = if options.clean {
            clean_environment(user.as_ref())?
        } else {
            inherited.clone()
        };
        if let Some(u) = &user {
            let name = CString::new(u.name.as_bytes()).map_err(|_| "user name with NUL")?;
            nix::unistd::initgroups(&name, u.gid)
                .map_err(|e| format!("initgroups {}: {}", u.name, e.desc()))?;
            become_user(u)?;
        }
        Ok(Exec {
            program: None,
            argv: argv.clone(),
            env,
        })
    })?;
    if background {
        return Ok(());
    }
    let timeout = options.timeout.map(|s| Duration::from_secs(s.into()));
    match wait(pid, timeout)? {
        Ended::Exited(0) => Ok(()),
        ended => Err(Error::Command {
            stage: command.stage.to_string(),
            command: text,
            status: ended.to_string(),
        }),
    }
}

/// After initgroups(3): the user's group, then the user.
fn become_user(u: &User) -> Result<(), String> {
    nix::unistd::setgid(u.gid).map_err(|e| format!("setgid: {}", e.desc()))?;
    nix::unistd::setuid(u.uid).map_err(|e| format!("setuid: {}", e.desc()))
}

#[cfg(target_os = "freebsd")]
fn set_fib(fib: Option<u32>) -> Result<(), String> {
    match fib {
        Some(n) => crate::freebsd::sys::set_fib(n).map_err(|e| format!("setfib {n}: {e}")),
        None => Ok(()),
    }
}

#[cfg(not(target_os = "freebsd"))]
fn set_fib(_fib: Option<u32>) -> Result<(), String> {
    Ok(())
}

/// The caller's environment plus `JID`, `JNAME` and `JPATH`.
fn environment(command: &Command<'_>) -> Result<Vec<CString>> {
    let jail = command.jail;
    let mut vars: Vec<String> = std::env::vars_os()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_str()?, v.to_str()?)))
        .filter(|kv| {
            !["JID=", "JNAME=", "JPATH="]
                .iter()
                .any(|p| kv.starts_with(p))
        })
        .collect();
    if let Some(jid) = jail.jid {
        vars.push(format!("JID={jid}"));
    }
    vars.push(format!("JNAME={}", jail.name));
    vars.push(format!("JPATH={}", jail.path.display()));
    c_strings(&vars)
}

/// `exec.clean`: only `TERM` kept; `PATH`, `USER`, `HOME`, `SHELL` set from
/// the user's (else root's) passwd entry; the command starts in `HOME`.
fn clean_environment(user: Option<&User>) -> Result<Vec<CString>, String> {
    let root;
    let user = match user {
        Some(u) => u,
        None => {
            root = User::from_uid(nix::unistd::Uid::from_raw(0))
                .map_err(|e| format!("look up root: {}", e.desc()))?
                .ok_or("no passwd entry for root")?;
            &root
        }
    };
    let mut vars = Vec::new();
    if let Ok(term) = std::env::var("TERM") {
        vars.push(format!("TERM={term}"));
    }
    vars.push(format!("PATH={CLEAN_PATH}"));
    vars.push(format!("USER={}", user.name));
    vars.push(format!("HOME={}", user.dir.display()));
    vars.push(format!("SHELL={}", user.shell.display()));
    chdir(&user.dir).map_err(|e| format!("chdir {}: {}", user.dir.display(), e.desc()))?;
    c_strings(&vars).map_err(|e| e.to_string())
}
