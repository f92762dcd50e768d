//! `runj plan [BUNDLE]`: the jail plan of an OCI bundle, printed as
//! jail.conf, JSON or TOML. Warnings go to standard error; any error there
//! means no plan and exit status 2. A bridge's epair unit and addresses
//! are shown as a create under `--root` would take them now.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use runj_translator::emit::{print_conf, to_jailconf};
use runj_translator::oci::{BundleOptions, compile};
use runj_translator::{Diagnostics, JailPlan};

use super::runtime::{Global, preview};

#[derive(Args)]
pub struct PlanArgs {
    /// The bundle directory, or its config.json.
    #[arg(default_value = ".")]
    bundle: PathBuf,
    /// The container id, which names the jail [default: the bundle directory's name].
    #[arg(long)]
    id: Option<String>,
    /// A runj.ext.json to merge [default: the one beside config.json, if any].
    #[arg(long, value_name = "FILE")]
    ext: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Conf)]
    format: Format,
    /// Drop the fields runj cannot honour, with a warning, instead of failing.
    #[arg(long)]
    allow_unsupported: bool,
    /// Take also what acts on the host or widens the jail from the
    /// bundle's annotations (docs/security.md).
    #[arg(long, env = "RUNJ_TRUST_ANNOTATIONS")]
    trust_annotations: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Conf,
    Json,
    Toml,
}

pub fn run(args: PlanArgs, global: &Global) -> Result<ExitCode> {
    let options = BundleOptions {
        id: args.id.clone(),
        ext: args.ext.clone(),
        allow_unsupported: args.allow_unsupported,
        trust_annotations: args.trust_annotations,
    };
    let compiled = compile(&args.bundle, &options);
    report(&compiled.diagnostics);
    let Some(plan) = compiled.plan else {
        return Ok(ExitCode::from(2));
    };
    let text = match args.format {
        Format::Conf => match conf(&preview(plan, global), &args) {
            Some(text) => text,
            None => return Ok(ExitCode::from(2)),
        },
        Format::Json => serde_json::to_string_pretty(&plan)? + "\n",
        Format::Toml => toml::to_string(&plan)?,
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// The plan as jail.conf, headed by the bundle it came from; `None` when
/// jail.conf cannot say it.
fn conf(plan: &JailPlan, args: &PlanArgs) -> Option<String> {
    let header = [format!(
        "The jail of the OCI bundle {} (runj plan).",
        args.bundle.display()
    )];
    let (config, diagnostics) = to_jailconf(plan, &header);
    report(&diagnostics);
    (!diagnostics.has_errors()).then(|| print_conf(&config))
}

fn report(diagnostics: &Diagnostics) {
    for d in &diagnostics.0 {
        eprintln!("runj: {d}");
    }
}
