//! `runj plan` over every example bundle (`conf-examples/bundles/*`) and
//! every config.json of the shared corpus (`../shared/corpus/oci`), pinned
//! as snapshots in `snapshots/`: the plan as jail.conf and as JSON when the
//! bundle plans, the diagnostics and exit status when it does not.

mod common;

use std::path::{Path, PathBuf};

use common::{prerequisite, runj};

/// The workspace root, where the commands run.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .canonicalize()
        .unwrap()
}

/// `runj plan ARGS` run from the workspace root: exit status, standard
/// error and standard output, with machine-specific directories replaced.
fn plan(args: &[&str]) -> (i32, String) {
    // No runtime root: a bridge's epair and addresses are a first
    // container's.
    let out = runj([&["--root", "/nonexistent/runj", "plan"], args].concat())
        .current_dir(root())
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let text = format!(
        "exit status: {code}\n--- stderr\n{}--- stdout\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let corpus = root().join("../shared/corpus/oci").canonicalize();
    let text = match corpus {
        Ok(dir) => text.replace(dir.to_str().unwrap(), "[CORPUS]"),
        Err(_) => text,
    };
    (code, text.replace(root().to_str().unwrap(), "[REPO]"))
}

/// The conf and JSON snapshots of a bundle that plans; one `error`
/// snapshot of one that does not.
fn snapshot_bundle(name: &str, args: &[&str]) {
    let settings = insta_settings();
    settings.bind(|| {
        let (code, conf) = plan(&[args, &["--format", "conf"]].concat());
        if code != 0 {
            insta::assert_snapshot!(format!("plan__{name}__error"), conf);
            return;
        }
        insta::assert_snapshot!(format!("plan__{name}__conf"), conf);
        let (_, json) = plan(&[args, &["--format", "json"]].concat());
        insta::assert_snapshot!(format!("plan__{name}__json"), json);
    });
}

fn insta_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// The entries of `dir` that `keep` accepts, sorted by name.
fn entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| keep(p))
        .collect();
    found.sort();
    found
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn example_bundles() {
    let bundles = entries(&root().join("conf-examples/bundles"), |p| p.is_dir());
    assert!(bundles.len() >= 12, "{bundles:?}");
    for dir in bundles {
        let name = stem(&dir);
        snapshot_bundle(&name, &[&format!("conf-examples/bundles/{name}")]);
    }
}

#[test]
fn unsupported_fields_allowed() {
    snapshot_bundle(
        "unsupported__allowed",
        &["conf-examples/bundles/unsupported", "--allow-unsupported"],
    );
}

#[test]
fn options_id_and_ext() {
    snapshot_bundle(
        "minimal__id-and-ext",
        &[
            "conf-examples/bundles/minimal/config.json",
            "--id",
            "dns",
            "--ext",
            "conf-examples/bundles/ext-merge/runj.ext.json",
        ],
    );
}

#[test]
fn toml_format() {
    insta_settings().bind(|| {
        let (_, toml) = plan(&["conf-examples/bundles/process", "--format", "toml"]);
        insta::assert_snapshot!("plan__process__toml", toml);
    });
}

#[test]
fn corpus_bundles() {
    let dir = root().join("../shared/corpus/oci");
    if !prerequisite(
        dir.is_dir(),
        &format!("OCI corpus {} not found", dir.display()),
    ) {
        return;
    }
    let files = entries(&dir, |p| p.extension().is_some_and(|e| e == "json"));
    assert!(!files.is_empty());
    for file in files {
        let name = stem(&file);
        let id = name.split('-').next().unwrap().to_string();
        let arg = format!("../shared/corpus/oci/{name}.json");
        snapshot_bundle(
            &format!("corpus__{name}"),
            &[&arg, "--id", &format!("c{id}")],
        );
    }
}

#[test]
fn missing_bundle() {
    let (code, text) = plan(&["conf-examples/bundles/no-such-bundle"]);
    assert_eq!(code, 2);
    assert!(
        text.contains(
            "runj: error: conf-examples/bundles/no-such-bundle: No such file or directory"
        ),
        "{text}"
    );
}
