//! Launching a container process (the runtime-spec `process`): a new
//! session, the terminal (a pty whose master goes to `--console-socket`,
//! as runc and runj do), attachment to the jail, cwd, rlimits, umask,
//! user and groups, no_new_privs, and optionally a wait on the exec fifo
//! until `runj start`. The process keeps its pid from fork to exec.

use std::fs::{File, OpenOptions};
use std::io::{IoSlice, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;

use nix::pty::{Winsize, openpty};
use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
use nix::sys::stat::{Mode, umask};
use nix::unistd::{Pid, chdir, dup2_stderr, dup2_stdin, dup2_stdout, setsid};
use runj_translator::plan::{Process, Rlimit};

use crate::child::{Exec, Reporter, spawn, switch_user};
use crate::error::{Error, Result};
use crate::host::Attach;

/// How to start a container process.
#[derive(Debug, Clone, Copy)]
pub struct Launch<'a> {
    pub process: &'a Process,
    /// Where to send the pty master when `process.terminal` is set.
    pub console_socket: Option<&'a Path>,
    /// Wait for a byte on this fifo before exec (`runj create`).
    pub fifo: Option<&'a Path>,
}

/// Starts the process in the jail; returns its pid once it waits on the
/// fifo (or has exec'd). Errors before that are the child's own message.
pub fn launch(launch: &Launch<'_>, attach: &dyn Attach) -> Result<Pid> {
    let p = launch.process;
    match (p.terminal, launch.console_socket) {
        (true, None) => {
            return Err(Error::Plan(
                "process.terminal needs --console-socket".into(),
            ));
        }
        (false, Some(_)) => {
            return Err(Error::Plan(
                "--console-socket is given but process.terminal is false".into(),
            ));
        }
        _ => {}
    }
    let limits = p.rlimits.iter().map(resource).collect::<Result<Vec<_>>>()?;
    let exec = Exec::new(&p.args, &p.env)?;
    let (pid, _) = spawn("start the container process", |reporter: &mut Reporter| {
        setsid().map_err(|e| format!("setsid: {}", e.desc()))?;
        let fifo = match launch.fifo {
            Some(path) => Some(
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_CLOEXEC)
                    .open(path)
                    .map_err(|e| format!("open {}: {e}", path.display()))?,
            ),
            None => None,
        };
        if let Some(socket) = launch.console_socket {
            terminal(socket, p, attach)?;
        }
        attach.attach().map_err(|e| format!("join the jail: {e}"))?;
        chdir(p.cwd.as_str()).map_err(|e| format!("chdir to {}: {}", p.cwd, e.desc()))?;
        for (resource, limit) in &limits {
            set_limit(*resource, limit)?;
        }
        if let Some(mask) = p.umask {
            umask(Mode::from_bits_truncate(mask as _));
        }
        switch_user(p.user.uid, p.user.gid, &p.user.additional_gids)?;
        if p.no_new_privileges {
            no_new_privileges()?;
        }
        exec.resolve()?;
        if let Some(mut fifo) = fifo {
            reporter.ready();
            let mut byte = [0u8; 1];
            fifo.read_exact(&mut byte)
                .map_err(|e| format!("wait for start: {e}"))?;
        }
        Ok(exec.clone())
    })?;
    Ok(pid)
}

/// Releases a process waiting on the fifo; fails if none waits.
pub fn release(fifo: &Path) -> Result<()> {
    use std::io::Write;
    let mut file = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(fifo)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENXIO) => Error::Plan("the container process is not running".into()),
            _ => Error::os(format!("open {}", fifo.display()), e),
        })?;
    file.write_all(b"0")
        .map_err(|e| Error::os(format!("write {}", fifo.display()), e))
}

/// A pty for the process: the master is sent over the console socket, the
/// slave becomes the controlling terminal and fds 0–2.
fn terminal(socket: &Path, p: &Process, attach: &dyn Attach) -> Result<(), String> {
    let size = p.console_size.map(|s| Winsize {
        ws_row: s.height.try_into().unwrap_or(u16::MAX),
        ws_col: s.width.try_into().unwrap_or(u16::MAX),
        ws_xpixel: 0,
        ws_ypixel: 0,
    });
    let (master, slave) = match attach.open_pty() {
        Some(pty) => {
            let (master, slave) = pty.map_err(|e| format!("open the jail's pty: {e}"))?;
            if let Some(size) = &size {
                // SAFETY: TIOCSWINSZ reads a winsize; the terminal is open.
                if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSWINSZ as _, size) } < 0 {
                    return Err(format!("TIOCSWINSZ: {}", std::io::Error::last_os_error()));
                }
            }
            (master, slave)
        }
        None => {
            let pty = openpty(size.as_ref(), None).map_err(|e| format!("openpty: {}", e.desc()))?;
            (pty.master, pty.slave)
        }
    };
    send_master(socket, &master)
        .map_err(|e| format!("send the console to {}: {e}", socket.display()))?;
    drop(master);
    // SAFETY: TIOCSCTTY takes an int argument; the slave is open.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY as _, 0) } < 0 {
        return Err(format!("TIOCSCTTY: {}", std::io::Error::last_os_error()));
    }
    let slave = File::from(slave);
    for dup in [dup2_stdin::<&File>, dup2_stdout, dup2_stderr] {
        dup(&slave).map_err(|e| format!("dup2: {}", e.desc()))?;
    }
    Ok(())
}

/// Sends `master` with `SCM_RIGHTS`, its name as the data (runc's console
/// socket protocol).
fn send_master(socket: &Path, master: &OwnedFd) -> std::io::Result<()> {
    let stream = UnixStream::connect(socket)?;
    let name = b"/dev/ptmx";
    let fds = [master.as_fd().as_raw_fd()];
    sendmsg::<()>(
        stream.as_raw_fd(),
        &[IoSlice::new(name)],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )?;
    Ok(())
}

#[cfg(target_os = "linux")]
fn no_new_privileges() -> Result<(), String> {
    nix::sys::prctl::set_no_new_privs().map_err(|e| format!("no_new_privs: {}", e.desc()))
}

#[cfg(not(target_os = "linux"))]
fn no_new_privileges() -> Result<(), String> {
    Ok(())
}

/// A runtime-spec limit as this system's `rlim_t`: past its range (FreeBSD's
/// is signed) the limit is `RLIM_INFINITY`, as `u64::MAX` is on Linux.
fn rlim(value: u64) -> libc::rlim_t {
    libc::rlim_t::try_from(value).unwrap_or(libc::RLIM_INFINITY)
}

/// A limit's resource on this system: FreeBSD's number from the plan's
/// table ([`runj_translator::plan::RLIMITS`]); in the Linux emulation the
/// same resource where Linux has it, an error where it has none.
fn resource(limit: &Rlimit) -> Result<(i32, &Rlimit)> {
    let freebsd = limit.freebsd_resource().ok_or_else(|| {
        Error::Unsupported(format!(
            "process.rlimits: {} is not a FreeBSD resource limit",
            limit.kind
        ))
    })?;
    let here = system_resource(freebsd).ok_or_else(|| {
        Error::Unsupported(format!(
            "process.rlimits: {} has no equivalent in the Linux emulation",
            limit.kind
        ))
    })?;
    Ok((here, limit))
}

#[cfg(target_os = "freebsd")]
fn system_resource(freebsd: i32) -> Option<i32> {
    Some(freebsd)
}

/// FreeBSD's resource numbers as Linux's (sys/sys/resource.h against
/// Linux's asm-generic/resource.h); the others have no Linux counterpart.
#[cfg(not(target_os = "freebsd"))]
fn system_resource(freebsd: i32) -> Option<i32> {
    let linux = match freebsd {
        0 => libc::RLIMIT_CPU,
        1 => libc::RLIMIT_FSIZE,
        2 => libc::RLIMIT_DATA,
        3 => libc::RLIMIT_STACK,
        4 => libc::RLIMIT_CORE,
        5 => libc::RLIMIT_RSS,
        6 => libc::RLIMIT_MEMLOCK,
        7 => libc::RLIMIT_NPROC,
        8 => libc::RLIMIT_NOFILE,
        10 => libc::RLIMIT_AS,
        _ => return None,
    };
    i32::try_from(linux).ok()
}

/// setrlimit(2), in the forked child.
fn set_limit(resource: i32, limit: &Rlimit) -> Result<(), String> {
    let value = libc::rlimit {
        rlim_cur: rlim(limit.soft),
        rlim_max: rlim(limit.hard),
    };
    // SAFETY: a plain system call with a valid pointer to a local value.
    if unsafe { libc::setrlimit(resource as _, &value) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err(format!("setrlimit {}: {e}", limit.kind));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use runj_translator::plan::RLIMITS;

    fn limit(kind: &str) -> Rlimit {
        Rlimit {
            kind: kind.into(),
            soft: 64,
            hard: 128,
        }
    }

    /// Every limit a plan may hold is one this system sets, or an error
    /// that says the emulation has none (never a limit dropped).
    #[test]
    fn every_planned_limit_is_set_or_refused() {
        for (kind, number) in RLIMITS {
            match resource(&limit(kind)) {
                Ok((here, _)) if cfg!(target_os = "freebsd") => assert_eq!(here, *number),
                Ok((here, _)) => assert!(here >= 0, "{kind}"),
                Err(Error::Unsupported(m)) if cfg!(not(target_os = "freebsd")) => {
                    assert!(m.contains("no equivalent in the Linux emulation"), "{m}");
                }
                Err(e) => panic!("{kind}: {e}"),
            }
        }
        let err = resource(&limit("RLIMIT_LOCKS")).unwrap_err().to_string();
        assert!(err.contains("not a FreeBSD resource limit"), "{err}");
    }

    /// The number given to setrlimit(2) is the limit named: a forked child
    /// sets RLIMIT_NOFILE and reads it back with getrlimit(2).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_limit_set_is_the_one_named() {
        let nofile = limit("RLIMIT_NOFILE");
        let (r, l) = resource(&nofile).unwrap();
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                let ok = set_limit(r, l).is_ok()
                    && nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
                        == Ok((64, 128));
                unsafe { libc::_exit(if ok { 0 } else { 1 }) };
            }
            nix::unistd::ForkResult::Parent { child } => {
                let status = nix::sys::wait::waitpid(child, None).unwrap();
                assert_eq!(status, nix::sys::wait::WaitStatus::Exited(child, 0));
            }
        }
    }
}
