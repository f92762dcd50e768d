//! Forking a child that prepares itself (attaches to a jail, switches user,
//! waits for `start`) and execs, with its failures reported to the parent
//! over a close-on-exec pipe, as runc and jail(8) do.
//!
//! The caller must be single-threaded: after fork(2) the child allocates
//! and takes locks, which is only sound when no other thread existed. The
//! `runj` binary is; the shim drives `runj` as a separate process.
//! [`spawn`] checks it and refuses to fork otherwise.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Gid, Pid, Uid, execve, fork, pipe2};

use crate::error::{Context, Error, Result};

/// The program a child finally runs.
#[derive(Debug, Clone)]
pub struct Exec {
    /// The program, when not `argv[0]` looked up in `PATH`.
    pub program: Option<CString>,
    pub argv: Vec<CString>,
    pub env: Vec<CString>,
    /// The program, too, dies with runj (a helper runj waits for, such as
    /// `ip`: killed halfway, runj must leave none that acts after a
    /// `delete --force`); otherwise it outlives runj once exec'd.
    pub dies_with_runj: bool,
}

impl Exec {
    /// From strings; an interior NUL is an error naming the string.
    pub fn new(argv: &[String], env: &[String]) -> Result<Self> {
        Ok(Exec {
            program: None,
            argv: c_strings(argv)?,
            env: c_strings(env)?,
            dies_with_runj: false,
        })
    }

    /// `PATH` from the environment, else the default of execvp(3).
    fn search_path(&self) -> Vec<u8> {
        self.env
            .iter()
            .find_map(|e| e.as_bytes().strip_prefix(b"PATH="))
            .map_or_else(|| DEFAULT_PATH.as_bytes().to_vec(), <[u8]>::to_vec)
    }

    /// The program's path, looked up in `PATH` when it has no `/`: run in
    /// the child, after it has joined the jail.
    pub fn resolve(&self) -> Result<CString, String> {
        if let Some(program) = &self.program {
            return Ok(program.clone());
        }
        let name = self.argv.first().ok_or("empty argument list")?.as_bytes();
        let display = String::from_utf8_lossy(name).into_owned();
        if name.contains(&b'/') {
            return Ok(CString::new(name).expect("came from a CString"));
        }
        for dir in self.search_path().split(|b| *b == b':') {
            let dir = if dir.is_empty() { b"." as &[u8] } else { dir };
            let candidate = Path::new(OsStr::from_bytes(dir)).join(OsStr::from_bytes(name));
            if is_executable(&candidate) {
                return Ok(CString::new(candidate.as_os_str().as_bytes()).expect("no NUL"));
            }
        }
        Err(format!("{display}: executable file not found in $PATH"))
    }
}

/// execvp(3)'s default search path.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Strings as C strings.
pub fn c_strings(items: &[String]) -> Result<Vec<CString>> {
    items
        .iter()
        .map(|s| {
            CString::new(s.as_bytes())
                .map_err(|_| Error::Plan(format!("\"{}\" contains a NUL byte", s.escape_debug())))
        })
        .collect()
}

/// The child's end of the report pipe.
pub struct Reporter {
    pipe: Option<File>,
}

impl Reporter {
    /// Tells the parent the child is ready and will exec later; after this
    /// failures can only go to standard error.
    pub fn ready(&mut self) {
        if let Err(message) = outlive_parent() {
            self.fail(&message);
        }
        if let Some(mut pipe) = self.pipe.take() {
            let _ = pipe.write_all(b"R");
        }
    }

    fn fail(&mut self, message: &str) -> ! {
        match self.pipe.take() {
            Some(mut pipe) => {
                let _ = pipe.write_all(format!("E{message}").as_bytes());
            }
            None => eprintln!("runj: {message}"),
        }
        // SAFETY: _exit is async-signal-safe and skips the parent's atexit
        // handlers and buffers, as a forked child must.
        unsafe { libc::_exit(127) }
    }
}

/// How the child ended its preparation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// It exec'd the program.
    Exec,
    /// It is ready and waits before exec (`runj create`).
    Ready,
}

/// Forks; the child runs `prepare`, then execs what it returns. Returns
/// once the child has exec'd, said it is ready, or failed (its message is
/// the error, and it has been reaped).
pub fn spawn(
    what: &str,
    prepare: impl FnOnce(&mut Reporter) -> Result<Exec, String>,
) -> Result<(Pid, Started)> {
    single_threaded().map_err(|e| Error::Plan(format!("{what}: {e}")))?;
    let (read, write) = pipe2(OFlag::O_CLOEXEC).context(|| "create a pipe".into())?;
    let parent = nix::unistd::getpid();
    // SAFETY: the process is single-threaded, just checked (module docs).
    match unsafe { fork() }.context(|| format!("fork for {what}"))? {
        ForkResult::Child => {
            drop(read);
            let mut reporter = Reporter {
                pipe: Some(File::from(write)),
            };
            if let Err(message) = die_with(parent) {
                reporter.fail(&message);
            }
            let exec = match prepare(&mut reporter) {
                Ok(exec) => exec,
                Err(message) => reporter.fail(&message),
            };
            let path = match exec.resolve() {
                Ok(path) => path,
                Err(message) => reporter.fail(&message),
            };
            let set_up = close_inherited().and_then(|()| match exec.dies_with_runj {
                true => Ok(()),
                false => outlive_parent(),
            });
            if let Err(message) = set_up {
                reporter.fail(&message);
            }
            let errno = execve(&path, &exec.argv, &exec.env).unwrap_err();
            reporter.fail(&format!(
                "exec {}: {}",
                path.to_string_lossy(),
                errno.desc()
            ))
        }
        ForkResult::Parent { child } => {
            drop(write);
            let mut message = Vec::new();
            let mut pipe = File::from(read);
            let mut first = [0u8; 1];
            let n = pipe
                .read(&mut first)
                .context(|| format!("read from {what}"))?;
            match (n, first[0]) {
                (0, _) => Ok((child, Started::Exec)),
                (_, b'R') => Ok((child, Started::Ready)),
                _ => {
                    pipe.read_to_end(&mut message)
                        .context(|| format!("read from {what}"))?;
                    let _ = waitpid(child, None);
                    Err(Error::Plan(format!(
                        "{what}: {}",
                        String::from_utf8_lossy(&message)
                    )))
                }
            }
        }
    }
}

/// Until it is ready or execs, a child dies with runj: one whose runj was
/// killed (SIGKILL) while it joined a jail would otherwise go on joining
/// after a `delete --force` has looked for the jail's processes, and keep
/// the jail's cgroup busy (Linux). On FreeBSD, jail_attach(2) is one call,
/// which fails once the jail is removed.
#[cfg(target_os = "linux")]
fn die_with(parent: Pid) -> std::result::Result<(), String> {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .map_err(|e| format!("prctl(PR_SET_PDEATHSIG): {}", e.desc()))?;
    // The parent may have died before the call.
    if nix::unistd::getppid() != parent {
        return Err("runj ended before the child was set up".into());
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn die_with(_parent: Pid) -> std::result::Result<(), String> {
    Ok(())
}

/// The child, set up, lives on without runj (the container process).
#[cfg(target_os = "linux")]
fn outlive_parent() -> std::result::Result<(), String> {
    nix::sys::prctl::set_pdeathsig(None)
        .map_err(|e| format!("prctl(PR_SET_PDEATHSIG, 0): {}", e.desc()))
}

#[cfg(not(target_os = "linux"))]
fn outlive_parent() -> std::result::Result<(), String> {
    Ok(())
}

/// Whether this process has only the calling thread, which makes fork(2)
/// followed by allocation in the child sound.
fn single_threaded() -> std::result::Result<(), String> {
    let threads = own_threads().map_err(|e| format!("cannot count this process's threads: {e}"))?;
    if threads > 1 {
        return Err(format!(
            "runj forks only from a single-threaded process, and this one has {threads} threads"
        ));
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn own_threads() -> std::result::Result<usize, String> {
    // proc(5): the field after the parenthesised command is the state;
    // `num_threads` is the 18th after it.
    let stat = std::fs::read_to_string("/proc/self/stat").map_err(|e| e.to_string())?;
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    after
        .split_whitespace()
        .nth(17)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| "no thread count in /proc/self/stat".to_string())
}

#[cfg(target_os = "freebsd")]
fn own_threads() -> std::result::Result<usize, String> {
    crate::freebsd::sys::own_threads().map_err(|e| e.to_string())
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
fn own_threads() -> std::result::Result<usize, String> {
    Err("not known on this system".into())
}

/// Marks every descriptor above standard error close-on-exec, so that the
/// program gets only 0, 1 and 2, as runc's processes and jail(8)'s
/// commands (`closefrom(3)`) do: nothing runj or its caller had open
/// reaches a container (CVE-2024-21626's class).
fn close_inherited() -> Result<(), String> {
    // SAFETY: a plain system call on no memory of ours.
    let done = unsafe { libc::close_range(3, u32::MAX, libc::CLOSE_RANGE_CLOEXEC as libc::c_int) };
    if done == 0 {
        return Ok(());
    }
    // Kernels without close_range(2) flags: each descriptor up to the limit.
    let (soft, _) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_err(|e| format!("getrlimit: {}", e.desc()))?;
    for fd in 3..soft.min(1 << 20) as i32 {
        // SAFETY: fcntl on a number that may not be a descriptor is EBADF.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

/// Runs a system program to completion, its `PATH` the default one, after
/// `prepare` in the child; a failure is an [`Error::Command`] of `stage`.
/// The program dies with runj ([`Exec::dies_with_runj`]).
pub fn run_program(
    stage: &str,
    argv: &[String],
    prepare: impl FnOnce() -> Result<(), String>,
) -> Result<()> {
    let shown = argv.join(" ");
    let exec = Exec {
        dies_with_runj: true,
        ..Exec::new(argv, &[format!("PATH={DEFAULT_PATH}")])?
    };
    let (pid, _) = spawn(&shown, |_| {
        prepare()?;
        Ok(exec)
    })?;
    match wait(pid, None)? {
        Ended::Exited(0) => Ok(()),
        ended => Err(Error::Command {
            stage: stage.to_string(),
            command: shown,
            status: ended.to_string(),
        }),
    }
}

/// How a waited-for process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Exited(i32),
    Signaled(i32),
    TimedOut,
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Exited(code) => write!(f, "exit status {code}"),
            Ended::Signaled(sig) => write!(f, "killed by signal {sig}"),
            Ended::TimedOut => write!(f, "timed out"),
        }
    }
}

/// Waits for a child; after `timeout` it is killed with its process group
/// (children that lead one, as commands and hooks do), then reaped.
pub fn wait(pid: Pid, timeout: Option<Duration>) -> Result<Ended> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let flags = deadline.map(|_| WaitPidFlag::WNOHANG);
        match waitpid(pid, flags).context(|| format!("wait for process {pid}"))? {
            WaitStatus::Exited(_, code) => return Ok(Ended::Exited(code)),
            WaitStatus::Signaled(_, sig, _) => return Ok(Ended::Signaled(sig as i32)),
            _ if deadline.is_some_and(|d| Instant::now() >= d) => {
                if killpg(pid, Signal::SIGKILL).is_err() {
                    let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
                }
                let _ = waitpid(pid, None);
                return Ok(Ended::TimedOut);
            }
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Sets groups, group and user, in that order (the child's last privileged
/// acts before exec).
pub fn switch_user(uid: u32, gid: u32, groups: &[u32]) -> Result<(), String> {
    let groups: Vec<Gid> = groups.iter().map(|g| Gid::from_raw(*g)).collect();
    nix::unistd::setgroups(&groups).map_err(|e| format!("setgroups: {}", e.desc()))?;
    nix::unistd::setgid(Gid::from_raw(gid)).map_err(|e| format!("setgid {gid}: {}", e.desc()))?;
    nix::unistd::setuid(Uid::from_raw(uid)).map_err(|e| format!("setuid {uid}: {}", e.desc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test harness runs each test on a thread of its own, so this
    /// process has several: fork is refused, and nothing is forked.
    #[test]
    fn a_multi_threaded_process_is_refused_a_fork() {
        let err = spawn("a child", |_| Ok(Exec::new(&["true".into()], &[]).unwrap()))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "a child: runj forks only from a single-threaded process, and this one has"
            ),
            "{err}"
        );
        assert!(own_threads().unwrap() > 1);
    }
}
