//! A process's stdio: containerd's fifos on one side, the runtime's process
//! on the other.
//!
//! Without a terminal, the runtime command gets one pipe per stream
//! containerd asked for (`/dev/null` for the others) and passes them on to the
//! container process, as runc and runj do when detached; the shim copies
//! between the pipes and the fifos with the `containerd-shim` crate's
//! [`IoTasks`], which hold the fifos open so that containerd may come and go,
//! and implement CloseIO. With a terminal, the runtime sends the pty master
//! over a [`ConsoleSocket`] and the copies run between it and the fifos.
//!
//! Output copies start only once containerd has opened its end of each
//! output fifo ([`PreparedIo::connect`]), as the Go shims' blocking opens do.
//!
//! The container process cannot write before `start`, so whatever sits in the
//! output pipes when `create` returns was written by the runtime itself:
//! [`PreparedIo::runtime_output`] reads it, for the error message of a failed
//! command, or for the shim's log.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::Stdio as ProcessStdio;
use std::time::{Duration, Instant};

use containerd_shim::asynchronous::io::{IoTasks, Pty, Stdio};
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use tokio::net::unix::pipe;

use crate::console::{self, ConsoleSocket};
use crate::error::{Error, IoContext, Result};
use crate::runtime::{OutputCapture, Streams};

/// How long containerd may take to open its end of an output fifo.
const READER_TIMEOUT: Duration = Duration::from_secs(10);

/// One stream's pipe: the shim's end and, until handed to the runtime, the
/// process's end.
struct Pipe {
    ours: OwnedFd,
    theirs: Option<OwnedFd>,
}

impl Pipe {
    /// A pipe for a stream the process reads (`input`) or writes.
    fn new(input: bool) -> Result<Self> {
        let (reader, writer) = std::io::pipe().context(|| "create a stdio pipe".into())?;
        let (ours, theirs) = if input {
            (OwnedFd::from(writer), OwnedFd::from(reader))
        } else {
            (OwnedFd::from(reader), OwnedFd::from(writer))
        };
        Ok(Pipe {
            ours,
            theirs: Some(theirs),
        })
    }

    /// The process's end, for the runtime command.
    fn take_theirs(pipe: &mut Option<Pipe>) -> ProcessStdio {
        match pipe.as_mut().and_then(|p| p.theirs.take()) {
            Some(fd) => fd.into(),
            None => ProcessStdio::null(),
        }
    }
}

/// Stdio made ready before the runtime command, connected after it.
pub struct PreparedIo {
    mode: Mode,
}

enum Mode {
    Pipes {
        stdin: Option<Pipe>,
        stdout: Option<Pipe>,
        stderr: Option<Pipe>,
    },
    Console {
        socket: ConsoleSocket,
        output: OutputCapture,
    },
}

impl PreparedIo {
    /// Pipes for the streams `stdio` names, or a console socket.
    pub fn new(stdio: &Stdio) -> Result<Self> {
        for path in [&stdio.stdin, &stdio.stdout, &stdio.stderr] {
            if path.contains("://") {
                return Err(Error::Unimplemented(format!(
                    "stdio {path}: only fifo paths are supported, not URIs (binary or file logging)"
                )));
            }
        }
        let mode = if stdio.terminal {
            Mode::Console {
                socket: ConsoleSocket::new()?,
                output: OutputCapture::new()?,
            }
        } else {
            let pipe = |path: &str, input| (!path.is_empty()).then(|| Pipe::new(input)).transpose();
            Mode::Pipes {
                stdin: pipe(&stdio.stdin, true)?,
                stdout: pipe(&stdio.stdout, false)?,
                stderr: pipe(&stdio.stderr, false)?,
            }
        };
        Ok(PreparedIo { mode })
    }

    /// The console socket to pass as `--console-socket`, for a terminal.
    pub fn console_socket(&self) -> Option<PathBuf> {
        match &self.mode {
            Mode::Console { socket, .. } => Some(socket.path()),
            Mode::Pipes { .. } => None,
        }
    }

    /// The runtime command's streams: the process's pipe ends, or (with a
    /// console) a capture of the runtime's own output.
    pub fn streams(&mut self) -> Result<Streams> {
        match &mut self.mode {
            Mode::Pipes {
                stdin,
                stdout,
                stderr,
            } => Ok(Streams {
                stdin: Pipe::take_theirs(stdin),
                stdout: Pipe::take_theirs(stdout),
                stderr: Pipe::take_theirs(stderr),
            }),
            Mode::Console { output, .. } => output.streams(),
        }
    }

    /// What the runtime command wrote to its stdout and stderr.
    pub fn runtime_output(&self) -> String {
        match &self.mode {
            Mode::Pipes { stdout, stderr, .. } => [stdout, stderr]
                .into_iter()
                .flatten()
                .map(|pipe| read_pending(&pipe.ours))
                .filter(|text| !text.is_empty())
                .collect::<Vec<_>>()
                .join("\n"),
            Mode::Console { output, .. } => output.read(),
        }
    }

    /// Starts copying between the process and the fifos `stdio` names.
    pub async fn connect(self, stdio: &Stdio) -> Result<ProcessIo> {
        // Held until the copies have their own writers, so containerd's
        // readers never see end-of-file before the output.
        let _readers_present = await_readers(stdio, READER_TIMEOUT).await?;
        let tasks = IoTasks::default();
        let connected = match self.mode {
            Mode::Pipes {
                stdin,
                stdout,
                stderr,
            } => connect_pipes(&tasks, stdio, stdin, stdout, stderr).map(|()| None),
            Mode::Console { socket, .. } => connect_console(&tasks, stdio, socket).await.map(Some),
        };
        match connected {
            Ok(pty) => Ok(ProcessIo { tasks, pty }),
            Err(e) => {
                tasks.abort().await;
                Err(e)
            }
        }
    }
}

fn connect_pipes(
    tasks: &IoTasks,
    stdio: &Stdio,
    stdin: Option<Pipe>,
    stdout: Option<Pipe>,
    stderr: Option<Pipe>,
) -> Result<()> {
    if let Some(pipe) = stdin {
        let to =
            pipe::Sender::from_owned_fd(pipe.ours).context(|| "set up the stdin pipe".into())?;
        tasks
            .copy_from_fifo(&stdio.stdin, to)
            .map_err(|e| Error::shim("copy stdin", e))?;
    }
    for (pipe, path) in [(stdout, &stdio.stdout), (stderr, &stdio.stderr)] {
        if let Some(pipe) = pipe {
            let from = pipe::Receiver::from_owned_fd(pipe.ours)
                .context(|| "set up an output pipe".into())?;
            tasks
                .copy_to_fifo(from, path)
                .map_err(|e| Error::shim(format!("copy output to {path}"), e))?;
        }
    }
    Ok(())
}

async fn connect_console(tasks: &IoTasks, stdio: &Stdio, socket: ConsoleSocket) -> Result<Pty> {
    let pty = Pty::new(socket.receive().await?).map_err(|e| Error::shim("use the console", e))?;
    if !stdio.stdin.is_empty() {
        tasks
            .copy_from_fifo(&stdio.stdin, pty.clone())
            .map_err(|e| Error::shim("copy stdin to the console", e))?;
    }
    if !stdio.stdout.is_empty() {
        tasks
            .copy_to_fifo(pty.clone(), &stdio.stdout)
            .map_err(|e| Error::shim("copy the console to stdout", e))?;
    }
    Ok(pty)
}

/// Waits until containerd has each output fifo open for reading, as the Go
/// shims' blocking open does: a client such as `ctr` opens its readers in the
/// background and abandons those not open yet once the process has exited,
/// so output copied before would be lost. Returns writers that prove it.
async fn await_readers(stdio: &Stdio, timeout: Duration) -> Result<Vec<File>> {
    let deadline = Instant::now() + timeout;
    let mut writers = Vec::new();
    for path in [&stdio.stdout, &stdio.stderr] {
        if path.is_empty() {
            continue;
        }
        loop {
            let opened = OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path);
            match opened {
                Ok(writer) => break writers.push(writer),
                // ENXIO: no reader yet.
                Err(e) if e.raw_os_error() == Some(libc::ENXIO) && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err(e) => {
                    return Err(Error::io(
                        format!("wait for a reader on {path} (within {timeout:?})"),
                        e,
                    ));
                }
            }
        }
    }
    Ok(writers)
}

/// What can be read from `fd` without waiting.
fn read_pending(fd: &OwnedFd) -> String {
    let nonblocking = fcntl(fd, FcntlArg::F_GETFL)
        .map(OFlag::from_bits_retain)
        .and_then(|flags| fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)));
    if let Err(e) = nonblocking {
        return format!("(its output could not be read: {e})");
    }
    let mut file = match fd.try_clone() {
        Ok(fd) => File::from(fd),
        Err(e) => return format!("(its output could not be read: {e})"),
    };
    let mut output = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => output.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => {
                output.extend_from_slice(format!("(read failed: {e})").as_bytes());
                break;
            }
        }
    }
    String::from_utf8_lossy(&output).trim().to_string()
}

/// A process's running stdio copies, and its terminal if it has one.
pub struct ProcessIo {
    tasks: IoTasks,
    pty: Option<Pty>,
}

impl ProcessIo {
    /// Lets the process see end-of-file on stdin once containerd's writer is
    /// gone (CloseIO).
    pub fn close_stdin(&self) {
        self.tasks.close_input();
    }

    /// Sets the terminal's size.
    pub fn resize(&self, width: u32, height: u32) -> Result<()> {
        match &self.pty {
            Some(pty) => console::resize(pty, width, height),
            None => Err(Error::FailedPrecondition(
                "the process has no terminal to resize".into(),
            )),
        }
    }

    /// Lets the output copies drain, then stops every copy.
    pub async fn shutdown(&self) {
        self.tasks.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::process::Command;

    use super::*;

    #[test]
    fn pipes_hand_the_process_ends_to_the_runtime_once() {
        let stdio = Stdio::new("", "/run/out", "/run/err", false);
        let mut io = PreparedIo::new(&stdio).unwrap();
        assert_eq!(io.console_socket(), None);
        let streams = io.streams().unwrap();
        let status = streams
            .attach(Command::new("sh").args(["-c", "echo warning; echo failure >&2"]))
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(io.runtime_output(), "warning\nfailure");
        assert_eq!(io.runtime_output(), "", "read once");
        let Mode::Pipes { stdout, .. } = &io.mode else {
            panic!("pipes expected")
        };
        assert!(stdout.as_ref().unwrap().theirs.is_none());
    }

    #[test]
    fn pending_output_does_not_wait_for_writers() {
        let pipe = Pipe::new(false).unwrap();
        let mut writer = File::from(pipe.theirs.unwrap());
        writer.write_all(b"partial ").unwrap();
        assert_eq!(read_pending(&pipe.ours), "partial");
    }

    #[tokio::test]
    async fn a_terminal_gets_a_console_socket_and_captured_runtime_output() {
        let stdio = Stdio::new("", "/run/out", "", true);
        let mut io = PreparedIo::new(&stdio).unwrap();
        assert!(io.console_socket().unwrap().ends_with("console.sock"));
        let streams = io.streams().unwrap();
        streams
            .attach(Command::new("sh").args(["-c", "echo no console >&2"]))
            .status()
            .unwrap();
        assert_eq!(io.runtime_output(), "no console");
    }

    fn fifo(dir: &std::path::Path, name: &str) -> String {
        let path = dir.join(name);
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap();
        path.to_str().unwrap().to_string()
    }

    #[tokio::test]
    async fn output_waits_for_containerds_reader() {
        let dir = tempfile::tempdir().unwrap();
        let stdio = Stdio::new("", &fifo(dir.path(), "out"), "", false);
        let short = Duration::from_millis(50);
        let error = await_readers(&stdio, short).await.unwrap_err();
        assert!(error.to_string().contains("wait for a reader"), "{error}");
        let path = stdio.stdout.clone();
        let reader = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            pipe::OpenOptions::new().open_receiver(&path).unwrap()
        });
        let writers = await_readers(&stdio, READER_TIMEOUT).await.unwrap();
        assert_eq!(writers.len(), 1);
        drop(reader.await.unwrap());
    }

    #[test]
    fn uris_are_refused() {
        let stdio = Stdio::new("", "binary:///usr/bin/logger?x=1", "", false);
        assert!(matches!(
            PreparedIo::new(&stdio),
            Err(Error::Unimplemented(_))
        ));
    }

    #[tokio::test]
    async fn a_process_without_a_terminal_cannot_be_resized() {
        let io = PreparedIo::new(&Stdio::default()).unwrap();
        let io = io.connect(&Stdio::default()).await.unwrap();
        assert!(matches!(
            io.resize(80, 24),
            Err(Error::FailedPrecondition(_))
        ));
        io.close_stdin();
        io.shutdown().await;
    }
}
