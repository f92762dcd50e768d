//! config.json, split by who reads each part: the standard fields through
//! the `oci-spec` crate, and through runj's own types what oci-spec does
//! not model or models too narrowly: the `freebsd` object (absent from
//! oci-spec 0.10), `annotations` (a `HashMap` there, which would lose their
//! order) and `process.rlimits` (only Linux's names there).

use indexmap::IndexMap;
use oci_spec::runtime::Spec;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::freebsd::FreeBsd;
use super::json::typed;
use super::report::Report;
use super::unsupported::{self, remove};

/// The parts of config.json.
#[derive(Debug)]
pub(super) struct Config {
    pub spec: Spec,
    pub freebsd: Option<FreeBsd>,
    pub annotations: IndexMap<String, String>,
    pub rlimits: Vec<Rlimit>,
    /// The rctl rules `linux.resources` asks for.
    pub rctl: Vec<crate::rctl::Rule>,
}

/// `process.rlimits[]`, with the type as a name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(super) struct Rlimit {
    #[serde(rename = "type")]
    pub kind: String,
    pub soft: u64,
    pub hard: u64,
}

/// The runtime-spec version runj implements: major, and its last minor.
const SPEC_MAJOR: u64 = 1;
const SPEC_MINOR: u64 = 3;

/// Splits and reads a config.json document; `None` if a part did not read.
pub(super) fn read(mut doc: Json, report: &mut Report) -> Option<Config> {
    if !doc.is_object() {
        report.error("config.json", "not a JSON object");
        return None;
    }
    check_version(doc.get("ociVersion"), report);
    let rctl = unsupported::take(&mut doc, report);
    let freebsd = remove(&mut doc, &["freebsd"]).map(|v| typed(&v, "freebsd", report));
    let annotations = remove(&mut doc, &["annotations"]).map(|v| typed(&v, "annotations", report));
    let rlimits =
        remove(&mut doc, &["process", "rlimits"]).map(|v| typed(&v, "process.rlimits", report));
    process_defaults(&mut doc, report);
    let spec = typed(&doc, "", report);
    Some(Config {
        spec: spec?,
        freebsd: freebsd.map_or(Some(None), |f| f.map(Some))?,
        annotations: annotations.unwrap_or(Some(IndexMap::new()))?,
        rlimits: rlimits.unwrap_or(Some(Vec::new()))?,
        rctl,
    })
}

/// `ociVersion` must be a 1.x SemVer version; a minor version newer than
/// runj's is a warning (its new fields show up as unknown properties).
fn check_version(version: Option<&Json>, report: &mut Report) {
    let text = match version {
        None => return report.error("ociVersion", "missing; the runtime-spec requires it"),
        Some(Json::String(text)) => text,
        Some(_) => return,
    };
    let core = text.split(['-', '+']).next().unwrap_or_default();
    let numbers: Vec<Option<u64>> = core.split('.').map(|n| n.parse().ok()).collect();
    match numbers.as_slice() {
        [Some(SPEC_MAJOR), Some(minor), Some(_)] if *minor <= SPEC_MINOR => {}
        [Some(SPEC_MAJOR), Some(_), Some(_)] => report.warning(
            "ociVersion",
            format!("{text} is newer than {SPEC_MAJOR}.{SPEC_MINOR}, the runtime-spec version runj implements"),
        ),
        [Some(_), Some(_), Some(_)] => report.error(
            "ociVersion",
            format!("{text}: runj implements runtime-spec {SPEC_MAJOR}.x"),
        ),
        _ => report.error("ociVersion", format!("\"{text}\" is not a SemVer version")),
    }
}

/// `process.user` and `process.cwd` are required (config.md), but ocijail's
/// own examples omit `user` and runj (Go) reads a missing one as root:
/// both get their usual defaults, with a warning.
fn process_defaults(doc: &mut Json, report: &mut Report) {
    let Some(process) = doc.get_mut("process").and_then(Json::as_object_mut) else {
        return;
    };
    for (field, default, meaning) in [
        (
            "user",
            json!({ "uid": 0, "gid": 0 }),
            "runs as uid 0, gid 0",
        ),
        ("cwd", json!("/"), "starts in /"),
    ] {
        if !process.contains_key(field) {
            report.warning(
                format!("process.{field}"),
                format!("missing, though the runtime-spec requires it; the process {meaning}"),
            );
            process.insert(field.to_string(), default);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(report: &Report) -> Vec<String> {
        report.diagnostics.messages()
    }

    #[test]
    fn versions() {
        for (version, expected) in [
            (json!("1.0.2"), None),
            (json!("1.3.0"), None),
            (json!("1.2.1-rc.1"), None),
            (
                json!("1.4.0"),
                Some("warning: ociVersion: 1.4.0 is newer than 1.3"),
            ),
            (
                json!("2.0.0"),
                Some("error: ociVersion: 2.0.0: runj implements runtime-spec 1.x"),
            ),
            (
                json!("1.3"),
                Some("error: ociVersion: \"1.3\" is not a SemVer version"),
            ),
        ] {
            let mut report = Report::new(false);
            check_version(Some(&version), &mut report);
            let got = shown(&report);
            match expected {
                None => assert!(got.is_empty(), "{version}: {got:?}"),
                Some(e) => assert!(got[0].starts_with(e), "{version}: {got:?}"),
            }
        }
        let mut report = Report::new(false);
        check_version(None, &mut report);
        assert_eq!(
            shown(&report),
            ["error: ociVersion: missing; the runtime-spec requires it"]
        );
    }

    #[test]
    fn parts_are_split() {
        let doc = json!({
            "ociVersion": "1.3.0",
            "process": { "args": ["sh"], "rlimits": [{ "type": "RLIMIT_SWAP", "soft": 1, "hard": 2 }] },
            "annotations": { "z": "1", "a": "2" },
            "freebsd": { "jail": { "vnet": "new" } }
        });
        let mut report = Report::new(false);
        let c = read(doc, &mut report).unwrap();
        assert_eq!(
            c.annotations.keys().collect::<Vec<_>>(),
            ["z", "a"],
            "document order"
        );
        assert_eq!(c.rlimits[0].kind, "RLIMIT_SWAP");
        assert!(c.freebsd.unwrap().jail.unwrap().vnet.is_some());
        assert_eq!(c.spec.process().as_ref().unwrap().user().uid(), 0);
        assert_eq!(
            shown(&report),
            [
                "warning: process.user: missing, though the runtime-spec requires it; the process runs as uid 0, gid 0",
                "warning: process.cwd: missing, though the runtime-spec requires it; the process starts in /",
            ]
        );
    }

    #[test]
    fn type_errors_in_each_part() {
        let doc = json!({
            "ociVersion": "1.3.0",
            "hostnam": "typo",
            "process": { "args": "sh", "cwd": "/", "user": { "uid": 0, "gid": 0 } },
            "annotations": { "a": 1 },
            "freebsd": { "jail": { "vnet": "disable" } }
        });
        let mut report = Report::new(false);
        assert!(read(doc, &mut report).is_none());
        assert_eq!(
            shown(&report),
            [
                "error: freebsd.jail.vnet: unknown variant `disable`, expected `new` or `inherit`",
                "error: annotations.a: invalid type: integer `1`, expected a string",
                "warning: hostnam: unknown property, ignored",
                "error: process.args: invalid type: string \"sh\", expected a sequence",
            ]
        );
        let mut report = Report::new(false);
        assert!(read(json!([]), &mut report).is_none());
    }
}
