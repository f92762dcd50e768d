//! A runtime root and a bundle whose root file system is the host's static
//! busybox, for the tests that run containers on the Linux backend.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{is_static, prerequisite, runj};

/// Where the Linux backend makes its jails' cgroups, in each hierarchy.
const CGROUP_PARENTS: &[&str] = &[
    "/sys/fs/cgroup/runj",
    "/sys/fs/cgroup/memory/runj",
    "/sys/fs/cgroup/pids/runj",
    "/sys/fs/cgroup/cpu/runj",
    "/sys/fs/cgroup/cpuacct/runj",
];

/// The static busybox Debian's busybox-static installs.
pub const BUSYBOX: &str = "/bin/busybox";

/// A runtime root and a bundle with a busybox root file system.
pub struct Lab {
    pub dir: tempfile::TempDir,
}

impl Lab {
    pub fn new() -> Option<Lab> {
        let root = nix::unistd::geteuid().is_root();
        if !prerequisite(root, "the lifecycle tests need root") {
            return None;
        }
        let busybox = is_static(Path::new(BUSYBOX));
        if !prerequisite(
            busybox,
            "the lifecycle tests need busybox-static (apt install busybox-static)",
        ) {
            return None;
        }
        let lab = Lab {
            dir: tempfile::tempdir().unwrap(),
        };
        let bin = lab.rootfs().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::copy(BUSYBOX, bin.join("busybox")).unwrap();
        for applet in [
            "sh", "echo", "cat", "hostname", "sleep", "id", "pwd", "ip", "touch", "ls", "true",
            "cut", "wc", "awk",
        ] {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
        }
        std::fs::create_dir_all(lab.rootfs().join("tmp")).unwrap();
        Some(lab)
    }

    pub fn bundle(&self) -> PathBuf {
        self.dir.path().join("bundle")
    }

    pub fn rootfs(&self) -> PathBuf {
        self.bundle().join("rootfs")
    }

    pub fn state_root(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Writes config.json: a process running `script` with `extra` merged in.
    pub fn config(&self, script: &str, extra: Value) {
        let mut config = json!({
            "ociVersion": "1.3.0",
            "root": { "path": "rootfs" },
            "process": {
                "args": ["sh", "-c", script],
                "cwd": "/",
                "env": ["PATH=/bin"],
                "user": { "uid": 0, "gid": 0 }
            }
        });
        merge(&mut config, extra);
        std::fs::write(self.bundle().join("config.json"), config.to_string()).unwrap();
    }

    pub fn runj(&self, args: &[&str]) -> Command {
        let mut command = runj(["--root", self.state_root().to_str().unwrap()]);
        command.args(args);
        command
    }

    pub fn ok(&self, args: &[&str]) -> Output {
        super::succeeds(self.runj(args), args)
    }

    /// Runs runj expecting a failure; its standard error.
    pub fn fails(&self, args: &[&str]) -> String {
        super::fails(self.runj(args), args)
    }

    /// Writes `text` as the lab's jail.conf; returns `FILE#JAIL` for `jail`.
    pub fn jail_conf(&self, text: &str, jail: &str) -> String {
        let conf = self.dir.path().join("jail.conf");
        std::fs::write(&conf, text).unwrap();
        format!("{}#{jail}", conf.display())
    }

    /// `create` with the container's output going to `out.log`.
    pub fn create(&self, id: &str) {
        let log = std::fs::File::create(self.dir.path().join("out.log")).unwrap();
        let bundle = self.bundle();
        let status = self
            .runj(&["create", id, "--bundle", bundle.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .status()
            .unwrap();
        assert!(status.success(), "create: {}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("out.log")).unwrap_or_default()
    }

    pub fn state(&self, id: &str) -> Value {
        serde_json::from_slice(&self.ok(&["state", id]).stdout).unwrap()
    }

    pub fn wait_for_status(&self, id: &str, status: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.state(id)["status"] != status {
            assert!(Instant::now() < deadline, "{id} never became {status}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The cgroups of this lab's jails: named `DEV-INO-JID` after the
    /// registry directory.
    pub fn cgroups(&self) -> Vec<PathBuf> {
        use std::os::unix::fs::MetadataExt;
        let Ok(registry) = std::fs::metadata(self.state_root().join(".jails")) else {
            return Vec::new();
        };
        let prefix = format!("{}-{}-", registry.dev(), registry.ino());
        CGROUP_PARENTS
            .iter()
            .filter_map(|parent| std::fs::read_dir(parent).ok())
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| e.path())
            .collect()
    }

    /// No mount below the lab, no jail in the registry, no cgroup, no
    /// container.
    pub fn assert_clean(&self) {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let lab = self.dir.path().to_str().unwrap();
        let left: Vec<&str> = mounts.lines().filter(|l| l.contains(lab)).collect();
        assert!(left.is_empty(), "mounts left: {left:#?}");
        let jails = self.state_root().join(".jails");
        let registered: Vec<_> = std::fs::read_dir(&jails)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.path().is_dir())
                    .collect()
            })
            .unwrap_or_default();
        assert!(registered.is_empty(), "jails left: {registered:?}");
        let cgroups = self.cgroups();
        assert!(cgroups.is_empty(), "cgroups left: {cgroups:?}");
        let listed = self.ok(&["list", "--quiet"]).stdout;
        assert!(
            listed.is_empty(),
            "containers left: {}",
            String::from_utf8_lossy(&listed)
        );
    }
}

pub fn merge(into: &mut Value, extra: Value) {
    match (into, extra) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
