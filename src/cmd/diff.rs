//! `runj diff OLD NEW`: whether two setups differ and how. Exit 0 when they
//! are the same, 1 when they differ, 2 on error — like diff(1).

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use runj_translator::JailPlan;
use runj_translator::conf::Parallelism;
use runj_translator::diff::{Change, changes, unified};
use runj_translator::emit::{print_conf, to_jailconf};
use runj_translator::rctl_conf::RctlConf;
use runj_translator::source::{Source, plans};

#[derive(Args)]
pub struct DiffArgs {
    /// A jail.conf (optionally FILE#JAIL), a bundle directory or its config.json, or a plan (.json, .toml).
    old: String,
    /// The same kinds of input as OLD.
    new: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// An rctl.conf whose `jail:NAME:` rules belong to the jails of a
    /// jail.conf side (as `runj migrate --rctl` carries them).
    #[arg(long, value_name = "FILE")]
    rctl: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// The comparison of one jail present on both sides, or on one only.
#[derive(serde::Serialize)]
struct JailDiff {
    jail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    only_in: Option<&'static str>,
    changes: Vec<Change>,
    /// The unified diff of both sides printed as jail.conf.
    diff: String,
}

pub fn run(args: DiffArgs) -> Result<ExitCode> {
    let rctl = match &args.rctl {
        Some(path) => super::migrate::read_rctl(path)?,
        None => RctlConf::default(),
    };
    let side = |arg: &str| -> Result<_> {
        let source = Source::classify(arg);
        let (mut jails, warnings) = plans(&source, Parallelism::available())?;
        if matches!(source, Source::JailConf { .. }) {
            for plan in &mut jails {
                if let Some(rules) = rctl.jails.get(&plan.name) {
                    plan.rctl = rules.clone();
                }
            }
        }
        Ok((jails, warnings))
    };
    let (old, old_warnings) = side(&args.old)?;
    let (new, new_warnings) = side(&args.new)?;
    for w in old_warnings.warnings().chain(new_warnings.warnings()) {
        eprintln!("runj: {w}");
    }
    let diffs = pair(&old, &new, &args.old, &args.new);
    let same = diffs
        .iter()
        .all(|d| d.only_in.is_none() && d.changes.is_empty());
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "same": same, "jails": diffs }))?
        ),
        Format::Text => print_text(&diffs, std::io::stdout().is_terminal()),
    }
    Ok(if same {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One plan on each side is compared whatever their names; otherwise jails
/// are paired by name.
fn pair(old: &[JailPlan], new: &[JailPlan], old_label: &str, new_label: &str) -> Vec<JailDiff> {
    let compare = |a: &JailPlan, b: &JailPlan| JailDiff {
        jail: if a.name == b.name {
            a.name.clone()
        } else {
            format!("{} -> {}", a.name, b.name)
        },
        only_in: None,
        changes: changes(a, b),
        diff: unified(&conf_text(a), &conf_text(b), old_label, new_label),
    };
    if let ([a], [b]) = (old, new) {
        return vec![compare(a, b)];
    }
    let mut out = Vec::new();
    for a in old {
        match new.iter().find(|b| b.name == a.name) {
            Some(b) => out.push(compare(a, b)),
            None => out.push(JailDiff {
                jail: a.name.clone(),
                only_in: Some("old"),
                changes: vec![],
                diff: String::new(),
            }),
        }
    }
    for b in new.iter().filter(|b| !old.iter().any(|a| a.name == b.name)) {
        out.push(JailDiff {
            jail: b.name.clone(),
            only_in: Some("new"),
            changes: vec![],
            diff: String::new(),
        });
    }
    out
}

fn conf_text(plan: &JailPlan) -> String {
    print_conf(&to_jailconf(plan, &[]).0)
}

fn print_text(diffs: &[JailDiff], color: bool) {
    let paint = |line: &str| -> String {
        let code = match line.as_bytes().first() {
            _ if !color => return line.to_string(),
            _ if line.starts_with("+++") || line.starts_with("---") => "1",
            Some(b'+') => "32",
            Some(b'-') => "31",
            Some(b'@') => "36",
            Some(b'~') => "33",
            _ => return line.to_string(),
        };
        format!("\x1b[{code}m{line}\x1b[0m")
    };
    for d in diffs {
        if let Some(side) = d.only_in {
            println!(
                "{}",
                paint(&format!(
                    "{} jail {} (only in {side})",
                    if side == "old" { "-" } else { "+" },
                    d.jail
                ))
            );
            continue;
        }
        if d.changes.is_empty() {
            continue;
        }
        if diffs.len() > 1 {
            println!("jail {}:", d.jail);
        }
        for c in &d.changes {
            println!("{}", paint(&c.to_string()));
        }
        for line in d.diff.lines() {
            println!("{}", paint(line));
        }
    }
}
