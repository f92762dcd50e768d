//! `runj apply SOURCE`: runs a plan from any source `runj diff` reads (a
//! bundle, a config.json, `jail.conf#JAIL`, a plan file) to completion:
//! the creation steps, the process, then the removal steps, exiting with
//! the process's status. `--dry-run` prints the steps instead.

use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};
use clap::Args;
use runj_executor::lifecycle::{CreateOptions, Runtime};
use runj_executor::steps::{Persist, create_sequence, remove_sequence};
use runj_translator::source::{Source, plans};

use super::runtime::{Global, ready};

#[derive(Args)]
pub struct ApplyArgs {
    /// A bundle directory, config.json, jail.conf#JAIL or plan file.
    source: String,
    /// The container id [default: the jail's name].
    #[arg(long)]
    id: Option<String>,
    /// Print the steps, one a line, and run nothing.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(args: ApplyArgs, global: &Global) -> Result<ExitCode> {
    let source = Source::classify(&args.source);
    let (mut found, warnings) = plans(&source).map_err(|e| anyhow!("{e}"))?;
    for w in &warnings.0 {
        global.warn_diagnostic(w);
    }
    if found.len() != 1 {
        bail!(
            "{}: {} jails; name one as FILE#JAIL",
            args.source,
            found.len()
        );
    }
    let mut plan = found.remove(0);
    ready(global, &mut plan)?;
    if args.dry_run {
        for step in create_sequence(&plan, Persist::AsPlanned, true)?.steps {
            println!("{step}");
        }
        for step in remove_sequence(&plan)?.steps {
            println!("{step}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let id = args.id.unwrap_or_else(|| plan.name.clone());
    let mut backend = global.host()?;
    let mut runtime = Runtime {
        root: global.root.clone(),
        host: backend.host(),
    };
    let options = CreateOptions {
        bundle: std::path::absolute(&args.source).unwrap_or_default(),
        ..CreateOptions::default()
    };
    let status = runtime.run(&id, &plan, &options)?;
    for w in backend.warnings() {
        global.warn(&w);
    }
    Ok(ExitCode::from(u8::try_from(status).unwrap_or(255)))
}
