//! Migrating jail.conf jails to OCI bundles: each resolved jail is lowered
//! to a plan, its `mount.fstab` files are read into mount entries, and the
//! plan is emitted as `config.json`. The notes collected on the way make up
//! the `MIGRATION.md` report.

use std::fmt::Write as _;

use serde_json::Value as Json;

use crate::bundle::config_json;
use crate::conf::ResolvedJail;
use crate::diagnostic::Diagnostic;
use crate::fstab::parse_line;
use crate::lower::{inside, lower};
use crate::plan::{JailPlan, Mount};

/// The outcome for one jail.
#[derive(Debug, Clone)]
pub struct Migration {
    pub jail: String,
    /// The bundle's `config.json`, unless the jail could not be migrated.
    pub config: Option<Json>,
    /// Errors (when `config` is `None`) and notes for the report.
    pub notes: Vec<Diagnostic>,
}

/// Migrates one resolved jail.
pub fn migrate(jail: &ResolvedJail) -> Migration {
    let lowered = lower(jail);
    let mut notes = lowered.diagnostics.0;
    let Some(mut plan) = lowered.plan else {
        return Migration {
            jail: jail.name.clone(),
            config: None,
            notes,
        };
    };
    if let Err(e) = expand_fstab_files(&mut plan) {
        notes.push(e);
        return Migration {
            jail: plan.name,
            config: None,
            notes,
        };
    }
    notes.extend(lifetime_notes(&plan));
    Migration {
        jail: plan.name.clone(),
        config: Some(config_json(&plan)),
        notes,
    }
}

/// Reads each `mount.fstab` file as jail(8) does when it starts the jail
/// (`#` starts a comment; blank lines are skipped) and appends its lines to
/// the mount entries.
fn expand_fstab_files(plan: &mut JailPlan) -> Result<(), Diagnostic> {
    let files = std::mem::take(&mut plan.mounts.fstab_files);
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|e| {
            Diagnostic::error(
                "mount.fstab",
                format!("{file}: {}", runj_grammar::strerror(&e)),
            )
        })?;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let fail =
                |m: String| Diagnostic::error("mount.fstab", format!("{file}:{}: {m}", n + 1));
            let l = parse_line(line).map_err(fail)?;
            let path = plan
                .path()
                .ok_or_else(|| fail("the jail has no path".into()))?;
            let destination = inside(path, &l.mountpoint).ok_or_else(|| {
                fail(format!(
                    "mount point \"{}\" is outside the jail's path \"{path}\"",
                    l.mountpoint
                ))
            })?;
            plan.mounts.entries.push(Mount {
                fstype: l.fstype,
                source: l.device,
                destination,
                options: l.options,
            });
        }
    }
    Ok(())
}

/// What changes when the jail runs as an OCI container.
fn lifetime_notes(plan: &JailPlan) -> Vec<Diagnostic> {
    let mut notes = Vec::new();
    let c = &plan.commands;
    if c.start.is_empty() && c.command.is_empty() {
        notes.push(Diagnostic::warning(
            "process",
            "the jail has no exec.start or command: the bundle has no process, which a container needs",
        ));
    } else {
        notes.push(Diagnostic::warning(
            "process",
            "the container lives as long as its process, derived from exec.start/command; jail(8) keeps a \
             jail after those commands return only with persist or remaining processes",
        ));
    }
    let host_stages = [
        "exec.prepare",
        "exec.prestart",
        "exec.created",
        "exec.poststart",
        "exec.prestop",
        "exec.poststop",
        "exec.release",
    ];
    for (stage, list) in c.stages() {
        if host_stages.contains(&stage) && !list.is_empty() {
            notes.push(Diagnostic::warning(
                stage,
                "host commands are kept as an annotation and run by the runj executor; other OCI runtimes ignore them",
            ));
        }
    }
    notes
}

/// The `MIGRATION.md` report for a run.
pub fn report(source: &str, migrations: &[Migration]) -> String {
    let mut out = format!("# Migration of {source}\n\n");
    let failed = migrations.iter().filter(|m| m.config.is_none()).count();
    let _ = writeln!(
        out,
        "{} jails: {} migrated, {failed} failed.\n",
        migrations.len(),
        migrations.len() - failed
    );
    for m in migrations {
        let status = if m.config.is_some() {
            "migrated"
        } else {
            "FAILED"
        };
        let _ = writeln!(out, "## {} ({status})\n", m.jail);
        if m.notes.is_empty() {
            out.push_str("Everything was expressed.\n\n");
            continue;
        }
        for note in &m.notes {
            let _ = writeln!(out, "- {note}");
        }
        out.push('\n');
    }
    out
}
