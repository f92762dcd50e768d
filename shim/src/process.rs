//! One process of a container, the init process or an exec'd one: its PID,
//! status and stdio.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use containerd_shim::asynchronous::io::Stdio;
use containerd_shim::protos::api::{StateResponse, Status as TaskStatus};
use containerd_shim::protos::protobuf::well_known_types::timestamp::Timestamp;
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::stdio::ProcessIo;

/// How and when a process ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Exited {
    /// The exit code, or 128 + the signal that killed it.
    pub code: u32,
    pub at: Timestamp,
}

/// Where a process is in its life.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    Created,
    Running,
    Stopped(Exited),
}

/// A process of the container.
pub struct Process {
    /// The exec id; empty for the init process.
    pub exec_id: String,
    /// The fifos containerd gave it, and whether it has a terminal.
    pub stdio: Stdio,
    pid: AtomicU32,
    status: watch::Sender<Status>,
    io: Mutex<Option<ProcessIo>>,
    /// Held while the process starts, and by its exit handling, so that the
    /// exit is recorded and announced after the start.
    pub lifecycle: tokio::sync::Mutex<()>,
}

impl Process {
    /// A process not created yet.
    pub fn new(exec_id: &str, stdio: Stdio) -> Self {
        Process {
            exec_id: exec_id.to_string(),
            stdio,
            pid: AtomicU32::new(0),
            status: watch::Sender::new(Status::Created),
            io: Mutex::new(None),
            lifecycle: tokio::sync::Mutex::new(()),
        }
    }

    /// Its PID; 0 before it exists.
    pub fn pid(&self) -> u32 {
        self.pid.load(Ordering::Acquire)
    }

    /// Records its PID and its stdio copies, once it exists.
    pub fn attach(&self, pid: u32, io: ProcessIo) {
        self.pid.store(pid, Ordering::Release);
        *self.io_lock() = Some(io);
    }

    /// Its status now.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// Marks it running, unless it has already exited.
    pub fn set_running(&self) {
        self.status.send_if_modified(|status| {
            let created = *status == Status::Created;
            if created {
                *status = Status::Running;
            }
            created
        });
    }

    /// Records its exit with the time now.
    pub fn set_exited(&self, code: i32) -> Exited {
        let exited = Exited {
            code: u32::try_from(code).expect("exit statuses are not negative"),
            at: now(),
        };
        self.status.send_replace(Status::Stopped(exited.clone()));
        exited
    }

    /// Waits for it to exit.
    pub async fn wait(&self) -> Exited {
        let mut status = self.status.subscribe();
        let stopped = status
            .wait_for(|s| matches!(s, Status::Stopped(_)))
            .await
            .expect("the process owns the sender");
        match &*stopped {
            Status::Stopped(exited) => exited.clone(),
            _ => unreachable!("waited for Stopped"),
        }
    }

    /// Lets the process see end-of-file on stdin.
    pub fn close_stdin(&self) -> Result<()> {
        self.with_io(ProcessIo::close_stdin)
    }

    /// Sets its terminal's size.
    pub fn resize(&self, width: u32, height: u32) -> Result<()> {
        self.with_io(|io| io.resize(width, height))?
    }

    /// Drains and stops its stdio copies, once; nothing if it never had any.
    pub async fn shutdown_io(&self) {
        let io = self.io_lock().take();
        if let Some(io) = io {
            io.shutdown().await;
        }
    }

    /// The State RPC's answer.
    pub fn state(&self, container_id: &str, bundle: &str) -> StateResponse {
        let mut response = StateResponse {
            id: container_id.to_string(),
            exec_id: self.exec_id.clone(),
            bundle: bundle.to_string(),
            pid: self.pid(),
            stdin: self.stdio.stdin.clone(),
            stdout: self.stdio.stdout.clone(),
            stderr: self.stdio.stderr.clone(),
            terminal: self.stdio.terminal,
            ..Default::default()
        };
        let status = match self.status() {
            Status::Created => TaskStatus::CREATED,
            Status::Running => TaskStatus::RUNNING,
            Status::Stopped(exited) => {
                response.exit_status = exited.code;
                response.exited_at = Some(exited.at).into();
                TaskStatus::STOPPED
            }
        };
        response.status = status.into();
        response
    }

    fn with_io<T>(&self, f: impl FnOnce(&ProcessIo) -> T) -> Result<T> {
        match &*self.io_lock() {
            Some(io) => Ok(f(io)),
            None => Err(Error::FailedPrecondition(format!(
                "process {:?} has no stdio (not started, or deleted)",
                self.exec_id
            ))),
        }
    }

    fn io_lock(&self) -> MutexGuard<'_, Option<ProcessIo>> {
        self.io.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The time now, as protobuf has it.
pub fn now() -> Timestamp {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        seconds: i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(since_epoch.subsec_nanos()).expect("nanoseconds fit in i32"),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process() -> Process {
        Process::new("e1", Stdio::new("/in", "/out", "", false))
    }

    #[tokio::test]
    async fn an_exit_before_the_start_is_recorded_is_not_overwritten() {
        let process = process();
        let exited = process.set_exited(137);
        process.set_running();
        assert_eq!(process.status(), Status::Stopped(exited.clone()));
        assert_eq!(process.wait().await, exited);
    }

    #[tokio::test]
    async fn waiters_see_the_exit() {
        let process = std::sync::Arc::new(process());
        process.set_running();
        let waiter = tokio::spawn({
            let process = process.clone();
            async move { process.wait().await.code }
        });
        tokio::task::yield_now().await;
        process.set_exited(3);
        assert_eq!(waiter.await.unwrap(), 3);
    }

    #[test]
    fn state_reports_status_and_stdio() {
        let process = process();
        let state = process.state("c", "/b");
        assert_eq!(state.status.enum_value(), Ok(TaskStatus::CREATED));
        assert_eq!(
            (state.stdin.as_str(), state.exec_id.as_str()),
            ("/in", "e1")
        );
        process.set_running();
        assert_eq!(
            process.state("c", "/b").status.enum_value(),
            Ok(TaskStatus::RUNNING)
        );
        let exited = process.set_exited(2);
        let state = process.state("c", "/b");
        assert_eq!(state.status.enum_value(), Ok(TaskStatus::STOPPED));
        assert_eq!(state.exit_status, 2);
        assert_eq!(state.exited_at.as_ref(), Some(&exited.at));
    }

    #[test]
    fn stdio_requests_before_the_start_are_refused() {
        let process = process();
        assert!(matches!(
            process.close_stdin(),
            Err(Error::FailedPrecondition(_))
        ));
        assert!(matches!(
            process.resize(80, 24),
            Err(Error::FailedPrecondition(_))
        ));
    }
}
