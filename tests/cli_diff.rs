//! `runj diff`: exit 0 for the same setup, 1 for different ones, 2 on error,
//! with the semantic changes and a unified jail.conf diff.

use std::path::Path;
use std::process::{Command, Output};

fn runj(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runj"))
        .args(args)
        .output()
        .expect("runj runs")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

const BASE: &str = "path = \"/j/$name\";\nwww { ip4.addr = 192.0.2.1; allow.raw_sockets; }\ndb { allow.sysvipc; }\n";

#[test]
fn same_setup_written_differently_is_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.conf", BASE);
    let b = write(
        dir.path(),
        "b.conf",
        "db { path = /j/db; allow.sysvipc = 1; }\nwww { path /j/www; ip4.addr \"192.0.2.1\"; allow.noraw_sockets = false; }\n",
    );
    let out = runj(&["diff", &a, &b]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn changes_are_listed_and_exit_is_1() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.conf", BASE);
    let b = write(
        dir.path(),
        "b.conf",
        &BASE.replace("allow.raw_sockets;", "securelevel = 3;"),
    );
    let out = runj(&["diff", &format!("{a}#www"), &format!("{b}#www")]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("- parameters[\"allow.raw_sockets\"]: true\n"),
        "{text}"
    );
    assert!(
        text.contains("+ parameters[\"securelevel\"]: 3\n"),
        "{text}"
    );
    assert!(text.contains("-\tallow.raw_sockets;\n"), "{text}");
    assert!(text.contains("+\tsecurelevel = 3;\n"), "{text}");
}

#[test]
fn json_output_and_jails_on_one_side() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.conf", BASE);
    let b = write(
        dir.path(),
        "b.conf",
        "path = \"/j/$name\";\nwww { ip4.addr = 192.0.2.1; allow.raw_sockets; }\nmail {}\n",
    );
    let out = runj(&["diff", "--format", "json", &a, &b]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["same"], false);
    let jails = json["jails"].as_array().unwrap();
    let only: Vec<(&str, &str)> = jails
        .iter()
        .filter_map(|j| Some((j["jail"].as_str()?, j["only_in"].as_str()?)))
        .collect();
    assert_eq!(only, [("db", "old"), ("mail", "new")]);
}

#[test]
fn plan_files_compare_with_jail_conf() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(dir.path(), "a.conf", "www { path = /j/www; persist; }\n");
    let plan = write(
        dir.path(),
        "www.json",
        r#"{"name":"www","parameters":{"path":"/j/www","persist":true}}"#,
    );
    let out = runj(&["diff", &conf, &plan]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let toml = write(
        dir.path(),
        "www.toml",
        "name = \"www\"\n[parameters]\npath = \"/j/www\"\npersist = false\n",
    );
    let out = runj(&["diff", &conf, &toml]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("~ parameters[\"persist\"]: true -> false")
    );
}

#[test]
fn errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.conf", BASE);
    let missing = dir.path().join("missing.conf");
    let out = runj(&["diff", &a, missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such file or directory"));
    let out = runj(&["diff", &a, &format!("{a}#nosuch")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no jail named \"nosuch\""));
    let bad = write(dir.path(), "bad.conf", "www { securelevel = high; }\n");
    let out = runj(&["diff", &a, &bad]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("non-integer value \"high\""));
}

/// A bridge's changes are named by their path in the plan, and the
/// unified diff shows the jail.conf commands that change with them.
#[test]
fn bridge_changes_are_shown() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = |name: &str, address: &str| {
        let bundle = dir.path().join(name);
        std::fs::create_dir(&bundle).unwrap();
        let config = r#"{"ociVersion": "1.3.0", "root": {"path": "/j/web"},
            "process": {"args": ["/bin/sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}}}"#;
        write(&bundle, "config.json", config);
        let ext = format!(
            r#"{{"network": {{"vnet": {{"mode": "new", "bridge": {{"name": "runj0",
            "ipv4": {{"address": "{address}", "gateway": "10.88.0.1"}}}}}}}}}}"#
        );
        write(&bundle, "runj.ext.json", &ext);
        bundle.to_str().unwrap().to_string()
    };
    let a = bundle("a", "10.88.0.5/16");
    let b = bundle("b", "10.88.0.6/16");
    let out = runj(&["diff", &a, &b]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("~ network.bridge.ipv4.address: \"10.88.0.5\" -> \"10.88.0.6\"\n"),
        "{text}"
    );
    assert!(
        text.contains("+\texec.start = \"/sbin/ifconfig epair0b inet 10.88.0.6/16 up\""),
        "{text}"
    );
}
