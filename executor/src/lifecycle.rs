//! The OCI lifecycle (runtime-spec `runtime.md`) on a jail: `create` runs
//! jail(8)'s creation steps and starts the container process, which waits
//! on the exec fifo; `start` releases it; `state`, `kill`, `delete` (which
//! runs jail(8)'s removal steps, also after a crash halfway through
//! `create`), `exec` of a further process, and `run` = create + start +
//! wait + delete.
//!
//! The state of each container is kept under the runtime root
//! ([`crate::state`]); the jail persists until `delete`, as with runj
//! (samuelkarp/runj jail/params.go always sets `persist`).

use std::path::{Path, PathBuf};

use nix::unistd::Pid;
use runj_translator::JailPlan;
use runj_translator::invocation::derived_process;
use runj_translator::plan::Process;

use crate::child::{Ended, wait};
use crate::error::{Error, Result};
use crate::host::Host;
use crate::leases::Leases;
use crate::process::{Launch, launch, release};
use crate::state::{ContainerDir, OCI_VERSION, State, Status, ids, write_atomically};
use crate::steps::{Persist, Removal, Sequence, create_sequence, remove_sequence};

/// What `create` needs besides the plan.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub bundle: PathBuf,
    pub console_socket: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
}

/// Containers under one runtime root, on one host.
pub struct Runtime<'h> {
    pub root: PathBuf,
    pub host: &'h mut dyn Host,
}

impl Runtime<'_> {
    pub(crate) fn dir(&self, id: &str) -> Result<ContainerDir> {
        ContainerDir::at(&self.root, id)
    }

    /// Creates the container `id` from `plan`; returns the process's pid.
    pub fn create(&mut self, id: &str, plan: &JailPlan, options: &CreateOptions) -> Result<Pid> {
        let dir = self.dir(id)?;
        dir.claim()?;
        let Creation {
            plan,
            process,
            sequence,
        } = match self.lease(id, plan).and_then(|plan| creation(&plan)) {
            Ok(creation) => creation,
            Err(e) => {
                let _ = self.forget(&dir);
                return Err(e);
            }
        };
        let plan = &plan;
        let process = &process;
        let mut state = State {
            oci_version: OCI_VERSION.into(),
            id: id.into(),
            status: Status::Creating,
            pid: None,
            process_start: None,
            bundle: options.bundle.clone(),
            annotations: plan.annotations.clone().into_iter().collect(),
            jail: plan.name.clone(),
        };
        let prepared = dir.save_plan(plan).and_then(|()| dir.save(&state));
        // A failed creation has undone its own steps: nothing of the jail
        // (maybe another container's, by the same name) is removed here.
        let jid = match prepared.and_then(|()| {
            crate::steps::create(self.host, &sequence).map_err(|e| Error::Plan(e.to_string()))
        }) {
            Ok(jid) => jid,
            Err(e) => {
                let _ = self.forget(&dir);
                return Err(e);
            }
        };
        self.create_in(jid, &dir, plan, process, options, &mut state)
            .inspect_err(|_| {
                let _ = self.teardown(&dir, plan, Removal::Force);
            })
    }

    fn create_in(
        &mut self,
        jid: i32,
        dir: &ContainerDir,
        plan: &JailPlan,
        process: &Process,
        options: &CreateOptions,
        state: &mut State,
    ) -> Result<Pid> {
        crate::hooks::run("createRuntime", &plan.hooks.create_runtime, state, None)?;
        crate::hooks::run("createContainer", &plan.hooks.create_container, state, None)?;
        nix::unistd::mkfifo(&dir.fifo(), nix::sys::stat::Mode::from_bits_truncate(0o622))
            .map_err(|e| Error::os(format!("create {}", dir.fifo().display()), e))?;
        let attach = self.host.attacher(jid)?;
        let pid = launch(
            &Launch {
                process,
                console_socket: options.console_socket.as_deref(),
                fifo: Some(&dir.fifo()),
            },
            attach.as_ref(),
        )?;
        state.pid = Some(pid.as_raw());
        state.process_start = crate::pid::start_time(pid.as_raw());
        state.status = Status::Created;
        if let Some(file) = &options.pid_file {
            write_pid(file, pid)?;
        }
        dir.save(state)?;
        Ok(pid)
    }

    /// Releases the process of a created container.
    pub fn start(&mut self, id: &str) -> Result<()> {
        let dir = self.dir(id)?;
        let mut state = self.state(id)?;
        if state.status != Status::Created {
            return Err(Error::Plan(format!(
                "container \"{id}\" is {}, not created",
                status_name(state.status)
            )));
        }
        let plan = dir.load_plan()?;
        let jid = self.jid(&plan)?;
        if !plan.hooks.start_container.is_empty() {
            let attach = self.host.attacher(jid)?;
            if let Err(e) = crate::hooks::run(
                "startContainer",
                &plan.hooks.start_container,
                &state,
                Some(attach.as_ref()),
            ) {
                self.kill(id, libc::SIGKILL, true)?;
                return Err(e);
            }
        }
        release(&dir.fifo())?;
        let _ = std::fs::remove_file(dir.fifo());
        state.status = Status::Running;
        dir.save(&state)?;
        crate::hooks::run("poststart", &plan.hooks.poststart, &state, None)
    }

    /// The state, with the status as it is now.
    pub fn state(&mut self, id: &str) -> Result<State> {
        let dir = self.dir(id)?;
        let mut state = dir.load()?;
        let alive = state
            .pid
            .is_some_and(|pid| crate::pid::is_same(pid, state.process_start));
        state.status = match state.status {
            Status::Created | Status::Running if !alive => Status::Stopped,
            Status::Created if !dir.fifo().exists() => Status::Running,
            status => status,
        };
        Ok(state)
    }

    /// Signals the container process, or every process in its jail.
    pub fn kill(&mut self, id: &str, signal: i32, all: bool) -> Result<()> {
        let state = self.state(id)?;
        if !matches!(state.status, Status::Created | Status::Running) {
            return Err(Error::Plan(format!("container \"{id}\" is not running")));
        }
        if all {
            let plan = self.dir(id)?.load_plan()?;
            let jid = self.jid(&plan)?;
            for pid in self.host.processes(jid)? {
                // A process may end between the listing and its signal (an
                // earlier signal's doing); the others must still get theirs.
                match self.host.signal(pid, signal) {
                    Err(Error::Os { source, .. }) if source.raw_os_error() == Some(libc::ESRCH) => {
                        continue;
                    }
                    result => result?,
                }
            }
            return Ok(());
        }
        let pid = state
            .pid
            .ok_or_else(|| Error::Plan(format!("container \"{id}\" has no process")))?;
        crate::pid::signal(pid, state.process_start, signal)
    }

    /// Deletes a container: refuses a running one unless `force`.
    pub fn delete(&mut self, id: &str, force: bool) -> Result<()> {
        let dir = self.dir(id)?;
        let state = match self.state(id) {
            Ok(state) => state,
            Err(e) if force && dir.path.exists() => {
                let _ = e;
                return self.remove_leftovers(&dir);
            }
            // As runc's `delete --force`: a container that does not exist
            // is deleted (nothing of it can exist: its directory is
            // claimed before anything is made, and removed last).
            Err(_) if force => return Ok(()),
            Err(e) => return Err(e),
        };
        if state.status == Status::Running && !force {
            return Err(Error::Plan(format!(
                "container \"{id}\" is running: stop it first, or delete --force"
            )));
        }
        let plan = dir.load_plan()?;
        let mode = if force || state.status == Status::Creating {
            Removal::Force
        } else {
            Removal::Strict
        };
        self.teardown(&dir, &plan, mode)?;
        if let Err(e) = crate::hooks::run("poststop", &plan.hooks.poststop, &state, None) {
            eprintln!("runj: warning: {e}");
        }
        Ok(())
    }

    /// A container directory without a readable state: undo what its
    /// plan says, if it got that far, and remove it.
    fn remove_leftovers(&mut self, dir: &ContainerDir) -> Result<()> {
        if let Ok(plan) = dir.load_plan() {
            self.teardown(dir, &plan, Removal::Force)?;
        }
        self.forget(dir)
    }

    /// The plan with what its bridge leaves open taken for container `id`
    /// ([`Leases`]).
    fn lease(&mut self, id: &str, plan: &JailPlan) -> Result<JailPlan> {
        let mut plan = plan.clone();
        if let Some(bridge) = &plan.network.bridge {
            let in_use = |unit| self.host.has_interface(&format!("epair{unit}a"));
            plan.network.bridge = Some(Leases::under(&self.root).take(id, bridge, in_use)?);
        }
        Ok(plan)
    }

    /// Forgets a container: releases its lease, then removes its directory.
    fn forget(&self, dir: &ContainerDir) -> Result<()> {
        Leases::under(&self.root).release(&dir.id())?;
        dir.remove()
    }

    fn teardown(&mut self, dir: &ContainerDir, plan: &JailPlan, mode: Removal) -> Result<()> {
        let sequence = remove_sequence(plan)?;
        let jid = self.host.find(&plan.name)?;
        crate::steps::remove(self.host, &sequence, jid, mode).map_err(|errors| {
            Error::Plan(
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        self.forget(dir)
    }

    /// Starts a further process in the container's jail.
    pub fn exec(
        &mut self,
        id: &str,
        process: &Process,
        console_socket: Option<&Path>,
    ) -> Result<Pid> {
        let state = self.state(id)?;
        if !matches!(state.status, Status::Created | Status::Running) {
            return Err(Error::Plan(format!("container \"{id}\" is not running")));
        }
        let plan = self.dir(id)?.load_plan()?;
        let jid = self.jid(&plan)?;
        let attach = self.host.attacher(jid)?;
        launch(
            &Launch {
                process,
                console_socket,
                fifo: None,
            },
            attach.as_ref(),
        )
    }

    /// Every container with its state, or why its state cannot be read.
    pub fn list(&mut self) -> Result<Vec<(String, Result<State>)>> {
        Ok(ids(&self.root)?
            .into_iter()
            .map(|id| {
                let state = self.state(&id);
                (id, state)
            })
            .collect())
    }

    /// Create + start + wait + delete; returns the exit status as a shell
    /// reports it (128 + signal).
    pub fn run(&mut self, id: &str, plan: &JailPlan, options: &CreateOptions) -> Result<i32> {
        let pid = self.create(id, plan, options)?;
        let started = self.start(id);
        let ended = match started {
            Ok(()) => wait(pid, None),
            Err(e) => Err(e),
        };
        let deleted = self.delete(id, true);
        let status = match ended? {
            Ended::Exited(code) => code,
            Ended::Signaled(sig) => 128 + sig,
            Ended::TimedOut => unreachable!("no timeout was set"),
        };
        deleted?;
        Ok(status)
    }

    pub(crate) fn jid(&mut self, plan: &JailPlan) -> Result<i32> {
        self.host
            .find(&plan.name)?
            .ok_or_else(|| Error::Plan(format!("jail \"{}\" is not running", plan.name)))
    }
}

/// What `create` runs for a container: the plan as a container runs it,
/// its process, and the `jail -c` steps before the process starts.
#[derive(Debug, Clone)]
pub struct Creation {
    pub plan: JailPlan,
    pub process: Process,
    pub sequence: Sequence,
}

/// The plan as a container runs it (its jail persists until `delete`), and
/// its process: the bundle's, or the one `exec.start` and `command` amount
/// to (a migrated jail), which then replaces them. `runj apply --dry-run`
/// prints this very sequence.
pub fn creation(plan: &JailPlan) -> Result<Creation> {
    let mut plan = plan.clone();
    let process = match plan.process.clone() {
        Some(process) => process,
        None => {
            let process = derived_process(&plan.commands)
                .ok_or_else(|| Error::Plan("the plan has no process to run".into()))?;
            plan.commands.start.clear();
            plan.commands.command.clear();
            process
        }
    };
    let sequence = create_sequence(&plan, Persist::Always)?;
    Ok(Creation {
        plan,
        process,
        sequence,
    })
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Creating => "creating",
        Status::Created => "created",
        Status::Running => "running",
        Status::Stopped => "stopped",
    }
}

/// Writes a pid file atomically, as runc does.
pub fn write_pid(file: &Path, pid: Pid) -> Result<()> {
    write_atomically(file, pid.to_string().as_bytes())
}
