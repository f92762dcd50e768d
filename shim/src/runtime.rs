//! The OCI runtime the shim drives: `runj`, through the OCI runtime command
//! line.
//!
//! The shim holds no lifecycle logic of its own. Everything that touches the
//! jail — creating it from the bundle, the exec fifo handshake, mounts,
//! signals, tear-down and the state kept under `--root` — is `runj create`,
//! `start`, `kill` and `delete`, exactly what a person or another tool runs.
//! The shim only adds what containerd needs around those commands: the rootfs
//! mounts, stdio and the console, exit statuses and events. This is the
//! split of runj's Go shim (which execs `runj`) and of containerd's runc
//! shims (which exec `runc`): one implementation of the lifecycle, one place
//! for its state, so `runj list`/`state`/`delete` keep working on containers
//! containerd started, and a shim crash loses nothing the runtime knows. The
//! cost is one exec per request, a few milliseconds.
//!
//! Because the conventions are runc's (`create --bundle BUNDLE --pid-file PATH
//! [--console-socket PATH] ID`, `start ID`, `kill [--all] ID SIGNAL`,
//! `delete [--force] ID`, and runc's `exec --detach --process FILE ID`,
//! `update --resources FILE ID` and `events --stats ID`), any
//! runtime that
//! follows them can stand in for runj, which is how the shim is tested on a
//! machine without jails: [`RUNTIME_ENV`] names the binary.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::error::{Error, IoContext, Result};
use crate::reaper::Reaper;

/// Environment variable naming the runtime binary, a path or a name looked
/// up in `PATH`. containerd passes its environment on to shims.
pub const RUNTIME_ENV: &str = "RUNJ_SHIM_RUNTIME";
/// Environment variable naming the directory under which each containerd
/// namespace gets its own runtime state directory (the runtime's `--root`).
pub const ROOT_ENV: &str = "RUNJ_SHIM_ROOT";
/// The default of [`ROOT_ENV`], beside containerd's own state as the runc
/// shim's `/run/containerd/runc`.
pub const DEFAULT_ROOT: &str = "/var/run/containerd/runj";
/// The runtime binary's default name.
const DEFAULT_BINARY: &str = "runj";

/// One runtime command, as the OCI runtime command line spells it.
#[derive(Debug)]
pub enum Command<'a> {
    /// `create --bundle BUNDLE --pid-file FILE [--console-socket SOCKET] ID`
    Create {
        id: &'a str,
        bundle: &'a Path,
        pid_file: &'a Path,
        console_socket: Option<&'a Path>,
    },
    /// `start ID`
    Start { id: &'a str },
    /// `kill [--all] ID SIGNAL`
    Kill { id: &'a str, signal: u32, all: bool },
    /// `delete [--force] ID`
    Delete { id: &'a str, force: bool },
    /// `exec --detach --pid-file FILE --process SPEC [--console-socket SOCKET] ID`
    Exec {
        id: &'a str,
        process: &'a Path,
        pid_file: &'a Path,
        console_socket: Option<&'a Path>,
    },
    /// `update --resources FILE ID`: the runtime-spec's `linux.resources`
    /// JSON in FILE.
    Update { id: &'a str, resources: &'a Path },
    /// `events --stats ID`: one stats event as JSON on standard output.
    Stats { id: &'a str },
}

impl Command<'_> {
    /// The command's arguments, after the runtime's global options: options
    /// first, then the positional arguments, which both runc's parser (which
    /// stops at the first positional) and runj's accept.
    fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        let mut push = |arg: &dyn AsRef<OsStr>| args.push(arg.as_ref().to_owned());
        match *self {
            Command::Create {
                id,
                bundle,
                pid_file,
                console_socket,
            } => {
                push(&"create");
                push(&"--bundle");
                push(&bundle);
                push(&"--pid-file");
                push(&pid_file);
                if let Some(socket) = console_socket {
                    push(&"--console-socket");
                    push(&socket);
                }
                push(&id);
            }
            Command::Start { id } => {
                push(&"start");
                push(&id);
            }
            Command::Kill { id, signal, all } => {
                push(&"kill");
                if all {
                    push(&"--all");
                }
                push(&id);
                push(&signal.to_string());
            }
            Command::Delete { id, force } => {
                push(&"delete");
                if force {
                    push(&"--force");
                }
                push(&id);
            }
            Command::Exec {
                id,
                process,
                pid_file,
                console_socket,
            } => {
                push(&"exec");
                push(&"--detach");
                push(&"--pid-file");
                push(&pid_file);
                push(&"--process");
                push(&process);
                if let Some(socket) = console_socket {
                    push(&"--console-socket");
                    push(&socket);
                }
                push(&id);
            }
            Command::Update { id, resources } => {
                push(&"update");
                push(&"--resources");
                push(&resources);
                push(&id);
            }
            Command::Stats { id } => {
                push(&"events");
                push(&"--stats");
                push(&id);
            }
        }
        args
    }
}

/// Where a runtime command's standard streams go.
pub struct Streams {
    pub stdin: Stdio,
    pub stdout: Stdio,
    pub stderr: Stdio,
}

impl Streams {
    /// Gives `command` these streams.
    pub fn attach(self, command: &mut std::process::Command) -> &mut std::process::Command {
        command
            .stdin(self.stdin)
            .stdout(self.stdout)
            .stderr(self.stderr)
    }
}

/// A file that takes a runtime command's output, to quote it in errors.
pub struct OutputCapture {
    file: File,
}

impl OutputCapture {
    /// An anonymous file for the output.
    pub fn new() -> Result<Self> {
        let file = tempfile::tempfile().context(|| "create a file for runtime output".into())?;
        Ok(OutputCapture { file })
    }

    /// Streams that send stdout and stderr to the file, stdin from /dev/null.
    pub fn streams(&self) -> Result<Streams> {
        let clone = || {
            self.file
                .try_clone()
                .context(|| "duplicate the runtime output file".into())
        };
        Ok(Streams {
            stdin: Stdio::null(),
            stdout: clone()?.into(),
            stderr: clone()?.into(),
        })
    }

    /// What was written so far, trimmed.
    pub fn read(&self) -> String {
        let mut file = &self.file;
        let mut output = Vec::new();
        let read = file
            .rewind()
            .and_then(|()| file.read_to_end(&mut output).map(drop));
        match read {
            Ok(()) => String::from_utf8_lossy(&output).trim().to_string(),
            Err(e) => format!("(its output could not be read: {e})"),
        }
    }
}

/// The runtime binary and its state directory for one containerd namespace.
#[derive(Clone, Debug)]
pub struct Runtime {
    binary: PathBuf,
    root: PathBuf,
}

impl Runtime {
    /// A runtime run as `binary --root root`.
    pub fn new(binary: PathBuf, root: PathBuf) -> Self {
        Runtime { binary, root }
    }

    /// The runtime for `namespace`: [`RUNTIME_ENV`], else `runj` beside the
    /// shim's own binary, else `runj` in `PATH`; state in
    /// `$RUNJ_SHIM_ROOT/<namespace>` (default [`DEFAULT_ROOT`]).
    pub fn from_env(namespace: &str) -> Result<Self> {
        let named = std::env::var_os(RUNTIME_ENV).filter(|v| !v.is_empty());
        let beside_shim = || {
            let exe = std::env::current_exe().ok()?;
            let candidate = exe.parent()?.join(DEFAULT_BINARY);
            candidate.is_file().then_some(candidate)
        };
        let binary = match named {
            Some(name) => resolve(Path::new(&name))?,
            None => match beside_shim() {
                Some(path) => path,
                None => resolve(Path::new(DEFAULT_BINARY))?,
            },
        };
        let root = std::env::var_os(ROOT_ENV)
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_ROOT), PathBuf::from);
        if namespace.is_empty() || namespace.contains('/') || namespace.starts_with('.') {
            return Err(Error::InvalidArgument(format!(
                "namespace {namespace:?} cannot name a state directory"
            )));
        }
        Ok(Runtime::new(binary, root.join(namespace)))
    }

    /// The full argument list of `command`, global options first.
    pub fn argv(&self, command: &Command<'_>) -> Vec<OsString> {
        let mut argv = vec![OsString::from("--root"), self.root.clone().into_os_string()];
        argv.extend(command.args());
        argv
    }

    /// Runs `command` with its output captured; an error quotes it.
    pub async fn run(&self, reaper: &Reaper, command: &Command<'_>) -> Result<()> {
        run_captured(reaper, &mut self.command(command)).await
    }

    /// Runs `command`; returns its standard output. An error quotes its
    /// standard error.
    pub async fn output(&self, reaper: &Reaper, command: &Command<'_>) -> Result<String> {
        let stdout = OutputCapture::new()?;
        let stderr = OutputCapture::new()?;
        let streams = Streams {
            stdin: Stdio::null(),
            ..stdout.streams()?
        };
        let streams = Streams {
            stderr: stderr.streams()?.stderr,
            ..streams
        };
        let mut process = self.command(command);
        let status = spawn_and_wait(reaper, &mut process, streams).await?;
        check_status(&process, status, || stderr.read())?;
        Ok(stdout.read())
    }

    /// Runs `command` with the given streams; returns its exit status.
    pub async fn run_with(
        &self,
        reaper: &Reaper,
        command: &Command<'_>,
        streams: Streams,
    ) -> Result<i32> {
        spawn_and_wait(reaper, &mut self.command(command), streams).await
    }

    /// `Ok` for exit status 0, else an error quoting `output`.
    pub fn check(
        &self,
        command: &Command<'_>,
        status: i32,
        output: impl FnOnce() -> String,
    ) -> Result<()> {
        check_status(&self.command(command), status, output)
    }

    /// `command` as a shell would show it, for messages.
    pub fn display(&self, command: &Command<'_>) -> String {
        display(&self.command(command))
    }

    fn command(&self, command: &Command<'_>) -> std::process::Command {
        let mut process = std::process::Command::new(&self.binary);
        process.args(self.argv(command));
        process
    }
}

/// Runs `command` with its output captured; an error quotes it.
pub async fn run_captured(reaper: &Reaper, command: &mut std::process::Command) -> Result<()> {
    let output = OutputCapture::new()?;
    let status = spawn_and_wait(reaper, command, output.streams()?).await?;
    check_status(command, status, || output.read())
}

/// Runs `command` with `streams` and waits for its exit status.
async fn spawn_and_wait(
    reaper: &Reaper,
    command: &mut std::process::Command,
    streams: Streams,
) -> Result<i32> {
    streams.attach(command);
    let exit = reaper
        .spawn(command)
        .context(|| format!("run {}", command.get_program().to_string_lossy()))?;
    // Let go of the parent's copies of the streams (the process's pipe ends).
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Ok(exit.code().await)
}

/// `Ok` for exit status 0, else an error quoting `output`.
fn check_status(
    command: &std::process::Command,
    status: i32,
    output: impl FnOnce() -> String,
) -> Result<()> {
    if status == 0 {
        return Ok(());
    }
    let status = match status {
        128.. => format!("signal {}", status - 128),
        _ => format!("exit status {status}"),
    };
    Err(Error::Command {
        command: display(command),
        status,
        output: output(),
    })
}

/// `command` as a shell would show it (without quoting), for messages.
fn display(command: &std::process::Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `name` if it is a path, else its first match in `PATH`.
fn resolve(name: &Path) -> Result<PathBuf> {
    if name.components().count() > 1 {
        return if name.is_file() {
            Ok(name.to_path_buf())
        } else {
            Err(Error::NotFound(format!(
                "runtime binary {} does not exist",
                name.display()
            )))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            Error::NotFound(format!(
                "runtime binary {} not found beside the shim or in PATH (set {RUNTIME_ENV})",
                name.display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> Runtime {
        Runtime::new("/usr/bin/runj".into(), "/run/r/ns".into())
    }

    fn argv(command: Command<'_>) -> String {
        runtime().display(&command)
    }

    #[test]
    fn lifecycle_commands_follow_the_oci_command_line() {
        let bundle = Path::new("/b");
        let pid_file = Path::new("/b/init.pid");
        assert_eq!(
            argv(Command::Create {
                id: "c",
                bundle,
                pid_file,
                console_socket: None
            }),
            "/usr/bin/runj --root /run/r/ns create --bundle /b --pid-file /b/init.pid c"
        );
        assert_eq!(
            argv(Command::Create {
                id: "c",
                bundle,
                pid_file,
                console_socket: Some(Path::new("/tmp/s/console.sock"))
            }),
            "/usr/bin/runj --root /run/r/ns create --bundle /b --pid-file /b/init.pid \
             --console-socket /tmp/s/console.sock c"
        );
        assert_eq!(
            argv(Command::Start { id: "c" }),
            "/usr/bin/runj --root /run/r/ns start c"
        );
        assert_eq!(
            argv(Command::Kill {
                id: "c",
                signal: 9,
                all: true
            }),
            "/usr/bin/runj --root /run/r/ns kill --all c 9"
        );
        assert_eq!(
            argv(Command::Kill {
                id: "c",
                signal: 15,
                all: false
            }),
            "/usr/bin/runj --root /run/r/ns kill c 15"
        );
        assert_eq!(
            argv(Command::Delete {
                id: "c",
                force: true
            }),
            "/usr/bin/runj --root /run/r/ns delete --force c"
        );
        assert_eq!(
            argv(Command::Exec {
                id: "c",
                process: Path::new("/b/exec-e.json"),
                pid_file: Path::new("/b/exec-e.pid"),
                console_socket: None
            }),
            "/usr/bin/runj --root /run/r/ns exec --detach --pid-file /b/exec-e.pid \
             --process /b/exec-e.json c"
        );
    }

    #[test]
    fn failures_quote_the_command_and_its_output() {
        let start = Command::Start { id: "c" };
        assert!(runtime().check(&start, 0, || unreachable!()).is_ok());
        let error = runtime().check(&start, 1, || "no such container".into());
        assert_eq!(
            error.unwrap_err().to_string(),
            "`/usr/bin/runj --root /run/r/ns start c` failed with exit status 1: no such container"
        );
        let error = runtime().check(&start, 137, String::new);
        assert_eq!(
            error.unwrap_err().to_string(),
            "`/usr/bin/runj --root /run/r/ns start c` failed with signal 9"
        );
    }

    #[test]
    fn output_capture_reads_back_both_streams() {
        let capture = OutputCapture::new().unwrap();
        let streams = capture.streams().unwrap();
        let status = streams
            .attach(std::process::Command::new("sh").args(["-c", "echo out; echo err >&2"]))
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(capture.read(), "out\nerr");
    }

    #[test]
    fn paths_are_taken_as_given_and_names_looked_up() {
        assert_eq!(resolve(Path::new("/bin/sh")).unwrap(), Path::new("/bin/sh"));
        assert!(matches!(
            resolve(Path::new("/nonexistent/runj")),
            Err(Error::NotFound(_))
        ));
        assert!(resolve(Path::new("sh")).unwrap().is_absolute());
        assert!(matches!(
            resolve(Path::new("no-such-runtime-binary")),
            Err(Error::NotFound(_))
        ));
    }
}
