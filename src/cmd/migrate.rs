//! `runj migrate`: one OCI bundle per jail of a jail.conf, and a
//! `MIGRATION.md` report of what could not be expressed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Args;
use runj_grammar::load;
use runj_translator::bundle::{BundleFiles, JAIL_FILE};
use runj_translator::conf::{Parallelism, resolve};
use runj_translator::rctl_conf::{self, RctlConf};
use runj_translator::{Migration, migrate_all, report};

#[derive(Args)]
pub struct MigrateArgs {
    /// The configuration file to migrate.
    #[arg(short = 'f', default_value = "/etc/jail.conf")]
    file: String,
    /// The directory that receives one bundle directory per jail.
    #[arg(short = 'o', default_value = ".")]
    output: PathBuf,
    /// Only these jails (default: all).
    jails: Vec<String>,
    /// Overwrite bundles that already exist.
    #[arg(long)]
    force: bool,
    /// Print what would be written; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// An rctl.conf (`/etc/rctl.conf`) whose `jail:NAME:` rules go into
    /// each jail's bundle.
    #[arg(long, value_name = "FILE")]
    rctl: Option<PathBuf>,
}

pub fn run(args: MigrateArgs) -> Result<ExitCode> {
    let parallelism = Parallelism::available();
    let loaded = match load(&args.file, parallelism) {
        Ok(l) => l,
        Err(e) => {
            e.jail_messages()
                .iter()
                .for_each(|m| eprintln!("jail: {m}"));
            return Ok(ExitCode::from(2));
        }
    };
    let rctl = match &args.rctl {
        None => RctlConf::default(),
        Some(path) => read_rctl(path)?,
    };
    let jails = resolve(&loaded, parallelism);
    if let Some(missing) = args
        .jails
        .iter()
        .find(|n| !jails.iter().any(|j| &&j.name == n))
    {
        eprintln!("runj: {}: no jail named \"{missing}\"", args.file);
        return Ok(ExitCode::from(2));
    }
    let selected: Vec<_> = jails
        .iter()
        .filter(|j| args.jails.is_empty() || args.jails.contains(&j.name))
        .collect();
    let mut migrations: Vec<Migration> = migrate_all(&selected, &rctl, parallelism);
    for name in rctl
        .jails
        .keys()
        .filter(|n| !jails.iter().any(|j| &&j.name == n))
    {
        eprintln!(
            "runj: warning: rctl rules for jail \"{name}\", which {} does not define, are not migrated",
            args.file
        );
    }
    if rctl.other_subjects > 0 {
        eprintln!(
            "runj: warning: {} rctl rule(s) for users, login classes or processes stay in rctl.conf",
            rctl.other_subjects
        );
    }
    for m in &mut migrations {
        if let Err(e) = write_bundle(&args, m) {
            m.notes.push(runj_translator::Diagnostic::error(
                "bundle",
                format!("{e:#}"),
            ));
            m.config = None;
        }
    }
    let text = report(&args.file, &migrations);
    let report_path = args.output.join("MIGRATION.md");
    if args.dry_run {
        println!("== {} ==\n{text}", report_path.display());
    } else {
        std::fs::create_dir_all(&args.output)
            .with_context(|| format!("creating {}", args.output.display()))?;
        super::atomic::write(&report_path, &text)?;
    }
    let failed: Vec<&str> = migrations
        .iter()
        .filter(|m| m.config.is_none())
        .map(|m| m.jail.as_str())
        .collect();
    for m in migrations.iter().filter(|m| m.config.is_none()) {
        for note in m.notes.iter().filter(|n| n.is_error()) {
            eprintln!("runj: {}: {note}", m.jail);
        }
    }
    eprintln!(
        "runj: {} of {} jails migrated into {}; see {}",
        migrations.len() - failed.len(),
        migrations.len(),
        args.output.display(),
        report_path.display()
    );
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Reads an rctl.conf; its errors, each `FILE:LINE: …`, as one.
pub fn read_rctl(path: &Path) -> Result<RctlConf> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    rctl_conf::parse(&path.display().to_string(), &text)
        .map_err(|errors| anyhow::anyhow!(errors.join("\n")))
}

/// Writes `DIR/<jail>/config.json` (and `runj.jail.json` when the jail
/// has parameters no annotation may carry), refusing to replace a bundle
/// without --force. A stale `runj.jail.json` of a replaced bundle is
/// removed.
fn write_bundle(args: &MigrateArgs, m: &Migration) -> Result<()> {
    let Some(files) = &m.config else {
        return Ok(());
    };
    let dir = bundle_dir(&args.output, &m.jail)?;
    if args.dry_run {
        return print_bundle(&dir, files);
    }
    let texts = files.texts();
    let config = dir.join("config.json");
    if config.exists() && !args.force {
        anyhow::bail!("{} exists; use --force to replace it", config.display());
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let jail_file = dir.join(JAIL_FILE);
    if files.jail_file.is_none() && jail_file.exists() {
        std::fs::remove_file(&jail_file)
            .with_context(|| format!("removing {}", jail_file.display()))?;
    }
    // config.json last: a bundle is complete once it is there.
    for (name, text) in texts.iter().rev() {
        super::atomic::write(&dir.join(name), text)?;
    }
    Ok(())
}

/// Prints each file of a bundle under a `== PATH ==` line, serializing
/// straight into one buffer on stdout.
fn print_bundle(dir: &Path, files: &BundleFiles) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (name, json) in files.files() {
        writeln!(out, "== {} ==", dir.join(name).display())?;
        serde_json::to_writer_pretty(&mut out, json)?;
        out.write_all(b"\n\n")?;
    }
    out.flush()?;
    Ok(())
}

/// The bundle directory of a jail; its name must be one path component.
fn bundle_dir(output: &Path, jail: &str) -> Result<PathBuf> {
    if jail.is_empty() || jail == "." || jail == ".." || jail.contains('/') {
        anyhow::bail!("the jail name \"{jail}\" cannot be a directory name");
    }
    Ok(output.join(jail))
}
