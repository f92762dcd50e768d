//! `runj network rm NAME`: removes a bridge jails were wired to, which
//! runj keeps when its last jail goes (docs/jail-plan.md, "Bridge
//! networking").

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use runj_executor::lifecycle::Runtime;

use super::runtime::Global;

#[derive(Subcommand)]
pub enum NetworkCommand {
    /// Remove a bridge no container under --root uses.
    Rm {
        /// The bridge's interface name.
        name: String,
    },
}

pub fn run(command: NetworkCommand, global: &Global) -> Result<ExitCode> {
    let NetworkCommand::Rm { name } = command;
    let mut backend = global.host()?;
    let mut runtime = Runtime {
        root: global.root.clone(),
        host: backend.host(),
    };
    runtime.remove_bridge(&name)?;
    Ok(ExitCode::SUCCESS)
}
