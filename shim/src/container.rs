//! The container a shim serves: its init process and exec'd processes, each
//! created, started, signalled and deleted through the runtime, with their
//! exits recorded and announced.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use containerd_shim::asynchronous::io::Stdio;
use containerd_shim::protos::api::CreateTaskRequest;
use containerd_shim::protos::events::task::{
    TaskCreate, TaskDelete, TaskExecAdded, TaskExecStarted, TaskExit, TaskIO, TaskStart,
};
use containerd_shim::protos::topics::{
    TASK_CREATE_EVENT_TOPIC, TASK_DELETE_EVENT_TOPIC, TASK_EXEC_ADDED_EVENT_TOPIC,
    TASK_EXEC_STARTED_EVENT_TOPIC, TASK_EXIT_EVENT_TOPIC, TASK_START_EVENT_TOPIC,
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::error::{Error, IoContext, Result};
use crate::events::Events;
use crate::options::RuntimeOptions;
use crate::process::{Exited, Process, Status};
use crate::reaper::{Exit, Reaper};
use crate::rootfs::Rootfs;
use crate::runtime::{Command, Runtime};
use crate::stdio::PreparedIo;

/// How long exec'd processes may take to die once the init process has
/// exited and the rest were killed, and how long a forced delete may take to
/// show the init process's exit.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
/// SIGKILL's number, for the runtime's `kill`.
const SIGKILL: u32 = 9;

/// What the shim needs to drive a container.
#[derive(Clone)]
pub struct Context {
    pub runtime: Runtime,
    pub reaper: Reaper,
    pub events: Events,
}

/// An exec'd process and the OCI process spec (JSON) it runs.
struct Exec {
    process: Arc<Process>,
    spec: Vec<u8>,
}

/// A container and its processes.
pub struct Container {
    pub id: String,
    pub bundle: String,
    context: Context,
    pub init: Arc<Process>,
    execs: Mutex<HashMap<String, Exec>>,
    rootfs: Option<Rootfs>,
}

impl Container {
    /// Creates the container the request describes: installs the runtime
    /// options, mounts the rootfs and runs `create`. Whatever was done is
    /// undone on failure. Announces the creation.
    pub async fn create(request: &CreateTaskRequest, context: Context) -> Result<Arc<Self>> {
        if !request.checkpoint.is_empty() || !request.parent_checkpoint.is_empty() {
            return Err(Error::Unimplemented(
                "restoring from a checkpoint is not supported".into(),
            ));
        }
        validate_id("container id", &request.id)?;
        let bundle = Path::new(&request.bundle);
        let options = match request.options.as_ref() {
            Some(any) => RuntimeOptions::decode(any)?,
            None => RuntimeOptions::default(),
        };
        options.install(bundle)?;
        let rootfs = Rootfs::mount(bundle, &request.rootfs, &context.reaper).await?;
        let stdio = Stdio::new(
            &request.stdin,
            &request.stdout,
            &request.stderr,
            request.terminal,
        );
        let container = Arc::new(Container {
            id: request.id.clone(),
            bundle: request.bundle.clone(),
            context,
            init: Arc::new(Process::new("", stdio)),
            execs: Mutex::default(),
            rootfs,
        });
        let init = &container.init;
        // Whatever happens to the process, its exit is announced after its creation.
        let lifecycle = init.lifecycle.lock().await;
        match container.create_init().await {
            Ok(exit) => container.watch_exit(Arc::clone(init), exit),
            Err(e) => {
                container.unmount_logged().await;
                return Err(e);
            }
        }
        let event = TaskCreate {
            container_id: container.id.clone(),
            bundle: container.bundle.clone(),
            rootfs: request.rootfs.clone(),
            io: Some(TaskIO {
                stdin: init.stdio.stdin.clone(),
                stdout: init.stdio.stdout.clone(),
                stderr: init.stdio.stderr.clone(),
                terminal: init.stdio.terminal,
                ..Default::default()
            })
            .into(),
            pid: init.pid(),
            ..Default::default()
        };
        container
            .context
            .events
            .publish(TASK_CREATE_EVENT_TOPIC, event)
            .await;
        drop(lifecycle);
        Ok(container)
    }

    /// `runtime create`, then the init process's PID and stdio.
    async fn create_init(&self) -> Result<Exit> {
        let Context {
            runtime, reaper, ..
        } = &self.context;
        let bundle = Path::new(&self.bundle);
        let mut io = PreparedIo::new(&self.init.stdio)?;
        let console_socket = io.console_socket();
        let pid_file = bundle.join("init.pid");
        let command = Command::Create {
            id: &self.id,
            bundle,
            pid_file: &pid_file,
            console_socket: console_socket.as_deref(),
        };
        let capture = reaper.capture();
        let status = runtime.run_with(reaper, &command, io.streams()?).await?;
        runtime.check(&command, status, || io.runtime_output())?;
        // The process cannot have written anything before `start`.
        let diagnostics = io.runtime_output();
        if !diagnostics.is_empty() {
            log::warn!("{}: {diagnostics}", runtime.display(&command));
        }
        let attached = async {
            let pid = read_pid(&pid_file).await?;
            let exit = capture.watch(pid.cast_signed());
            self.init.attach(pid, io.connect(&self.init.stdio).await?);
            Ok(exit)
        };
        let attached = attached.await;
        if attached.is_err() {
            let delete = Command::Delete {
                id: &self.id,
                force: true,
            };
            if let Err(undo) = runtime.run(reaper, &delete).await {
                log::error!("{undo}");
            }
        }
        attached
    }

    /// A request this container's state refuses: `what` it is or does.
    fn refused(&self, what: impl std::fmt::Display) -> Error {
        Error::FailedPrecondition(format!("container {} {what}", self.id))
    }

    /// `runtime start`: the init process runs. Announces it.
    pub async fn start(&self) -> Result<u32> {
        let _lifecycle = self.init.lifecycle.lock().await;
        if self.init.status() != Status::Created {
            return Err(self.refused("has already been started, or has exited"));
        }
        let Context {
            runtime,
            reaper,
            events,
        } = &self.context;
        runtime
            .run(reaper, &Command::Start { id: &self.id })
            .await?;
        self.init.set_running();
        let event = TaskStart {
            container_id: self.id.clone(),
            pid: self.init.pid(),
            ..Default::default()
        };
        events.publish(TASK_START_EVENT_TOPIC, event).await;
        Ok(self.init.pid())
    }

    /// Registers an exec'd process, to be started later. Announces it.
    pub async fn add_exec(&self, exec_id: &str, stdio: Stdio, spec: Vec<u8>) -> Result<()> {
        validate_id("exec id", exec_id)?;
        if spec.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "exec {exec_id} comes without a process spec"
            )));
        }
        if matches!(self.init.status(), Status::Stopped(_)) {
            return Err(self.refused("is not running"));
        }
        {
            let mut execs = self.execs();
            if execs.contains_key(exec_id) {
                return Err(Error::AlreadyExists(format!(
                    "exec {exec_id} already exists in container {}",
                    self.id
                )));
            }
            let process = Arc::new(Process::new(exec_id, stdio));
            execs.insert(exec_id.to_string(), Exec { process, spec });
        }
        let event = TaskExecAdded {
            container_id: self.id.clone(),
            exec_id: exec_id.to_string(),
            ..Default::default()
        };
        self.context
            .events
            .publish(TASK_EXEC_ADDED_EVENT_TOPIC, event)
            .await;
        Ok(())
    }

    /// `runtime exec`: the exec'd process runs. Announces it.
    pub async fn start_exec(self: &Arc<Self>, exec_id: &str) -> Result<u32> {
        let (process, spec) = {
            let execs = self.execs();
            let exec = execs.get(exec_id).ok_or_else(|| self.no_exec(exec_id))?;
            (Arc::clone(&exec.process), exec.spec.clone())
        };
        let _lifecycle = process.lifecycle.lock().await;
        if process.status() != Status::Created {
            return Err(Error::FailedPrecondition(format!(
                "exec {exec_id} has already been started"
            )));
        }
        let (pid, exit) = self.run_exec(&process, &spec).await?;
        self.watch_exit(Arc::clone(&process), exit);
        process.set_running();
        let event = TaskExecStarted {
            container_id: self.id.clone(),
            exec_id: exec_id.to_string(),
            pid,
            ..Default::default()
        };
        self.context
            .events
            .publish(TASK_EXEC_STARTED_EVENT_TOPIC, event)
            .await;
        Ok(pid)
    }

    /// Runs `runtime exec --detach` for `process`; its PID and exit.
    async fn run_exec(&self, process: &Process, spec: &[u8]) -> Result<(u32, Exit)> {
        let Context {
            runtime, reaper, ..
        } = &self.context;
        let bundle = Path::new(&self.bundle);
        let spec_file = bundle.join(format!("exec-{}.json", process.exec_id));
        let pid_file = bundle.join(format!("exec-{}.pid", process.exec_id));
        std::fs::write(&spec_file, spec).context(|| format!("write {}", spec_file.display()))?;
        let mut io = PreparedIo::new(&process.stdio)?;
        let console_socket = io.console_socket();
        let command = Command::Exec {
            id: &self.id,
            process: &spec_file,
            pid_file: &pid_file,
            console_socket: console_socket.as_deref(),
        };
        let capture = reaper.capture();
        let status = match io.streams() {
            Ok(streams) => runtime.run_with(reaper, &command, streams).await,
            Err(e) => Err(e),
        };
        remove_logged(&spec_file);
        runtime.check(&command, status?, || io.runtime_output())?;
        let pid = read_pid(&pid_file).await;
        remove_logged(&pid_file);
        let pid = pid?;
        let exit = capture.watch(pid.cast_signed());
        match io.connect(&process.stdio).await {
            Ok(io) => {
                process.attach(pid, io);
                Ok((pid, exit))
            }
            Err(e) => {
                // It must not run without its stdio.
                match kill(Pid::from_raw(pid.cast_signed()), Signal::SIGKILL) {
                    Ok(()) => drop(exit.code().await),
                    Err(kill) => log::error!("kill exec {} (PID {pid}): {kill}", process.exec_id),
                }
                Err(e)
            }
        }
    }

    /// `runtime update --resources FILE ID`: new limits for the container.
    pub async fn update(&self, resources: &Path) -> Result<()> {
        let Context {
            runtime, reaper, ..
        } = &self.context;
        let command = Command::Update {
            id: &self.id,
            resources,
        };
        runtime.run(reaper, &command).await
    }

    /// `runtime events --stats ID`: the container's usage as the runtime
    /// prints it.
    pub async fn stats(&self) -> Result<String> {
        let Context {
            runtime, reaper, ..
        } = &self.context;
        runtime
            .output(reaper, &Command::Stats { id: &self.id })
            .await
    }

    /// Signals a process: the init process through the runtime (with
    /// `--all`, every process of the container), an exec'd one directly.
    pub async fn kill(&self, exec_id: &str, signal: u32, all: bool) -> Result<()> {
        let process = self.process(exec_id)?;
        let finished = || {
            Error::NotFound(format!(
                "process {} already finished",
                process_name(&process)
            ))
        };
        match process.status() {
            Status::Stopped(_) => return Err(finished()),
            Status::Created if !exec_id.is_empty() => {
                return Err(Error::FailedPrecondition(format!(
                    "exec {exec_id} has not been started"
                )));
            }
            _ => {}
        }
        if exec_id.is_empty() {
            let Context {
                runtime, reaper, ..
            } = &self.context;
            let command = Command::Kill {
                id: &self.id,
                signal,
                all,
            };
            return match runtime.run(reaper, &command).await {
                Err(e) if e.process_is_gone() => Err(finished()),
                result => result,
            };
        }
        let signal = i32::try_from(signal)
            .ok()
            .and_then(|s| Signal::try_from(s).ok())
            .ok_or_else(|| Error::InvalidArgument(format!("invalid signal {signal}")))?;
        match kill(Pid::from_raw(process.pid().cast_signed()), signal) {
            Ok(()) => Ok(()),
            Err(nix::errno::Errno::ESRCH) => Err(finished()),
            Err(e) => Err(Error::io(format!("kill exec {exec_id}"), e.into())),
        }
    }

    /// Deletes an exec'd process, or the container with its init process
    /// (`runtime delete`, then the rootfs is unmounted). Announces the
    /// container's deletion.
    pub async fn delete(&self, exec_id: &str) -> Result<(u32, Option<Exited>)> {
        if !exec_id.is_empty() {
            return self.delete_exec(exec_id).await;
        }
        let running: Vec<String> = self
            .execs()
            .iter()
            .filter(|(_, exec)| exec.process.status() == Status::Running)
            .map(|(id, _)| id.clone())
            .collect();
        if !running.is_empty() {
            return Err(self.refused(format_args!("still runs exec'd processes {running:?}")));
        }
        let Context {
            runtime,
            reaper,
            events,
        } = &self.context;
        let force = !matches!(self.init.status(), Status::Stopped(_));
        let delete = Command::Delete {
            id: &self.id,
            force,
        };
        match runtime.run(reaper, &delete).await {
            // The runtime has forgotten it already; the rest is still to do.
            Err(e) if e.process_is_gone() => log::warn!("{e}"),
            result => result?,
        }
        let exited = tokio::time::timeout(EXIT_TIMEOUT, self.init.wait())
            .await
            .map_err(|_| {
                Error::FailedPrecondition(format!(
                    "the init process of {} (PID {}) did not exit within {EXIT_TIMEOUT:?} \
                     of `{}`",
                    self.id,
                    self.init.pid(),
                    runtime.display(&delete)
                ))
            })?;
        self.init.shutdown_io().await;
        if let Some(rootfs) = &self.rootfs {
            rootfs.unmount().await?;
        }
        let event = TaskDelete {
            container_id: self.id.clone(),
            id: self.id.clone(),
            pid: self.init.pid(),
            exit_status: exited.code,
            exited_at: Some(exited.at.clone()).into(),
            ..Default::default()
        };
        events.publish(TASK_DELETE_EVENT_TOPIC, event).await;
        Ok((self.init.pid(), Some(exited)))
    }

    async fn delete_exec(&self, exec_id: &str) -> Result<(u32, Option<Exited>)> {
        let exec = {
            let mut execs = self.execs();
            let exec = execs.get(exec_id).ok_or_else(|| self.no_exec(exec_id))?;
            if exec.process.status() == Status::Running {
                return Err(Error::FailedPrecondition(format!(
                    "exec {exec_id} is still running"
                )));
            }
            execs.remove(exec_id).expect("present under the same lock")
        };
        exec.process.shutdown_io().await;
        let exited = match exec.process.status() {
            Status::Stopped(exited) => Some(exited),
            Status::Created | Status::Running => None,
        };
        Ok((exec.process.pid(), exited))
    }

    /// A process by exec id; the init process for an empty one.
    pub fn process(&self, exec_id: &str) -> Result<Arc<Process>> {
        if exec_id.is_empty() {
            return Ok(Arc::clone(&self.init));
        }
        self.execs()
            .get(exec_id)
            .map(|exec| Arc::clone(&exec.process))
            .ok_or_else(|| self.no_exec(exec_id))
    }

    /// The PIDs of the processes the shim started that still run.
    pub fn pids(&self) -> Vec<u32> {
        let execs: Vec<Arc<Process>> = self
            .execs()
            .values()
            .map(|exec| Arc::clone(&exec.process))
            .collect();
        std::iter::once(Arc::clone(&self.init))
            .chain(execs)
            .filter(|p| p.pid() != 0 && !matches!(p.status(), Status::Stopped(_)))
            .map(|p| p.pid())
            .collect()
    }

    /// Waits for `process` to exit in the background, then records and
    /// announces its exit; for the init process, first kills what is left
    /// in the container and waits for the exec'd processes, so that their
    /// exits come first, as containerd expects.
    fn watch_exit(self: &Arc<Self>, process: Arc<Process>, exit: Exit) {
        let container = Arc::clone(self);
        tokio::spawn(async move {
            let code = exit.code().await;
            let _lifecycle = process.lifecycle.lock().await;
            if process.exec_id.is_empty() {
                container.stop_remaining().await;
            }
            let exited = process.set_exited(code);
            let event = TaskExit {
                container_id: container.id.clone(),
                id: if process.exec_id.is_empty() {
                    container.id.clone()
                } else {
                    process.exec_id.clone()
                },
                pid: process.pid(),
                exit_status: exited.code,
                exited_at: Some(exited.at).into(),
                ..Default::default()
            };
            container
                .context
                .events
                .publish(TASK_EXIT_EVENT_TOPIC, event)
                .await;
        });
    }

    /// After the init process's exit: `runtime kill --all KILL` (a jail,
    /// unlike a PID namespace, does not end with its first process), then
    /// waits for the exec'd processes.
    async fn stop_remaining(&self) {
        let Context {
            runtime, reaper, ..
        } = &self.context;
        let kill_all = Command::Kill {
            id: &self.id,
            signal: SIGKILL,
            all: true,
        };
        match runtime.run(reaper, &kill_all).await {
            Err(e) if !e.process_is_gone() => log::warn!("{e}"),
            _ => {}
        }
        let execs: Vec<Arc<Process>> = self
            .execs()
            .values()
            .map(|exec| Arc::clone(&exec.process))
            .filter(|process| process.status() == Status::Running)
            .collect();
        for process in execs {
            if tokio::time::timeout(EXIT_TIMEOUT, process.wait())
                .await
                .is_err()
            {
                log::warn!(
                    "exec {} (PID {}) still runs {EXIT_TIMEOUT:?} after the container's init process exited",
                    process.exec_id,
                    process.pid()
                );
            }
        }
    }

    async fn unmount_logged(&self) {
        if let Some(rootfs) = &self.rootfs
            && let Err(e) = rootfs.unmount().await
        {
            log::error!("{e}");
        }
    }

    fn execs(&self) -> MutexGuard<'_, HashMap<String, Exec>> {
        self.execs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn no_exec(&self, exec_id: &str) -> Error {
        Error::NotFound(format!("exec {exec_id} not found in container {}", self.id))
    }
}

/// "init" or the exec id, for messages.
fn process_name(process: &Process) -> &str {
    if process.exec_id.is_empty() {
        "init"
    } else {
        &process.exec_id
    }
}

/// Ids name files in the bundle and state directories.
fn validate_id(what: &str, id: &str) -> Result<()> {
    let valid = !id.is_empty()
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{what} {id:?} is not a valid identifier"
        )))
    }
}

/// The PID in a runtime's `--pid-file`.
async fn read_pid(path: &Path) -> Result<u32> {
    let text = tokio::fs::read_to_string(path)
        .await
        .context(|| format!("read the runtime's PID file {}", path.display()))?;
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|pid| *pid > 0 && i32::try_from(*pid).is_ok())
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "the runtime's PID file {} holds {text:?}, not a PID",
                path.display()
            ))
        })
}

fn remove_logged(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        log::warn!("remove {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_be_safe_file_names() {
        for id in ["c1", "e2e-ns-echo", "a.b_c"] {
            assert!(validate_id("id", id).is_ok(), "{id}");
        }
        for id in ["", "a/b", "..", ".hidden", "sp ace"] {
            assert!(validate_id("id", id).is_err(), "{id}");
        }
    }

    #[tokio::test]
    async fn pid_files_hold_one_positive_pid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pid");
        std::fs::write(&path, "4242\n").unwrap();
        assert_eq!(read_pid(&path).await.unwrap(), 4242);
        for bad in ["", "0", "-1", "x", "99999999999"] {
            std::fs::write(&path, bad).unwrap();
            assert!(
                matches!(read_pid(&path).await, Err(Error::InvalidArgument(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            read_pid(&dir.path().join("missing")).await,
            Err(Error::Io { .. })
        ));
    }
}
