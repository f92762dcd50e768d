//! The `record` backend: a test double that records every call in order,
//! each as its line of the action trace ([`crate::trace`]), and can fail
//! at call N, to test step order and rollback without a kernel.

use std::time::Duration;

use runj_translator::bridge::Action;
use runj_translator::plan::ExecOptions;
use runj_translator::rctl::Rule;

use crate::error::{Error, Result};
use crate::host::{
    Alias, Attach, Command, Host, JailRef, Jid, MountPoint, Place, jail_rule, jail_rule_filter,
};
use crate::params::Param;
use crate::trace;
use crate::usage::Usage;

/// Records calls; fails the call numbered `fail_at` (1-based).
#[derive(Debug, Default)]
pub struct Recorder {
    /// One trace line per action, in order.
    pub calls: Vec<String>,
    pub fail_at: Option<usize>,
    /// Processes reported as running in every jail.
    pub processes: Vec<i32>,
    /// How jail(8) would run its programs (aliases, mounts): the
    /// sequence's `exec.*` options.
    pub exec: ExecOptions,
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

    /// A recorder for a sequence run with these `exec.*` options.
    pub fn with_exec(exec: &ExecOptions) -> Self {
        Recorder {
            exec: exec.clone(),
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

    fn host_program(&mut self, argv: &[String]) -> Result<()> {
        let line = trace::exec_line(Place::Host, &self.exec, false, argv);
        self.call(line)
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
        self.call(trace::exec_line(c.place, c.options, c.background, c.argv))
    }

    fn add_alias(&mut self, alias: &Alias) -> Result<()> {
        self.host_program(&alias.ifconfig_argv(true))
    }

    fn remove_alias(&mut self, alias: &Alias) -> Result<()> {
        self.host_program(&alias.ifconfig_argv(false))
    }

    fn mount(&mut self, m: &MountPoint) -> Result<()> {
        self.host_program(&trace::mount_argv(m, true))
    }

    fn unmount(&mut self, m: &MountPoint) -> Result<()> {
        self.host_program(&trace::mount_argv(m, false))
    }

    fn create(&mut self, params: &[Param]) -> Result<Jid> {
        self.call(trace::jail_set_line(true, params))?;
        self.next_jid += 1;
        Ok(self.next_jid)
    }

    fn update(&mut self, _jid: Jid, params: &[Param]) -> Result<()> {
        match params {
            [p] if p.import.name == "nopersist" => self.call(trace::clear_persist_line()),
            _ => self.call(trace::jail_set_line(false, params)),
        }
    }

    fn find(&mut self, _name: &str) -> Result<Option<Jid>> {
        Ok(None)
    }

    fn remove(&mut self, _jid: Jid) -> Result<()> {
        self.processes.clear();
        self.call(trace::REMOVE_LINE.to_string())
    }

    fn move_interface(&mut self, interface: &str, jail: &JailRef) -> Result<()> {
        self.host_program(&trace::vnet_argv(interface, true, &jail.designation))
    }

    fn return_interface(&mut self, interface: &str, jail: &JailRef) -> Result<()> {
        self.host_program(&trace::vnet_argv(interface, false, &jail.designation))
    }

    fn wire(&mut self, action: &Action, _jail: &JailRef, options: &ExecOptions) -> Result<()> {
        self.call(trace::wire_line(action, options))
    }

    /// The recorded system has no interfaces.
    fn has_interface(&mut self, _name: &str) -> bool {
        false
    }

    fn processes(&mut self, _jid: Jid) -> Result<Vec<i32>> {
        Ok(self.processes.clone())
    }

    fn signal(&mut self, pid: i32, signal: i32) -> Result<()> {
        self.processes.retain(|p| *p != pid);
        self.call(format!("kill -{signal} {pid}"))
    }

    fn terminate(&mut self, _jid: Jid, timeout: Duration) -> Result<()> {
        let [kill, wait] = trace::terminate_lines(timeout.as_secs());
        self.call(kill)?;
        self.processes.clear();
        self.call(wait)
    }

    fn attacher(&mut self, jid: Jid) -> Result<Box<dyn Attach>> {
        self.call(format!("jail_attach {jid}"))?;
        Ok(Box::new(NoAttach))
    }

    fn check_limits(&mut self) -> Result<()> {
        self.call(trace::CHECK_LIMITS_LINE.to_string())
    }

    fn add_rule(&mut self, jail: &JailRef, rule: &Rule) -> Result<()> {
        self.call(trace::rctl_line(true, &jail_rule(jail, rule)?))
    }

    fn remove_rule(&mut self, jail: &JailRef, rule: &Rule) -> Result<()> {
        self.call(trace::rctl_line(false, &jail_rule_filter(jail, rule)?))
    }

    fn usage(&mut self, jail: &JailRef) -> Result<Usage> {
        self.call(format!("rctl_get_racct: jail:{}:", jail.name))?;
        Ok(Usage::default())
    }
}
