//! A private containerd ≥ 2.0 for end-to-end tests of the shim, set up and
//! torn down by `scripts/containerd-e2e-setup` (see docs/containerd-e2e.md).
//!
//! A test whose prerequisite is missing (root, containerd, busybox-static, a
//! runtime) prints `SKIPPED: …` and passes, unless `CI=true`: there it fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The busybox image the setup script imports.
pub const IMAGE: &str = "docker.io/library/bbtest:latest";
/// The runtime name that resolves to `containerd-shim-runj-v1`.
pub const RUNTIME: &str = "io.containerd.runj.v1";
/// The shim under test.
pub const SHIM: &str = env!("CARGO_BIN_EXE_containerd-shim-runj-v1");
/// Every `ctr` call is cut short after this long.
const CTR_TIMEOUT: &str = "60";

#[path = "../../../tests/common/prerequisite.rs"]
mod prerequisite;
pub use prerequisite::prerequisite;
mod tmux;
pub use tmux::Tmux;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/containerd-e2e-setup")
}

/// The OCI runtime the shim drives in a test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OciRuntime {
    /// The reference runtime, which checks the shim on its own.
    Runc,
    /// runj, built beside the shim.
    Runj,
}

impl OciRuntime {
    /// The runtime's binary, if it is there.
    pub fn binary(self) -> Option<PathBuf> {
        match self {
            OciRuntime::Runc => {
                let found = ["/usr/sbin/runc", "/usr/bin/runc"]
                    .into_iter()
                    .map(PathBuf::from)
                    .find(|p| p.is_file());
                prerequisite(
                    found.is_some(),
                    "runc is not installed (apt-get install runc)",
                )
                .then(|| found.expect("checked"))
            }
            OciRuntime::Runj => Some(runj().clone()),
        }
    }
}

/// `runj` beside the shim, built (once per test binary) by the cargo that
/// runs the tests: `cargo test -p runj-shim` does not build the workspace's
/// other binaries, and a stale runj would be tested otherwise.
fn runj() -> &'static PathBuf {
    static RUNJ: OnceLock<PathBuf> = OnceLock::new();
    RUNJ.get_or_init(|| {
        let dir = Path::new(SHIM)
            .parent()
            .expect("the shim is in a directory");
        let profile = match dir.file_name().and_then(|name| name.to_str()) {
            Some("debug") => "dev",
            Some(name) => name,
            None => panic!("no profile in {}", dir.display()),
        };
        let built = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "runj",
                "--bin",
                "runj",
                "--profile",
                profile,
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo");
        assert!(built.success(), "cargo build -p runj failed");
        let runj = dir.join("runj");
        assert!(runj.is_file(), "cargo built no {}", runj.display());
        runj
    })
}

/// A running private containerd, torn down on drop.
pub struct Containerd {
    dir: PathBuf,
    runtime: PathBuf,
    namespace: String,
    ctr: PathBuf,
    ids: std::cell::RefCell<Vec<String>>,
}

impl Containerd {
    /// Starts containerd with the shim driving `runtime`; `None` when a
    /// prerequisite is missing.
    pub fn start(runtime: OciRuntime) -> Option<Self> {
        Self::start_in(runtime, None)
    }

    /// Starts containerd in the network namespace `netns` (of `ip netns`),
    /// or in the test's own.
    pub fn start_in(runtime: OciRuntime, netns: Option<&str>) -> Option<Self> {
        if !prerequisite(nix::unistd::geteuid().is_root(), "not root") {
            return None;
        }
        let binary = runtime.binary()?;
        let fetch = Command::new(script())
            .arg("fetch")
            .output()
            .expect("run the setup script");
        if !prerequisite(
            fetch.status.success(),
            &format!(
                "containerd 2.x is not obtainable: {}",
                String::from_utf8_lossy(&fetch.stderr).trim()
            ),
        ) {
            return None;
        }
        let bin = PathBuf::from(String::from_utf8(fetch.stdout).unwrap().trim());
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        // Short: socket paths under it are limited to 107 bytes.
        let dir = tempfile::Builder::new()
            .prefix("e2e.")
            .tempdir_in("/tmp")
            .expect("create the containerd directory")
            .keep();
        let containerd = Containerd {
            dir,
            runtime: binary,
            namespace: format!(
                "e2e-{}-{}",
                std::process::id(),
                COUNT.fetch_add(1, Ordering::Relaxed)
            ),
            ctr: bin.join("ctr"),
            ids: Default::default(),
        };
        let start = Command::new(script())
            .arg("start")
            .arg(&containerd.dir)
            .arg(&containerd.namespace)
            .arg(SHIM)
            .env("RUNJ_SHIM_RUNTIME", &containerd.runtime)
            .env("E2E_NETNS", netns.unwrap_or_default())
            // A stock containerd: no runj-specific setting in its
            // environment (its default spec is taken as it is).
            .env_remove("RUNJ_ALLOW_UNSUPPORTED")
            .env_remove("RUNJ_TRUST_ANNOTATIONS")
            .output()
            .expect("run the setup script");
        let stderr = String::from_utf8_lossy(&start.stderr);
        let no_busybox = !start.status.success() && stderr.contains("busybox-static");
        if !prerequisite(
            !no_busybox,
            &format!("the test image cannot be built: {}", stderr.trim()),
        ) {
            return None;
        }
        assert!(start.status.success(), "containerd did not start: {stderr}");
        Some(containerd)
    }

    /// A container id in this instance's namespace (which the tear-down
    /// recognises the container's fifos by).
    pub fn id(&self, name: &str) -> String {
        let id = format!("{}-{name}", self.namespace);
        self.ids.borrow_mut().push(id.clone());
        id
    }

    /// `ctr` for this instance, with a time limit.
    pub fn ctr(&self) -> Command {
        let mut command = Command::new("timeout");
        command
            .args(["-k", "5", CTR_TIMEOUT])
            .arg(&self.ctr)
            .arg("--address")
            .arg(self.dir.join("containerd.sock"))
            .args(["--namespace", &self.namespace])
            .stdin(Stdio::null());
        command
    }

    /// `ctr run --detach` with the shim, which must succeed.
    pub fn run_detached(&self, id: &str, args: &[&str]) {
        let run = ["run", "--detach", "--runtime", RUNTIME, IMAGE, id];
        self.ctr_ok(&[&run[..], args].concat());
    }

    /// `ctr ARGS`, which must succeed: its standard output and error.
    pub fn ctr_ok(&self, args: &[&str]) -> (String, String) {
        let output = self.ctr().args(args).output().expect("run ctr");
        let (code, stdout, stderr) = parts(&output);
        assert_eq!(code, 0, "ctr {args:?}: {stderr}");
        (stdout, stderr)
    }

    /// The same `ctr` command line, for the shell of a terminal session
    /// ([`spawn_terminal`]). `--foreground` keeps `ctr` in the terminal's
    /// foreground process group: in a group of its own (timeout's default)
    /// whose parent shell is still there, as with dash, `ctr -t` is stopped
    /// by SIGTTOU when it puts the terminal in raw mode.
    pub fn ctr_line(&self) -> String {
        format!(
            "timeout --foreground -k 5 {CTR_TIMEOUT} {} --address {} --namespace {}",
            self.ctr.display(),
            self.dir.join("containerd.sock").display(),
            self.namespace
        )
    }

    /// `ctr run --rm` with the shim: its output, once it is done.
    pub fn run(&self, id: &str, args: &[&str]) -> Output {
        self.ctr()
            .args(["run", "--rm", "--runtime", RUNTIME, IMAGE, id])
            .args(args)
            .output()
            .expect("run ctr")
    }

    /// `ctr run --rm` with the shim and the options `extra`, in the
    /// background.
    pub fn spawn_run(&self, extra: &[&str], id: &str, args: &[&str]) -> Running {
        Running::spawn(
            self.ctr()
                .args(["run", "--rm", "--runtime", RUNTIME])
                .args(extra)
                .args([IMAGE, id])
                .args(args),
        )
    }

    /// `ctr task exec` of process `exec_id` in container `id`, in the
    /// background.
    pub fn spawn_exec(&self, id: &str, exec_id: &str, args: &[&str]) -> Running {
        Running::spawn(
            self.ctr()
                .args(["task", "exec", "--exec-id", exec_id, id])
                .args(args),
        )
    }

    /// The bundle containerd made for container `id`.
    pub fn bundle(&self, id: &str) -> PathBuf {
        self.dir
            .join("state/io.containerd.runtime.v2.task")
            .join(&self.namespace)
            .join(id)
    }

    /// containerd's `Tasks.Update` of container `id` with `resources`
    /// (`linux.resources` JSON), sent to its shim as containerd forwards
    /// it: `ctr` 2.x has no `task update`.
    pub fn update(&self, id: &str, resources: &str) -> Result<(), String> {
        use containerd_shim::protos::protobuf::well_known_types::any::Any;
        use containerd_shim::protos::{TaskClient, api::UpdateTaskRequest, ttrpc};
        let address = std::fs::read_to_string(self.bundle(id).join("address"))
            .map_err(|e| format!("the shim's address: {e}"))?;
        let client = ttrpc::Client::connect(address.trim()).map_err(|e| e.to_string())?;
        let request = UpdateTaskRequest {
            id: id.to_string(),
            resources: Some(Any {
                type_url: "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources".into(),
                value: resources.as_bytes().to_vec(),
                ..Any::new()
            })
            .into(),
            ..Default::default()
        };
        let context = ttrpc::context::with_timeout(Duration::from_secs(30).as_nanos() as i64);
        TaskClient::new(client)
            .update(context, &request)
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// `ctr task metrics`'s value of `metric` (`memory.limit_in_bytes`).
    pub fn metric(&self, id: &str, metric: &str) -> u64 {
        let (table, _) = self.ctr_ok(&["task", "metrics", id]);
        table
            .lines()
            .find_map(|line| {
                let mut fields = line.split_whitespace();
                (fields.next() == Some(metric)).then(|| fields.next()?.parse().ok())?
            })
            .unwrap_or_else(|| panic!("no {metric} in:\n{table}"))
    }

    /// The PID of the shim server serving container `id`: the process
    /// started with `-id ID` and this instance's `-address`.
    pub fn shim_pid(&self, id: &str) -> Option<i32> {
        let address = self.dir.join("containerd.sock");
        let wanted = ["-id", id, "-address", address.to_str().expect("UTF-8 path")];
        std::fs::read_dir("/proc")
            .expect("read /proc")
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .find(|pid| {
                let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                    return false;
                };
                let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
                args.windows(wanted.len())
                    .any(|w| w.iter().zip(wanted).all(|(a, b)| *a == b.as_bytes()))
            })
    }

    /// The status `ctr task ls` shows for task `id` (`RUNNING`, `STOPPED`,
    /// …) and its PID; `None` when there is no such task.
    pub fn task(&self, id: &str) -> Option<(String, u32)> {
        let (code, stdout, stderr) = parts(&self.ctr().args(["task", "ls"]).output().unwrap());
        assert_eq!(code, 0, "{stderr}");
        stdout.lines().skip(1).find_map(|line| {
            match line.split_whitespace().collect::<Vec<_>>()[..] {
                [task, pid, status] if task == id => {
                    Some((status.to_string(), pid.parse().expect("a PID")))
                }
                _ => None,
            }
        })
    }

    /// Waits until task `id` has the status `status` (`None`: until it is
    /// gone); fails after 10 s.
    pub fn wait_for_task(&self, id: &str, status: Option<&str>) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let task = self.task(id);
            if task.as_ref().map(|(s, _)| s.as_str()) == status {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "task {id} is {task:?}, not {status:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The OCI state the runtime keeps of container `id` (`runtime state
    /// ID`), or the runtime's complaint.
    pub fn runtime_state(&self, id: &str) -> Result<serde_json::Value, String> {
        let state = Command::new(&self.runtime)
            .arg("--root")
            .arg(self.dir.join("runtime").join(&self.namespace))
            .args(["state", id])
            .output()
            .expect("run the runtime");
        let (code, stdout, stderr) = parts(&state);
        match code {
            0 => Ok(serde_json::from_str(&stdout).expect("the state is JSON")),
            _ => Err(stderr),
        }
    }

    /// The directory holding this instance's state.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Asserts that nothing is left of the containers run so far: no
    /// process (shim, runtime, container), mount, runtime or task state or
    /// shim socket. Shims exit just after containerd's last request, so
    /// this waits a little for them.
    pub fn assert_clean(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let leftovers = Command::new(script())
                .arg("leftovers")
                .arg(&self.dir)
                .args(self.ids.borrow().iter())
                .output()
                .expect("run the setup script");
            if leftovers.status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "left behind:\n{}{}",
                String::from_utf8_lossy(&leftovers.stdout),
                String::from_utf8_lossy(&leftovers.stderr)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let stopped = Command::new(script())
            .arg("stop")
            .arg(&self.dir)
            .status()
            .expect("run the setup script");
        if !stopped.success() && !std::thread::panicking() {
            panic!("tear-down of {} failed", self.dir.display());
        }
    }
}

/// A command in the background, its stdio piped.
///
/// `ctr` closes its ends of a process's output fifos once the process has
/// exited (cio's Cancel: `ctr run` before it deletes the task, `ctr task
/// exec` right after it deletes the process), so output still in a fifo
/// then is lost, with containerd's own runc shim as with this one. So a
/// scenario reads the output it checks while the process still runs: the
/// process writes, then waits for the line on stdin that [`Running::finish`]
/// sends.
pub struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr: BufReader<ChildStderr>,
}

impl Running {
    fn spawn(command: &mut Command) -> Self {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the command");
        Running {
            stdin: child.stdin.take(),
            stdout: BufReader::new(child.stdout.take().expect("piped")),
            stderr: BufReader::new(child.stderr.take().expect("piped")),
            child,
        }
    }

    /// The next line of stdout, or `None` at its end.
    pub fn line(&mut self) -> Option<String> {
        read_line(&mut self.stdout)
    }

    /// The next line of stderr, or `None` at its end.
    pub fn stderr_line(&mut self) -> Option<String> {
        read_line(&mut self.stderr)
    }

    /// Asserts that the next line of stdout is `wanted`.
    pub fn expect(&mut self, wanted: &str) {
        let line = self.line();
        assert_eq!(line.as_deref(), Some(wanted), "the next line of output");
    }

    /// The lines of stdout before the line `end`.
    pub fn lines_until(&mut self, end: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            match self.line() {
                Some(line) if line == end => return lines,
                Some(line) => lines.push(line),
                None => panic!("the output ended before {end:?}: {lines:?}"),
            }
        }
    }

    /// Sends a line to stdin (for the process, if it waits for one), closes
    /// stdin and waits for the command: its exit code and the rest of its
    /// stdout and stderr.
    pub fn finish(mut self) -> (i32, String, String) {
        if let Some(mut stdin) = self.stdin.take() {
            // The command may be gone already.
            let _ = stdin.write_all(b"\n");
        }
        let mut rest = String::new();
        self.stdout
            .read_to_string(&mut rest)
            .expect("read the output");
        let mut stderr = String::new();
        self.stderr
            .read_to_string(&mut stderr)
            .expect("read the output");
        let status = self.child.wait().expect("the command finishes");
        (status.code().unwrap_or(-1), rest, stderr)
    }
}

/// A line without its end; a terminal's `\r` and the stray NUL a `ctr -t`
/// session starts with (the byte, or `^@` as a terminal echoes it) removed.
fn read_line(reader: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    let read = reader.read_line(&mut line).expect("read the output");
    (read > 0).then(|| {
        line.trim_end_matches('\n')
            .replace("^@", "")
            .replace(['\r', '\0'], "")
    })
}

/// `output`'s exit code, stdout and stderr.
pub fn parts(output: &Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `command_line` (a shell command line) under script(1), which gives it
/// the terminal `ctr -t` needs, in the background.
pub fn spawn_terminal(command_line: &str) -> Running {
    Running::spawn(Command::new("script").args(["-qec", command_line, "/dev/null"]))
}
