//! Reading JSON documents: a syntax error is reported at FILE:LINE:COLUMN, a
//! type error at its JSON path, and a property the reader does not know is
//! a warning, never dropped unseen (runtime-spec config.md "Extensibility":
//! runtimes MAY log unknown properties and MUST NOT fail on them).

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use super::report::Report;
use crate::diagnostic::Diagnostic;

/// A JSON file as a value, or the diagnostic saying why it is not one.
pub(super) fn read(path: &Path) -> Result<Json, Diagnostic> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Diagnostic::error(&shown, runj_grammar::strerror(&e)))?;
    serde_json::from_str(&text).map_err(|e| {
        let message = e.to_string();
        let place = format!(" at line {} column {}", e.line(), e.column());
        Diagnostic::error(
            format!("{shown}:{}:{}", e.line(), e.column()),
            message.strip_suffix(&place).unwrap_or(&message),
        )
    })
}

/// `value` as a `T`. A type error is reported at its JSON path under
/// `prefix`; each property `T` does not read is reported as a warning.
pub(super) fn typed<T: DeserializeOwned>(
    value: &Json,
    prefix: &str,
    report: &mut Report,
) -> Option<T> {
    let mut unknown = Vec::new();
    let mut note = |path: serde_ignored::Path| unknown.push(ignored_path(&path));
    let result: Result<T, _> =
        serde_path_to_error::deserialize(serde_ignored::Deserializer::new(value, &mut note));
    for path in unknown {
        report.warning(join(prefix, &path), "unknown property, ignored");
    }
    result
        .map_err(|e| report.error(join(prefix, &e.path().to_string()), e.inner().to_string()))
        .ok()
}

/// A JSON path under a prefix: `mounts` + `[2].type`, `process` + `cwd`,
/// `runj.ext.json:` + `network`.
pub(super) fn join(prefix: &str, path: &str) -> String {
    match (prefix, path) {
        (p, "" | ".") => p.to_string(),
        ("", p) => p.to_string(),
        (p, rest) if rest.starts_with('[') || p.ends_with(':') => format!("{p}{rest}"),
        (p, rest) => format!("{p}.{rest}"),
    }
}

fn ignored_path(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => join(&ignored_path(parent), key),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Item {
        name: String,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        items: Vec<Item>,
    }

    #[test]
    fn paths_join() {
        assert_eq!(join("mounts", "[2].type"), "mounts[2].type");
        assert_eq!(join("process", "cwd"), "process.cwd");
        assert_eq!(join("runj.ext.json:", "network"), "runj.ext.json:network");
        assert_eq!(join("freebsd", "."), "freebsd");
        assert_eq!(join("", "root.path"), "root.path");
    }

    #[test]
    fn unknown_properties_are_warnings() {
        let mut report = Report::new(false);
        let v = serde_json::json!({ "items": [{ "name": "a" }, { "name": "b", "colour": 1 }], "extra": true });
        assert!(typed::<Doc>(&v, "top", &mut report).is_some());
        let shown: Vec<String> = report.diagnostics.messages();
        assert_eq!(
            shown,
            [
                "warning: top.items[1].colour: unknown property, ignored",
                "warning: top.extra: unknown property, ignored"
            ]
        );
    }

    #[test]
    fn type_errors_name_the_path() {
        let mut report = Report::new(false);
        let v = serde_json::json!({ "items": [{ "name": 5 }] });
        assert!(typed::<Doc>(&v, "", &mut report).is_none());
        assert_eq!(
            report.diagnostics.0[0].to_string(),
            "error: items[0].name: invalid type: integer `5`, expected a string"
        );
    }

    #[test]
    fn syntax_errors_name_the_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{\n  \"a\": 1,\n}\n").unwrap();
        let d = read(&path).unwrap_err();
        assert_eq!(d.subject, format!("{}:3:1", path.display()));
        assert_eq!(d.message, "trailing comma");
        let missing = read(&dir.path().join("nothing.json")).unwrap_err();
        assert_eq!(missing.message, "No such file or directory");
    }
}
