//! The jail's rctl(8) rules from their three sources, in this order:
//! config.json's `linux.resources` ([`super::resources`]), `runj.ext.json`
//! `resources.rctl`, and the [`RCTL_ANNOTATION`] annotation, a JSON list of
//! rules. Lists append, as runj merges lists; a later rule replaces an
//! earlier one the kernel would ([`crate::rctl::Rules`]).
//!
//! A limit only restricts, so an annotation may set one: what an
//! annotation may not do is raise a `deny` limit the trusted sources set
//! (replacing `memoryuse:deny=512M` with `memoryuse:deny=100G`), unless
//! annotations are trusted (docs/security.md).

use indexmap::IndexMap;

use super::annotations::label;
use super::report::Report;
use crate::bundle::{RCTL_ANNOTATION, Trust};
use crate::rctl::{Rule, Rules};

/// The merged rules.
pub(super) fn merge(
    trusted: impl IntoIterator<Item = Rule>,
    annotations: &IndexMap<String, String>,
    trust: Trust,
    report: &mut Report,
) -> Rules {
    let mut rules: Rules = trusted.into_iter().collect();
    let Some(text) = annotations.get(RCTL_ANNOTATION) else {
        return rules;
    };
    let subject = label(RCTL_ANNOTATION);
    let list: Vec<String> = match serde_json::from_str(text) {
        Ok(list) => list,
        Err(e) => {
            report.error(&subject, format!("not a JSON list of rctl rules: {e}"));
            return rules;
        }
    };
    for (i, text) in list.iter().enumerate() {
        let at = format!("{subject}[{i}]");
        let rule: Rule = match text.parse() {
            Ok(rule) => rule,
            Err(e) => {
                report.error(&at, crate::rctl::RuleError::to_string(&e));
                continue;
            }
        };
        let raised = rules
            .iter()
            .find(|old| old.replaced_by(&rule) && old.action() == "deny")
            .filter(|old| old.amount() < rule.amount())
            .cloned();
        match raised {
            Some(old) if trust == Trust::Untrusted => report.error(
                at,
                format!(
                    "raises the limit {old} of the bundle; an annotation may only lower it (or trust annotations)"
                ),
            ),
            _ => {
                rules.add(rule);
            }
        }
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(trusted: &[&str], annotation: &str, trust: Trust) -> (Vec<String>, Vec<String>) {
        let mut annotations = IndexMap::new();
        annotations.insert(RCTL_ANNOTATION.to_string(), annotation.to_string());
        let mut report = Report::new(false);
        let rules = merge(
            trusted.iter().map(|t| t.parse().unwrap()),
            &annotations,
            trust,
            &mut report,
        );
        (
            rules.iter().map(ToString::to_string).collect(),
            report.diagnostics.messages(),
        )
    }

    #[test]
    fn annotations_add_and_lower_limits() {
        let (rules, shown) = merged(
            &["memoryuse:deny=1g", "maxproc:deny=100"],
            r#"["memoryuse:deny=512m", "openfiles:deny=1024", "maxproc:log=50"]"#,
            Trust::Untrusted,
        );
        assert!(shown.is_empty(), "{shown:?}");
        assert_eq!(
            rules,
            [
                "memoryuse:deny=536870912",
                "maxproc:deny=100",
                "openfiles:deny=1024",
                "maxproc:log=50"
            ]
        );
    }

    #[test]
    fn an_untrusted_annotation_cannot_raise_a_limit() {
        let (rules, shown) = merged(
            &["memoryuse:deny=512m"],
            r#"["memoryuse:deny=100g"]"#,
            Trust::Untrusted,
        );
        assert_eq!(rules, ["memoryuse:deny=536870912"]);
        assert_eq!(
            shown,
            [
                "error: annotations[\"org.freebsd.rctl\"][0]: raises the limit memoryuse:deny=536870912 of the bundle; an annotation may only lower it (or trust annotations)"
            ]
        );
        let (rules, shown) = merged(
            &["memoryuse:deny=512m"],
            r#"["memoryuse:deny=100g"]"#,
            Trust::Trusted,
        );
        assert!(shown.is_empty());
        assert_eq!(rules, ["memoryuse:deny=107374182400"]);
    }

    #[test]
    fn bad_annotations_are_named() {
        let (_, shown) = merged(&[], r#"{"memoryuse": 1}"#, Trust::Untrusted);
        assert!(
            shown[0].starts_with(
                "error: annotations[\"org.freebsd.rctl\"]: not a JSON list of rctl rules"
            ),
            "{shown:?}"
        );
        let (_, shown) = merged(&[], r#"["memoryuse:deny=lots"]"#, Trust::Untrusted);
        assert_eq!(
            shown,
            [
                "error: annotations[\"org.freebsd.rctl\"][0]: rctl rule \"memoryuse:deny=lots\": invalid amount \"lots\" (digits, optionally with k, m, g, t, p or e)"
            ]
        );
    }
}
