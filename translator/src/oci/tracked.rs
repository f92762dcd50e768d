//! A plan under construction from several sources, each parameter
//! remembering which source set it, so that two sources giving one
//! parameter different values are reported with both names.

use std::collections::HashMap;

use indexmap::IndexMap;

use super::report::Report;
use crate::lower::set_param;
use crate::plan::{JailPlan, Network};

/// The plan and where each of its settings came from.
#[derive(Debug, Default)]
pub(super) struct Tracked {
    pub plan: JailPlan,
    /// The parent jail's name, which prefixes the plan's name.
    pub parent: Option<String>,
    sources: HashMap<String, String>,
}

impl Tracked {
    /// Where a setting (parameter, `ip4.addr`, … or `parent`) came from.
    pub fn source(&self, key: &str) -> Option<&str> {
        self.sources.get(key).map(String::as_str)
    }

    /// Sets a parameter from jail.conf values, typed as in jail.conf.
    pub fn param(&mut self, source: &str, name: &str, values: &[&str], report: &mut Report) {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        self.apply(source, report, |plan| set_param(plan, name, &values));
    }

    /// Applies `change`, made by `source`, to the plan's parameters and
    /// network. A setting `change` gives a value different from the one an
    /// earlier source gave is an error, and the whole change is undone.
    pub fn apply(
        &mut self,
        source: &str,
        report: &mut Report,
        change: impl FnOnce(&mut JailPlan) -> Result<Option<String>, String>,
    ) {
        let before = (self.plan.parameters.clone(), self.plan.network.clone());
        let old = settings(&self.plan);
        let result = change(&mut self.plan);
        report.outcome(source, result);
        let changed: Vec<(String, String)> = settings(&self.plan)
            .into_iter()
            .filter(|(key, value)| old.get(key) != Some(value))
            .collect();
        let mut conflicts = false;
        for (key, value) in &changed {
            if let Some(earlier) = old.get(key) {
                conflict(
                    report,
                    key,
                    (self.source(key).unwrap_or("?"), earlier),
                    (source, value),
                );
                conflicts = true;
            }
        }
        if conflicts {
            (self.plan.parameters, self.plan.network) = before;
            return;
        }
        for (key, _) in changed {
            self.sources.insert(key, source.to_string());
        }
    }

    /// Names the parent jail.
    pub fn set_parent(&mut self, source: &str, parent: &str, report: &mut Report) {
        match &self.parent {
            Some(earlier) if earlier != parent => {
                let earlier_source = self.source("parent").unwrap_or("?");
                conflict(
                    report,
                    "parent",
                    (earlier_source, earlier),
                    (source, parent),
                );
            }
            Some(_) => {}
            None => {
                self.parent = Some(parent.to_string());
                self.sources.insert("parent".into(), source.to_string());
            }
        }
    }
}

/// What sources can set, by jail.conf name, as text.
fn settings(plan: &JailPlan) -> IndexMap<String, String> {
    let mut out: IndexMap<String, String> = plan
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    let Network {
        ip4,
        ip6,
        interface,
        vnet_interfaces,
        // Only runj.ext.json sets it: nothing to conflict with.
        bridge: _,
    } = &plan.network;
    let join = |items: Vec<String>| items.join(", ");
    for (key, text) in [
        (
            "ip4.addr",
            join(ip4.iter().map(ToString::to_string).collect()),
        ),
        (
            "ip6.addr",
            join(ip6.iter().map(ToString::to_string).collect()),
        ),
        ("interface", interface.clone().unwrap_or_default()),
        ("vnet.interface", join(vnet_interfaces.clone())),
    ] {
        if !text.is_empty() {
            out.insert(key.to_string(), text);
        }
    }
    out
}

fn conflict(report: &mut Report, key: &str, earlier: (&str, &str), now: (&str, &str)) {
    report.error(
        now.0,
        format!(
            "sets {key} to \"{}\", but {} sets it to \"{}\"",
            now.1, earlier.0, earlier.1
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Mode, Value};

    #[test]
    fn same_values_agree_different_ones_conflict() {
        let mut t = Tracked::default();
        let mut report = Report::new(false);
        t.param("freebsd.jail.vnet", "vnet", &["new"], &mut report);
        t.param(
            "runj.ext.json:network.vnet.mode",
            "vnet",
            &["new"],
            &mut report,
        );
        assert!(report.diagnostics.0.is_empty());
        assert_eq!(t.source("vnet"), Some("freebsd.jail.vnet"));
        t.param(
            "annotations[\"org.freebsd.jail.vnet\"]",
            "vnet",
            &["inherit"],
            &mut report,
        );
        assert_eq!(
            report.diagnostics.0[0].to_string(),
            "error: annotations[\"org.freebsd.jail.vnet\"]: sets vnet to \"inherit\", but freebsd.jail.vnet sets it to \"new\""
        );
        assert_eq!(t.plan.param("vnet"), Some(&Value::Mode(Mode::New)));
    }

    #[test]
    fn a_conflicting_change_is_undone_whole() {
        let mut t = Tracked::default();
        let mut report = Report::new(false);
        t.param("a", "ip4", &["disable"], &mut report);
        t.apply("b", &mut report, |plan| {
            plan.parameters
                .insert("ip4".into(), Value::Mode(Mode::Inherit));
            plan.parameters
                .insert("ip6".into(), Value::Mode(Mode::Inherit));
            Ok(None)
        });
        assert!(report.diagnostics.has_errors());
        assert_eq!(t.plan.param("ip6"), None);
        assert_eq!(t.source("ip6"), None);
    }

    #[test]
    fn typing_errors_name_the_source() {
        let mut t = Tracked::default();
        let mut report = Report::new(false);
        t.param(
            "freebsd.jail.enforceStatfs",
            "enforce_statfs",
            &["3"],
            &mut report,
        );
        assert_eq!(
            report.diagnostics.0[0].to_string(),
            "error: freebsd.jail.enforceStatfs: value 3 is out of range 0..2"
        );
    }

    #[test]
    fn parents_conflict() {
        let mut t = Tracked::default();
        let mut report = Report::new(false);
        t.set_parent("freebsd.jail.parent", "pod", &mut report);
        t.set_parent(
            "annotations[\"org.freebsd.parentJail\"]",
            "pod",
            &mut report,
        );
        assert!(report.diagnostics.0.is_empty());
        t.set_parent(
            "annotations[\"org.freebsd.parentJail\"]",
            "other",
            &mut report,
        );
        assert!(
            report.diagnostics.0[0]
                .message
                .contains("freebsd.jail.parent sets it to \"pod\"")
        );
    }
}
