//! The `Host` trait: the operations jail(8) performs on a system, which
//! each backend implements (`freebsd`: the real system calls; `linux`: an
//! emulation for development and CI; `record`: a test double).

use std::fmt;
use std::path::PathBuf;

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use runj_translator::plan::{Address, ExecOptions};

use crate::error::{Error, Result};
use crate::params::Param;

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
}

/// An address alias jail(8) adds to an interface for the jail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub interface: String,
    pub address: Address,
}

impl Alias {
    /// ifconfig(8)'s arguments as jail(8) builds them: `IF inet ADDR netmask
    /// M alias` or `IF inet6 ADDR prefixlen N alias` (`-alias` to remove), a
    /// `/len` passed through, extra arguments last (freebsd/freebsd-src
    /// usr.sbin/jail/command.c `run_command`).
    pub fn ifconfig_args(&self, add: bool) -> Vec<String> {
        use runj_translator::plan::Mask;
        let a = &self.address;
        let family = if a.addr.is_ipv4() { "inet" } else { "inet6" };
        let mut args = vec![self.interface.clone(), family.to_string()];
        let addr = a.addr.to_string();
        match a.mask {
            Some(Mask::Prefix(p)) if a.addr.is_ipv4() => args.push(format!("{addr}/{p}")),
            Some(Mask::Prefix(p)) => args.extend([addr, "prefixlen".into(), p.to_string()]),
            Some(Mask::Netmask(n)) => args.extend([addr, "netmask".into(), n.to_string()]),
            None if a.addr.is_ipv4() => {
                args.extend([addr, "netmask".into(), "255.255.255.255".into()])
            }
            None => args.extend([addr, "prefixlen".into(), "128".into()]),
        }
        args.push(if add { "alias" } else { "-alias" }.to_string());
        args.extend(
            a.extra
                .iter()
                .flat_map(|e| e.split_whitespace().map(str::to_string)),
        );
        args
    }
}

/// A filesystem mounted for a jail: `destination` is inside the jail's
/// `root`; backends resolve it there without following symbolic links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPoint {
    /// The jail's root on the host.
    pub root: PathBuf,
    pub fstype: String,
    pub source: String,
    /// An absolute path inside the jail.
    pub destination: String,
    pub options: Vec<String>,
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
    /// As mount(8) would be run: `mount -t TYPE [-o OPTS] SOURCE TARGET`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mount -t {}", self.fstype)?;
        if !self.options.is_empty() {
            write!(f, " -o {}", self.options.join(","))?;
        }
        write!(f, " {} {}", self.source, self.target().display())
    }
}

/// Where a command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Host,
    Jail,
}

/// One jail(8) command (`exec.*`, `command`) to run to completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command<'a> {
    /// The parameter it came from (`exec.prestart`, `command`, …).
    pub stage: &'static str,
    pub text: &'a str,
    pub place: Place,
    pub jail: &'a JailRef,
    pub options: &'a ExecOptions,
}

/// Joins a process to a jail: called in a forked child, before exec.
pub trait Attach {
    fn attach(&self) -> std::io::Result<()>;
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
    /// `ifconfig IF vnet JID`.
    fn move_interface(&mut self, interface: &str, jid: Jid) -> Result<()>;
    /// `ifconfig IF -vnet JID`.
    fn return_interface(&mut self, interface: &str, jid: Jid) -> Result<()>;
    /// The processes in the jail.
    fn processes(&mut self, jid: Jid) -> Result<Vec<i32>>;
    /// Sends a signal to one process.
    fn signal(&mut self, pid: i32, signal: i32) -> Result<()>;
    /// How a forked child joins the jail.
    fn attacher(&mut self, jid: Jid) -> Result<Box<dyn Attach>>;
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

/// `Host::signal` as the real backends do it: kill(2).
pub fn kill(pid: i32, signal: i32) -> Result<()> {
    let signal = Signal::try_from(signal).map_err(|e| Error::os(format!("signal {signal}"), e))?;
    nix::sys::signal::kill(Pid::from_raw(pid), signal)
        .map_err(|e| Error::os(format!("kill {pid}"), e))
}
