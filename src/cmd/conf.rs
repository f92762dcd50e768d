//! `runj conf fmt|check|eval`.

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::os::unix::ffi::OsStrExt as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use runj_grammar::{LoadError, Loaded, STDIN, diagnostic, escaped, load, parse, print};
use runj_translator::conf::{
    Origin, Parallelism, ResolveError, evaluate, gather, resolutions, resolve_each, to_config,
};
use runj_translator::{Diagnostics, lower};

/// jail(8)'s default configuration file.
const DEFAULT_CONF: &str = "/etc/jail.conf";

#[derive(Subcommand)]
pub enum ConfCommand {
    /// Print a jail.conf file in canonical form (idempotent; keeps comments).
    Fmt(FmtArgs),
    /// Parse and resolve a jail.conf file; report every error as FILE:LINE:COL.
    Check(CheckArgs),
    /// Print the resolved jails exactly as `jail -f FILE -e SEP` does.
    Eval(EvalArgs),
}

#[derive(Args)]
pub struct FmtArgs {
    /// The file to format; `-` for standard input.
    #[arg(default_value = STDIN)]
    file: String,
    /// Print nothing; exit 1 when the file is not in canonical form.
    #[arg(long, conflicts_with = "write")]
    check: bool,
    /// Rewrite the file in place (atomically) instead of printing it.
    #[arg(short, long)]
    write: bool,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The file to check; `-` for standard input.
    #[arg(default_value = DEFAULT_CONF)]
    file: String,
}

#[derive(Args)]
pub struct EvalArgs {
    /// The configuration file; `-` for standard input.
    #[arg(short = 'f', default_value = DEFAULT_CONF)]
    file: String,
    /// Print each jail on one line with parameters joined by SEP, as
    /// `jail -e SEP`. Without it, print the resolved jails as jail.conf.
    #[arg(short = 'e', value_name = "SEP")]
    separator: Option<OsString>,
    /// Only these jails (jail(8) itself takes no names with -e).
    jails: Vec<OsString>,
}

pub fn run(command: ConfCommand) -> Result<ExitCode> {
    match command {
        ConfCommand::Fmt(args) => fmt(args),
        ConfCommand::Check(args) => check(args),
        ConfCommand::Eval(args) => eval(args),
    }
}

/// The file's bytes (standard input for `-`).
fn read_input(file: &str) -> Result<Vec<u8>> {
    if file == STDIN {
        let mut text = Vec::new();
        std::io::stdin()
            .read_to_end(&mut text)
            .context("reading standard input")?;
        Ok(text)
    } else {
        std::fs::read(file).with_context(|| format!("reading {file}"))
    }
}

fn fmt(args: FmtArgs) -> Result<ExitCode> {
    let text = read_input(&args.file)?;
    let config = match parse(&text) {
        Ok(config) => config,
        Err(err) => {
            for e in &err.errors {
                eprint!(
                    "{}",
                    diagnostic::render(&args.file, &text, e.span, &e.to_string())
                );
            }
            return Ok(ExitCode::from(2));
        }
    };
    let formatted = print(&config);
    if args.check {
        if formatted == text {
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("{}: not in canonical form", args.file);
        return Ok(ExitCode::from(1));
    }
    if args.write && args.file != STDIN {
        if formatted != text {
            super::atomic::write(std::path::Path::new(&args.file), &formatted)?;
        }
    } else {
        std::io::stdout().write_all(&formatted)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a load failure as jail(8) does and returns its exit status.
fn report_load_error(err: &LoadError) -> ExitCode {
    for message in err.jail_messages() {
        eprintln!("jail: {message}");
    }
    ExitCode::from(1)
}

fn eval(args: EvalArgs) -> Result<ExitCode> {
    let parallelism = Parallelism::available();
    let loaded = match load(&args.file, parallelism) {
        Ok(loaded) => loaded,
        Err(err) => return Ok(report_load_error(&err)),
    };
    let gathered = gather(&loaded, parallelism);
    let wanted: Vec<&[u8]> = args.jails.iter().map(|n| n.as_bytes()).collect();
    let Some(separator) = &args.separator else {
        let jails = resolutions(&gathered, parallelism);
        for jail in &jails {
            for e in jail.errors() {
                eprintln!("{}", e.jail_line(&escaped(jail.name())));
            }
        }
        if let Some(missing) = wanted
            .iter()
            .find(|n| !jails.iter().any(|j| j.name() == **n))
        {
            return Ok(report_missing(missing));
        }
        let selected = jails
            .iter()
            .filter(|j| wanted.is_empty() || wanted.contains(&j.name()));
        std::io::stdout().write_all(&print(&to_config(selected)))?;
        return Ok(ExitCode::SUCCESS);
    };
    let evaluation = evaluate(&gathered, &wanted, separator.as_bytes(), parallelism);
    eprint!("{}", evaluation.errors);
    if let Some((missing, _)) = wanted
        .iter()
        .zip(&evaluation.found)
        .find(|(_, found)| !**found)
    {
        return Ok(report_missing(missing));
    }
    let mut stdout = std::io::stdout().lock();
    for lines in &evaluation.lines {
        stdout.write_all(lines)?;
    }
    // The process ends here: freeing the syntax tree piece by piece would
    // take longer than printing it.
    std::mem::forget(gathered);
    std::mem::forget(loaded);
    Ok(ExitCode::SUCCESS)
}

/// A jail asked for that the configuration does not define, as jail(8)
/// reports it.
fn report_missing(name: &[u8]) -> ExitCode {
    eprintln!("jail: \"{}\" not found", escaped(name));
    ExitCode::from(1)
}

fn check(args: CheckArgs) -> Result<ExitCode> {
    let parallelism = Parallelism::available();
    let loaded = match load(&args.file, parallelism) {
        Ok(loaded) => loaded,
        Err(LoadError::Syntax { name, text, error }) => {
            for e in &error.errors {
                eprint!(
                    "{}",
                    diagnostic::render(&name, &text, e.span, &e.to_string())
                );
            }
            return Ok(ExitCode::from(2));
        }
        Err(err) => {
            eprintln!("{}: {err}", args.file);
            return Ok(ExitCode::from(2));
        }
    };
    let jails = jail_reports(&loaded, parallelism);
    let errors = report_resolve_errors(&loaded, &jails);
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// What `check` reports for one jail.
struct JailReport {
    name: String,
    errors: Vec<ResolveError>,
    not_text: Vec<ResolveError>,
    /// What lowering it to a plan finds (bad values, unknown parameters).
    lowered: Diagnostics,
}

/// Resolves each jail and lowers it to a plan, keeping only what is to be
/// reported, on as many threads as `parallelism` allows.
fn jail_reports(loaded: &Loaded, parallelism: Parallelism) -> Vec<JailReport> {
    resolve_each(loaded, parallelism, |jail| {
        let lowered = match jail.failed() {
            true => Diagnostics::default(),
            false => lower(&jail).diagnostics,
        };
        JailReport {
            name: jail.name,
            errors: jail.errors,
            not_text: jail.not_text,
            lowered,
        }
    })
}

/// Reports resolution errors, then what lowering each resolved jail to a
/// plan finds; returns the error count. Names and values that are not
/// UTF-8 are warnings: jail(8) takes them, but a plan (and so `runj plan`,
/// `apply`, `migrate`) cannot.
fn report_resolve_errors(loaded: &Loaded, jails: &[JailReport]) -> usize {
    let mut errors = 0;
    for jail in jails {
        for e in &jail.errors {
            errors += 1;
            report_at(
                loaded,
                e.origin,
                &format!("jail {}: {}", jail.name, e.message),
            );
        }
        for e in &jail.not_text {
            let message = format!("jail {}: warning: {}", jail.name, e.message);
            report_at(loaded, e.origin, &message);
        }
        for d in &jail.lowered.0 {
            errors += usize::from(d.is_error());
            report_at(loaded, d.origin, &format!("jail {}: {d}", jail.name));
        }
    }
    errors
}

/// One diagnostic with a caret snippet when its place is known.
fn report_at(loaded: &Loaded, origin: Option<Origin>, message: &str) {
    match origin {
        Some(origin) => {
            let source = &loaded.sources[origin.source];
            eprint!(
                "{}",
                diagnostic::render(&source.name, &source.text, origin.span, message)
            );
        }
        None => eprintln!("{}: {message}", loaded.sources[0].name),
    }
}
