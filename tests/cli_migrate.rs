//! `runj migrate`: one bundle per jail, never overwriting without --force,
//! nothing written with --dry-run, failures reported while the rest migrate.

use std::path::Path;
use std::process::{Command, Output};

fn runj(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runj"))
        .args(args)
        .output()
        .expect("runj runs")
}

fn config(dir: &Path, jail: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(jail).join("config.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn setup() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let fstab = dir.path().join("www.fstab");
    std::fs::write(&fstab, "# ports\n/usr/ports /j/www/usr/ports nullfs ro 0 0\n\n/tmp /j/www/tmp nullfs rw # scratch\n").unwrap();
    let conf = dir.path().join("jail.conf");
    std::fs::write(
        &conf,
        format!(
            "path = \"/j/$name\";\nexec.start = \"/bin/sh /etc/rc\";\n\
             www {{ mount.fstab = \"{}\"; host.hostname = www.example; }}\n\
             broken {{ securelevel = high; }}\n\
             db {{ exec.prestart = \"ifconfig epair0 create\"; }}\n",
            fstab.display()
        ),
    )
    .unwrap();
    let out = dir.path().join("bundles");
    (
        dir,
        conf.to_str().unwrap().to_string(),
        out.to_str().unwrap().to_string(),
    )
}

#[test]
fn migrates_each_jail_and_reports_failures() {
    let (_dir, conf, out) = setup();
    let o = runj(&["migrate", "-f", &conf, "-o", &out]);
    assert_eq!(o.status.code(), Some(1), "one jail fails");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("broken"), "{stderr}");
    assert!(stderr.contains("non-integer value \"high\""), "{stderr}");
    let out = Path::new(&out);
    assert!(!out.join("broken").exists());
    let www = config(out, "www");
    assert_eq!(www["ociVersion"], "1.3.0");
    assert_eq!(www["root"]["path"], "/j/www");
    assert_eq!(www["hostname"], "www.example");
    let mounts = www["mounts"].as_array().unwrap();
    assert_eq!(mounts.len(), 2, "fstab lines become mounts: {mounts:?}");
    assert_eq!(mounts[0]["destination"], "/usr/ports");
    assert_eq!(mounts[0]["options"], serde_json::json!(["ro"]));
    assert_eq!(mounts[1]["destination"], "/tmp");
    assert_eq!(
        www["process"]["args"],
        serde_json::json!(["/bin/sh", "/etc/rc"])
    );
    let db = config(out, "db");
    assert_eq!(
        db["annotations"].get("org.freebsd.jail.param.exec.prestart"),
        None,
        "a host command is no annotation"
    );
    let trusted: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("db/runj.jail.json")).unwrap())
            .unwrap();
    assert_eq!(
        trusted["exec.prestart"],
        serde_json::json!(["ifconfig epair0 create"])
    );
    let report = std::fs::read_to_string(out.join("MIGRATION.md")).unwrap();
    assert!(
        report.contains("3 jails: 2 migrated, 1 failed."),
        "{report}"
    );
    assert!(report.contains("## broken (FAILED)"), "{report}");
    assert!(
        report.contains("exec.prestart: host commands are kept in the bundle's runj.jail.json"),
        "{report}"
    );
}

#[test]
fn never_overwrites_without_force() {
    let (_dir, conf, out) = setup();
    assert_eq!(
        runj(&["migrate", "-f", &conf, "-o", &out, "www"])
            .status
            .code(),
        Some(0)
    );
    let path = Path::new(&out).join("www/config.json");
    std::fs::write(&path, "{}").unwrap();
    let o = runj(&["migrate", "-f", &conf, "-o", &out, "www"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("use --force"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}", "kept");
    assert_eq!(
        runj(&["migrate", "-f", &conf, "-o", &out, "--force", "www"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(config(Path::new(&out), "www")["root"]["path"], "/j/www");
    let leftovers: Vec<_> = std::fs::read_dir(Path::new(&out).join("www"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["config.json"], "no temporary files left");
}

#[test]
fn dry_run_writes_nothing() {
    let (_dir, conf, out) = setup();
    let o = runj(&["migrate", "-f", &conf, "-o", &out, "--dry-run", "www"]);
    assert_eq!(o.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("www/config.json =="), "{stdout}");
    assert!(stdout.contains("\"ociVersion\": \"1.3.0\""), "{stdout}");
    assert!(stdout.contains("MIGRATION.md"), "{stdout}");
    assert!(!Path::new(&out).exists());
}

#[test]
fn unknown_jail_and_bad_file() {
    let (_dir, conf, out) = setup();
    let o = runj(&["migrate", "-f", &conf, "-o", &out, "nosuch"]);
    assert_eq!(o.status.code(), Some(2));
    let o = runj(&["migrate", "-f", "/nonexistent/jail.conf", "-o", &out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("jail: /nonexistent/jail.conf: No such file or directory")
    );
}

#[test]
fn runj_diff_finds_each_migrated_jail_unchanged() {
    let conf = concat!(env!("CARGO_MANIFEST_DIR"), "/conf-examples/legacy.conf");
    let out = tempfile::tempdir().unwrap();
    let o = runj(&["migrate", "-f", conf, "-o", out.path().to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut checked = 0;
    for entry in std::fs::read_dir(out.path()).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let jail = dir.file_name().unwrap().to_str().unwrap().to_string();
        let d = runj(&["diff", &format!("{conf}#{jail}"), dir.to_str().unwrap()]);
        assert_eq!(
            d.status.code(),
            Some(0),
            "{jail}: {}",
            String::from_utf8_lossy(&d.stdout)
        );
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn rctl_conf_rules_go_into_each_jail_s_bundle() {
    let (dir, conf, out) = setup();
    let rctl = dir.path().join("rctl.conf");
    std::fs::write(
        &rctl,
        "# limits\njail:www:memoryuse:deny=1G\nj:db:pcpu:deny=50 # half a CPU\nuser:1001:maxproc:deny=10\njail:gone:maxproc:deny=1\n",
    )
    .unwrap();
    let rctl = rctl.to_str().unwrap();
    let o = runj(&[
        "migrate", "-f", &conf, "-o", &out, "--rctl", rctl, "www", "db",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("rctl rules for jail \"gone\""), "{stderr}");
    assert!(stderr.contains("1 rctl rule(s) for users"), "{stderr}");
    let out_dir = Path::new(&out);
    assert_eq!(
        config(out_dir, "www")["annotations"]["org.freebsd.rctl"],
        r#"["memoryuse:deny=1073741824"]"#
    );
    assert_eq!(
        config(out_dir, "db")["annotations"]["org.freebsd.rctl"],
        r#"["pcpu:deny=50"]"#
    );
    let report = std::fs::read_to_string(out_dir.join("MIGRATION.md")).unwrap();
    assert!(
        report.contains("rctl.conf rule(s) carried into the bundle"),
        "{report}"
    );
    for jail in ["www", "db"] {
        let bundle = out_dir.join(jail);
        let bundle = bundle.to_str().unwrap();
        let with = runj(&["diff", &format!("{conf}#{jail}"), bundle, "--rctl", rctl]);
        assert_eq!(
            with.status.code(),
            Some(0),
            "{jail}: {}",
            String::from_utf8_lossy(&with.stdout)
        );
        let without = runj(&["diff", &format!("{conf}#{jail}"), bundle]);
        assert_eq!(without.status.code(), Some(1), "{jail}: the rules differ");
        assert!(String::from_utf8_lossy(&without.stdout).contains("rctl"));
    }
    std::fs::write(
        dir.path().join("bad.conf"),
        "jail:www:memoryuse:deny=lots\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.conf");
    let o = runj(&[
        "migrate",
        "-f",
        &conf,
        "-o",
        &out,
        "--force",
        "--rctl",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("bad.conf:1: rctl rule \"memoryuse:deny=lots\""),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
