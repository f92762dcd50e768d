//! Where plans come from: a jail.conf (all jails, or `FILE#JAIL`), or a plan
//! saved as JSON or TOML. (`runj diff` and `runj migrate` name their inputs
//! this way.)

use std::path::{Path, PathBuf};

use runj_grammar::{LoadError, load};

use crate::conf::resolve;
use crate::diagnostic::Diagnostics;
use crate::lower::lower;
use crate::plan::JailPlan;

/// One input as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A jail.conf, all its jails or only the one named after `#`.
    JailConf { path: PathBuf, jail: Option<String> },
    /// A plan saved by `runj plan --format json`.
    PlanJson(PathBuf),
    /// A plan saved by `runj plan --format toml`.
    PlanToml(PathBuf),
}

impl Source {
    /// Classifies an argument: `*.json` and `*.toml` files are plans, anything
    /// else is a jail.conf, with `#JAIL` selecting one jail when the part
    /// before `#` is an existing file.
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
        match path.extension().and_then(|e| e.to_str()) {
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
pub fn plans(source: &Source) -> Result<(Vec<JailPlan>, Diagnostics), SourceError> {
    match source {
        Source::JailConf { path, jail } => jailconf_plans(path, jail.as_deref()),
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
) -> Result<(Vec<JailPlan>, Diagnostics), SourceError> {
    let name = path.to_string_lossy();
    let loaded = load(&name)?;
    let mut resolved = resolve(&loaded);
    if let Some(jail) = jail {
        resolved.retain(|j| j.name == jail);
        if resolved.is_empty() {
            return Err(SourceError::NoSuchJail {
                path: name.into_owned(),
                jail: jail.to_string(),
            });
        }
    }
    let mut plans = Vec::with_capacity(resolved.len());
    let mut warnings = Diagnostics::default();
    for j in &resolved {
        let lowered = lower(j);
        match lowered.plan {
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

fn read(path: &Path) -> Result<String, SourceError> {
    std::fs::read_to_string(path).map_err(|e| plan_error(path, runj_grammar::strerror(&e)))
}

fn plan_error(path: &Path, message: String) -> SourceError {
    SourceError::Plan {
        path: path.display().to_string(),
        message,
    }
}
