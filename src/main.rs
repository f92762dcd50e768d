//! `runj`: compile OCI bundles into FreeBSD jail plans, and read and write
//! jail.conf as jail(8) does.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

#[derive(Parser)]
#[command(name = "runj", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read, check and format jail.conf files.
    #[command(subcommand)]
    Conf(cmd::conf::ConfCommand),
    /// Compare two setups: exit 0 if the same, 1 if different, 2 on error.
    Diff(cmd::diff::DiffArgs),
    /// Write one OCI bundle per jail of a jail.conf, with a MIGRATION.md report.
    Migrate(cmd::migrate::MigrateArgs),
    /// Print the jail plan of an OCI bundle as jail.conf, JSON or TOML.
    Plan(cmd::plan::PlanArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Conf(c) => cmd::conf::run(c),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Migrate(args) => cmd::migrate::run(args),
        Command::Plan(args) => cmd::plan::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("runj: {err:#}");
            ExitCode::from(2)
        }
    }
}
