//! `runj apply SOURCE`: runs a plan from any source `runj diff` reads.
//!
//! A jail of a jail.conf (`FILE#JAIL`) is created as `jail -f FILE -c JAIL`
//! creates it, the jails it depends on first; with `--remove`, removed as
//! `jail -f FILE -r JAIL` removes it. A bundle, a config.json or a plan
//! file runs as a container to completion (create, start, wait, delete),
//! exiting with the process's status. `--dry-run` prints the steps that
//! would run, those of the creation (or, with `--remove`, of the removal),
//! and runs nothing: the very steps the run takes.

use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};
use clap::{Args, ValueEnum};
use runj_executor::lifecycle::{CreateOptions, Runtime, creation};
use runj_executor::steps::{self, Persist, Removal, Sequence, create_sequence, remove_sequence};
use runj_translator::JailPlan;
use runj_translator::conf::Parallelism;
use runj_translator::source::{Source, for_removal, plans, with_dependencies};

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
    /// How `--dry-run` prints the steps: `text`, or `trace` (jail(8)'s
    /// action trace, docs/executor.md).
    #[arg(long, value_enum, default_value = "text", requires = "dry_run")]
    format: StepFormat,
    /// The removal (`jail -r`) instead of the creation.
    #[arg(long)]
    remove: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum StepFormat {
    Text,
    Trace,
}

pub fn run(args: ApplyArgs, global: &Global) -> Result<ExitCode> {
    match Source::classify(&args.source) {
        Source::JailConf {
            path,
            jail: Some(jail),
        } => jail_conf(&args, global, &path, &jail),
        source => container(&args, global, &source),
    }
}

/// A jail.conf jail, as jail(8) creates or removes it.
fn jail_conf(
    args: &ApplyArgs,
    global: &Global,
    path: &std::path::Path,
    jail: &str,
) -> Result<ExitCode> {
    let (mut found, warnings) = if args.remove {
        for_removal(path, jail, Parallelism::available())
    } else {
        with_dependencies(path, jail, Parallelism::available())
    }
    .map_err(|e| anyhow!("{e}"))?;
    for w in &warnings.0 {
        global.warn_diagnostic(w);
    }
    for plan in &mut found {
        ready(global, plan)?;
    }
    let sequences = found
        .iter()
        .map(|plan| {
            if args.remove {
                remove_sequence(plan)
            } else {
                create_sequence(plan, Persist::AsPlanned)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if args.dry_run {
        print_all(&sequences, args.format);
        return Ok(ExitCode::SUCCESS);
    }
    let mut backend = global.host()?;
    let host = backend.host();
    for (plan, sequence) in found.iter().zip(&sequences) {
        if args.remove {
            let jid = host.find(&plan.name)?;
            if jid.is_none() {
                bail!("\"{}\" not found", plan.name);
            }
            steps::remove(host, sequence, jid, Removal::Strict).map_err(|errors| {
                anyhow!(
                    "{}",
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            })?;
        } else {
            if host.find(&plan.name)?.is_some() {
                bail!("\"{}\" already exists", plan.name);
            }
            steps::create(host, sequence).map_err(|e| anyhow!("{}: {e}", plan.name))?;
        }
    }
    for w in backend.warnings() {
        global.warn(&w);
    }
    Ok(ExitCode::SUCCESS)
}

/// A bundle, config.json or plan, as a container run to completion.
fn container(args: &ApplyArgs, global: &Global, source: &Source) -> Result<ExitCode> {
    let (mut found, warnings) =
        plans(source, Parallelism::available()).map_err(|e| anyhow!("{e}"))?;
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
    let mut plan: JailPlan = found.remove(0);
    ready(global, &mut plan)?;
    if args.dry_run {
        let created = creation(&super::runtime::preview(plan, global))?;
        let sequence = if args.remove {
            remove_sequence(&created.plan)?
        } else {
            created.sequence
        };
        print_all(std::slice::from_ref(&sequence), args.format);
        if !args.remove && args.format == StepFormat::Text {
            println!("process: {}", created.process.args.join(" "));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.remove {
        bail!(
            "{}: a container is removed with `runj delete ID`",
            args.source
        );
    }
    let id = args.id.clone().unwrap_or_else(|| plan.name.clone());
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

fn print_all(sequences: &[Sequence], format: StepFormat) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for sequence in sequences {
        let lines = match format {
            StepFormat::Trace => sequence.trace(),
            StepFormat::Text => sequence.steps.iter().map(ToString::to_string).collect(),
        };
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
    }
}
