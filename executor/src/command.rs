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

use nix::unistd::{Pid, chdir, dup2_stderr, dup2_stdout, setpgid, setsid};

use crate::child::{Ended, Exec, Reporter, c_strings, spawn, switch_user, wait};
use crate::error::{Context, Error, Result};
use crate::host::{Attach, Command, Place};
use crate::passwd::{self, Account, Who};

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
    // jail(8) sends the output of commands in the jail, and only theirs,
    // to the console log.
    let log = match (&options.consolelog, command.place) {
        (Some(path), Place::Jail) => Some(console_log(path, &command.jail.path)?),
        _ => None,
    };
    let argv = c_strings(command.argv)?;
    let inherited = if options.clean {
        Vec::new()
    } else {
        environment(command)?
    };
    let user = match command.place {
        Place::Jail => options.jail_user.as_deref(),
        Place::Host => options.system_user.as_deref(),
    };
    let lookup = lookup(command, user)?;
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
        let account = match &lookup {
            Lookup::None => None,
            Lookup::Found(account) => Some(account.clone()),
            Lookup::AfterAttach(who) => Some(passwd::from_system(who)?),
        };
        if let Some(log) = &log {
            dup2_stdout(log).map_err(|e| format!("dup2: {}", e.desc()))?;
            dup2_stderr(log).map_err(|e| format!("dup2: {}", e.desc()))?;
        }
        let env = match &account {
            Some(a) if options.clean => clean_environment(a)?,
            _ => inherited.clone(),
        };
        if let (Some(a), Some(_)) = (&account, user) {
            switch_user(a.uid, a.gid, &a.groups)?;
        }
        // jail(8)'s commands live on without it, as with jail(8).
        Ok(Exec {
            program: None,
            argv: argv.clone(),
            env,
            dies_with_runj: false,
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

/// Opens `exec.consolelog` as jail(8) does (command.c `check_path`): an
/// absolute path, no component of which below the jail's path is a
/// symbolic link (the last may not exist yet), appended to.
fn console_log(path: &str, jail_path: &std::path::Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let what = || format!("exec.consolelog: {path}");
    let file = std::path::Path::new(path);
    if !file.is_absolute() {
        return Err(Error::Plan(format!("{}: not an absolute pathname", what())));
    }
    if let Ok(inside) = file.strip_prefix(jail_path) {
        let mut at = jail_path.to_path_buf();
        for part in inside.components() {
            at.push(part);
            match std::fs::symlink_metadata(&at) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(Error::Plan(format!(
                        "{}: {} is a symbolic link",
                        what(),
                        at.display()
                    )));
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && at == file => {}
                Err(e) => return Err(Error::os(what(), e)),
            }
        }
    }
    OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(file)
        .context(|| format!("exec.consolelog: open {path}"))
}

/// Whose account a command needs (jail(8) looks one up for `exec.clean`
/// or a user), and where it is read.
enum Lookup {
    None,
    /// Read before the fork: the host's, or (Linux) the jail's own files.
    Found(Account),
    /// Looked up in the jail after jail_attach(2), as jail(8) does (FreeBSD).
    #[cfg_attr(not(target_os = "freebsd"), allow(dead_code))]
    AfterAttach(Who),
}

fn lookup(command: &Command<'_>, user: Option<&str>) -> Result<Lookup> {
    let options = command.options;
    if !options.clean && user.is_none() {
        return Ok(Lookup::None);
    }
    let who = match user {
        Some(name) => Who::Name(name.to_string()),
        None => Who::Uid(nix::unistd::getuid().as_raw()),
    };
    // exec.system_jail_user: the jail user comes from the host's passwd.
    if command.place == Place::Host || options.system_jail_user {
        return passwd::from_system(&who)
            .map(Lookup::Found)
            .map_err(Error::Plan);
    }
    jail_lookup(&command.jail.path, who)
}

#[cfg(target_os = "linux")]
fn jail_lookup(root: &std::path::Path, who: Who) -> Result<Lookup> {
    passwd::in_jail(root, &who)
        .map(Lookup::Found)
        .map_err(Error::Plan)
}

#[cfg(not(target_os = "linux"))]
fn jail_lookup(_root: &std::path::Path, who: Who) -> Result<Lookup> {
    Ok(Lookup::AfterAttach(who))
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
/// the account (the user's, else the caller's); the command starts in
/// `HOME`.
fn clean_environment(account: &Account) -> Result<Vec<CString>, String> {
    let mut vars = Vec::new();
    if let Ok(term) = std::env::var("TERM") {
        vars.push(format!("TERM={term}"));
    }
    vars.push(format!("PATH={CLEAN_PATH}"));
    vars.push(format!("USER={}", account.name));
    vars.push(format!("HOME={}", account.home.display()));
    vars.push(format!("SHELL={}", account.shell.display()));
    chdir(&account.home).map_err(|e| format!("chdir {}: {}", account.home.display(), e.desc()))?;
    c_strings(&vars).map_err(|e| e.to_string())
}
