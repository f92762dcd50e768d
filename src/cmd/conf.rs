//! `runj conf fmt|check|eval`.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use runj_grammar::{LoadError, Loaded, STDIN, diagnostic, load, parse, print};
use runj_translator::conf::{
    Origin, ResolveError, ResolvedJail, evaluate, gather, resolve, to_config,
};
use runj_translator::lower;

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
    separator: Option<String>,
    /// Only these jails (jail(8) itself takes no names with -e).
    jails: Vec<String>,
}

pub fn run(command: ConfCommand) -> Result<ExitCode> {
    match command {
        ConfCommand::Fmt(args) => fmt(args),
        ConfCommand::Check(args) => check(args),
        ConfCommand::Eval(args) => eval(args),
    }
}

fn read_input(file: &str) -> Result<String> {
    if file == STDIN {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {file}"))
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
        std::io::stdout().write_all(formatted.as_bytes())?;
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
    let loaded = match load(&args.file) {
        Ok(loaded) => loaded,
        Err(err) => return Ok(report_load_error(&err)),
    };
    let Some(separator) = &args.separator else {
        let jails = resolve(&loaded);
        for jail in &jails {
            report_jail_errors(&jail.name, &jail.errors);
        }
        if let Some(missing) = args
            .jails
            .iter()
            .find(|n| !jails.iter().any(|j| &&j.name == n))
        {
            return Ok(report_missing(missing));
        }
        let selected = jails
            .iter()
            .filter(|j| args.jails.is_empty() || args.jails.contains(&j.name));
        let out = print(&to_config(selected));
        std::io::stdout().write_all(out.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    };
    let gathered = gather(&loaded);
    let evaluation = evaluate(&gathered, &args.jails, separator);
    eprint!("{}", evaluation.errors);
    if let Some((missing, _)) = args
        .jails
        .iter()
        .zip(&evaluation.found)
        .find(|(_, found)| !**found)
    {
        return Ok(report_missing(missing));
    }
    let mut stdout = std::io::stdout().lock();
    for lines in &evaluation.lines {
        stdout.write_all(lines.as_bytes())?;
    }
    // The process ends here: freeing the syntax tree piece by piece would
    // take longer than printing it.
    std::mem::forget(gathered);
    std::mem::forget(loaded);
    Ok(ExitCode::SUCCESS)
}

/// Prints a jail's resolution errors as jail(8) does.
fn report_jail_errors(name: &str, errors: &[ResolveError]) {
    for e in errors {
        eprintln!("{}", e.jail_line(name));
    }
}

/// A jail asked for that the configuration does not define, as jail(8)
/// reports it.
fn report_missing(name: &str) -> ExitCode {
    eprintln!("jail: \"{name}\" not found");
    ExitCode::from(1)
}

fn check(args: CheckArgs) -> Result<ExitCode> {
    let loaded = match load(&args.file) {
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
    let jails = resolve(&loaded);
    let errors = report_resolve_errors(&loaded, &jails);
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Reports resolution errors, then what lowering each resolved jail to a
/// plan finds (bad values, unknown parameters); returns the error count.
fn report_resolve_errors(loaded: &Loaded, jails: &[ResolvedJail]) -> usize {
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
        if jail.failed() {
            continue;
        }
        for d in &lower(jail).diagnostics.0 {
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
