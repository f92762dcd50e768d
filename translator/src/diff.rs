//! Comparing two plans: a semantic list of changes (parameters, network,
//! mounts, commands, process, …) and a unified diff of their jail.conf.

use std::fmt;

use serde::Serialize;
use serde_json::Value as Json;

use crate::plan::JailPlan;

/// One difference between two plans, at a path such as
/// `parameters["allow.mount"]` or `mounts.entries[1]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Change {
    Added { path: String, value: Json },
    Removed { path: String, value: Json },
    Changed { path: String, old: Json, new: Json },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Added { path, value } => write!(f, "+ {path}: {value}"),
            Change::Removed { path, value } => write!(f, "- {path}: {value}"),
            Change::Changed { path, old, new } => write!(f, "~ {path}: {old} -> {new}"),
        }
    }
}

/// The changes that turn `old` into `new`, in plan field order.
pub fn changes(old: &JailPlan, new: &JailPlan) -> Vec<Change> {
    let flatten = |plan: &JailPlan| {
        let mut leaves = Vec::new();
        let json = serde_json::to_value(plan.comparable()).expect("plans serialize");
        flatten_into(&mut leaves, String::new(), &json);
        leaves
    };
    let (a, b) = (flatten(old), flatten(new));
    let mut out = Vec::new();
    for (path, value) in &a {
        match b.iter().find(|(p, _)| p == path) {
            None => out.push(Change::Removed {
                path: path.clone(),
                value: value.clone(),
            }),
            Some((_, v)) if v != value => out.push(Change::Changed {
                path: path.clone(),
                old: value.clone(),
                new: v.clone(),
            }),
            Some(_) => {}
        }
    }
    for (path, value) in &b {
        if !a.iter().any(|(p, _)| p == path) {
            out.push(Change::Added {
                path: path.clone(),
                value: value.clone(),
            });
        }
    }
    out
}

/// Objects are walked into; arrays of objects are walked by index; other
/// arrays and scalars are leaves (order matters in those lists).
fn flatten_into(out: &mut Vec<(String, Json)>, path: String, value: &Json) {
    match value {
        Json::Object(map) => {
            for (key, v) in map {
                let sub = if key.contains(['.', '[', '"'])
                    || path.ends_with("parameters")
                    || path.ends_with("extra")
                {
                    format!("{path}[{}]", Json::String(key.clone()))
                } else if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                flatten_into(out, sub, v);
            }
        }
        Json::Array(items) if items.iter().any(Json::is_object) => {
            for (i, v) in items.iter().enumerate() {
                flatten_into(out, format!("{path}[{i}]"), v);
            }
        }
        leaf => out.push((path, leaf.clone())),
    }
}

/// A unified diff of two texts with the given labels (empty when equal).
pub fn unified(old: &str, new: &str, old_label: &str, new_label: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_label, new_label)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Mount, Value};

    fn plan() -> JailPlan {
        let mut p = JailPlan {
            name: "www".into(),
            ..JailPlan::default()
        };
        p.parameters
            .insert("path".into(), Value::Text("/j/www".into()));
        p.parameters
            .insert("allow.mount".into(), Value::Bool(false));
        p
    }

    #[test]
    fn same_plans_have_no_changes() {
        assert!(changes(&plan(), &plan()).is_empty());
    }

    #[test]
    fn parameters_are_compared_one_by_one() {
        let mut new = plan();
        new.parameters
            .insert("allow.mount".into(), Value::Bool(true));
        // No path is the kernel's default, the creator's root.
        new.parameters.shift_remove("path");
        new.parameters.insert("securelevel".into(), Value::Int(3));
        let c = changes(&plan(), &new);
        let shown: Vec<String> = c.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "~ parameters[\"path\"]: \"/j/www\" -> \"/\"",
                "~ parameters[\"allow.mount\"]: false -> true",
                "+ parameters[\"securelevel\"]: 3",
            ]
        );
    }

    #[test]
    fn mounts_are_compared_by_position() {
        let mount = |d: &str| Mount {
            fstype: "nullfs".into(),
            source: "/src".into(),
            destination: d.into(),
            options: vec![],
        };
        let mut old = plan();
        old.mounts.entries = vec![mount("/a"), mount("/b")];
        let mut new = plan();
        new.mounts.entries = vec![mount("/a"), mount("/c")];
        let c = changes(&old, &new);
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].to_string(),
            "~ mounts.entries[1].destination: \"/b\" -> \"/c\""
        );
    }

    #[test]
    fn unified_diff_has_headers() {
        let d = unified("a\nb\n", "a\nc\n", "old", "new");
        assert!(d.starts_with("--- old\n+++ new\n"), "{d}");
        assert!(d.contains("-b\n+c\n"));
        assert_eq!(unified("x\n", "x\n", "o", "n"), "");
    }
}
