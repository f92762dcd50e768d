//! A running container's resource limits: `runj update` changes its rctl
//! rules (runc's `update`), `runj events --stats` reads its usage (runc's
//! `events --stats`).
//!
//! An update changes the rules key by key (resource, action, per): a
//! `deny` rule is added over the old one, which the kernel replaces, so the
//! limit is never lifted in between; the other keys' rules are removed and
//! added anew. While the update runs, the plan kept in the container's
//! state names every key either set has, so that a `delete` after a crash
//! removes them all.

use runj_translator::rctl::Rules;

use crate::error::{Error, Result};
use crate::host::JailRef;
use crate::lifecycle::Runtime;
use crate::state::Status;
use crate::steps::jail_ref;
use crate::usage::Usage;

impl Runtime<'_> {
    /// Changes the rctl rules of the running container `id` to what
    /// `change` makes of its current ones.
    pub fn update_limits(
        &mut self,
        id: &str,
        change: impl FnOnce(&Rules) -> std::result::Result<Rules, String>,
    ) -> Result<()> {
        let (mut plan, jail) = self.running(id)?;
        let dir = self.dir(id)?;
        let rules = &change(&plan.rctl).map_err(Error::Plan)?;
        if !rules.is_empty() {
            self.host.check_limits()?;
        }
        let old = std::mem::replace(&mut plan.rctl, rules.clone());
        // Every key either set may hold, for a delete after a crash.
        let mut either = old.clone();
        for rule in rules {
            either.add(rule.clone());
        }
        dir.save_plan(&runj_translator::JailPlan {
            rctl: either.clone(),
            ..plan.clone()
        })?;
        for key in either.keys() {
            let before: Vec<_> = old.with_key(key).collect();
            let after: Vec<_> = rules.with_key(key).collect();
            if before == after {
                continue;
            }
            // A deny rule replaces its key's in the kernel: added over it,
            // the limit is never lifted in between.
            if after.is_empty() || key.action() != "deny" {
                self.host.remove_rule(&jail, key)?;
            }
            for rule in after {
                self.host.add_rule(&jail, rule)?;
            }
        }
        dir.save_plan(&plan)
    }

    /// What the running container `id` uses, with its limits.
    pub fn usage(&mut self, id: &str) -> Result<Usage> {
        let (plan, jail) = self.running(id)?;
        let mut usage = self.host.usage(&jail)?;
        let memory = &mut usage.memory.usage.limit;
        *memory = memory.or(plan.rctl.denied("memoryuse"));
        let pids = &mut usage.pids.limit;
        *pids = pids.or(plan.rctl.denied("maxproc"));
        Ok(usage)
    }

    /// The plan and jail of a created or running container.
    fn running(&mut self, id: &str) -> Result<(runj_translator::JailPlan, JailRef)> {
        let state = self.state(id)?;
        if !matches!(state.status, Status::Created | Status::Running) {
            return Err(Error::Plan(format!("container \"{id}\" is not running")));
        }
        let plan = self.dir(id)?.load_plan()?;
        let jid = self.jid(&plan)?;
        let jail = JailRef {
            jid: Some(jid),
            ..jail_ref(&plan)
        };
        Ok((plan, jail))
    }
}
