//! Where plans come from: a jail.conf (all jails, or `FILE#JAIL`), an OCI
//! bundle (its directory or its `config.json`), or a plan saved as JSON or
//! TOML. `runj diff` names its inputs this way.

use std::path::{Path, PathBuf};

use runj_grammar::{LoadError, load};

use crate::conf::{Parallelism, resolve};
use crate::diagnostic::Diagnostics;
use crate::lower::{expand_fstab_files, lower, lower_for_removal};
use crate::plan::JailPlan;

/// One input as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A jail.conf, all its jails or only the one named after `#`.
    JailConf { path: PathBuf, jail: Option<String> },
    /// An OCI bundle: a directory, or its `config.json`.
    Bundle(PathBuf),
    /// A plan saved by `runj plan --format json`.
    PlanJson(PathBuf),
    /// A plan saved by `runj plan --format toml`.
    PlanToml(PathBuf),
}

impl Source {
    /// Classifies an argument: a directory is a bundle; a `*.json` file is a
    /// bundle's config when it has an `ociVersion`, else a plan; `*.toml` is
    /// a plan; anything else is a jail.conf, with `#JAIL` selecting one jail
    /// when the part before `#` is an existing file.
    pub fn classify(arg: &str) -> Source {
        if let Some((file, jail)) = arg.rsplit_once('#')
            && Path::new(file).is_file()
        {
            return Source::JailConf {
                path: file.into(),
                jail: Some(jail.to_string()),
            };
        }
        let path = PathBuf::from(arg);
        if path.is_dir() {
            return Source::Bundle(path);
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") if is_oci_config(&path) => Source::Bundle(path),
            Some("json") => Source::PlanJson(path),
            Some("toml") => Source::PlanToml(path),
            _ => Source::JailConf { path, jail: None },
        }
    }
}

/// Why an input gave no plans.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The jail.conf did not load; jail(8)'s messages.
    #[error("{}", .0.jail_messages().join("\n"))]
    Load(LoadError),
    #[error("{path}: {message}")]
    Plan { path: String, message: String },
    #[error("{path}: no jail named \"{jail}\"")]
    NoSuchJail { path: String, jail: String },
    #[error("{path}: {}", .diagnostics.errors().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid {
        path: String,
        diagnostics: Diagnostics,
    },
}

impl From<LoadError> for SourceError {
    fn from(e: LoadError) -> Self {
        SourceError::Load(e)
    }
}

/// The plans of an input, and the warnings met on the way.
pub fn plans(
    source: &Source,
    parallelism: Parallelism,
) -> Result<(Vec<JailPlan>, Diagnostics), SourceError> {
    match source {
        Source::JailConf { path, jail } => jailconf_plans(path, jail.as_deref(), parallelism),
        Source::Bundle(path) => {
            let compiled = crate::oci::compile(path, &crate::oci::BundleOptions::default());
            match compiled.plan {
                Some(plan) => Ok((vec![plan], compiled.diagnostics)),
                None => Err(SourceError::Invalid {
                    path: path.display().to_string(),
                    diagnostics: compiled.diagnostics,
                }),
            }
        }
        Source::PlanJson(path) => {
            let text = read(path)?;
            let plan = serde_json::from_str(&text).map_err(|e| plan_error(path, e.to_string()))?;
            Ok((vec![plan], Diagnostics::default()))
        }
        Source::PlanToml(path) => {
            let text = read(path)?;
            let plan = toml::from_str(&text).map_err(|e| plan_error(path, e.to_string()))?;
            Ok((vec![plan], Diagnostics::default()))
        }
    }
}

fn jailconf_plans(
    path: &Path,
    jail: Option<&str>,
    parallelism: Parallelism,
) -> Result<(Vec<JailPlan>, Diagnostics), SourceError> {
    let name = path.to_string_lossy();
    let loaded = load(&name, parallelism)?;
    let mut resolved = resolve(&loaded, parallelism);
    if let Some(jail) = jail {
        let at = find_jail(&resolved, jail).ok_or_else(|| no_such_jail(&name, jail))?;
        resolved = vec![resolved.swap_remove(at)];
    }
    lower_all(&name, &resolved, lower)
}

/// The plan of the jail `jail -f FILE -r JAIL` removes, lowered as `jail
/// -r` reads it ([`lower_for_removal`]).
pub fn for_removal(
    path: &Path,
    jail: &str,
    parallelism: Parallelism,
) -> Result<(Vec<JailPlan>, Diagnostics), SourceError> {
    let name = path.to_string_lossy();
    let loaded = load(&name, parallelism)?;
    let mut resolved = resolve(&loaded, parallelism);
    let at = find_jail(&resolved, jail).ok_or_else(|| no_such_jail(&name, jail))?;
    lower_all(&name, &[resolved.swap_remove(at)], lower_for_removal)
}

/// The jail jail(8) means by a name: state.c `find_jail` looks names up
/// with bsearch(3) in the jails sorted by name (qsort(3), which keeps the
/// file's order among equal names for the few jails a file has), so of
/// several jails with one name it takes the one the search meets first.
fn find_jail(jails: &[crate::conf::ResolvedJail], name: &str) -> Option<usize> {
    let mut sorted: Vec<usize> = (0..jails.len()).collect();
    sorted.sort_by(|a, b| jails[*a].name.as_bytes().cmp(jails[*b].name.as_bytes()));
    // lib/libc/stdlib/bsearch.c
    let (mut base, mut lim) = (0, sorted.len());
    while lim != 0 {
        let probe = base + (lim >> 1);
        match name.as_bytes().cmp(jails[sorted[probe]].name.as_bytes()) {
            std::cmp::Ordering::Equal => return Some(sorted[probe]),
            std::cmp::Ordering::Greater => {
                base = probe + 1;
                lim -= 1;
            }
            std::cmp::Ordering::Less => {}
        }
        lim >>= 1;
    }
    None
}

fn no_such_jail(path: &str, jail: &str) -> SourceError {
    SourceError::NoSuchJail {
        path: path.to_string(),
        jail: jail.to_string(),
    }
}

/// The plans `jail -f FILE -c JAIL` creates, in the order it creates them:
/// first, depth first, the jails `JAIL` depends on (its `depend` list, then
/// its dotted parent if the file defines it), then `JAIL`
/// (freebsd/freebsd-src usr.sbin/jail/state.c `dep_setup`, `dep_check`).
pub fn with_dependencies(
    path: &Path,
    jail: &str,
    parallelism: Parallelism,
) -> Result<(Vec<JailPlan>, Diagnostics), SourceError> {
    let name = path.to_string_lossy();
    let loaded = load(&name, parallelism)?;
    let resolved = resolve(&loaded, parallelism);
    let mut order = Vec::new();
    visit(&resolved, jail, &mut order, &mut Vec::new())
        .map_err(|(jail, message)| plan_error(Path::new(&format!("{name}#{jail}")), message))?;
    if order.is_empty() {
        return Err(no_such_jail(&name, jail));
    }
    let chosen: Vec<_> = order.iter().map(|i| resolved[*i].clone()).collect();
    lower_all(&name, &chosen, lower)
}

/// Adds `jail`'s dependencies, then `jail` itself, to `order` (indices
/// into `jails`); `path` holds the jails being visited, to find loops.
fn visit(
    jails: &[crate::conf::ResolvedJail],
    jail: &str,
    order: &mut Vec<usize>,
    path: &mut Vec<String>,
) -> Result<(), (String, String)> {
    let Some(at) = find_jail(jails, jail) else {
        return Ok(());
    };
    if order.contains(&at) {
        return Ok(());
    }
    if path.iter().any(|p| p == jail) {
        return Err((jail.to_string(), "dependency loop".to_string()));
    }
    path.push(jail.to_string());
    let depends = jails[at]
        .params
        .iter()
        .find(|p| p.name == "depend")
        .map(|p| p.values.clone())
        .unwrap_or_default();
    for dependency in depends.iter().filter(|d| !d.is_empty()) {
        if find_jail(jails, dependency).is_none() {
            return Err((
                jail.to_string(),
                format!("depends on undefined jail \"{dependency}\""),
            ));
        }
        visit(jails, dependency, order, path)?;
    }
    if let Some((parent, _)) = jail.rsplit_once('.') {
        visit(jails, parent, order, path)?;
    }
    path.pop();
    order.push(at);
    Ok(())
}

fn lower_all(
    name: &str,
    resolved: &[crate::conf::ResolvedJail],
    lower: fn(&crate::conf::ResolvedJail) -> crate::Lowered,
) -> Result<(Vec<JailPlan>, Diagnostics), SourceError> {
    let mut plans = Vec::with_capacity(resolved.len());
    let mut warnings = Diagnostics::default();
    for j in resolved {
        let mut lowered = lower(j);
        // `mount.fstab` files are compared by their lines, as `runj migrate`
        // writes them, when they can be read here.
        if let Some(plan) = &mut lowered.plan {
            match expand_fstab_files(plan) {
                Ok(notes) => lowered.diagnostics.0.extend(notes),
                Err(e) => lowered.diagnostics.push(e),
            }
        }
        match lowered.plan.filter(|_| !lowered.diagnostics.has_errors()) {
            Some(plan) => plans.push(plan),
            None => {
                return Err(SourceError::Invalid {
                    path: format!("{name}#{}", j.name),
                    diagnostics: lowered.diagnostics,
                });
            }
        }
        warnings.0.extend(lowered.diagnostics.0);
    }
    Ok((plans, warnings))
}

/// A JSON object with an `ociVersion` key: a runtime-spec config.
fn is_oci_config(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .is_some_and(|json| json.get("ociVersion").is_some())
}

fn read(path: &Path) -> Result<String, SourceError> {
    std::fs::read_to_string(path).map_err(|e| plan_error(path, runj_grammar::strerror(&e)))
}

fn plan_error(path: &Path, message: String) -> SourceError {
    SourceError::Plan {
        path: path.display().to_string(),
        message,
    }
}
