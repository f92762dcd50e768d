//! A container's process by pid *and* start time, so that a pid the system
//! has given to another process since is never taken for the container's
//! (runc records the start time for the same reason, opencontainers/runc
//! libcontainer `initProcessStartTime`). Signals on Linux go through a
//! pidfd opened and checked before sending, so that not even a reuse
//! between the check and the signal can redirect one.

use nix::sys::signal::Signal;
#[cfg(not(target_os = "linux"))]
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// When a process started, in the system's own unit (clock ticks since
/// boot on Linux, microseconds since the epoch on FreeBSD): with the pid,
/// it names one process for good.
pub fn start_time(pid: i32) -> Option<u64> {
    system_start_time(pid)
}

#[cfg(target_os = "linux")]
fn system_start_time(pid: i32) -> Option<u64> {
    // proc(5): `starttime` is field 22; fields after the parenthesised
    // command start at 3.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if matches!(fields.first(), Some(&"Z") | Some(&"X")) {
        return None;
    }
    fields.get(19)?.parse().ok()
}

#[cfg(target_os = "freebsd")]
fn system_start_time(pid: i32) -> Option<u64> {
    crate::freebsd::sys::process_start(pid)
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
fn system_start_time(_pid: i32) -> Option<u64> {
    None
}

/// Whether `pid` is still the process that started at `start` (any
/// process by that pid, when no start was recorded), and not a zombie.
pub fn is_same(pid: i32, start: Option<u64>) -> bool {
    match (start_time(pid), start) {
        (Some(now), Some(then)) => now == then,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Sends `signal` (0: none, only the check) to the process `pid` that
/// started at `start`; an error of kind "gone" ([`Error::is_gone`]) if
/// that process no longer exists. The process is held (a pidfd on Linux)
/// before its start time is checked, so the check holds for the signal.
pub fn signal(pid: i32, start: Option<u64>, signal: i32) -> Result<()> {
    let signal = match signal {
        0 => None,
        n => Some(Signal::try_from(n).map_err(|e| Error::os(format!("signal {n}"), e))?),
    };
    let gone = || Error::os(format!("kill {pid}"), nix::errno::Errno::ESRCH);
    let held = Held::open(pid).ok_or_else(gone)?;
    if !is_same(pid, start) {
        return Err(gone());
    }
    held.send(signal)
        .map_err(|e| Error::os(format!("kill {pid}"), e))
}

/// A process held for signalling: by a pidfd on Linux, by its pid
/// elsewhere.
struct Held {
    #[cfg(target_os = "linux")]
    fd: std::os::fd::OwnedFd,
    #[cfg(not(target_os = "linux"))]
    pid: i32,
}

impl Held {
    #[cfg(target_os = "linux")]
    fn open(pid: i32) -> Option<Held> {
        use std::os::fd::FromRawFd;
        // SAFETY: pidfd_open(2) takes a pid and flags; a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        // SAFETY: a descriptor just returned to us, owned from here on.
        (fd >= 0).then(|| Held {
            fd: unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) },
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn open(pid: i32) -> Option<Held> {
        Some(Held { pid })
    }

    #[cfg(target_os = "linux")]
    fn send(&self, signal: Option<Signal>) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        // SAFETY: pidfd_send_signal(2) on our pidfd, no siginfo, no flags.
        let sent = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.fd.as_raw_fd(),
                signal.map_or(0, |s| s as i32),
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if sent < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    #[cfg(not(target_os = "linux"))]
    fn send(&self, signal: Option<Signal>) -> std::io::Result<()> {
        nix::sys::signal::kill(Pid::from_raw(self.pid), signal).map_err(Into::into)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_process_is_known_by_its_start_time() {
        let me = std::process::id() as i32;
        let start = start_time(me).unwrap();
        assert!(is_same(me, Some(start)));
        assert!(
            !is_same(me, Some(start + 1)),
            "another start is another process"
        );
        let err = signal(me, Some(start + 1), 0).unwrap_err();
        assert!(err.is_gone(), "{err}");
        signal(me, Some(start), 0).unwrap();
    }
}
