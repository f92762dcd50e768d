//! Paths: where a bundle's files are, the jail's root, and paths inside it.

use std::path::{Path, PathBuf};

use oci_spec::runtime::Root;

use super::report::Report;
use crate::diagnostic::Diagnostic;

/// The file of a bundle directory that holds its configuration.
pub const CONFIG: &str = "config.json";

/// Where a bundle's files are.
#[derive(Debug, Clone)]
pub(super) struct Bundle {
    /// The bundle directory, absolute.
    pub dir: PathBuf,
    /// Its config.json (or the JSON file named instead).
    pub config: PathBuf,
}

/// A bundle named by its directory, or by its config.json (or another JSON
/// file standing for it, whose directory is then the bundle directory).
pub(super) fn locate(arg: &Path) -> Result<Bundle, Diagnostic> {
    let (dir, config) = if arg.is_file() {
        let parent = arg.parent().filter(|p| !p.as_os_str().is_empty());
        (
            parent.unwrap_or(Path::new(".")).to_path_buf(),
            arg.to_path_buf(),
        )
    } else {
        (arg.to_path_buf(), arg.join(CONFIG))
    };
    let dir = dir
        .canonicalize()
        .map_err(|e| Diagnostic::error(arg.display().to_string(), runj_grammar::strerror(&e)))?;
    Ok(Bundle { dir, config })
}

/// The jail's root on the host: `root.path` joined to the bundle directory
/// when relative. runj (Go) takes `BUNDLE/root` when `root` or its path is
/// missing (samuelkarp/runj cmd/runj/create.go); so does runj, with a
/// warning, as the runtime-spec requires `root.path` (config.md "Root").
pub(super) fn root_path(root: Option<&Root>, dir: &Path, report: &mut Report) -> Option<String> {
    let given = root.map(|r| r.path()).filter(|p| !p.as_os_str().is_empty());
    let path = match given {
        Some(p) => dir.join(p),
        None => {
            report.warning(
                "root.path",
                "missing, though the runtime-spec requires it; using the bundle's \"root\" directory, as runj (Go) does",
            );
            dir.join("root")
        }
    };
    let text = path.to_string_lossy();
    normalize(&text).or_else(|| {
        report.error("root.path", format!("\"{text}\" climbs above /"));
        None
    })
}

/// An absolute path with `.`, `..` and repeated slashes resolved lexically;
/// `None` when `..` climbs above `/`.
pub(super) fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// A mount destination as an absolute path inside the jail. A relative one
/// is taken from `/` with a warning (runtime-spec config.md: deprecated on
/// Linux, invalid elsewhere); one whose `..` climbs out of the root is an
/// error, since the mount would land outside the jail.
pub(super) fn inside_root(destination: &str, subject: &str, report: &mut Report) -> Option<String> {
    if destination.is_empty() {
        report.error(
            subject,
            "empty; an absolute path inside the container is required",
        );
        return None;
    }
    if !destination.starts_with('/') {
        report.warning(
            subject,
            format!("\"{destination}\" is relative; taken from the container's root (relative destinations are deprecated)"),
        );
    }
    normalize(&format!("/{destination}")).or_else(|| {
        report.error(
            subject,
            format!("\"{destination}\" leaves the container's root"),
        );
        None
    })
}

/// A host path for a jail path: the root joined with it.
pub(super) fn on_host(root: &str, inside: &str) -> String {
    match (root.trim_end_matches('/'), inside) {
        (r, "/") if !r.is_empty() => r.to_string(),
        (r, i) => format!("{r}{i}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing() {
        assert_eq!(normalize("/a/./b//c/../d").as_deref(), Some("/a/b/d"));
        assert_eq!(normalize("/").as_deref(), Some("/"));
        assert_eq!(normalize("/a/../.."), None);
    }

    #[test]
    fn destinations() {
        let mut report = Report::new(false);
        assert_eq!(
            inside_root("/dev/fd", "d", &mut report).as_deref(),
            Some("/dev/fd")
        );
        assert_eq!(
            inside_root("/a/../b", "d", &mut report).as_deref(),
            Some("/b")
        );
        assert!(report.diagnostics.0.is_empty());
        assert_eq!(
            inside_root("data", "d", &mut report).as_deref(),
            Some("/data")
        );
        assert!(!report.diagnostics.has_errors());
        assert_eq!(inside_root("/../etc", "d", &mut report), None);
        assert_eq!(inside_root("", "d", &mut report), None);
        let shown: Vec<String> = report.diagnostics.messages();
        assert_eq!(
            shown,
            [
                "warning: d: \"data\" is relative; taken from the container's root (relative destinations are deprecated)",
                "error: d: \"/../etc\" leaves the container's root",
                "error: d: empty; an absolute path inside the container is required",
            ]
        );
    }

    #[test]
    fn roots() {
        let dir = Path::new("/b/x");
        let mut report = Report::new(false);
        let root = |path: &str| {
            serde_json::from_value::<Root>(serde_json::json!({ "path": path })).unwrap()
        };
        assert_eq!(
            root_path(Some(&root("rootfs")), dir, &mut report).as_deref(),
            Some("/b/x/rootfs")
        );
        assert_eq!(
            root_path(Some(&root("/j/www/")), dir, &mut report).as_deref(),
            Some("/j/www")
        );
        assert_eq!(
            root_path(Some(&root("./r/../s")), dir, &mut report).as_deref(),
            Some("/b/x/s")
        );
        assert!(report.diagnostics.0.is_empty());
        assert_eq!(root_path(Some(&root("../../../r")), dir, &mut report), None);
        assert_eq!(
            report.diagnostics.0[0].message,
            "\"/b/x/../../../r\" climbs above /"
        );
        let mut report = Report::new(false);
        assert_eq!(
            root_path(None, dir, &mut report).as_deref(),
            Some("/b/x/root")
        );
        assert!(report.diagnostics.0[0].message.starts_with("missing"));
        assert_eq!(on_host("/j/www", "/"), "/j/www");
        assert_eq!(on_host("/j/www/", "/dev"), "/j/www/dev");
        assert_eq!(on_host("/", "/dev"), "/dev");
    }

    #[test]
    fn locating() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join(CONFIG);
        std::fs::write(&config, "{}").unwrap();
        let by_dir = locate(dir.path()).unwrap();
        let by_file = locate(&config).unwrap();
        assert_eq!(by_dir.dir, by_file.dir);
        assert_eq!(by_dir.config, by_file.config);
        assert!(locate(&dir.path().join("missing")).is_err());
    }
}
