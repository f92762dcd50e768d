//! Each `conf-examples/*.conf` pinned in `snapshots/` three ways: its syntax
//! tree (with the files it includes), `runj conf fmt`, and the resolved
//! jails as `runj conf eval -e` prints them.

mod common;

use std::path::Path;

use common::runj;

/// Runs `f` on each example, as a path relative to the workspace, with the
/// snapshot settings of this workspace; snapshot names get the example's
/// file name as suffix (`conf_fmt@basic.conf`).
fn each_example(f: impl Fn(&str)) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::glob!("../conf-examples", "*.conf", |path| {
            f(path.strip_prefix(root).unwrap().to_str().unwrap());
        });
    });
}

/// Runs runj from the workspace root; it must succeed without messages.
fn stdout(args: &[&str]) -> String {
    let o = runj(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runj runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && stderr.is_empty(),
        "{args:?}: {stderr}"
    );
    String::from_utf8(o.stdout).expect("UTF-8 output")
}

/// `value` without its `span` fields: the snapshot pins the tree's content,
/// grammar tests pin the spans.
fn without_spans(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("span");
            map.values_mut().for_each(without_spans);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_spans),
        _ => {}
    }
}

#[test]
fn conf_examples_syntax_trees() {
    each_example(|path| {
        let loaded = runj_grammar::load(path, runj_grammar::Parallelism::One)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut files: serde_json::Value = loaded
            .sources
            .iter()
            .map(|s| serde_json::json!({ "file": s.name, "config": s.config }))
            .collect();
        without_spans(&mut files);
        insta::assert_json_snapshot!("conf_ast", files);
    });
}

#[test]
fn conf_examples_formatted() {
    each_example(|path| {
        insta::assert_snapshot!("conf_fmt", stdout(&["conf", "fmt", path]));
    });
}

#[test]
fn conf_examples_evaluated() {
    each_example(|path| {
        let resolved = stdout(&["conf", "eval", "-f", path, "-e", "\n  "]);
        insta::assert_snapshot!("conf_eval", resolved);
    });
}
