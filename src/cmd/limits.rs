//! `runj update` and `runj events`: a running container's resource limits
//! and usage, with runc's command lines (opencontainers/runc update.go,
//! events.go), so that containerd's shim and tools built for runc can
//! drive runj.

use std::io::Read as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use runj_executor::lifecycle::Runtime;
use runj_translator::oci::updated_rules;
use runj_translator::rctl::{Rule, Rules, expand_amount};
use serde_json::{Value as Json, json};

#[derive(Args)]
pub struct UpdateArgs {
    id: String,
    /// The new limits as the runtime-spec's `linux.resources` JSON; `-`
    /// reads standard input. The options below override it.
    #[arg(short, long, value_name = "FILE")]
    resources: Option<PathBuf>,
    /// Memory limit in bytes (`k`, `m`, `g` suffixes); -1: none.
    #[arg(long, allow_hyphen_values = true, value_name = "BYTES")]
    memory: Option<String>,
    /// Memory plus swap limit in bytes; -1: unlimited swap.
    #[arg(long, allow_hyphen_values = true, value_name = "BYTES")]
    memory_swap: Option<String>,
    /// Maximum number of processes; -1: none.
    #[arg(long, allow_hyphen_values = true)]
    pids_limit: Option<i64>,
    /// CPU time in µs per period; -1: none.
    #[arg(long, allow_hyphen_values = true)]
    cpu_quota: Option<i64>,
    /// The CPU quota's period in µs (default 100000).
    #[arg(long)]
    cpu_period: Option<u64>,
    /// An rctl(8) rule without its subject (`openfiles:deny=1024`),
    /// added after the limits above; repeatable.
    #[arg(long, value_name = "RULE")]
    rctl: Vec<String>,
    /// Drop the limits rctl has no equivalent of (a CPU weight), with a
    /// warning, instead of failing.
    #[arg(long, env = "RUNJ_ALLOW_UNSUPPORTED")]
    allow_unsupported: bool,
}

#[derive(Args)]
pub struct EventsArgs {
    id: String,
    /// Print the usage once and exit.
    #[arg(long)]
    stats: bool,
    /// How often to print the usage otherwise.
    #[arg(long, default_value = "5s", value_parser = interval)]
    interval: Duration,
}

/// `runj update`; returns its warnings.
pub fn update(runtime: &mut Runtime<'_>, args: &UpdateArgs) -> Result<Vec<String>> {
    let resources = resources(args)?;
    let extra: Vec<Rule> = args
        .rctl
        .iter()
        .map(|t| {
            t.parse()
                .map_err(|e: runj_translator::rctl::RuleError| anyhow!("{e}"))
        })
        .collect::<Result<_>>()?;
    let mut warnings = Vec::new();
    runtime.update_limits(&args.id, |current: &Rules| {
        let (mut next, dropped) =
            updated_rules(current, &resources, args.allow_unsupported).map_err(|e| e.join("; "))?;
        for rule in extra {
            next.add(rule);
        }
        warnings = dropped;
        Ok(next)
    })?;
    Ok(warnings)
}

/// The `linux.resources` document of an update: the file, then the
/// options.
fn resources(args: &UpdateArgs) -> Result<Json> {
    let mut doc = match &args.resources {
        None => json!({}),
        Some(path) => {
            let text = if path.as_os_str() == "-" {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text)?;
                text
            } else {
                std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?
            };
            serde_json::from_str(&text).context("the resources are not JSON")?
        }
    };
    let mut set = |section: &str, field: &str, value: Json| {
        doc.as_object_mut()
            .ok_or_else(|| anyhow!("the resources are not a JSON object"))
            .map(|o| o.entry(section).or_insert_with(|| json!({}))[field] = value)
    };
    if let Some(m) = &args.memory {
        set("memory", "limit", json!(bytes(m)?))?;
    }
    if let Some(m) = &args.memory_swap {
        set("memory", "swap", json!(bytes(m)?))?;
    }
    if let Some(n) = args.pids_limit {
        set("pids", "limit", json!(n))?;
    }
    if let Some(n) = args.cpu_quota {
        set("cpu", "quota", json!(n))?;
    }
    if let Some(n) = args.cpu_period {
        set("cpu", "period", json!(n))?;
    }
    Ok(doc)
}

/// A byte count with suffixes, or -1.
fn bytes(text: &str) -> Result<i64> {
    if text == "-1" {
        return Ok(-1);
    }
    let n = expand_amount(text).map_err(|e| anyhow!(e))?;
    i64::try_from(n).map_err(|_| anyhow!("{text}: too large"))
}

/// `runj events`: the usage as runc's `stats` event, once or at an
/// interval until the container stops.
pub fn events(runtime: &mut Runtime<'_>, args: &EventsArgs) -> Result<()> {
    loop {
        let usage = runtime.usage(&args.id)?;
        println!("{}", usage.event(&args.id));
        if args.stats {
            return Ok(());
        }
        std::thread::sleep(args.interval);
    }
}

/// `5s`, `500ms`, `1m`.
fn interval(text: &str) -> Result<Duration> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .with_context(|| format!("{text}: not a duration"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => bail!("{text}: use ms, s or m"),
    })
}
