//! Bridge networking end to end on the Linux backend, with real traffic.
//! Each test makes its own network namespace and runs every `runj` in it
//! (`nsenter --net`), so the bridge, its gateway address and every jail's
//! veth live in namespaces the test made and no packet reaches the
//! machine's own network; the namespace is removed afterwards. Needs root
//! and busybox-static; skipped elsewhere (failed under `CI=true`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{is_static, prerequisite};
use serde_json::{Value, json};

const BUSYBOX: &str = "/bin/busybox";
const BRIDGE: &str = "rt0";
const SUBNET: &str = "10.231.0.0/24";
const GATEWAY: &str = "10.231.0.1";

/// A network namespace of the test's, a runtime root and a busybox root
/// file system the containers share.
struct Net {
    netns: String,
    dir: tempfile::TempDir,
}

impl Net {
    fn new(tag: &str) -> Option<Net> {
        let root = nix::unistd::geteuid().is_root();
        if !prerequisite(root, "the network tests need root") {
            return None;
        }
        let tools = is_static(Path::new(BUSYBOX)) && Path::new("/usr/bin/nsenter").exists();
        if !prerequisite(
            tools,
            "the network tests need busybox-static and nsenter (apt install busybox-static util-linux)",
        ) {
            return None;
        }
        let net = Net {
            netns: format!("runj-{}-{tag}", std::process::id()),
            dir: tempfile::tempdir().unwrap(),
        };
        let made = Command::new("ip")
            .args(["netns", "add", &net.netns])
            .status()
            .unwrap();
        assert!(made.success(), "ip netns add {}", net.netns);
        let bin = net.rootfs().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::copy(BUSYBOX, bin.join("busybox")).unwrap();
        for applet in [
            "sh", "sleep", "ping", "ping6", "nc", "hostname", "ip", "cat",
        ] {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
        }
        Some(net)
    }

    fn rootfs(&self) -> PathBuf {
        self.dir.path().join("rootfs")
    }

    fn state_root(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// A program run in the test's namespace.
    fn inside(&self, program: &str) -> Command {
        let mut command = Command::new("nsenter");
        command
            .arg(format!("--net=/run/netns/{}", self.netns))
            .arg(program)
            .stdin(Stdio::null());
        command
    }

    fn runj(&self, args: &[&str]) -> Command {
        let mut command = self.inside(env!("CARGO_BIN_EXE_runj"));
        command.arg("--root").arg(self.state_root()).args(args);
        command
    }

    fn ok(&self, args: &[&str]) -> Output {
        common::succeeds(self.runj(args), args)
    }

    fn fails(&self, args: &[&str]) -> String {
        common::fails(self.runj(args), args)
    }

    /// A bundle for container `id`: hostname `id`, `script` as its
    /// process, on the bridge with `families` (`ipv4`, `ipv6`: an address
    /// or a subnet each).
    fn bundle(&self, id: &str, script: &str, families: Value) -> PathBuf {
        let bundle = self.dir.path().join("bundles").join(id);
        std::fs::create_dir_all(&bundle).unwrap();
        let config = json!({
            "ociVersion": "1.3.0",
            "root": { "path": self.rootfs() },
            "hostname": id,
            "process": {
                "args": ["sh", "-c", script],
                "cwd": "/",
                "env": ["PATH=/bin"],
                "user": { "uid": 0, "gid": 0 }
            }
        });
        let mut bridge = families;
        bridge["name"] = json!(BRIDGE);
        let ext = json!({ "network": { "vnet": { "mode": "new", "bridge": bridge } } });
        std::fs::write(bundle.join("config.json"), config.to_string()).unwrap();
        std::fs::write(bundle.join("runj.ext.json"), ext.to_string()).unwrap();
        bundle
    }

    /// `runj create`, started: its output goes to a file, as the
    /// container process keeps what it inherits open.
    fn spawn_create(&self, id: &str, bundle: &Path) -> (std::process::Child, PathBuf) {
        let log = self.dir.path().join(format!("create-{id}.log"));
        let child = self
            .runj(&["create", id, "-b", bundle.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        (child, log)
    }

    /// `runj create`: its error output when it fails.
    fn create(&self, id: &str, bundle: &Path) -> Result<(), String> {
        let (mut child, log) = self.spawn_create(id, bundle);
        match child.wait().unwrap().success() {
            true => Ok(()),
            false => Err(std::fs::read_to_string(log).unwrap()),
        }
    }

    /// Creates and starts `id` from its bundle.
    fn run(&self, id: &str, script: &str, families: Value) {
        let bundle = self.bundle(id, script, families);
        self.create(id, &bundle).unwrap();
        self.ok(&["start", id]);
    }

    /// Runs `args` in container `id`'s jail; its output.
    fn exec(&self, id: &str, args: &[&str]) -> Output {
        let file = self.dir.path().join(format!("process-{id}.json"));
        let process = json!({ "args": args, "cwd": "/", "env": ["PATH=/bin"],
            "user": { "uid": 0, "gid": 0 } });
        std::fs::write(&file, process.to_string()).unwrap();
        self.runj(&["exec", id, "--process", file.to_str().unwrap()])
            .output()
            .unwrap()
    }

    /// Container `id`'s IPv4 address, as its lease records it.
    fn address(&self, id: &str) -> String {
        self.leased(id, "ipv4")
    }

    /// Container `id`'s address of `family`, as its lease records it.
    fn leased(&self, id: &str, family: &str) -> String {
        let file = self.state_root().join(format!(".network/{id}.json"));
        let lease: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        lease[family]["address"].as_str().unwrap().to_string()
    }

    /// The interfaces of the test's namespace.
    fn links(&self) -> Vec<String> {
        let out = Command::new("ip")
            .args(["-n", &self.netns, "-o", "link", "show"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|name| name.split('@').next().unwrap().to_string())
            .collect()
    }

    /// The epairs (veth pairs) of the test's namespace, sorted.
    fn epairs(&self) -> Vec<String> {
        let mut epairs: Vec<String> = self
            .links()
            .into_iter()
            .filter(|l| l.starts_with("epair"))
            .collect();
        epairs.sort();
        epairs
    }

    /// The leases under the runtime root.
    fn leases(&self) -> Vec<String> {
        match std::fs::read_dir(self.state_root().join(".network")) {
            Ok(entries) => {
                let mut names: Vec<String> = entries
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".json"))
                    .collect();
                names.sort();
                names
            }
            Err(_) => Vec::new(),
        }
    }

    /// `ping -c 1` (`ping6` for IPv6) from container `from`, or from the
    /// test's namespace.
    fn pings(&self, from: Option<&str>, to: &str) -> bool {
        let ping = if to.contains(':') { "ping6" } else { "ping" };
        let args = [ping, "-c", "1", "-W", "2", to];
        match from {
            Some(id) => self.exec(id, &args).status.success(),
            None => self
                .inside(BUSYBOX)
                .args(args)
                .stdout(Stdio::null())
                .status()
                .unwrap()
                .success(),
        }
    }

    /// What the TCP server at `to:8080` answers, from container `from` or
    /// from the test's namespace; at most 20 tries over 2 s (the server
    /// may still be starting).
    fn fetch(&self, from: Option<&str>, to: &str) -> String {
        let args = ["nc", "-w", "2", to, "8080"];
        let deadline = Instant::now() + Duration::from_secs(2);
        for _ in 0..20 {
            let out = match from {
                Some(id) => self.exec(id, &args),
                None => self.inside(BUSYBOX).args(args).output().unwrap(),
            };
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !text.is_empty() || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        String::new()
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if let Ok(out) = self.runj(&["list", "-q"]).output() {
            for id in String::from_utf8_lossy(&out.stdout).lines() {
                let _ = self.runj(&["delete", "--force", id]).output();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.netns])
            .status();
    }
}

/// The TCP server each reachable container runs: its hostname to whoever
/// connects.
const SERVER: &str = "nc -ll -p 8080 -e hostname";

fn address(a: &str) -> Value {
    json!({ "ipv4": { "address": format!("{a}/24"), "gateway": GATEWAY } })
}

fn subnet() -> Value {
    json!({ "ipv4": { "subnet": SUBNET, "gateway": GATEWAY } })
}

/// Two containers on one bridge reach each other and the gateway, by
/// ping and TCP, and the test's namespace reaches them through the
/// bridge; a third with `subnet` gets the next free address, which `runj
/// plan` shows beforehand; once all are
/// deleted no veth, address or lease is left, and the bridge stays until
/// `runj network rm`.
#[test]
fn containers_on_a_bridge_reach_each_other_and_the_host() {
    let Some(net) = Net::new("reach") else { return };
    net.run("a", SERVER, address("10.231.0.5"));
    net.run("b", SERVER, subnet());
    let b = net.address("b");
    assert_eq!(
        b, "10.231.0.2",
        "the first free address (the gateway is .1)"
    );
    assert!(net.pings(Some("a"), &b), "a pings b");
    assert!(net.pings(Some("b"), "10.231.0.5"), "b pings a");
    assert!(net.pings(Some("a"), GATEWAY), "a pings the gateway");
    assert!(net.pings(Some("b"), GATEWAY), "b pings the gateway");
    assert!(net.pings(None, &b), "the host pings b");
    assert_eq!(net.fetch(Some("b"), "10.231.0.5"), "a", "b connects to a");
    assert_eq!(net.fetch(Some("a"), &b), "b", "a connects to b");
    assert_eq!(net.fetch(None, "10.231.0.5"), "a", "the host connects to a");
    let inside = net.exec("a", &["ip", "-o", "addr", "show", "dev", "epair0b"]);
    let inside = String::from_utf8_lossy(&inside.stdout).into_owned();
    assert!(inside.contains("inet 10.231.0.5/24"), "{inside}");

    let c = net.bundle("c", "sleep 600", subnet());
    let shown = net.ok(&["plan", c.to_str().unwrap(), "--id", "c"]).stdout;
    let shown = String::from_utf8_lossy(&shown).into_owned();
    assert!(
        shown.contains("vnet.interface = epair2b;")
            && shown.contains("/sbin/ifconfig epair2b inet 10.231.0.3/24 up"),
        "runj plan shows what the create takes: {shown}"
    );
    net.run("c", "sleep 600", subnet());
    assert_eq!(net.address("c"), "10.231.0.3");
    assert_eq!(net.epairs(), ["epair0a", "epair1a", "epair2a"]);
    let refused = net.fails(&["network", "rm", BRIDGE]);
    assert!(
        refused.contains("bridge rt0 is used by container a, b, c"),
        "{refused}"
    );

    for id in ["a", "b", "c"] {
        net.ok(&["kill", id, "KILL"]);
        wait_stopped(&net, id);
        net.ok(&["delete", id]);
    }
    assert_eq!(net.epairs(), Vec::<String>::new());
    assert_eq!(net.leases(), Vec::<String>::new());
    assert!(
        net.links().contains(&BRIDGE.to_string()),
        "the bridge is kept"
    );
    let gateway = Command::new("ip")
        .args(["-n", &net.netns, "-o", "addr", "show", "dev", BRIDGE])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&gateway.stdout).contains("inet 10.231.0.1/24"));
    net.ok(&["network", "rm", BRIDGE]);
    assert!(!net.links().contains(&BRIDGE.to_string()));
    let again = net.fails(&["network", "rm", BRIDGE]);
    assert!(again.contains("there is no bridge rt0"), "{again}");
    let not_a_bridge = net.fails(&["network", "rm", "lo"]);
    assert!(
        not_a_bridge.contains("there is no bridge lo"),
        "{not_a_bridge}"
    );
    assert!(net.links().contains(&"lo".to_string()));
}

fn wait_stopped(net: &Net, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state: Value = serde_json::from_slice(&net.ok(&["state", id]).stdout).unwrap();
        if state["status"] == "stopped" {
            return;
        }
        assert!(Instant::now() < deadline, "{id} did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// IPv6 on a bridge: a fixed address and the next free one of a subnet,
/// each container pinging the other and the gateway, and a TCP server
/// reached from the test's namespace, besides IPv4 on the same epairs.
#[test]
fn ipv6_on_a_bridge() {
    let Some(net) = Net::new("ipv6") else { return };
    let families = |v6: Value| {
        let mut both = subnet();
        both["ipv6"] = v6;
        both
    };
    net.run(
        "a",
        SERVER,
        families(json!({ "address": "fd00:231::5/64", "gateway": "fd00:231::1" })),
    );
    net.run(
        "b",
        "sleep 600",
        families(json!({ "subnet": "fd00:231::/64", "gateway": "fd00:231::1" })),
    );
    let b = net.leased("b", "ipv6");
    assert_eq!(b, "fd00:231::2", "the first free address after the gateway");
    assert!(net.pings(Some("a"), &b), "a pings b");
    assert!(net.pings(Some("b"), "fd00:231::5"), "b pings a");
    assert!(net.pings(Some("b"), "fd00:231::1"), "b pings the gateway");
    assert_eq!(
        net.fetch(None, "fd00:231::5"),
        "a",
        "the host connects to a"
    );
    assert!(net.pings(Some("b"), &net.address("a")), "and over IPv4");
}

/// An epair some other tool made is passed over: the container gets the
/// next unit, and deleting it leaves the other tool's pair alone.
#[test]
fn an_epair_of_another_tool_is_passed_over() {
    let Some(net) = Net::new("stranger") else {
        return;
    };
    let made = Command::new("ip")
        .args(["-n", &net.netns, "link", "add", "epair0a", "type", "veth"])
        .args(["peer", "name", "epair0b"])
        .status()
        .unwrap();
    assert!(made.success());
    net.run("a", "sleep 600", subnet());
    let file = net.state_root().join(".network/a.json");
    let lease: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    assert_eq!(lease["epair"], 1);
    let inside = net.exec("a", &["ip", "-o", "link", "show", "dev", "epair1b"]);
    assert!(inside.status.success(), "the jail has epair1b");
    net.ok(&["delete", "--force", "a"]);
    assert_eq!(net.epairs(), ["epair0a", "epair0b"]);
}

/// An address another container holds is refused before anything is
/// made; a create that fails after wiring (a `createRuntime` hook that
/// fails) unwinds it: no veth, no lease.
#[test]
fn a_taken_address_is_refused_and_a_failed_create_unwinds() {
    let Some(net) = Net::new("rollback") else {
        return;
    };
    net.run("a", "sleep 600", address("10.231.0.5"));
    let bundle = net.bundle("d", "sleep 600", address("10.231.0.5"));
    let err = net.create("d", &bundle).unwrap_err();
    assert!(
        err.contains("address 10.231.0.5 on bridge rt0 is taken by container \"a\""),
        "{err}"
    );
    assert_eq!(net.epairs(), ["epair0a"]);
    assert_eq!(net.leases(), ["a.json"]);

    let bundle = net.bundle("e", "sleep 600", subnet());
    let mut config: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("config.json")).unwrap()).unwrap();
    config["hooks"] = json!({ "createRuntime": [{ "path": "/bin/false" }] });
    std::fs::write(bundle.join("config.json"), config.to_string()).unwrap();
    let err = net.create("e", &bundle).unwrap_err();
    assert!(err.contains("createRuntime"), "{err}");
    assert_eq!(
        net.epairs(),
        ["epair0a"],
        "the failed create's epair is gone"
    );
    assert_eq!(net.leases(), ["a.json"], "and its lease: {err}");
    assert!(
        net.pings(Some("a"), GATEWAY),
        "the other container is untouched"
    );
}

/// Concurrent creates (separate processes) on one subnet never get the
/// same unit or address.
#[test]
fn concurrent_creates_get_distinct_addresses() {
    let Some(net) = Net::new("concurrent") else {
        return;
    };
    let ids: Vec<String> = (0..6).map(|n| format!("p{n}")).collect();
    let children: Vec<_> = ids
        .iter()
        .map(|id| net.spawn_create(id, &net.bundle(id, "sleep 600", subnet())))
        .collect();
    for (mut child, log) in children {
        let ok = child.wait().unwrap().success();
        assert!(ok, "{}", std::fs::read_to_string(log).unwrap());
    }
    let mut addresses: Vec<String> = ids.iter().map(|id| net.address(id)).collect();
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), ids.len(), "{addresses:?}");
    assert_eq!(net.epairs().len(), ids.len());
    for id in &ids {
        net.ok(&["delete", "--force", id]);
    }
    assert_eq!(net.epairs(), Vec::<String>::new());
    assert_eq!(net.leases(), Vec::<String>::new());
}

/// `runj create` killed (SIGKILL) at points spread over its run:
/// `delete --force` leaves no veth and no lease, and the next create gets
/// the first address again.
#[test]
fn create_killed_anywhere_leaves_no_network_after_delete_force() {
    let Some(net) = Net::new("killed") else {
        return;
    };
    let bundle = net.bundle("k", "sleep 600", subnet());
    let create = || {
        net.runj(&["create", "k", "-b", bundle.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    common::kill_at_spread_points(40, create, |round, delay| {
        net.ok(&["delete", "--force", "k"]);
        assert_eq!(
            net.epairs(),
            Vec::<String>::new(),
            "round {round} ({delay:?})"
        );
        assert_eq!(net.leases(), Vec::<String>::new(), "round {round}");
    });
    assert!(create().wait().unwrap().success());
    assert_eq!(net.address("k"), "10.231.0.2");
    net.ok(&["delete", "--force", "k"]);
}
