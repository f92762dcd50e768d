//! The bundles `runj migrate` writes for each `conf-examples/*.conf`, and
//! its report, pinned as snapshots in `snapshots/`.

use std::path::Path;
use std::process::Command;

/// Each bundle's `config.json` and `runj.jail.json`, and `MIGRATION.md`,
/// in directory order, with the temporary output directory replaced by
/// `[OUT]`.
fn migrated(conf: &Path) -> String {
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_runj"))
        .args(["migrate", "-f"])
        .arg(conf)
        .arg("-o")
        .arg(out.path())
        .output()
        .unwrap();
    let mut text = format!("exit status: {:?}\n", o.status.code());
    let mut entries: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for entry in entries {
        let files = if entry.is_dir() {
            vec![entry.join("config.json"), entry.join("runj.jail.json")]
        } else {
            vec![entry.clone()]
        };
        for file in files.into_iter().filter(|f| f.exists()) {
            let name = file.strip_prefix(out.path()).unwrap().display().to_string();
            text.push_str(&format!(
                "\n===== {name} =====\n{}",
                std::fs::read_to_string(&file).unwrap()
            ));
        }
    }
    text.replace(out.path().to_str().unwrap(), "[OUT]")
}

#[test]
fn conf_examples_migrate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::glob!("../conf-examples", "*.conf", |path| {
            let relative = path.strip_prefix(root).unwrap();
            let name = format!("migrate__{}", path.file_stem().unwrap().to_string_lossy());
            std::env::set_current_dir(root).unwrap();
            insta::assert_snapshot!(name, migrated(relative));
        });
    });
}
