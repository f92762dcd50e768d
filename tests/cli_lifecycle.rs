//! The OCI lifecycle end to end on the Linux backend: real processes,
//! mounts and namespaces in a busybox root file system built here from the
//! host's `busybox-static`. Needs root; skipped elsewhere (failed under
//! `CI=true`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::lab::{Lab, stdout};
use serde_json::{Value, json};

#[test]
fn run_passes_output_and_exit_status_through() {
    let Some(lab) = Lab::new() else { return };
    lab.config("echo hello; echo oops >&2; exit 3", json!({}));
    let bundle = lab.bundle();
    let out = lab
        .runj(&["run", "c1", "-b", bundle.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout(&out), "hello\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("oops"));
    lab.assert_clean();
}

#[test]
fn environment_working_directory_user_and_hostname_are_the_bundle_s() {
    let Some(lab) = Lab::new() else { return };
    lab.config(
        "echo $GREETING $(pwd) $(id -u) $(id -g) $(id -G) $(hostname)",
        json!({
            "hostname": "box",
            "process": {
                "env": ["PATH=/bin", "GREETING=hi"],
                "cwd": "/tmp",
                "user": { "uid": 1000, "gid": 1001, "additionalGids": [1002] }
            }
        }),
    );
    let bundle = lab.bundle();
    let out = lab.ok(&["run", "c2", "-b", bundle.to_str().unwrap()]);
    // `id -G` names the primary group first, then the additional ones.
    assert_eq!(stdout(&out), "hi /tmp 1000 1001 1001 1002 box\n");
    lab.assert_clean();
}

#[test]
fn create_start_state_kill_delete() {
    let Some(lab) = Lab::new() else { return };
    lab.config(
        "trap 'echo got TERM; exit 7' TERM; echo started; while true; do sleep 0.05; done",
        json!({}),
    );
    lab.create("c3");
    let state = lab.state("c3");
    assert_eq!(state["status"], "created");
    assert_eq!(state["ociVersion"], "1.3.0");
    assert_eq!(state["bundle"], lab.bundle().to_str().unwrap());
    assert!(
        lab.log().is_empty(),
        "the process ran before start: {}",
        lab.log()
    );
    lab.ok(&["start", "c3"]);
    lab.wait_for_status("c3", "running");
    let refused = lab.runj(&["delete", "c3"]).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is running"));
    lab.ok(&["kill", "c3", "TERM"]);
    lab.wait_for_status("c3", "stopped");
    assert_eq!(lab.log(), "started\ngot TERM\n");
    lab.ok(&["delete", "c3"]);
    lab.assert_clean();
}

#[test]
fn kill_all_reaches_every_process_of_the_jail() {
    let Some(lab) = Lab::new() else { return };
    // A non-interactive shell gives background jobs /dev/null as stdin.
    lab.config(
        "sleep 1000 & sleep 1000 & wait",
        json!({ "mounts": [{ "destination": "/dev", "type": "devfs", "source": "devfs" }] }),
    );
    lab.create("c4");
    lab.ok(&["start", "c4"]);
    lab.wait_for_status("c4", "running");
    lab.ok(&["kill", "--all", "c4", "9"]);
    lab.wait_for_status("c4", "stopped");
    lab.ok(&["delete", "c4"]);
    lab.assert_clean();
}

#[test]
fn mounts_are_seen_inside_and_gone_after_delete() {
    let Some(lab) = Lab::new() else { return };
    let shared = lab.dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("note"), "from the host\n").unwrap();
    lab.config(
        "cat /data/note; touch /data/x 2>/dev/null || echo read-only; echo scratch > /scratch/f && cat /scratch/f",
        json!({
            "mounts": [
                { "destination": "/data", "type": "nullfs", "source": shared, "options": ["ro"] },
                { "destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"] }
            ]
        }),
    );
    let bundle = lab.bundle();
    let out = lab.ok(&["run", "c5", "-b", bundle.to_str().unwrap()]);
    assert_eq!(stdout(&out), "from the host\nread-only\nscratch\n");
    assert!(!shared.join("x").exists());
    lab.assert_clean();
}

#[test]
fn the_network_is_the_jail_s_own_unless_inherited() {
    let Some(lab) = Lab::new() else { return };
    let bundle = lab.bundle();
    let bundle = bundle.to_str().unwrap();
    lab.config("ip -o link | cut -d: -f2", json!({}));
    let own = lab.ok(&["run", "c6", "-b", bundle]);
    assert_eq!(stdout(&own).split_whitespace().collect::<Vec<_>>(), ["lo"]);
    lab.config(
        "ip -o link | wc -l",
        json!({ "freebsd": { "jail": { "ip4": "inherit" } } }),
    );
    let host_links = std::fs::read_dir("/sys/class/net").unwrap().count();
    let inherited = lab.ok(&["run", "c7", "-b", bundle]);
    assert_eq!(stdout(&inherited).trim(), host_links.to_string());
    lab.assert_clean();
}

#[test]
fn a_failed_create_undoes_its_mounts_and_jail() {
    let Some(lab) = Lab::new() else { return };
    lab.config(
        "true",
        json!({
            "mounts": [
                { "destination": "/scratch", "type": "tmpfs", "source": "tmpfs" },
                { "destination": "/data", "type": "nullfs", "source": lab.dir.path().join("missing") }
            ]
        }),
    );
    let bundle = lab.bundle();
    let out = lab
        .runj(&["create", "c8", "-b", bundle.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nullfs source") && err.contains("missing"),
        "{err}"
    );
    lab.assert_clean();
}

#[test]
fn a_symbolic_link_out_of_the_root_is_refused_and_nothing_mounted() {
    let Some(lab) = Lab::new() else { return };
    let outside = lab.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, lab.rootfs().join("evil")).unwrap();
    lab.config(
        "true",
        json!({ "mounts": [{ "destination": "/evil", "type": "tmpfs", "source": "tmpfs" }] }),
    );
    let bundle = lab.bundle();
    let out = lab
        .runj(&["create", "c9", "-b", bundle.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"evil\" is a symbolic link"));
    lab.assert_clean();
}

#[test]
fn delete_force_cleans_up_after_a_crash_during_create() {
    let Some(lab) = Lab::new() else { return };
    lab.config(
        "sleep 1000",
        json!({ "mounts": [{ "destination": "/scratch", "type": "tmpfs", "source": "tmpfs" }] }),
    );
    lab.create("c10");
    // As if runj had died before recording the container as created.
    let state_file = lab.state_root().join("c10/state.json");
    let mut state: Value = serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    state["status"] = json!("creating");
    state.as_object_mut().unwrap().remove("pid");
    std::fs::write(&state_file, state.to_string()).unwrap();
    lab.ok(&["delete", "--force", "c10"]);
    lab.assert_clean();
}

#[test]
fn of_two_concurrent_creates_of_one_id_exactly_one_wins() {
    let Some(lab) = Lab::new() else { return };
    lab.config("sleep 1000", json!({}));
    let bundle = lab.bundle();
    // The winner's container inherits its standard error: a file, not a
    // pipe, so that reading it does not wait for the container to exit.
    let spawn = |n: usize| {
        let err = lab.dir.path().join(format!("create-{n}.err"));
        let child = lab
            .runj(&["create", "c11", "-b", bundle.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        (child, err)
    };
    let racers = [spawn(0), spawn(1)];
    let outcomes: Vec<(bool, String)> = racers
        .into_iter()
        .map(|(mut child, err)| {
            let won = child.wait().unwrap().success();
            (won, std::fs::read_to_string(err).unwrap())
        })
        .collect();
    let winners = outcomes.iter().filter(|(won, _)| *won).count();
    assert_eq!(winners, 1, "{outcomes:?}");
    let (_, loser) = outcomes.iter().find(|(won, _)| !won).unwrap();
    assert!(loser.contains("already exists"), "{loser}");
    lab.ok(&["delete", "--force", "c11"]);
    lab.assert_clean();
}

#[test]
fn exec_runs_a_further_process_in_the_jail() {
    let Some(lab) = Lab::new() else { return };
    lab.config("sleep 1000", json!({ "hostname": "box" }));
    lab.create("c12");
    lab.ok(&["start", "c12"]);
    let spec = lab.dir.path().join("process.json");
    let process = json!({ "args": ["sh", "-c", "echo $(hostname) $WHO"], "cwd": "/", "env": ["PATH=/bin", "WHO=exec"] });
    std::fs::write(&spec, process.to_string()).unwrap();
    let out = lab.ok(&["exec", "--process", spec.to_str().unwrap(), "c12"]);
    assert_eq!(stdout(&out), "box exec\n");
    lab.ok(&["delete", "--force", "c12"]);
    lab.assert_clean();
}

#[test]
fn hooks_get_the_state_on_standard_input() {
    let Some(lab) = Lab::new() else { return };
    let seen = lab.dir.path().join("seen.json");
    let hook = |stage: &str| json!([{ "path": "/bin/sh", "args": ["sh", "-c", format!("cat > {}.{stage}", seen.display())] }]);
    lab.config(
        "true",
        json!({ "hooks": { "createRuntime": hook("createRuntime"), "poststop": hook("poststop") } }),
    );
    let bundle = lab.bundle();
    lab.ok(&["run", "c13", "-b", bundle.to_str().unwrap()]);
    for stage in ["createRuntime", "poststop"] {
        let file = PathBuf::from(format!("{}.{stage}", seen.display()));
        let state: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(state["id"], "c13", "{stage}");
    }
    lab.assert_clean();
}

/// Every example bundle, with its process replaced by `echo ok` and its root
/// by the busybox one, either runs (printing `ok`) or is refused with a
/// message, and in both cases leaves no mount, jail or container behind.
#[test]
fn every_example_bundle_runs_or_is_refused_and_leaves_the_host_clean() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf-examples/bundles");
    let mut ran = Vec::new();
    for entry in std::fs::read_dir(&examples).unwrap() {
        let example = entry.unwrap().path();
        let text = std::fs::read_to_string(example.join("config.json")).unwrap();
        let Ok(mut config) = serde_json::from_str::<Value>(&text) else {
            continue; // the malformed example: `runj plan`'s tests cover it
        };
        let Some(lab) = Lab::new() else { return };
        config["root"]["path"] = json!("rootfs");
        config["process"]["args"] = json!(["sh", "-c", "echo ok"]);
        config["process"]["cwd"] = json!("/");
        config["process"]["env"] = json!(["PATH=/bin"]);
        config["process"]["terminal"] = json!(false);
        std::fs::write(lab.bundle().join("config.json"), config.to_string()).unwrap();
        if example.join("runj.ext.json").exists() {
            std::fs::copy(
                example.join("runj.ext.json"),
                lab.bundle().join("runj.ext.json"),
            )
            .unwrap();
        }
        let name = example.file_name().unwrap().to_string_lossy().into_owned();
        let bundle = lab.bundle();
        let out = lab
            .runj(&["run", "example", "-b", bundle.to_str().unwrap()])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        if out.status.success() {
            assert_eq!(stdout(&out), "ok\n", "{name}");
            ran.push(name.clone());
        } else {
            let message = String::from_utf8_lossy(&out.stderr);
            assert!(message.contains("runj: "), "{name}: no message: {message}");
            eprintln!("{name}: refused: {}", message.trim_end());
        }
        lab.assert_clean();
    }
    let expected = [
        "minimal",
        "host-inherit",
        "readonly-root",
        "parent",
        "ext-merge",
        "ocijail-annotations",
        "containerd-linux-defaults",
        "containerd-v17-linux-defaults",
        "containerd-freebsd-defaults",
    ];
    for expected in expected {
        assert!(
            ran.iter().any(|r| r == expected),
            "{expected} did not run; ran: {ran:?}"
        );
    }
}

/// `runj apply FILE#JAIL` creates a jail.conf jail as `jail -c` does, its
/// dependency first, running each step the dry run prints; `--remove`
/// takes it down as `jail -r` does and leaves nothing.
#[test]
fn a_jail_conf_jail_is_created_and_removed_as_jail8_does() {
    let Some(lab) = Lab::new() else { return };
    let root = lab.rootfs();
    let source = lab.jail_conf(
        &format!(
            "path = \"{root}\";\npersist;\n\
             base {{ exec.start = \"touch /tmp/base-started\"; }}\n\
             web {{ depend = base; host.hostname = web.example; mount.devfs;\n\
             exec.start = \"sh -c 'hostname > /tmp/web-host'\", \"touch /tmp/web-second\";\n\
             exec.poststop = \"touch {root}/tmp/web-stopped\"; }}\n",
            root = root.display()
        ),
        "web",
    );
    let dry = lab.ok(&["apply", "--dry-run", "--format", "trace", &source]);
    let trace = stdout(&dry);
    let lines: Vec<&str> = trace.lines().collect();
    assert_eq!(lines.len(), 6, "{trace}");
    assert!(
        lines[0].starts_with(r#"jail_set create: [["name","base"]"#),
        "{trace}"
    );
    assert!(
        lines[2].starts_with(r#"exec host: ["/sbin/mount","-t","devfs""#),
        "{trace}"
    );
    assert_eq!(
        lines[5], r#"exec jail: ["touch","/tmp/web-second"]"#,
        "{trace}"
    );
    lab.ok(&["apply", &source]);
    for made in ["base-started", "web-second"] {
        assert!(root.join("tmp").join(made).exists(), "{made} missing");
    }
    let host = std::fs::read_to_string(root.join("tmp/web-host")).unwrap();
    assert_eq!(host, "web.example\n");
    let again = lab.fails(&["apply", &source]);
    assert!(again.contains("\"base\" already exists"), "{again}");
    let file = source.trim_end_matches("#web");
    for jail in ["web", "base"] {
        lab.ok(&["apply", "--remove", &format!("{file}#{jail}")]);
    }
    assert!(root.join("tmp/web-stopped").exists());
    lab.assert_clean();
}

/// An annotation must not run a command on the host (the hole runj had:
/// `org.freebsd.jail.param.exec.prestart` ran as root before the jail
/// existed). Refused with the annotation named and nothing created; taken
/// only when the operator trusts annotations.
#[test]
fn an_annotation_runs_no_host_command_unless_trusted() {
    let Some(lab) = Lab::new() else { return };
    let marker = lab.dir.path().join("owned");
    let hostile = |key: &str, value: String| json!({ "annotations": { key: value } });
    let bundle = lab.bundle();
    let run = |extra: &[&str], env: Option<&str>| {
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        args.extend(["c1", "-b", bundle.to_str().unwrap()]);
        let mut command = lab.runj(&args);
        command.env_remove("RUNJ_TRUST_ANNOTATIONS");
        if let Some(value) = env {
            command.env("RUNJ_TRUST_ANNOTATIONS", value);
        }
        command.stdin(Stdio::null()).output().unwrap()
    };
    for (key, value) in [
        (
            "org.freebsd.jail.param.exec.prestart",
            format!(r#"["touch {}"]"#, marker.display()),
        ),
        (
            "org.freebsd.jail.param.exec.poststop",
            format!(r#"["touch {}"]"#, marker.display()),
        ),
        (
            "org.freebsd.jail.param.exec.created",
            format!(r#""touch {}""#, marker.display()),
        ),
    ] {
        lab.config("true", hostile(key, value));
        let out = run(&[], None);
        assert_eq!(out.status.code(), Some(2), "{key}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("annotations[\"{key}\"]")),
            "{stderr}"
        );
        assert!(stderr.contains("acts on the host"), "{stderr}");
        assert!(!marker.exists(), "{key} ran on the host");
        lab.assert_clean();
    }
    lab.config(
        "true",
        hostile(
            "org.freebsd.jail.param.exec.prestart",
            format!(r#"["touch {}"]"#, marker.display()),
        ),
    );
    let out = run(&["--trust-annotations"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(marker.exists(), "trusted, the host command runs");
    std::fs::remove_file(&marker).unwrap();
    let out = run(&[], Some("true"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        marker.exists(),
        "RUNJ_TRUST_ANNOTATIONS=true trusts them too"
    );
    lab.assert_clean();
}

/// A hook that outlives its `timeout` is killed, with what it started, at
/// the deadline; the creation fails saying so and is undone.
#[test]
fn a_hook_past_its_timeout_is_killed_and_the_create_undone() {
    let Some(lab) = Lab::new() else { return };
    let pid_file = lab.dir.path().join("sleeper.pid");
    let hook = json!([{ "path": "/bin/sh", "timeout": 1,
        "args": ["sh", "-c", format!("sleep 30 & echo $! > {}; wait", pid_file.display())] }]);
    lab.config("true", json!({ "hooks": { "createRuntime": hook } }));
    let bundle = lab.bundle();
    let started = Instant::now();
    let stderr = lab.fails(&["run", "c14", "-b", bundle.to_str().unwrap()]);
    let took = started.elapsed();
    assert!(
        stderr.contains("createRuntime hook: /bin/sh: timed out"),
        "{stderr}"
    );
    assert!(
        took < Duration::from_secs(10),
        "waited {took:?} for a 1 s timeout"
    );
    let sleeper: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let gone = Instant::now() + Duration::from_secs(2);
    while Path::new(&format!("/proc/{sleeper}")).exists() && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !Path::new(&format!("/proc/{sleeper}")).exists(),
        "the hook's child outlived it"
    );
    lab.assert_clean();
}

/// `exec.timeout` as jail(8) applies it: a command past it fails the
/// creation ("timed out") and jail(8)'s rollback runs.
#[test]
fn a_command_past_exec_timeout_fails_and_the_jail_is_rolled_back() {
    let Some(lab) = Lab::new() else { return };
    let source = lab.jail_conf(
        &format!(
            "slow {{ path = \"{}\"; mount.devfs; persist; exec.timeout = 1;\n\
             exec.start = \"sleep 30\"; }}\n",
            lab.rootfs().display()
        ),
        "slow",
    );
    let started = Instant::now();
    let stderr = lab.fails(&["apply", &source]);
    assert!(stderr.contains("timed out"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    lab.assert_clean();
}

/// No descriptor of the caller reaches the container: runj started with
/// descriptors 7 and 9 open (not close-on-exec, as a shell leaves them)
/// gives its process only 0, 1 and 2, as runc does.
#[test]
fn the_container_gets_no_inherited_descriptor() {
    let Some(lab) = Lab::new() else { return };
    lab.config(
        "for fd in 3 4 5 6 7 8 9 10; do if (: <&$fd) 2>/tmp/err; then echo open $fd; fi; done; echo checked",
        json!({}),
    );
    let bundle = lab.bundle();
    let runj = env!("CARGO_BIN_EXE_runj");
    let state = lab.state_root();
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "exec 7</dev/null 9</dev/null; exec {runj} --root {} run c15 -b {}",
            state.display(),
            bundle.display()
        ))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout(&out), "checked\n");
    lab.assert_clean();
}

/// `exec.jail_user` is the jail's own user: read from the jail's
/// /etc/passwd and /etc/group by runj before entering (never through the C
/// library's NSS inside the root), with its supplementary groups; a
/// passwd file that is a symbolic link is refused.
#[test]
fn a_jail_user_comes_from_the_jail_s_own_files() {
    let Some(lab) = Lab::new() else { return };
    let root = lab.rootfs();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\njailonly:x:4242:4243::/tmp:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(
        root.join("etc/group"),
        "jailonly:x:4243:\nextra:x:4300:root,jailonly\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let source = lab.jail_conf(
        &format!(
            "u {{ path = \"{}\"; persist; exec.jail_user = jailonly; exec.clean;\n\
             exec.start = \"sh -c 'echo \\$(id -u) \\$(id -g) \\$(id -G) \\$HOME \\$USER > /tmp/who'\"; }}\n",
            root.display()
        ),
        "u",
    );
    lab.ok(&["apply", &source]);
    let who = std::fs::read_to_string(root.join("tmp/who")).unwrap();
    assert_eq!(who, "4242 4243 4243 4300 /tmp jailonly\n");
    lab.ok(&["apply", "--remove", &source]);
    std::fs::remove_file(root.join("etc/passwd")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("etc/passwd")).unwrap();
    let stderr = lab.fails(&["apply", &source]);
    assert!(stderr.contains("symbolic link"), "{stderr}");
    lab.assert_clean();
}

/// A pid the system has given to another process is not the container's:
/// the state records the process's start time, and `state` and `kill`
/// compare it. Here the container's recorded pid is made that of an
/// unrelated process (what a reuse after the container's exit looks
/// like): `state` says stopped and `kill` signals nothing.
#[test]
fn a_reused_pid_is_not_taken_for_the_container() {
    let Some(lab) = Lab::new() else { return };
    lab.config("sleep 100", json!({}));
    lab.create("c16");
    let file = lab.state_root().join("c16/state.json");
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(state["processStart"].as_u64().is_some(), "{state}");
    // Start times count clock ticks: the stranger starts in a later one, as
    // any process that got a reused pid did.
    std::thread::sleep(Duration::from_millis(50));
    let mut stranger = Command::new("sleep").arg("30").spawn().unwrap();
    state["pid"] = json!(stranger.id());
    std::fs::write(&file, state.to_string()).unwrap();
    assert_eq!(lab.state("c16")["status"], "stopped");
    let out = lab.runj(&["kill", "c16", "KILL"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        stranger.try_wait().unwrap().is_none(),
        "the stranger was signalled"
    );
    stranger.kill().unwrap();
    stranger.wait().unwrap();
    lab.ok(&["delete", "--force", "c16"]);
    lab.assert_clean();
}

/// `runj create` killed (SIGKILL) at points spread over its whole run:
/// after every `delete --force`, no mount, no jail, no process and no
/// state is left, and the same id can be created again.
#[test]
fn create_killed_anywhere_leaves_nothing_after_delete_force() {
    let Some(lab) = Lab::new() else { return };
    lab.config(
        "sleep 1000",
        json!({ "mounts": [
            { "destination": "/scratch", "type": "tmpfs", "source": "tmpfs" },
            { "destination": "/dev", "type": "devfs", "source": "devfs" }
        ] }),
    );
    let bundle = lab.bundle();
    let create = || {
        lab.runj(&["create", "c17", "-b", bundle.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    common::kill_at_spread_points(120, create, |round, delay| {
        let out = lab.runj(&["delete", "--force", "c17"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "round {round} ({delay:?}): delete --force: {stderr}"
        );
        lab.assert_clean();
        assert!(
            create().wait().unwrap().success(),
            "round {round}: created again"
        );
        lab.ok(&["delete", "--force", "c17"]);
        lab.assert_clean();
    });
}

/// A state file that cannot be read (garbage, cut short, a symbolic link)
/// is an error naming it, never followed; `list` shows the container as
/// broken and `delete --force` removes everything of it.
#[test]
fn unreadable_state_is_reported_listed_as_broken_and_cleaned_up() {
    let Some(lab) = Lab::new() else { return };
    lab.config(
        "sleep 1000",
        json!({ "mounts": [{ "destination": "/scratch", "type": "tmpfs", "source": "tmpfs" }] }),
    );
    let file = lab.state_root().join("c18/state.json");
    let breakers: [(&str, &dyn Fn()); 3] = [
        ("garbage", &|| {
            std::fs::write(&file, "{{{ not json").unwrap()
        }),
        ("cut short", &|| {
            let text = std::fs::read_to_string(&file).unwrap();
            std::fs::write(&file, &text[..text.len() / 2]).unwrap();
        }),
        ("a symbolic link", &|| {
            std::fs::remove_file(&file).unwrap();
            std::os::unix::fs::symlink("/etc/passwd", &file).unwrap();
        }),
    ];
    for (what, brake) in breakers {
        lab.create("c18");
        brake();
        let out = lab.runj(&["state", "c18"]).output().unwrap();
        assert!(!out.status.success(), "{what}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("c18/state.json"), "{what}: {stderr}");
        let listed = stdout(&lab.ok(&["list"]));
        assert!(
            listed
                .lines()
                .any(|l| l.starts_with("c18") && l.contains("broken")),
            "{what}: {listed}"
        );
        lab.ok(&["delete", "--force", "c18"]);
        lab.assert_clean();
    }
}

/// Several containers from one root, as several jails with one path on
/// FreeBSD: each its own jail, each deleted alone.
#[test]
fn several_containers_share_one_root() {
    let Some(lab) = Lab::new() else { return };
    lab.config("sleep 1000", json!({}));
    lab.create("c19a");
    lab.create("c19b");
    assert_eq!(lab.state("c19a")["status"], "created");
    assert_eq!(lab.state("c19b")["status"], "created");
    lab.ok(&["delete", "--force", "c19a"]);
    assert_eq!(lab.state("c19b")["status"], "created");
    lab.ok(&["delete", "--force", "c19b"]);
    lab.assert_clean();
}

/// Mounts a race can neither redirect nor strand (CVE-2021-30465's class):
/// while creates and deletes run, an attacker keeps renaming the directory
/// that holds the mount points and swapping a symbolic link to a directory
/// outside the root in its place. Nothing is ever mounted or written
/// outside the root, and after every `delete --force` nothing is mounted
/// anywhere below the lab, wherever the attacker left the directory.
#[test]
fn racing_renames_neither_redirect_nor_strand_a_mount() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let Some(lab) = Lab::new() else { return };
    let root = lab.rootfs();
    let outside = lab.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(root.join("a")).unwrap();
    lab.config(
        "sleep 1000",
        json!({ "mounts": [
            { "destination": "/a/dev", "type": "devfs", "source": "devfs" },
            { "destination": "/a/tmp", "type": "tmpfs", "source": "tmpfs" }
        ] }),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let attacker = {
        let (stop, root, outside) = (stop.clone(), root.clone(), outside.clone());
        std::thread::spawn(move || {
            let (a, moved) = (root.join("a"), root.join("a.moved"));
            let mut rounds = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::rename(&a, &moved);
                if rounds.is_multiple_of(3) {
                    let _ = std::os::unix::fs::symlink(&outside, &a);
                    std::thread::yield_now();
                    let _ = std::fs::remove_file(&a);
                }
                let _ = std::fs::rename(&moved, &a);
                rounds += 1;
            }
            rounds
        })
    };
    let bundle = lab.bundle();
    let rounds = 200;
    let mut created = 0;
    for round in 0..rounds {
        // The container inherits standard error: not a pipe to wait on.
        let status = lab
            .runj(&["create", "c20", "-b", bundle.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        if status.success() {
            created += 1;
        }
        let deleted = lab.runj(&["delete", "--force", "c20"]).output().unwrap();
        assert!(
            deleted.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&deleted.stderr)
        );
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let lab_path = lab.dir.path().to_str().unwrap();
        let left: Vec<&str> = mounts.lines().filter(|l| l.contains(lab_path)).collect();
        assert!(left.is_empty(), "round {round}: mounts left: {left:#?}");
        assert_eq!(
            std::fs::read_dir(&outside).unwrap().count(),
            0,
            "round {round}: written outside"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let renames = attacker.join().unwrap();
    assert!(renames > rounds as u64, "the attacker ran {renames} rounds");
    // The race must leave some creates standing, or it tested nothing of
    // the undo of a made mount.
    assert!(created > 0, "no create of {rounds} succeeded");
    lab.assert_clean();
}

/// A bind source inside the jail's root is the jail's own: a symbolic link
/// the image put there, pointing out of the root, does not lend the jail
/// the host's directory; nor does jail(8)'s `exec.consolelog` follow one.
#[test]
fn links_in_the_root_lend_no_host_path() {
    let Some(lab) = Lab::new() else { return };
    let root = lab.rootfs();
    let secret = lab.dir.path().join("secret");
    std::fs::create_dir_all(&secret).unwrap();
    std::fs::write(secret.join("key"), "host only").unwrap();
    std::os::unix::fs::symlink(&secret, root.join("evil")).unwrap();
    lab.config(
        "ls /mnt",
        json!({ "mounts": [{ "destination": "/mnt", "type": "bind",
            "source": root.join("evil").to_str().unwrap(), "options": ["bind"] }] }),
    );
    let bundle = lab.bundle();
    let stderr = lab.fails(&["run", "c21", "-b", bundle.to_str().unwrap()]);
    assert!(stderr.contains("symbolic link"), "{stderr}");
    lab.assert_clean();

    std::os::unix::fs::symlink(&secret, root.join("logs")).unwrap();
    let source = lab.jail_conf(
        &format!(
            "l {{ path = \"{r}\"; persist; exec.consolelog = \"{r}/logs/console\";\n\
             exec.start = \"echo hi\"; }}\n",
            r = root.display()
        ),
        "l",
    );
    let stderr = lab.fails(&["apply", &source]);
    assert!(stderr.contains("is a symbolic link"), "{stderr}");
    assert!(
        !secret.join("console").exists(),
        "the log went through the link"
    );
    lab.assert_clean();
}
