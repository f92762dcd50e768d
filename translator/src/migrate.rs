//! Migrating jail.conf jails to OCI bundles: each resolved jail is lowered
//! to a plan, its `mount.fstab` files are read into mount entries, and the
//! plan is emitted as `config.json`. The notes collected on the way make up
//! the `MIGRATION.md` report.

use std::borrow::Borrow;
use std::fmt::Write as _;

use crate::bundle::{BundleFiles, RCTL_ANNOTATION, bundle_files};
use crate::conf::{Parallelism, ResolvedJail, each_in_runs};
use crate::diagnostic::Diagnostic;
use crate::lower::{expand_fstab_files, lower};
use crate::plan::JailPlan;
use crate::rctl::Rules;
use crate::rctl_conf::RctlConf;
use crate::trust::{FromAnnotation, from_annotation};

/// The outcome for one jail.
#[derive(Debug, Clone)]
pub struct Migration {
    pub jail: String,
    /// The bundle's files, unless the jail could not be migrated.
    pub config: Option<BundleFiles>,
    /// Errors (when `config` is `None`) and notes for the report.
    pub notes: Vec<Diagnostic>,
}

impl Migration {
    fn failed(jail: &str, notes: Vec<Diagnostic>) -> Self {
        Migration {
            jail: jail.to_string(),
            config: None,
            notes,
        }
    }
}

/// Below this many jails a thread costs more than migrating them saves.
const JAILS_PER_RUN: usize = 256;

/// Migrates every jail. Two jails of the same name (jail(8) keeps
/// duplicate blocks as separate jails and then finds either of them) would
/// share one bundle: the later one is refused.
/// Each jail gets its rules of `rctl` (`runj migrate --rctl`; an empty
/// one for none). The jails are migrated in runs on as many threads as
/// `parallelism` allows.
pub fn migrate_all<J: Borrow<ResolvedJail> + Sync>(
    jails: &[J],
    rctl: &RctlConf,
    parallelism: Parallelism,
) -> Vec<Migration> {
    let duplicate = "another block defines a jail of the same name, and jail(8) would use either one: merge them";
    let mut out: Vec<Migration> = Vec::new();
    // The names of the jails migrated so far.
    let mut taken = std::collections::HashSet::new();
    for m in each_in_runs(jails, parallelism, JAILS_PER_RUN, |jail| {
        let jail = jail.borrow();
        migrate_with(jail, rctl.jails.get(&jail.name))
    }) {
        out.push(match m.config.is_some() && !taken.insert(m.jail.clone()) {
            true => Migration::failed(&m.jail, vec![Diagnostic::error(&m.jail, duplicate)]),
            false => m,
        });
    }
    out
}

/// Migrates one resolved jail.
pub fn migrate(jail: &ResolvedJail) -> Migration {
    migrate_with(jail, None)
}

fn migrate_with(jail: &ResolvedJail, rctl: Option<&Rules>) -> Migration {
    let lowered = lower(jail);
    let mut notes = lowered.diagnostics.0;
    let Some(mut plan) = lowered.plan else {
        return Migration::failed(&jail.name, notes);
    };
    if let Some(rules) = rctl {
        plan.rctl = rules.clone();
        notes.push(Diagnostic::warning(
            "rctl",
            format!(
                "{} rctl.conf rule(s) carried into the bundle (annotation {RCTL_ANNOTATION}): remove them from rctl.conf once the container replaces the jail",
                rules.len()
            ),
        ));
    }
    match expand_fstab_files(&mut plan) {
        Ok(warnings) => notes.extend(warnings),
        Err(e) => {
            notes.push(e);
            return Migration::failed(&plan.name, notes);
        }
    }
    notes.extend(lifetime_notes(&plan));
    Migration {
        jail: plan.name.clone(),
        config: Some(bundle_files(&plan)),
        notes,
    }
}

/// What changes when the jail runs as an OCI container.
fn lifetime_notes(plan: &JailPlan) -> Vec<Diagnostic> {
    let mut notes = Vec::new();
    let c = &plan.commands;
    let process = if c.start.is_empty() && c.command.is_empty() {
        "the jail has no exec.start or command: the bundle has no process, which a container needs"
    } else {
        "the container lives as long as its process, derived from exec.start/command; jail(8) keeps a \
         jail after those commands return only with persist or remaining processes"
    };
    notes.push(Diagnostic::warning("process", process));
    // The host-side stages: those no annotation may carry.
    for (stage, list) in c.stages() {
        if !list.is_empty() && from_annotation(stage) == FromAnnotation::Never {
            notes.push(Diagnostic::warning(
                stage,
                "host commands are kept in the bundle's runj.jail.json and run by the runj executor; other OCI runtimes ignore them",
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
