//! The `linux` backend: FreeBSD jails emulated on Linux, for development
//! and CI. A jail is a set of namespaces kept alive by bind mounts of their
//! `/proc/PID/ns` files in a registry directory (as `ip netns` keeps network
//! namespaces): always a UTS namespace (the hostname, and the jail's
//! identity: its processes are those in it), an IPC namespace unless System
//! V IPC is inherited, and a network namespace with loopback up unless the
//! jail inherits the host's stack (`ip4`/`ip6` `inherit` without `vnet`).
//! Joining a jail is setns(2) into them plus chroot(2) into its path, which
//! is what jail_attach(2) does to a process on FreeBSD.
//!
//! Mounts are made in the host's mount namespace, under the jail's path,
//! exactly where jail(8) makes them on FreeBSD: a jail sees them through its
//! root, the host sees them too, and they stay until unmounted.
//!
//! What is emulated: `name`, `path`, `host.hostname`, `vnet`, `ip4`, `ip6`,
//! `ip4.addr`/`ip6.addr` (added to the jail's loopback), `allow.sysvipc` and
//! `sysv*`, `persist` (every emulated jail persists until removed), and a
//! plan's bridge networking ([`bridge`]). Other
//! kernel parameters are accepted and reported as not enforced by
//! [`LinuxHost::take_warnings`].

mod bridge;
mod cgroup;
mod identity;
mod mount;
mod newmount;
pub mod secure;

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::Flock;
use nix::mount::{MntFlags, MsFlags, umount2};
use nix::sched::{CloneFlags, setns};
use nix::unistd::{Pid, chdir, chroot, sethostname};
use serde::{Deserialize, Serialize};

use runj_translator::bridge::Action;
use runj_translator::plan::ExecOptions;

use crate::child::{Ended, run_program, spawn, wait};
use crate::error::{Context, Error, Result};
use crate::host::{Alias, Attach, Command, Host, JailRef, Jid, MountPoint, kill, run_placed};
use crate::journal::{Identity, Journal};
use crate::params::{JailSys, Param, ParamValue};
use crate::usage::Usage;
use cgroup::Cgroup;
use runj_translator::rctl::{Rule, Rules};

/// Parameters the emulation acts on; the others are only reported.
const EMULATED: &[&str] = &[
    "jid",
    "name",
    "path",
    "host",
    "host.hostname",
    "vnet",
    "ip4",
    "ip6",
    "ip4.addr",
    "ip6.addr",
    "persist",
    "allow.sysvipc",
    "sysvmsg",
    "sysvsem",
    "sysvshm",
];

/// The emulated system: jails are kept under `registry`.
#[derive(Debug)]
pub struct LinuxHost {
    registry: PathBuf,
    warnings: Vec<String>,
}

/// What the registry keeps of a jail (`<registry>/<name>/jail.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Record {
    jid: Jid,
    name: String,
    path: PathBuf,
    hostname: Option<String>,
    /// A namespace of its own, per kind.
    net: bool,
    ipc: bool,
    addresses: Vec<String>,
    /// Its cgroup, under each hierarchy's `runj/` ([`cgroup`]), when the
    /// system has one.
    #[serde(default)]
    cgroup: Option<String>,
    /// The rctl rules in force, as the cgroup's limits.
    #[serde(default)]
    rules: Rules,
}

impl LinuxHost {
    /// A host whose jails are registered under `registry`.
    pub fn new(registry: impl Into<PathBuf>) -> Self {
        LinuxHost {
            registry: registry.into(),
            warnings: Vec::new(),
        }
    }

    /// What the emulation did not enforce since last asked.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.registry.join(name)
    }

    fn lock(&self) -> Result<Flock<File>> {
        crate::journal::lock(&self.registry)
    }

    fn records(&self) -> Result<Vec<Record>> {
        let entries = match std::fs::read_dir(&self.registry) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::os(format!("read {}", self.registry.display()), e)),
        };
        Ok(entries
            .filter_map(|e| e.ok())
            .filter_map(|e| std::fs::read(e.path().join("jail.json")).ok())
            .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
            .collect())
    }

    fn record(&self, jid: Jid) -> Result<Record> {
        self.records()?
            .into_iter()
            .find(|r| r.jid == jid)
            .ok_or_else(|| {
                Error::os(
                    format!("jail {jid}"),
                    std::io::Error::from_raw_os_error(libc::ENOENT),
                )
            })
    }

    /// The namespace files of a jail, in the order a process joins them.
    fn namespaces(&self, record: &Record) -> Vec<(PathBuf, CloneFlags)> {
        let dir = self.dir(&record.name);
        let mut all = Vec::new();
        if record.net {
            all.push((dir.join("net"), CloneFlags::CLONE_NEWNET));
        }
        if record.ipc {
            all.push((dir.join("ipc"), CloneFlags::CLONE_NEWIPC));
        }
        all.push((dir.join("uts"), CloneFlags::CLONE_NEWUTS));
        all
    }

    fn record_from(&mut self, params: &[Param]) -> Result<Record> {
        let mut record = Record {
            jid: 0,
            name: String::new(),
            path: PathBuf::from("/"),
            hostname: None,
            net: true,
            ipc: true,
            addresses: Vec::new(),
            cgroup: None,
            rules: Rules::default(),
        };
        let mut inherit_net = false;
        let mut vnet = false;
        for p in params {
            match (p.name.as_str(), &p.value) {
                ("jid", ParamValue::Int(j)) => record.jid = *j,
                ("name", ParamValue::Str { text, .. }) => record.name = text.clone(),
                ("path", ParamValue::Str { text, .. }) => record.path = PathBuf::from(text),
                ("host.hostname", ParamValue::Str { text, .. }) => {
                    record.hostname = Some(text.clone())
                }
                ("vnet", _) => vnet = p.jailsys() == Some(JailSys::New),
                ("ip4" | "ip6", _) => inherit_net |= p.jailsys() == Some(JailSys::Inherit),
                ("allow.sysvipc", ParamValue::Bool(true)) => record.ipc = false,
                ("sysvmsg" | "sysvsem" | "sysvshm", _) if p.jailsys() == Some(JailSys::Inherit) => {
                    record.ipc = false
                }
                ("ip4.addr", ParamValue::Ip4(list)) => record
                    .addresses
                    .extend(list.iter().map(|a| format!("{a}/32"))),
                ("ip6.addr", ParamValue::Ip6(list)) => record
                    .addresses
                    .extend(list.iter().map(|a| format!("{a}/128"))),
                (name, _) if EMULATED.contains(&name) => {}
                (_, _) => self
                    .warnings
                    .push(format!("{p}: not enforced by the Linux emulation")),
            }
        }
        record.net = vnet || !inherit_net;
        Ok(record)
    }

    fn make(&self, record: &Record) -> Result<()> {
        let files = self.namespaces(record);
        for (file, _) in &files {
            File::create(file).context(|| format!("create {}", file.display()))?;
        }
        let flags = files
            .iter()
            .fold(CloneFlags::empty(), |all, (_, f)| all | *f);
        let hostname = record.hostname.clone();
        let net = record.net;
        in_child(&format!("create jail {}", record.name), move || {
            unshare(flags).map_err(|e| format!("unshare: {}", e.desc()))?;
            if let Some(h) = &hostname {
                sethostname(h).map_err(|e| format!("sethostname {h}: {}", e.desc()))?;
            }
            if net {
                loopback_up().map_err(|e| format!("bring up loopback: {e}"))?;
            }
            for (file, flag) in &files {
                let kind = namespace_name(*flag);
                nix::mount::mount(
                    Some(format!("/proc/self/ns/{kind}").as_str()),
                    file.as_path(),
                    None::<&str>,
                    MsFlags::MS_BIND,
                    None::<&str>,
                )
                .map_err(|e| {
                    format!(
                        "keep the {kind} namespace at {}: {}",
                        file.display(),
                        e.desc()
                    )
                })?;
            }
            Ok(())
        })?;
        for address in &record.addresses {
            self.in_jail_net(record, &["addr", "add", address, "dev", "lo"])?;
        }
        Ok(())
    }

    /// Enters a jail in the registry before anything of it exists: its
    /// record is written in a pending directory that is then renamed into
    /// place, so that a jail directory always has its record and a create
    /// killed at any point leaves a jail `find` finds and `remove` removes
    /// (or only a pending directory, which holds nothing else).
    fn register(&self, record: &Record) -> Result<()> {
        self.sweep(&record.name)?;
        let pending = self.pending(&record.name);
        std::fs::create_dir(&pending).context(|| format!("create {}", pending.display()))?;
        let json = serde_json::to_vec_pretty(record).expect("a record serializes");
        crate::state::write_atomically(&pending.join("jail.json"), &json)?;
        let dir = self.dir(&record.name);
        std::fs::rename(&pending, &dir).context(|| format!("create {}", dir.display()))
    }

    fn pending(&self, name: &str) -> PathBuf {
        self.registry.join(format!(".pending-{name}"))
    }

    /// Removes what a create killed before its rename left (under the lock).
    fn sweep(&self, name: &str) -> Result<()> {
        let pending = self.pending(name);
        match std::fs::remove_dir_all(&pending) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::os(format!("remove {}", pending.display()), e))
            }
            _ => Ok(()),
        }
    }

    /// Runs `ip ARGS` in the jail's network namespace.
    fn in_jail_net(&self, record: &Record, args: &[&str]) -> Result<()> {
        let net = File::open(self.dir(&record.name).join("net"))
            .context(|| "open the jail's network namespace".into())?;
        let mut argv = vec!["ip".to_string()];
        argv.extend(args.iter().map(|a| a.to_string()));
        run_ip(&argv, Some(net.as_fd()))
    }

    /// A jail's cgroup name, unique to this registry (its device and inode)
    /// and the jail's id: `DEV-INO-JID`.
    fn cgroup_leaf(&self, jid: Jid) -> Result<String> {
        let meta = std::fs::metadata(&self.registry)
            .context(|| format!("stat {}", self.registry.display()))?;
        Ok(format!("{}-{}-{jid}", meta.dev(), meta.ino()))
    }

    fn cgroup(&self, record: &Record) -> Option<Cgroup> {
        record
            .cgroup
            .as_deref()
            .and_then(|leaf| Cgroup::find(leaf).ok())
    }

    /// Replaces a jail's record (under the lock).
    fn save(&self, record: &Record) -> Result<()> {
        let json = serde_json::to_vec_pretty(record).expect("a record serializes");
        crate::state::write_atomically(&self.dir(&record.name).join("jail.json"), &json)
    }

    /// The running jail's record, with its cgroup.
    fn limited(&self, jail: &JailRef) -> Result<(Record, Cgroup)> {
        let record = self.record(running(jail)?)?;
        let cgroup = self
            .cgroup(&record)
            .ok_or_else(|| Error::Unsupported(format!("jail \"{}\" has no cgroup", record.name)))?;
        Ok((record, cgroup))
    }

    /// Writes the record's rules as its cgroup's limits and keeps them.
    fn enforce(&mut self, record: &Record, cgroup: &Cgroup) -> Result<()> {
        for rule in cgroup.apply(&record.rules)? {
            self.warnings.push(format!(
                "rctl rule {rule}: not enforced by the Linux emulation"
            ));
        }
        self.save(record)
    }

    fn unmake(&self, name: &str) -> Result<()> {
        let dir = self.dir(name);
        let record: Option<Record> = std::fs::read(dir.join("jail.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        if let Some(cgroup) = record.as_ref().and_then(|r| self.cgroup(r)) {
            cgroup.remove()?;
        }
        for kind in ["net", "ipc", "uts"] {
            let file = dir.join(kind);
            if file.exists() {
                match umount2(&file, MntFlags::MNT_DETACH) {
                    Ok(()) | Err(nix::Error::EINVAL) => {}
                    Err(e) => return Err(Error::os(format!("release {}", file.display()), e)),
                }
            }
        }
        std::fs::remove_dir_all(&dir).context(|| format!("remove {}", dir.display()))
    }
}

/// unshare(2) with its flags widened to the kernel's `unsigned long`. The
/// C library's wrapper takes an `int` and passes the register on as it is,
/// and the x86-64 ABI leaves the upper half of an `int` argument undefined:
/// an optimized caller can leave bits there that make the kernel answer
/// EINVAL.
fn unshare(flags: CloneFlags) -> nix::Result<()> {
    // The flags are bits: reinterpret the `c_int`, never sign-extend it.
    let bits = libc::c_ulong::from(flags.bits() as u32);
    // SAFETY: unshare(2) takes one integer argument and touches no memory
    // of the caller.
    let result = unsafe { libc::syscall(libc::SYS_unshare, bits) };
    nix::errno::Errno::result(result).map(drop)
}

fn namespace_name(flag: CloneFlags) -> &'static str {
    match flag {
        CloneFlags::CLONE_NEWNET => "net",
        CloneFlags::CLONE_NEWIPC => "ipc",
        _ => "uts",
    }
}

/// Runs `f` in a forked child and reports its failure.
fn in_child(what: &str, f: impl FnOnce() -> Result<(), String>) -> Result<()> {
    let (pid, _) = spawn(what, |_| {
        f()?;
        // SAFETY: the child's work is done; _exit skips the parent's
        // buffers and handlers.
        unsafe { libc::_exit(0) }
    })?;
    match wait(pid, None)? {
        Ended::Exited(0) => Ok(()),
        ended => Err(Error::Plan(format!("{what}: {ended}"))),
    }
}

/// Runs iproute2's `ip`, in the network namespace `net` if given. It dies
/// with runj ([`run_program`]), so that a runj killed halfway leaves no
/// `ip` that makes an interface after a `delete --force` has cleaned up.
fn run_ip(argv: &[String], net: Option<std::os::fd::BorrowedFd<'_>>) -> Result<()> {
    run_program("ip", argv, || match net {
        Some(net) => {
            setns(net, CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns: {}", e.desc()))
        }
        None => Ok(()),
    })
}

/// Sets `IFF_UP` on `lo` (SIOCGIFFLAGS/SIOCSIFFLAGS, netdevice(7)).
fn loopback_up() -> std::io::Result<()> {
    // SAFETY: a datagram socket for the ioctls, closed by OwnedFd.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if sock < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `sock` is a new descriptor owned by nothing else.
    let sock: OwnedFd = unsafe { std::os::fd::FromRawFd::from_raw_fd(sock) };
    // SAFETY: ifreq is plain data; zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: the ioctls read and write one ifreq, which outlives them.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The (device, inode) of a namespace file.
fn namespace_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Joins a jail: its cgroup, its namespaces, then its root.
struct Joiner {
    /// The cgroup's `cgroup.procs` files.
    cgroup: Vec<File>,
    namespaces: Vec<(File, CloneFlags)>,
    path: PathBuf,
}

impl Attach for Joiner {
    fn attach(&self) -> std::io::Result<()> {
        for mut procs in &self.cgroup {
            // `0`: the writing process itself.
            std::io::Write::write_all(&mut procs, b"0")?;
        }
        for (file, flag) in &self.namespaces {
            setns(file.as_fd(), *flag)?;
        }
        chroot(&self.path)?;
        chdir("/")?;
        Ok(())
    }

    /// From the jail's devpts instance (its emulated devfs has one at
    /// `/dev/pts`), so that the terminal is `/dev/pts/N` in the jail.
    fn open_pty(&self) -> Option<std::io::Result<(OwnedFd, OwnedFd)>> {
        mount::jail_pty(&self.path)
    }
}

impl Host for LinuxHost {
    fn run(&mut self, command: &Command<'_>) -> Result<()> {
        run_placed(self, command)
    }

    fn add_alias(&mut self, alias: &Alias) -> Result<()> {
        run_ip(&ip_address("add", alias), None)
    }

    fn remove_alias(&mut self, alias: &Alias) -> Result<()> {
        run_ip(&ip_address("del", alias), None)
    }

    /// Journaled ([`crate::journal`]): undoing it finds it by its mount
    /// id wherever its mount point has gone, also after a crash.
    fn mount(&mut self, m: &MountPoint) -> Result<()> {
        let _lock = self.lock()?;
        Journal::in_registry(&self.registry)
            .mount(m, || Ok(mount::mount_point(m)?.map(Identity::MountId)))
    }

    /// By its mount id when it got one, by path otherwise.
    fn unmount(&mut self, m: &MountPoint) -> Result<()> {
        let _lock = self.lock()?;
        Journal::in_registry(&self.registry).unmount(m, |id| match id {
            Some(Identity::MountId(id)) => match identity::unmount_by_id(id)? {
                true => Ok(()),
                false => Err(Error::os(
                    format!("umount {}", m.target().display()),
                    std::io::Error::from_raw_os_error(libc::EINVAL),
                )),
            },
            _ => mount::unmount_point(m),
        })
    }

    fn create(&mut self, params: &[Param]) -> Result<Jid> {
        let mut record = self.record_from(params)?;
        let _lock = self.lock()?;
        let exists = |e: &str| Error::Refused {
            context: "jail_set".into(),
            message: e.to_string(),
        };
        let records = self.records()?;
        if records.iter().any(|r| r.name == record.name) || self.dir(&record.name).exists() {
            return Err(exists(&format!("jail \"{}\" already exists", record.name)));
        }
        if records
            .iter()
            .any(|r| r.jid == record.jid && record.jid != 0)
        {
            return Err(exists(&format!("jail {} already exists", record.jid)));
        }
        if !record.path.is_dir() {
            return Err(Error::Plan(format!(
                "path {}: not a directory",
                record.path.display()
            )));
        }
        if record.jid == 0 {
            record.jid = records.iter().map(|r| r.jid).max().unwrap_or(0) + 1;
        }
        let leaf = self.cgroup_leaf(record.jid)?;
        record.cgroup = Cgroup::find(&leaf).is_ok().then_some(leaf);
        self.register(&record)?;
        self.make(&record)
            .and_then(|()| self.cgroup(&record).map_or(Ok(()), |c| c.create()))
            .inspect_err(|_| {
                let _ = self.unmake(&record.name);
            })?;
        Ok(record.jid)
    }

    fn update(&mut self, jid: Jid, params: &[Param]) -> Result<()> {
        self.record(jid)?;
        match params {
            [Param { name, .. }] if name == "persist" => Ok(()),
            _ => Err(Error::Unsupported(
                "the Linux emulation changes no parameter of a running jail but persist".into(),
            )),
        }
    }

    fn find(&mut self, name: &str) -> Result<Option<Jid>> {
        let _lock = self.lock()?;
        self.sweep(name)?;
        Ok(self
            .records()?
            .into_iter()
            .find(|r| r.name == name)
            .map(|r| r.jid))
    }

    fn remove(&mut self, jid: Jid) -> Result<()> {
        let record = self.record(jid)?;
        let _lock = self.lock()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = self.processes(jid)?;
            if left.is_empty() {
                break;
            }
            if Instant::now() > deadline {
                return Err(Error::Plan(format!(
                    "jail {jid}: processes {left:?} did not die"
                )));
            }
            for pid in left {
                let _ =
                    nix::sys::signal::kill(Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.unmake(&record.name)
    }

    fn move_interface(&mut self, interface: &str, jail: &JailRef) -> Result<()> {
        let record = self.record(running(jail)?)?;
        let net = self.dir(&record.name).join("net");
        let argv = ["ip", "link", "set", "dev", interface, "netns"].map(String::from);
        let mut argv = argv.to_vec();
        argv.push(net.display().to_string());
        run_ip(&argv, None)
    }

    fn return_interface(&mut self, interface: &str, jail: &JailRef) -> Result<()> {
        let record = self.record(running(jail)?)?;
        self.in_jail_net(&record, &["link", "set", "dev", interface, "netns", "1"])
    }

    fn wire(&mut self, action: &Action, jail: &JailRef, _options: &ExecOptions) -> Result<()> {
        self.wire_action(action, jail)
    }

    fn has_interface(&mut self, name: &str) -> bool {
        crate::host::interface_exists(name)
    }

    /// Those in the jail's UTS namespace, and those in its cgroup: a
    /// process joins the cgroup first, so one killed halfway through
    /// joining is found too.
    fn processes(&mut self, jid: Jid) -> Result<Vec<i32>> {
        let record = self.record(jid)?;
        let mut all = self
            .cgroup(&record)
            .map(|c| c.processes())
            .unwrap_or_default();
        if let Some(id) = namespace_id(&self.dir(&record.name).join("uts")) {
            let entries = std::fs::read_dir("/proc").context(|| "read /proc".into())?;
            all.extend(
                entries
                    .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
                    .filter(|pid| {
                        namespace_id(Path::new(&format!("/proc/{pid}/ns/uts"))) == Some(id)
                    }),
            );
        }
        all.sort_unstable();
        all.dedup();
        Ok(all)
    }

    fn signal(&mut self, pid: i32, signal: i32) -> Result<()> {
        kill(pid, signal)
    }

    fn attacher(&mut self, jid: Jid) -> Result<Box<dyn Attach>> {
        let record = self.record(jid)?;
        let namespaces = self
            .namespaces(&record)
            .into_iter()
            .map(|(path, flag)| {
                File::open(&path)
                    .map(|f| (f, flag))
                    .context(|| format!("open {}", path.display()))
            })
            .collect::<Result<_>>()?;
        let cgroup = match self.cgroup(&record) {
            Some(c) => c.joiners()?,
            None => Vec::new(),
        };
        Ok(Box::new(Joiner {
            cgroup,
            namespaces,
            path: record.path,
        }))
    }

    fn check_limits(&mut self) -> Result<()> {
        Cgroup::find("").map(drop)
    }

    fn add_rule(&mut self, jail: &JailRef, rule: &Rule) -> Result<()> {
        let _lock = self.lock()?;
        let (mut record, cgroup) = self.limited(jail)?;
        record.rules.add(rule.clone());
        self.enforce(&record, &cgroup)
    }

    /// The jail may be gone, and its cgroup with it.
    fn remove_rule(&mut self, jail: &JailRef, rule: &Rule) -> Result<()> {
        let _lock = self.lock()?;
        let Ok((mut record, cgroup)) = self.limited(jail) else {
            return Ok(());
        };
        if record.rules.remove_key(rule) {
            self.enforce(&record, &cgroup)?;
        }
        Ok(())
    }

    fn usage(&mut self, jail: &JailRef) -> Result<Usage> {
        self.limited(jail)?.1.usage()
    }
}

/// `ip addr add|del ADDR/PREFIX dev IF` for an alias.
fn ip_address(verb: &str, alias: &Alias) -> Vec<String> {
    use runj_translator::plan::Mask;
    let a = &alias.address;
    let prefix = match a.mask {
        Some(Mask::Prefix(p)) => u32::from(p),
        Some(Mask::Netmask(n)) => u32::from(n).count_ones(),
        None if a.addr.is_ipv4() => 32,
        None => 128,
    };
    [
        "ip",
        "addr",
        verb,
        &format!("{}/{prefix}", a.addr),
        "dev",
        &alias.interface,
    ]
    .map(String::from)
    .to_vec()
}

/// The id of a jail a step needs running.
fn running(jail: &JailRef) -> Result<Jid> {
    jail.jid
        .ok_or_else(|| Error::Plan(format!("jail \"{}\" is not running", jail.name)))
}
