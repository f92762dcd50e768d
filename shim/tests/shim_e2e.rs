//! The shim under a real containerd 2.x, through `ctr`: each scenario runs
//! once with runc as the runtime (which checks the shim on its own) and once
//! with runj, and ends by checking that nothing is left behind. A process
//! whose output is checked waits for a line on stdin once it has written it
//! (`harness::Running` says why).

mod harness;

use harness::{Containerd, OciRuntime, Tmux, parts, spawn_terminal};

/// A shell command line that prints `terminal` when standard input is a
/// terminal of the container's own `/dev/pts` (tty(1) names it), and
/// `devices` when the container has `/dev/null`, `/dev/tty` (which opens:
/// it is the controlling terminal) and `/proc/self`.
const PRINT_IF_TERMINAL: &str = "case $(tty) in /dev/pts/*) echo terminal;; esac; \
     ls /dev/null /dev/tty /proc/self >/dev/null && : </dev/tty && echo devices";

/// `ctr run --rm`: stdout, both exit statuses, stdout and stderr apart.
fn output_and_exit_codes(runtime: OciRuntime) {
    let Some(containerd) = Containerd::start(runtime) else {
        return;
    };
    let mut hello = containerd.spawn_run(
        &[],
        &containerd.id("echo"),
        &["sh", "-c", "echo hello; read x"],
    );
    hello.expect("hello");
    let (code, rest, stderr) = hello.finish();
    assert_eq!((code, rest.as_str()), (0, ""), "{stderr}");

    let (code, _, stderr) = parts(&containerd.run(&containerd.id("exit"), &["sh", "-c", "exit 3"]));
    assert_eq!(code, 3, "{stderr}");

    // Only standard input, output and error reach the container (and the
    // descriptor ls reads /proc/self/fd through): nothing of the shim's
    // or runj's (CVE-2024-21626's class).
    let mut fds = containerd.spawn_run(
        &[],
        &containerd.id("fds"),
        &["sh", "-c", "echo $(ls /proc/self/fd); read x"],
    );
    fds.expect("0 1 2 3");
    let (code, _, stderr) = fds.finish();
    assert_eq!(code, 0, "{stderr}");

    let mut streams = containerd.spawn_run(
        &[],
        &containerd.id("streams"),
        &["sh", "-c", "echo out; echo err >&2; read x"],
    );
    streams.expect("out");
    assert_eq!(streams.stderr_line().as_deref(), Some("err"));
    let (code, rest, stderr) = streams.finish();
    assert_eq!((code, rest.as_str(), stderr.as_str()), (0, "", ""));
    containerd.assert_clean();
}

/// `ctr run --rm -t`: the process gets a terminal, and its exit status.
fn terminal(runtime: OciRuntime) {
    let Some(containerd) = Containerd::start(runtime) else {
        return;
    };
    let mut session = spawn_terminal(&format!(
        "{} run --rm -t --runtime {} {} {} sh -c '{PRINT_IF_TERMINAL}; read x; exit 5'",
        containerd.ctr_line(),
        harness::RUNTIME,
        harness::IMAGE,
        containerd.id("tty")
    ));
    session.expect("terminal");
    session.expect("devices");
    let (code, rest, stderr) = session.finish();
    assert_eq!(code, 5, "{rest}{stderr}");
    containerd.assert_clean();
}

/// `ctr run --rm -t` in a real terminal (tmux): the window size follows
/// the terminal's (ResizePty), Ctrl-C reaches the foreground job and not
/// the shell (job control), and the shell's exit status is ctr's.
fn job_control(runtime: OciRuntime) {
    let Some(containerd) = Containerd::start(runtime) else {
        return;
    };
    let id = containerd.id("job");
    let line = format!(
        "{} run --rm -t --runtime {} {} {id} sh -i",
        containerd.ctr_line(),
        harness::RUNTIME,
        harness::IMAGE,
    );
    let Some(term) = Tmux::start(&id, &line, 100, 30) else {
        return;
    };
    // busybox ash's prompt: the shell reads the terminal from here on.
    term.wait_for_line("~ #");
    term.type_line("stty size");
    term.wait_for_line("30 100");
    term.resize(120, 40);
    // The new size reaches the container when ctr has seen SIGWINCH and
    // containerd has passed the ResizePty on: ask until it has.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !term.screen().iter().any(|l| l == "40 120") {
        assert!(
            std::time::Instant::now() < deadline,
            "the size never followed:\n{}",
            term.screen().join("\n")
        );
        term.type_line("stty size");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    term.type_line("sleep 30");
    std::thread::sleep(std::time::Duration::from_millis(500));
    term.keys(&["C-c"]);
    term.type_line("echo alive $?");
    term.wait_for_line("alive 130");
    term.type_line("exit 3");
    assert_eq!(term.exit_status(), 3, "{}", term.screen().join("\n"));
    drop(term);
    containerd.assert_clean();
}

/// `ctr task kill`: a signal to the init process, then (`--all`) to every
/// process of the container.
fn kill(runtime: OciRuntime) {
    let Some(containerd) = Containerd::start(runtime) else {
        return;
    };
    let id = containerd.id("term");
    let mut running = containerd.spawn_run(
        &[],
        &id,
        &[
            "sh",
            "-c",
            "trap 'exit 7' TERM; echo ready; while :; do sleep 0.1; done",
        ],
    );
    running.expect("ready");
    containerd.ctr_ok(&["task", "kill", &id]);
    let (code, _, stderr) = running.finish();
    assert_eq!(code, 7, "{stderr}");

    // The shell runs its trap once the pipeline has ended, which only a
    // signal to every process brings about. The pipeline's processes do not
    // inherit the trap, and the one that says `ready` becomes the sleep.
    let id = containerd.id("all");
    let mut running = containerd.spawn_run(
        &[],
        &id,
        &[
            "sh",
            "-c",
            "trap 'echo trapped; read x; exit 7' TERM; { echo ready; exec sleep 60; } | cat",
        ],
    );
    running.expect("ready");
    containerd.ctr_ok(&["task", "kill", "--all", &id]);
    running.expect("trapped");
    let (code, _, stderr) = running.finish();
    assert_eq!(code, 7, "{stderr}");
    containerd.assert_clean();
}

/// `ctr task exec`: further processes in a running container, with and
/// without a terminal, and `ctr task ps`.
fn exec(runtime: OciRuntime) {
    let Some(containerd) = Containerd::start(runtime) else {
        return;
    };
    let id = containerd.id("exec");
    let mut running = containerd.spawn_run(&[], &id, &["sh", "-c", "echo ready; exec sleep 60"]);
    running.expect("ready");
    let mut exec =
        containerd.spawn_exec(&id, "e1", &["sh", "-c", "echo from-exec; read x; exit 4"]);
    exec.expect("from-exec");
    let (code, rest, stderr) = exec.finish();
    assert_eq!((code, rest.as_str()), (4, ""), "{stderr}");

    let mut session = spawn_terminal(&format!(
        "{} task exec -t --exec-id e2 {id} sh -c '{PRINT_IF_TERMINAL}; read x; exit 6'",
        containerd.ctr_line()
    ));
    session.expect("terminal");
    let (code, rest, stderr) = session.finish();
    assert_eq!(code, 6, "{rest}{stderr}");

    let (stdout, _) = containerd.ctr_ok(&["task", "ps", &id]);
    let (_, init) = containerd.task(&id).expect("the task runs");
    let pids: Vec<&str> = stdout
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(pids, [init.to_string()], "only the init process: {stdout}");

    containerd.ctr_ok(&["task", "kill", "-s", "KILL", &id]);
    let (code, _, stderr) = running.finish();
    assert_eq!(code, 128 + 9, "{stderr}");
    containerd.assert_clean();
}

/// A shell command line that lists the network interfaces, then says `end`.
const LIST_INTERFACES: &str = "ip -o link; echo end; read x";

/// `--runtime-config-path`: a runj.ext.json reaches the bundle, and runj
/// applies it (`ipv4` `inherit`: the host's network stack instead of a jail
/// with only a loopback interface); any other file name is refused.
fn runtime_config_path(runtime: OciRuntime) {
    let Some(containerd) = Containerd::start(runtime) else {
        return;
    };
    let mut own_stack =
        containerd.spawn_run(&[], &containerd.id("net"), &["sh", "-c", LIST_INTERFACES]);
    assert_eq!(interfaces(&own_stack.lines_until("end")), ["lo"]);
    let (code, _, stderr) = own_stack.finish();
    assert_eq!(code, 0, "{stderr}");

    let ext = containerd.dir().join("runj.ext.json");
    let contents = r#"{"network":{"ipv4":{"mode":"inherit"}}}"#;
    std::fs::write(&ext, contents).unwrap();
    let id = containerd.id("ext");
    let config_path = ["--runtime-config-path", ext.to_str().unwrap()];
    let mut running = containerd.spawn_run(
        &config_path,
        &id,
        &["sh", "-c", "echo ready; exec sleep 60"],
    );
    running.expect("ready");
    let installed = std::fs::read_to_string(containerd.bundle(&id).join("runj.ext.json"));
    assert_eq!(installed.unwrap(), contents);
    let mut links = containerd.spawn_exec(&id, "links", &["sh", "-c", LIST_INTERFACES]);
    let expected = match runtime {
        OciRuntime::Runj => host_interfaces(),
        // runc has no use for runj.ext.json.
        OciRuntime::Runc => vec!["lo".to_string()],
    };
    assert_eq!(interfaces(&links.lines_until("end")), expected);
    let (code, _, stderr) = links.finish();
    assert_eq!(code, 0, "{stderr}");
    containerd.ctr_ok(&["task", "kill", "-s", "KILL", &id]);
    let (code, _, stderr) = running.finish();
    assert_eq!(code, 128 + 9, "{stderr}");

    let misnamed = containerd.dir().join("ext.json");
    std::fs::write(&misnamed, contents).unwrap();
    let refused = containerd
        .ctr()
        .args(["run", "--rm", "--runtime", harness::RUNTIME])
        .args(["--runtime-config-path", misnamed.to_str().unwrap()])
        .args([harness::IMAGE, &containerd.id("misnamed"), "true"])
        .output()
        .unwrap();
    let (code, _, stderr) = parts(&refused);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("only files named runj.ext.json are supported"),
        "{stderr}"
    );
    containerd.assert_clean();
}

/// The interface names in `ip -o link` lines (`1: lo: <…> …`), sorted.
fn interfaces(ip_link: &[String]) -> Vec<String> {
    let mut names: Vec<String> = ip_link
        .iter()
        .filter_map(|line| line.split(": ").nth(1))
        .map(|name| name.split('@').next().unwrap_or(name).to_string())
        .collect();
    names.sort();
    names
}

/// The host's network interfaces, sorted.
fn host_interfaces() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/sys/class/net")
        .expect("read /sys/class/net")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A network namespace the test makes (`ip netns add`), removed when
/// dropped.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Netns {
        let name = format!("e2e-{}-{tag}", std::process::id());
        let made = std::process::Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .unwrap();
        assert!(made.success(), "ip netns add {name}");
        Netns(name)
    }

    /// `program` run in the namespace.
    fn command(&self, program: &str) -> std::process::Command {
        let mut command = std::process::Command::new("nsenter");
        command
            .arg(format!("--net=/run/netns/{}", self.0))
            .arg(program);
        command
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .status();
    }
}

/// Bridge networking under containerd: with containerd in a network
/// namespace of the test's, `ctr run --runtime-config-path` with a
/// runj.ext.json asking for a bridge starts a container reachable on its
/// address from that namespace (a busybox `nc` server in it answers), and
/// deleting it leaves no epair.
#[test]
fn runj_bridge_networking() {
    if !harness::prerequisite(nix::unistd::geteuid().is_root(), "not root") {
        return;
    }
    let netns = Netns::new("bridge");
    let Some(containerd) = Containerd::start_in(OciRuntime::Runj, Some(&netns.0)) else {
        return;
    };
    let ext = containerd.dir().join("runj.ext.json");
    std::fs::write(
        &ext,
        r#"{"network":{"vnet":{"mode":"new","bridge":{"name":"e2e0","ipv4":{"address":"10.232.0.5/24","gateway":"10.232.0.1"}}}}}"#,
    )
    .unwrap();
    let id = containerd.id("bridge");
    containerd.ctr_ok(&[
        "run",
        "--detach",
        "--runtime",
        harness::RUNTIME,
        "--runtime-config-path",
        ext.to_str().unwrap(),
        harness::IMAGE,
        &id,
        "nc",
        "-ll",
        "-p",
        "8080",
        "-e",
        "echo",
        "reached",
    ]);
    // At most 20 tries over about 2 s: the server may still be starting.
    let answer = (0..20)
        .find_map(|_| {
            let out = netns
                .command("/bin/busybox")
                .args(["nc", "-w", "2", "10.232.0.5", "8080"])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            std::thread::sleep(std::time::Duration::from_millis(100));
            (!text.is_empty()).then_some(text)
        })
        .unwrap_or_default();
    assert_eq!(answer, "reached");
    containerd.ctr_ok(&["task", "kill", "-s", "KILL", &id]);
    containerd.wait_for_task(&id, Some("STOPPED"));
    containerd.ctr_ok(&["task", "rm", &id]);
    containerd.ctr_ok(&["container", "rm", &id]);
    let links = std::process::Command::new("ip")
        .args(["-n", &netns.0, "-o", "link"])
        .output()
        .unwrap();
    let links = String::from_utf8_lossy(&links.stdout).into_owned();
    assert!(!links.contains("epair"), "{links}");
    assert!(links.contains("e2e0"), "the bridge is kept: {links}");
    containerd.assert_clean();
}

/// `ctr run --detach`, then the task's lifecycle step by step: running
/// (with the PID the runtime reports), killed, stopped with status 137,
/// deleted (and forgotten by the runtime).
fn detached_lifecycle(runtime: OciRuntime) {
    let Some(containerd) = Containerd::start(runtime) else {
        return;
    };
    let id = containerd.id("detached");
    containerd.run_detached(&id, &["sleep", "60"]);
    let (status, pid) = containerd.task(&id).expect("the task exists");
    assert_eq!(status, "RUNNING");
    let state = containerd.runtime_state(&id).unwrap();
    assert_eq!(
        (state["status"].as_str(), state["pid"].as_u64()),
        (Some("running"), Some(u64::from(pid))),
        "{state}"
    );

    containerd.ctr_ok(&["task", "kill", "-s", "KILL", &id]);
    containerd.wait_for_task(&id, Some("STOPPED"));
    let state = containerd.runtime_state(&id).unwrap();
    assert_eq!(state["status"].as_str(), Some("stopped"), "{state}");

    let (_, stderr) = containerd.ctr_ok(&["task", "delete", &id]);
    assert!(stderr.contains("exit code 137"), "{stderr}");
    assert_eq!(containerd.task(&id), None);
    let forgotten = containerd.runtime_state(&id);
    assert!(forgotten.is_err(), "{forgotten:?}");
    containerd.ctr_ok(&["container", "rm", &id]);
    containerd.assert_clean();
}

/// A shim killed outright: containerd runs the shim's `delete` action,
/// which deletes the container through the runtime and unmounts its rootfs.
fn shim_killed(runtime: OciRuntime) {
    let Some(containerd) = Containerd::start(runtime) else {
        return;
    };
    let id = containerd.id("orphan");
    containerd.run_detached(&id, &["sleep", "60"]);
    let shim = containerd
        .shim_pid(&id)
        .expect("the shim of a running container");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(shim),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the shim");
    containerd.wait_for_task(&id, None);
    containerd.ctr_ok(&["container", "rm", &id]);
    containerd.assert_clean();
}

/// An awk program that allocates about 128 MiB, then says how it ended.
const ALLOCATE: &str = "awk 'BEGIN { s = \"x\"; while (length(s) < 67108864) s = s s }'; \
     echo status=$?; read x";

/// Resource limits: `ctr run --memory-limit` is enforced (an allocation
/// beyond it is killed), containerd's Update lowers it, and `ctr task
/// metrics` reports each limit.
fn resource_limits(runtime: OciRuntime) {
    let Some(containerd) = Containerd::start(runtime) else {
        return;
    };
    let id = containerd.id("limits");
    let mut running = containerd.spawn_run(
        &["--memory-limit", "268435456"],
        &id,
        &["sh", "-c", "echo ready; exec sleep 60"],
    );
    running.expect("ready");
    assert_eq!(containerd.metric(&id, "memory.limit_in_bytes"), 268435456);
    assert_eq!(containerd.metric(&id, "pids.current"), 1);
    let mut within = containerd.spawn_exec(&id, "within", &["sh", "-c", ALLOCATE]);
    within.expect("status=0");
    within.finish();

    containerd
        .update(&id, r#"{"memory": {"limit": 33554432}}"#)
        .expect("update the limit");
    assert_eq!(containerd.metric(&id, "memory.limit_in_bytes"), 33554432);
    let mut beyond = containerd.spawn_exec(&id, "beyond", &["sh", "-c", ALLOCATE]);
    beyond.expect("status=137");
    beyond.finish();
    assert!(containerd.metric(&id, "cpuacct.usage") > 0);

    containerd.ctr_ok(&["task", "kill", "-s", "KILL", &id]);
    let (code, _, stderr) = running.finish();
    assert_eq!(code, 128 + 9, "{stderr}");
    containerd.assert_clean();
}

macro_rules! with_each_runtime {
    ($($scenario:ident),* $(,)?) => {
        mod runc {
            $(#[test]
            fn $scenario() {
                super::$scenario(super::OciRuntime::Runc)
            })*
        }
        mod runj {
            $(#[test]
            fn $scenario() {
                super::$scenario(super::OciRuntime::Runj)
            })*
        }
    };
}

with_each_runtime!(
    output_and_exit_codes,
    terminal,
    job_control,
    detached_lifecycle,
    kill,
    exec,
    runtime_config_path,
    shim_killed,
    resource_limits,
);
