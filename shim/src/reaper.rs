//! Exit statuses of the shim's children and of the processes it adopts.
//!
//! The shim is a subreaper: the container processes the runtime starts are
//! re-parented to it when `runj create` or `runj exec` returns. The
//! `containerd-shim` crate reaps every child on SIGCHLD (`waitpid(-1)`) and
//! hands out the statuses through its exit monitor, so nothing else may wait
//! for a child. This module is the one subscriber: it routes each status to
//! whoever waits for that PID.
//!
//! Two situations, two tools:
//! - a command the shim spawns itself ([`Reaper::spawn`]) gets its waiter
//!   registered while the spawn holds the lock, so its exit cannot be missed;
//! - a process whose PID is only learnt afterwards (from the runtime's
//!   `--pid-file`) may have exited already. A [`Capture`], taken before
//!   running the runtime, records every exit from then on, and
//!   [`Capture::watch`] looks there first (containerd's Go shims do the same).

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};

use containerd_shim::monitor::{Subject, Topic, monitor_subscribe};
use log::debug;
use tokio::sync::oneshot;

use crate::error::{Error, Result};

/// Routes exit statuses to their waiters.
#[derive(Clone)]
pub struct Reaper {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    waiters: HashMap<i32, oneshot::Sender<i32>>,
    captures: HashMap<u64, Vec<(i32, i32)>>,
    next_capture: u64,
}

impl State {
    fn deliver(&mut self, pid: i32, code: i32) {
        for exits in self.captures.values_mut() {
            exits.push((pid, code));
        }
        match self.waiters.remove(&pid).map(|waiter| waiter.send(code)) {
            Some(Ok(())) => {}
            Some(Err(_)) => debug!("the waiter for PID {pid} ({code}) gave up"),
            None => debug!("exit of PID {pid} ({code}) had no waiter"),
        }
    }
}

impl Reaper {
    /// Subscribes to the crate's exit monitor and starts routing.
    pub async fn start() -> Result<Self> {
        let mut subscription = monitor_subscribe(Topic::Pid)
            .await
            .map_err(|e| Error::shim("subscribe to the exit monitor", e))?;
        let reaper = Reaper {
            state: Arc::default(),
        };
        let state = Arc::clone(&reaper.state);
        tokio::spawn(async move {
            while let Some(event) = subscription.rx.recv().await {
                if let Subject::Pid(pid) = event.subject {
                    lock(&state).deliver(pid, event.exit_code);
                }
            }
        });
        Ok(reaper)
    }

    /// Spawns `command`; its exit status comes through the returned [`Exit`].
    pub fn spawn(&self, command: &mut Command) -> std::io::Result<Exit> {
        let mut state = lock(&self.state);
        let child = command.spawn()?;
        // The status comes from the monitor; dropping `Child` neither waits nor kills.
        let pid = i32::try_from(child.id()).expect("PIDs fit in i32");
        Ok(register(&mut state, pid))
    }

    /// Starts recording every exit, for PIDs learnt later.
    pub fn capture(&self) -> Capture {
        let mut state = lock(&self.state);
        let id = state.next_capture;
        state.next_capture += 1;
        state.captures.insert(id, Vec::new());
        Capture {
            reaper: self.clone(),
            id,
        }
    }
}

/// Records exits from its creation until dropped.
pub struct Capture {
    reaper: Reaper,
    id: u64,
}

impl Capture {
    /// The exit of `pid`: recorded already, or still to come.
    pub fn watch(&self, pid: i32) -> Exit {
        let mut state = lock(&self.reaper.state);
        let recorded = state.captures[&self.id]
            .iter()
            .find(|(exited, _)| *exited == pid)
            .map(|(_, code)| *code);
        match recorded {
            Some(code) => {
                let (sender, receiver) = oneshot::channel();
                sender.send(code).expect("the receiver is right here");
                Exit { pid, receiver }
            }
            None => register(&mut state, pid),
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        lock(&self.reaper.state).captures.remove(&self.id);
    }
}

/// The exit status of one process, to come.
#[derive(Debug)]
pub struct Exit {
    pid: i32,
    receiver: oneshot::Receiver<i32>,
}

impl Exit {
    /// The process's PID.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Waits for the process to exit: its exit code, or 128 + the signal
    /// that killed it.
    pub async fn code(self) -> i32 {
        // The routing task owns the senders for the shim's whole life.
        self.receiver
            .await
            .expect("the exit router outlives every waiter")
    }
}

fn register(state: &mut State, pid: i32) -> Exit {
    let (sender, receiver) = oneshot::channel();
    state.waiters.insert(pid, sender);
    Exit { pid, receiver }
}

/// Every critical section above leaves the maps consistent, so a panic
/// elsewhere does not invalidate them.
fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Makes the shim the reaper of its descendants on FreeBSD, as
/// `PR_SET_CHILD_SUBREAPER` does on Linux (which the `containerd-shim` crate
/// sets, but only there).
#[cfg(target_os = "freebsd")]
pub fn acquire_subreaper() -> Result<()> {
    // SAFETY: PROC_REAP_ACQUIRE takes no data; the call only changes this
    // process's reaper status.
    let rc = unsafe {
        libc::procctl(
            libc::P_PID,
            libc::id_t::from(std::process::id()),
            libc::PROC_REAP_ACQUIRE,
            std::ptr::null_mut(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::io(
            "procctl(PROC_REAP_ACQUIRE)",
            std::io::Error::last_os_error(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with_capture() -> (State, u64) {
        let mut state = State::default();
        state.captures.insert(7, Vec::new());
        (state, 7)
    }

    #[tokio::test]
    async fn a_registered_waiter_gets_its_status() {
        let mut state = State::default();
        let exit = register(&mut state, 42);
        state.deliver(41, 1);
        state.deliver(42, 3);
        assert_eq!(exit.pid(), 42);
        assert_eq!(exit.code().await, 3);
        assert!(state.waiters.is_empty());
    }

    #[test]
    fn captures_record_every_exit() {
        let (mut state, id) = state_with_capture();
        state.deliver(5, 0);
        state.deliver(6, 137);
        assert_eq!(state.captures[&id], vec![(5, 0), (6, 137)]);
    }

    #[tokio::test]
    async fn a_capture_answers_for_a_pid_that_exited_before_it_was_known() {
        let reaper = Reaper {
            state: Arc::default(),
        };
        let capture = reaper.capture();
        lock(&reaper.state).deliver(9, 2);
        assert_eq!(capture.watch(9).code().await, 2);
        let later = capture.watch(10);
        lock(&reaper.state).deliver(10, 4);
        assert_eq!(later.code().await, 4);
        drop(capture);
        assert!(lock(&reaper.state).captures.is_empty());
    }
}
