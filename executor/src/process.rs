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
use nix::sys::resource::{Resource, setrlimit};
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
            terminal(socket, p)?;
        }
        attach.attach().map_err(|e| format!("join the jail: {e}"))?;
        chdir(p.cwd.as_str()).map_err(|e| format!("chdir to {}: {}", p.cwd, e.desc()))?;
        for (resource, limit) in &limits {
            setrlimit(*resource, rlim(limit.soft), rlim(limit.hard))
                .map_err(|e| format!("setrlimit {}: {}", limit.kind, e.desc()))?;
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
fn terminal(socket: &Path, p: &Process) -> Result<(), String> {
    let size = p.console_size.map(|s| Winsize {
        ws_row: s.height.try_into().unwrap_or(u16::MAX),
        ws_col: s.width.try_into().unwrap_or(u16::MAX),
        ws_xpixel: 0,
        ws_ypixel: 0,
    });
    let pty = openpty(size.as_ref(), None).map_err(|e| format!("openpty: {}", e.desc()))?;
    send_master(socket, &pty.master)
        .map_err(|e| format!("send the console to {}: {e}", socket.display()))?;
    drop(pty.master);
    // SAFETY: TIOCSCTTY takes an int argument; the slave is open.
    if unsafe { libc::ioctl(pty.slave.as_raw_fd(), libc::TIOCSCTTY as _, 0) } < 0 {
        return Err(format!("TIOCSCTTY: {}", std::io::Error::last_os_error()));
    }
    let slave = File::from(pty.slave);
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

/// The rlimit named as in the runtime-spec (`RLIMIT_NOFILE`, …).
fn resource(limit: &Rlimit) -> Result<(Resource, &Rlimit)> {
    let name = limit.kind.strip_prefix("RLIMIT_").unwrap_or(&limit.kind);
    let resource = match name {
        #[cfg(not(target_os = "freebsd"))]
        "AS" => Resource::RLIMIT_AS,
        #[cfg(target_os = "freebsd")]
        "AS" => Resource::RLIMIT_VMEM,
        "CORE" => Resource::RLIMIT_CORE,
        "CPU" => Resource::RLIMIT_CPU,
        "DATA" => Resource::RLIMIT_DATA,
        "FSIZE" => Resource::RLIMIT_FSIZE,
        "MEMLOCK" => Resource::RLIMIT_MEMLOCK,
        "NOFILE" => Resource::RLIMIT_NOFILE,
        "NPROC" => Resource::RLIMIT_NPROC,
        "RSS" => Resource::RLIMIT_RSS,
        "STACK" => Resource::RLIMIT_STACK,
        _ => {
            return Err(Error::Unsupported(format!(
                "process.rlimits: {} is not a limit runj sets on this system",
                limit.kind
            )));
        }
    };
    Ok((resource, limit))
}
