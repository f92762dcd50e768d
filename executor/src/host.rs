//! The `Host` trait: the operations jail(8) performs on a system, which
//! each backend implements (`freebsd`: the real system calls; `linux`: an
//! emulation for development and CI; `record`: a test double).

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use runj_translator::bridge::Action;
use runj_translator::plan::{Address, ExecOptions};
use runj_translator::rctl::Rule;

use crate::error::{Error, Result};
use crate::params::Param;
use crate::usage::Usage;

/// A jail's id, as jail_set(2) returns it.
pub type Jid = i32;

/// The jail a step works on: known before creation by name and path, and
/// by id once created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JailRef {
    pub name: String,
    /// The jail's root on the host.
    pub path: PathBuf,
    pub jid: Option<Jid>,
    /// How jail(8) names the jail to ifconfig(8): its configured `jid`,
    /// else its name.
    pub designation: String,
}

/// An address alias jail(8) adds to an interface for the jail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub interface: String,
    pub address: Address,
}

impl Alias {
    /// ifconfig(8)'s argv as jail(8) builds it: `/sbin/ifconfig IF inet ADDR
    /// netmask 255.255.255.255 alias` without a mask, `netmask M` for a
    /// dotted one, `ADDR/LEN` passed through; `inet6 ADDR prefixlen 128`
    /// without a prefix; the address's further ifconfig arguments before
    /// `alias` when adding; `-alias` to remove (freebsd/freebsd-src
    /// usr.sbin/jail/command.c `run_command`, `IP__IP4_IFADDR`).
    pub fn ifconfig_argv(&self, add: bool) -> Vec<String> {
        use runj_translator::plan::Mask;
        let a = &self.address;
        let v4 = a.addr.is_ipv4();
        let mut argv = vec![
            "/sbin/ifconfig".to_string(),
            self.interface.clone(),
            if v4 { "inet" } else { "inet6" }.to_string(),
        ];
        let addr = a.addr.to_string();
        match a.mask {
            Some(Mask::Prefix(p)) => argv.push(format!("{addr}/{p}")),
            Some(Mask::Netmask(n)) => argv.extend([addr, "netmask".into(), n.to_string()]),
            None if v4 => argv.extend([addr, "netmask".into(), "255.255.255.255".into()]),
            None => argv.extend([addr, "prefixlen".into(), "128".into()]),
        }
        if add {
            argv.extend(
                a.extra
                    .iter()
                    .flat_map(|e| e.split(' ').filter(|w| !w.is_empty()).map(str::to_string)),
            );
        }
        argv.push(if add { "alias" } else { "-alias" }.to_string());
        argv
    }
}

/// A filesystem mounted for a jail: `destination` is inside the jail's
/// `root`; backends resolve it there without following symbolic links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPoint {
    /// The jail's root on the host, as the plan's `path` spells it.
    pub root: PathBuf,
    pub fstype: String,
    pub source: String,
    /// An absolute path inside the jail.
    pub destination: String,
    pub options: Vec<String>,
    pub form: MountForm,
}

/// Which of jail(8)'s mount commands a mount is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountForm {
    /// A `mount` or `mount.fstab` line.
    Fstab,
    /// `mount.devfs`, `mount.fdescfs` or `mount.procfs`.
    Special,
}

impl MountPoint {
    /// The mount point on the host.
    pub fn target(&self) -> PathBuf {
        let inside = self.destination.trim_start_matches('/');
        if inside.is_empty() {
            self.root.clone()
        } else {
            self.root.join(inside)
        }
    }

    /// The mount point as jail(8) writes it: the jail's path as spelled,
    /// then the path inside (`$path/dev` for devfs).
    pub fn target_text(&self) -> String {
        let root = self.root.to_string_lossy();
        match (self.form, self.destination.as_str()) {
            (MountForm::Fstab, "/") => root.into_owned(),
            (MountForm::Fstab, inside) => format!("{}{inside}", root.trim_end_matches('/')),
            (MountForm::Special, inside) => format!("{root}{inside}"),
        }
    }
}

/// The components of an absolute path inside a jail, without empty and
/// `.` ones; `..` is refused, as backends resolve mount points inside the
/// jail's root one component at a time.
pub fn inside_components(inside: &str) -> Result<Vec<&str>> {
    let components: Vec<&str> = inside
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if components.contains(&"..") {
        return Err(Error::Plan(format!(
            "{inside}: \"..\" is not allowed in a path inside the jail"
        )));
    }
    Ok(components)
}

impl fmt::Display for MountPoint {
    /// As jail(8) runs mount(8).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::trace::mount_argv(self, true).join(" "))
    }
}

/// Where a command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Host,
    Jail,
}

/// One jail(8) command (`exec.*`, `command`) to run to completion, or to
/// start in the background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command<'a> {
    /// The parameter it came from (`exec.prestart`, `command`, …).
    pub stage: &'static str,
    /// The argv jail(8) passes to execvp(3).
    pub argv: &'a [String],
    /// A command that ended in `&`: started in its own session, not waited for.
    pub background: bool,
    pub place: Place,
    pub jail: &'a JailRef,
    pub options: &'a ExecOptions,
}

/// Joins a process to a jail: called in a forked child, before exec.
pub trait Attach {
    fn attach(&self) -> std::io::Result<()>;

    /// A new pseudo-terminal of the jail's own, (controller, terminal),
    /// when the jail has a pty multiplexer apart from the host's (the
    /// Linux emulation's devpts instance); `None`: the host's ptys are the
    /// jail's (FreeBSD's devfs shows the jail the ptys of `/dev/pts`).
    fn open_pty(&self) -> Option<std::io::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)>> {
        None
    }
}

/// What the executor needs from a system.
pub trait Host {
    /// Runs a command on the host or in the jail, with jail(8)'s rules.
    fn run(&mut self, command: &Command<'_>) -> Result<()>;
    fn add_alias(&mut self, alias: &Alias) -> Result<()>;
    fn remove_alias(&mut self, alias: &Alias) -> Result<()>;
    fn mount(&mut self, mount: &MountPoint) -> Result<()>;
    fn unmount(&mut self, mount: &MountPoint) -> Result<()>;
    /// jail_set(2) with `JAIL_CREATE`.
    fn create(&mut self, params: &[Param]) -> Result<Jid>;
    /// jail_set(2) with `JAIL_UPDATE`.
    fn update(&mut self, jid: Jid, params: &[Param]) -> Result<()>;
    /// jail_get(2) by name: the running jail's id.
    fn find(&mut self, name: &str) -> Result<Option<Jid>>;
    /// jail_remove(2): kills the jail's processes and removes it.
    fn remove(&mut self, jid: Jid) -> Result<()>;
    /// `ifconfig IF vnet JAIL` (the jail is running).
    fn move_interface(&mut self, interface: &str, jail: &JailRef) -> Result<()>;
    /// `ifconfig IF -vnet JAIL`.
    fn return_interface(&mut self, interface: &str, jail: &JailRef) -> Result<()>;
    /// One action of wiring a jail to its bridge, or of unwiring it.
    fn wire(&mut self, action: &Action, jail: &JailRef, options: &ExecOptions) -> Result<()>;
    /// Whether the system has an interface of this name (if_nametoindex(3)).
    fn has_interface(&mut self, name: &str) -> bool;
    /// The processes in the jail.
    fn processes(&mut self, jid: Jid) -> Result<Vec<i32>>;
    /// Sends a signal to one process.
    fn signal(&mut self, pid: i32, signal: i32) -> Result<()>;
    /// jail(8)'s `stop.timeout` phase: SIGTERM to every process of the
    /// jail, then a wait of at most `timeout` for them to go.
    fn terminate(&mut self, jid: Jid, timeout: Duration) -> Result<()> {
        for pid in self.processes(jid)? {
            match self.signal(pid, libc::SIGTERM) {
                Err(e) if e.is_gone() => {}
                result => result?,
            }
        }
        let deadline = Instant::now() + timeout;
        while !self.processes(jid)?.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
    /// How a forked child joins the jail.
    fn attacher(&mut self, jid: Jid) -> Result<Box<dyn Attach>>;
    /// Fails unless resource limits can be enforced (FreeBSD: racct is
    /// enabled); asked before a jail with rctl rules is made.
    fn check_limits(&mut self) -> Result<()>;
    /// rctl_add_rule(2) of a rule for the jail (which exists).
    fn add_rule(&mut self, jail: &JailRef, rule: &Rule) -> Result<()>;
    /// rctl_remove_rule(2) of every rule of the jail (which may be gone)
    /// with `rule`'s resource, action and per, whatever their amount.
    fn remove_rule(&mut self, jail: &JailRef, rule: &Rule) -> Result<()>;
    /// What the running jail uses (rctl_get_racct(2)).
    fn usage(&mut self, jail: &JailRef) -> Result<Usage>;
}

/// A rule with the jail as its subject, as rctl_add_rule(2) takes it.
pub fn jail_rule(jail: &JailRef, rule: &Rule) -> Result<String> {
    rule.for_jail(&jail.name)
        .map_err(|e| Error::Plan(e.to_string()))
}

/// The filter rctl_remove_rule(2) takes for [`Host::remove_rule`].
pub fn jail_rule_filter(jail: &JailRef, rule: &Rule) -> Result<String> {
    rule.filter_for_jail(&jail.name)
        .map_err(|e| Error::Plan(e.to_string()))
}

/// `Host::run` as the real backends do it: on the host, or in the running
/// jail through the backend's attacher.
pub fn run_placed(host: &mut dyn Host, command: &Command<'_>) -> Result<()> {
    match (command.place, command.jail.jid) {
        (Place::Host, _) => crate::command::run(command, None),
        (Place::Jail, Some(jid)) => {
            let attach = host.attacher(jid)?;
            crate::command::run(command, Some(attach.as_ref()))
        }
        (Place::Jail, None) => Err(Error::Plan(format!(
            "{}: the jail is not running",
            command.stage
        ))),
    }
}

/// `Host::wire` as jail(8) does it with the plan's jail.conf: the
/// action's command, on the host or in the jail.
pub fn wire_by_command(
    host: &mut dyn Host,
    action: &Action,
    jail: &JailRef,
    options: &ExecOptions,
) -> Result<()> {
    let command = action.command();
    run_placed(
        host,
        &Command {
            stage: action.stage(),
            argv: &command.invocation().argv,
            background: false,
            place: if action.in_jail() {
                Place::Jail
            } else {
                Place::Host
            },
            jail,
            options,
        },
    )
}

/// `Host::has_interface` as the real backends do it: if_nametoindex(3).
pub fn interface_exists(name: &str) -> bool {
    let Ok(name) = std::ffi::CString::new(name) else {
        return false;
    };
    // SAFETY: a NUL-terminated string, only read by the call.
    unsafe { libc::if_nametoindex(name.as_ptr()) != 0 }
}

/// `Host::signal` as the real backends do it: kill(2).
pub fn kill(pid: i32, signal: i32) -> Result<()> {
    let signal = Signal::try_from(signal).map_err(|e| Error::os(format!("signal {signal}"), e))?;
    nix::sys::signal::kill(Pid::from_raw(pid), signal)
        .map_err(|e| Error::os(format!("kill {pid}"), e))
}
