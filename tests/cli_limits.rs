//! Resource limits enforced for real by the Linux backend's cgroups: from
//! `linux.resources`, from rctl rules in an annotation, changed by
//! `runj update` and read by `runj events --stats`. Needs root and
//! busybox-static; skipped elsewhere (failed under `CI=true`).

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::lab::{Lab, stdout};
use serde_json::{Value, json};

const MIB: u64 = 1 << 20;

/// An awk program that builds a string of `bytes` bytes by doubling, so
/// that about twice that is allocated, then runs `then`.
fn allocate(bytes: u64, then: &str) -> String {
    format!(
        "awk 'BEGIN {{ s = \"x\"; while (length(s) < {bytes}) s = s s; print length(s); {then} }}'"
    )
}

/// `runj run`: the container's exit status and output.
fn run(lab: &Lab, id: &str) -> (i32, String, String) {
    let bundle = lab.bundle();
    let out = lab
        .runj(&["run", id, "--bundle", bundle.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        stdout(&out),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `runj events --stats`'s data.
fn stats(lab: &Lab, id: &str) -> Value {
    let event: Value = serde_json::from_slice(&lab.ok(&["events", "--stats", id]).stdout).unwrap();
    assert_eq!(event["type"], "stats");
    assert_eq!(event["id"], id);
    event["data"].clone()
}

/// A process running `script`, as `runj exec --process` reads it.
fn process_file(lab: &Lab, name: &str, script: &str) -> std::path::PathBuf {
    let file = lab.dir.path().join(format!("{name}.json"));
    let process = json!({ "args": ["sh", "-c", script], "cwd": "/", "env": ["PATH=/bin"],
        "user": { "uid": 0, "gid": 0 } });
    std::fs::write(&file, process.to_string()).unwrap();
    file
}

fn started(lab: &Lab, id: &str, script: &str, extra: Value) {
    lab.config(script, extra);
    lab.create(id);
    lab.ok(&["start", id]);
}

#[test]
fn a_memory_limit_stops_an_allocation_beyond_it() {
    let Some(lab) = Lab::new() else { return };
    let script = format!("{}; echo status=$?", allocate(64 * MIB, ""));
    for (limit, status) in [(256 * MIB, "status=0"), (32 * MIB, "status=137")] {
        lab.config(
            &script,
            json!({ "linux": { "resources": { "memory": { "limit": limit } } } }),
        );
        let (code, out, err) = run(&lab, "mem");
        assert_eq!(code, 0, "{err}");
        assert!(
            out.lines().any(|l| l == status),
            "a {} MiB limit: {out} {err}",
            limit / MIB
        );
    }
    lab.assert_clean();
}

#[test]
fn maxproc_lets_no_process_past_the_limit() {
    let Some(lab) = Lab::new() else { return };
    // The shell is the first of the 8 processes: 7 sleeps start, and the
    // fork of the next one fails, which ends busybox's shell. (Its
    // background jobs read /dev/null: the jail has a devfs.)
    std::fs::create_dir_all(lab.rootfs().join("dev")).unwrap();
    lab.config(
        "i=1; while [ $i -le 12 ]; do sleep 30 & echo started $i; i=$((i+1)); done",
        json!({
            "annotations": { "org.freebsd.rctl": "[\"maxproc:deny=8\"]" },
            "mounts": [{ "destination": "/dev", "type": "devfs", "source": "devfs" }]
        }),
    );
    let (_, out, err) = run(&lab, "procs");
    assert_eq!(out.lines().last(), Some("started 7"), "{out}");
    assert!(err.contains("can't fork"), "{err}");
    lab.assert_clean();
}

#[test]
fn a_cpu_limit_holds_a_busy_loop_near_it() {
    let Some(lab) = Lab::new() else { return };
    started(
        &lab,
        "busy",
        "while :; do :; done",
        json!({ "linux": { "resources": { "cpu": { "quota": 20000, "period": 100000 } } } }),
    );
    let cpu = |lab: &Lab| {
        stats(lab, "busy")["cpu"]["usage"]["total"]
            .as_u64()
            .unwrap()
    };
    let (t0, u0) = (Instant::now(), cpu(&lab));
    std::thread::sleep(Duration::from_secs(2));
    let (elapsed, used) = (t0.elapsed(), cpu(&lab) - u0);
    let share = used as f64 / elapsed.as_nanos() as f64;
    // 20 % of one CPU; a generous band, as the machine is shared.
    assert!(
        (0.05..=0.30).contains(&share),
        "the loop had {share:.3} of a CPU"
    );
    lab.ok(&["delete", "--force", "busy"]);
    lab.assert_clean();
}

#[test]
fn usage_follows_the_load_and_shows_the_limits() {
    let Some(lab) = Lab::new() else { return };
    started(
        &lab,
        "idle",
        "sleep 60",
        json!({ "linux": { "resources": { "memory": { "limit": 128 * MIB }, "pids": { "limit": 16 } } } }),
    );
    let idle = stats(&lab, "idle");
    assert_eq!(idle["memory"]["usage"]["limit"], 128 * MIB);
    assert_eq!(idle["pids"]["limit"], 16);
    assert_eq!(idle["pids"]["current"], 1);
    let script = allocate(16 * MIB, "system(\"sleep 60\")");
    let held = process_file(&lab, "held", &script);
    let detached = lab
        .runj(&[
            "exec",
            "--detach",
            "--process",
            held.to_str().unwrap(),
            "idle",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(detached.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let loaded = loop {
        let now = stats(&lab, "idle");
        if now["memory"]["usage"]["usage"].as_u64().unwrap() >= 16 * MIB {
            break now;
        }
        assert!(Instant::now() < deadline, "memory never grew: {now}");
        std::thread::sleep(Duration::from_millis(50));
    };
    // The container's process and the allocating one.
    assert!(loaded["pids"]["current"].as_u64().unwrap() >= 2, "{loaded}");
    assert!(
        idle["memory"]["usage"]["usage"].as_u64().unwrap() < 8 * MIB,
        "{idle}"
    );
    lab.ok(&["delete", "--force", "idle"]);
    lab.assert_clean();
}

#[test]
fn update_changes_the_limits_of_a_running_container() {
    let Some(lab) = Lab::new() else { return };
    started(
        &lab,
        "upd",
        "sleep 60",
        json!({ "linux": { "resources": { "memory": { "limit": 256 * MIB } } } }),
    );
    let script = format!("{}; echo status=$?", allocate(64 * MIB, ""));
    let probe = process_file(&lab, "probe", &script);
    let exec = |lab: &Lab| stdout(&lab.ok(&["exec", "--process", probe.to_str().unwrap(), "upd"]));
    assert!(exec(&lab).contains("status=0"));

    lab.ok(&["update", "--memory", "32m", "--pids-limit", "4", "upd"]);
    let now = stats(&lab, "upd");
    assert_eq!(now["memory"]["usage"]["limit"], 32 * MIB, "{now}");
    assert_eq!(now["pids"]["limit"], 4, "{now}");
    assert!(exec(&lab).contains("status=137"), "the lowered limit holds");

    let mut update = lab
        .runj(&["update", "--resources", "-", "upd"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        update.stdin.as_mut().unwrap(),
        br#"{"memory": {"limit": -1}, "pids": {"limit": -1}}"#,
    )
    .unwrap();
    drop(update.stdin.take());
    assert!(update.wait().unwrap().success());
    let now = stats(&lab, "upd");
    assert_eq!(now["memory"]["usage"].get("limit"), None, "{now}");
    assert_eq!(now["pids"].get("limit"), None, "{now}");
    assert!(exec(&lab).contains("status=0"), "the limit is gone");

    let refused = lab.fails(&["update", "--rctl", "memoryuse:deny=lots", "upd"]);
    assert!(refused.contains("invalid amount \"lots\""), "{refused}");

    // A CPU weight, as the CRI's updates carry: refused, or dropped with a
    // warning when unsupported fields are allowed, the rest applied.
    let cri = lab.dir.path().join("cri.json");
    std::fs::write(
        &cri,
        r#"{"cpu": {"shares": 512}, "memory": {"limit": 67108864}}"#,
    )
    .unwrap();
    let cri = cri.to_str().unwrap();
    let refused = lab.fails(&["update", "--resources", cri, "upd"]);
    assert!(refused.contains("resources.cpu.shares"), "{refused}");
    let out = lab.ok(&["update", "--allow-unsupported", "--resources", cri, "upd"]);
    let warned = String::from_utf8_lossy(&out.stderr);
    assert!(warned.contains("warning: resources.cpu.shares"), "{warned}");
    assert_eq!(stats(&lab, "upd")["memory"]["usage"]["limit"], 64 * MIB);
    lab.ok(&["delete", "--force", "upd"]);
    lab.assert_clean();
}

#[test]
fn a_crash_leaves_no_cgroup_after_delete_force() {
    let Some(lab) = Lab::new() else { return };
    started(
        &lab,
        "crash",
        "sleep 60",
        json!({ "linux": { "resources": { "pids": { "limit": 10 } } } }),
    );
    assert!(!lab.cgroups().is_empty());
    // The state is lost, as after a crash: only the plan is left.
    std::fs::remove_file(lab.state_root().join("crash/state.json")).unwrap();
    lab.ok(&["delete", "--force", "crash"]);
    lab.assert_clean();
}
