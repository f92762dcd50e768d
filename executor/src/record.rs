//! The `record` backend: a test double that records every call in order
//! and can fail at call N, to test step order and rollback without a
//! kernel.

use crate::error::{Error, Result};
use crate::host::{Alias, Attach, Command, Host, Jid, MountPoint, Place};
use crate::params::Param;

/// Records calls; fails the call numbered `fail_at` (1-based).
#[derive(Debug, Default)]
pub struct Recorder {
    /// One line per call, in order.
    pub calls: Vec<String>,
    pub fail_at: Option<usize>,
    /// Processes reported as running in every jail.
    pub processes: Vec<i32>,
    next_jid: Jid,
}

impl Recorder {
    /// A recorder that fails at call `n`.
    pub fn failing_at(n: usize) -> Self {
        Recorder {
            fail_at: Some(n),
            ..Recorder::default()
        }
    }

    fn call(&mut self, line: String) -> Result<()> {
        self.calls.push(line);
        if self.fail_at == Some(self.calls.len()) {
            return Err(Error::Injected(self.calls.len()));
        }
        Ok(())
    }
}

struct NoAttach;

impl Attach for NoAttach {
    fn attach(&self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Host for Recorder {
    fn run(&mut self, c: &Command<'_>) -> Result<()> {
        let place = match c.place {
            Place::Host => "host",
            Place::Jail => "jail",
        };
        self.call(format!("run {} ({place}) {}", c.stage, c.text))
    }

    fn add_alias(&mut self, alias: &Alias) -> Result<()> {
        self.call(format!("ifconfig {}", alias.ifconfig_args(true).join(" ")))
    }

    fn remove_alias(&mut self, alias: &Alias) -> Result<()> {
        self.call(format!("ifconfig {}", alias.ifconfig_args(false).join(" ")))
    }

    fn mount(&mut self, m: &MountPoint) -> Result<()> {
        self.call(m.to_string())
    }

    fn unmount(&mut self, m: &MountPoint) -> Result<()> {
        self.call(format!("umount {}", m.target().display()))
    }

    fn create(&mut self, params: &[Param]) -> Result<Jid> {
        let shown: Vec<String> = params.iter().map(ToString::to_string).collect();
        self.call(format!("jail_set create {}", shown.join(" ")))?;
        self.next_jid += 1;
        Ok(self.next_jid)
    }

    fn update(&mut self, jid: Jid, params: &[Param]) -> Result<()> {
        let shown: Vec<String> = params.iter().map(ToString::to_string).collect();
        self.call(format!("jail_set update jid={jid} {}", shown.join(" ")))
    }

    fn find(&mut self, name: &str) -> Result<Option<Jid>> {
        self.call(format!("jail_get name={name}"))?;
        Ok(None)
    }

    fn remove(&mut self, jid: Jid) -> Result<()> {
        self.processes.clear();
        self.call(format!("jail_remove {jid}"))
    }

    fn move_interface(&mut self, interface: &str, jid: Jid) -> Result<()> {
        self.call(format!("ifconfig {interface} vnet {jid}"))
    }

    fn return_interface(&mut self, interface: &str, jid: Jid) -> Result<()> {
        self.call(format!("ifconfig {interface} -vnet {jid}"))
    }

    fn processes(&mut self, _jid: Jid) -> Result<Vec<i32>> {
        Ok(self.processes.clone())
    }

    fn signal(&mut self, pid: i32, signal: i32) -> Result<()> {
        self.processes.retain(|p| *p != pid);
        self.call(format!("kill -{signal} {pid}"))
    }

    fn attacher(&mut self, jid: Jid) -> Result<Box<dyn Attach>> {
        self.call(format!("jail_attach {jid}"))?;
        Ok(Box::new(NoAttach))
    }
}
