//! What is done to the networks jails share (`runj network`): a bridge is
//! kept when its last jail goes, and removed only when asked.

use runj_translator::bridge::{Action, check_name};
use runj_translator::plan::ExecOptions;

use crate::error::{Error, Result};
use crate::host::JailRef;
use crate::leases::Leases;
use crate::lifecycle::Runtime;

impl Runtime<'_> {
    /// Removes the bridge `name`, unless a container under this root has
    /// an epair on it.
    pub fn remove_bridge(&mut self, name: &str) -> Result<()> {
        check_name(name).map_err(Error::Plan)?;
        let users = Leases::under(&self.root).users(name)?;
        if !users.is_empty() {
            return Err(Error::Plan(format!(
                "bridge {name} is used by container {}: delete {} first",
                users.join(", "),
                if users.len() == 1 { "it" } else { "them" }
            )));
        }
        // The action is the host's: no jail is involved.
        let host_only = JailRef {
            name: String::new(),
            path: "/".into(),
            jid: None,
            designation: String::new(),
        };
        let action = Action::RemoveBridge { name: name.into() };
        self.host.wire(&action, &host_only, &ExecOptions::default())
    }
}
