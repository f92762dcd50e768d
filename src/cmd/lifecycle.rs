//! The OCI runtime command line (`create`, `start`, `state`, `kill`,
//! `delete`, `list`, `exec`, `run`, `update`, `events`), compatible with runc's and runj's
//! (samuelkarp/runj cmd/runj): containerd's shims and tools built for them
//! can drive runj.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use runj_executor::lifecycle::{CreateOptions, Runtime, write_pid};
use runj_executor::state::State;

use super::runtime::{BundleArgs, Global, bundle_plan};

#[derive(Subcommand)]
pub enum Lifecycle {
    /// Create a container: the jail, its mounts, and its process waiting for `start`.
    Create(CreateArgs),
    /// Start the process of a created container.
    Start(IdArg),
    /// Print a container's state as JSON.
    State(IdArg),
    /// Send a signal to the container process, or to every process in its jail.
    Kill(KillArgs),
    /// Delete a container: remove its jail, undo its mounts, forget its state.
    Delete(DeleteArgs),
    /// List the containers.
    List(ListArgs),
    /// Run a further process in a container's jail.
    Exec(ExecArgs),
    /// Create, start and wait for a container, then delete it; exit with its status.
    Run(CreateArgs),
    /// Change a running container's resource limits (runc's options, or rctl rules).
    Update(super::limits::UpdateArgs),
    /// Print a running container's resource usage as runc's stats events.
    Events(super::limits::EventsArgs),
}

#[derive(Args)]
pub struct IdArg {
    id: String,
}

#[derive(Args)]
pub struct CreateArgs {
    id: String,
    /// The bundle directory (runj also takes it as the second argument).
    #[arg(value_name = "BUNDLE")]
    bundle_arg: Option<PathBuf>,
    #[arg(short, long, value_name = "DIR", conflicts_with = "bundle_arg")]
    bundle: Option<PathBuf>,
    /// A socket to send the pty master to, when the process has a terminal.
    #[arg(long, value_name = "PATH")]
    console_socket: Option<PathBuf>,
    /// Write the container process's pid here.
    #[arg(long, value_name = "FILE")]
    pid_file: Option<PathBuf>,
    #[command(flatten)]
    read: BundleArgs,
}

#[derive(Args)]
pub struct KillArgs {
    id: String,
    /// A number or a name, with or without SIG.
    #[arg(default_value = "SIGTERM")]
    signal: String,
    /// Signal every process in the container's jail.
    #[arg(short, long)]
    all: bool,
}

#[derive(Args)]
pub struct DeleteArgs {
    id: String,
    /// Kill the container's processes first, and clean up whatever a failed
    /// or interrupted create left.
    #[arg(short, long)]
    force: bool,
}

#[derive(Args)]
pub struct ListArgs {
    /// `table` or `json`.
    #[arg(short, long, default_value = "table")]
    format: String,
    /// Only the ids.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args)]
pub struct ExecArgs {
    id: String,
    /// The process, as the runtime-spec's `process` JSON.
    #[arg(short, long, value_name = "FILE")]
    process: PathBuf,
    /// Return once the process runs instead of waiting for it.
    #[arg(short, long)]
    detach: bool,
    #[arg(long, value_name = "FILE")]
    pid_file: Option<PathBuf>,
    #[arg(long, value_name = "PATH")]
    console_socket: Option<PathBuf>,
}

pub fn run(command: Lifecycle, global: &Global) -> Result<ExitCode> {
    let mut backend = global.host()?;
    let mut runtime = Runtime {
        root: global.root.clone(),
        host: backend.host(),
    };
    let code = match command {
        Lifecycle::Create(args) => {
            let (plan, options) = prepare(global, &args)?;
            runtime.create(&args.id, &plan, &options)?;
            ExitCode::SUCCESS
        }
        Lifecycle::Run(args) => {
            let (plan, options) = prepare(global, &args)?;
            let status = runtime.run(&args.id, &plan, &options)?;
            ExitCode::from(u8::try_from(status).unwrap_or(255))
        }
        Lifecycle::Start(a) => {
            runtime.start(&a.id)?;
            ExitCode::SUCCESS
        }
        Lifecycle::State(a) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&oci_state(&runtime.state(&a.id)?))?
            );
            ExitCode::SUCCESS
        }
        Lifecycle::Kill(a) => {
            runtime.kill(&a.id, signal(&a.signal)?, a.all)?;
            ExitCode::SUCCESS
        }
        Lifecycle::Delete(a) => {
            runtime.delete(&a.id, a.force)?;
            ExitCode::SUCCESS
        }
        Lifecycle::List(a) => {
            list(&runtime.list()?, &a)?;
            ExitCode::SUCCESS
        }
        Lifecycle::Exec(a) => exec(&mut runtime, &a)?,
        Lifecycle::Update(a) => {
            for w in super::limits::update(&mut runtime, &a)? {
                global.warn(w.strip_prefix("warning: ").unwrap_or(&w));
            }
            ExitCode::SUCCESS
        }
        Lifecycle::Events(a) => {
            super::limits::events(&mut runtime, &a)?;
            ExitCode::SUCCESS
        }
    };
    for w in backend.warnings() {
        global.warn(&w);
    }
    Ok(code)
}

fn prepare(
    global: &Global,
    args: &CreateArgs,
) -> Result<(runj_translator::JailPlan, CreateOptions)> {
    let bundle = args
        .bundle
        .clone()
        .or_else(|| args.bundle_arg.clone())
        .unwrap_or_else(|| PathBuf::from("."));
    let bundle =
        std::path::absolute(&bundle).with_context(|| format!("bundle {}", bundle.display()))?;
    let plan = bundle_plan(global, &bundle, &args.id, &args.read)?;
    let options = CreateOptions {
        bundle,
        console_socket: args.console_socket.clone(),
        pid_file: args.pid_file.clone(),
    };
    Ok((plan, options))
}

/// The runtime-spec's state: `ociVersion, id, status, pid, bundle, annotations`.
fn oci_state(state: &State) -> serde_json::Value {
    let mut json = serde_json::to_value(state).expect("state serializes");
    if let Some(map) = json.as_object_mut() {
        map.remove("jail");
        map.entry("annotations")
            .or_insert_with(|| serde_json::json!({}));
    }
    json
}

/// `runj list`: a container whose state cannot be read is listed as
/// `broken`, with why (`delete --force` removes it).
fn list(all: &[(String, runj_executor::Result<State>)], args: &ListArgs) -> Result<()> {
    match (args.quiet, args.format.as_str()) {
        (true, _) => all.iter().for_each(|(id, _)| println!("{id}")),
        (false, "json") => {
            let shown: Vec<_> = all
                .iter()
                .map(|(id, s)| match s {
                    Ok(s) => oci_state(s),
                    Err(e) => {
                        serde_json::json!({ "id": id, "status": "broken", "error": e.to_string() })
                    }
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&shown)?);
        }
        (false, "table") => {
            println!("{:<24}{:<10}{:<10}BUNDLE", "ID", "PID", "STATUS");
            for (id, s) in all {
                let Ok(s) = s else {
                    let why = s
                        .as_ref()
                        .err()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    println!("{id:<24}{:<10}{:<10}{why}", "-", "broken");
                    continue;
                };
                let status = serde_json::to_value(s.status)?;
                let pid = s.pid.map_or_else(|| "-".into(), |p| p.to_string());
                println!(
                    "{:<24}{:<10}{:<10}{}",
                    s.id,
                    pid,
                    status.as_str().unwrap_or(""),
                    s.bundle.display()
                );
            }
        }
        (false, other) => bail!("unknown format \"{other}\": table or json"),
    }
    Ok(())
}

fn exec(runtime: &mut Runtime<'_>, a: &ExecArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&a.process)
        .with_context(|| format!("read {}", a.process.display()))?;
    let process = runj_translator::oci::process_from_json(&text)
        .map_err(|e| anyhow!("{}: {e}", a.process.display()))?;
    let pid = runtime.exec(&a.id, &process, a.console_socket.as_deref())?;
    if let Some(file) = &a.pid_file {
        write_pid(file, pid)?;
    }
    if a.detach {
        return Ok(ExitCode::SUCCESS);
    }
    let status = match runj_executor::child::wait(pid, None)? {
        runj_executor::child::Ended::Exited(code) => code,
        runj_executor::child::Ended::Signaled(sig) => 128 + sig,
        runj_executor::child::Ended::TimedOut => 255,
    };
    Ok(ExitCode::from(u8::try_from(status).unwrap_or(255)))
}

/// A signal by number or name (`9`, `KILL`, `SIGKILL`).
fn signal(text: &str) -> Result<i32> {
    if let Ok(n) = text.parse::<i32>() {
        return Ok(n);
    }
    let name = text.to_ascii_uppercase();
    let name = if name.starts_with("SIG") {
        name
    } else {
        format!("SIG{name}")
    };
    name.parse::<nix::sys::signal::Signal>()
        .map(|s| s as i32)
        .map_err(|_| anyhow!("unknown signal \"{text}\""))
}
