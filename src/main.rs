//! `runj`: compile OCI bundles into FreeBSD jail plans, and read and write
//! jail.conf as jail(8) does.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than glibc's allocator: reading a large jail.conf makes
/// hundreds of thousands of small allocations, and mimalloc makes them in
/// about half the time and backs them with fewer page faults
/// (docs/performance.md).
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cmd;

#[derive(Parser)]
#[command(name = "runj", version, about)]
struct Cli {
    #[command(flatten)]
    global: cmd::runtime::Global,
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
    /// Run a plan (bundle, jail.conf#JAIL, plan file) to completion, or print its steps.
    Apply(cmd::apply::ApplyArgs),
    /// Print what this runtime supports (runtime-spec features).
    Features,
    /// Manage the networks jails share: `rm NAME` removes a bridge.
    #[command(subcommand)]
    Network(cmd::network::NetworkCommand),
    #[command(flatten)]
    Lifecycle(cmd::lifecycle::Lifecycle),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Conf(c) => cmd::conf::run(c),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Migrate(args) => cmd::migrate::run(args),
        Command::Plan(args) => cmd::plan::run(args, &cli.global),
        Command::Apply(args) => cmd::apply::run(args, &cli.global),
        Command::Features => cmd::features::run(),
        Command::Network(c) => cmd::network::run(c, &cli.global),
        Command::Lifecycle(c) => cmd::lifecycle::run(c, &cli.global),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("runj: {err:#}");
            cli.global.log("error", &format!("{err:#}"));
            ExitCode::from(2)
        }
    }
}
