//! The jail plan: everything needed to print a jail as jail.conf and to
//! create it, in one plain data structure (serde: JSON and TOML).
//!
//! Kernel parameters are kept as a typed, ordered map; what jail(8) itself
//! interprets (addresses with interfaces, mounts, lifecycle commands, exec
//! options) and what only an OCI bundle says (the process, hooks) have their
//! own fields. Parameters runj does not know are kept verbatim in `extra`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// One jail, ready to be printed or executed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JailPlan {
    /// The jail's name; dots make it a child of the jail named by the rest.
    pub name: String,
    /// The jail id, for jails named by a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jid: Option<i32>,
    /// Kernel parameters (jail_set(2)) but addresses, in order.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "typed_parameters"
    )]
    pub parameters: IndexMap<String, Value>,
    #[serde(default, skip_serializing_if = "Network::is_empty")]
    pub network: Network,
    #[serde(default, skip_serializing_if = "Mounts::is_empty")]
    pub mounts: Mounts,
    #[serde(default, skip_serializing_if = "Commands::is_empty")]
    pub commands: Commands,
    #[serde(default, skip_serializing_if = "ExecOptions::is_empty")]
    pub exec: ExecOptions,
    /// Jails that must be started first (`depend`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depend: Vec<String>,
    /// Resource limits: rctl(8) rules whose subject is the jail.
    #[serde(default, skip_serializing_if = "crate::rctl::Rules::is_empty")]
    pub rctl: crate::rctl::Rules,
    /// ZFS datasets attached to the jail (`zfs.dataset`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zfs_datasets: Vec<String>,
    /// The container process, when the plan came from an OCI bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<Process>,
    /// OCI lifecycle hooks.
    #[serde(default, skip_serializing_if = "Hooks::is_empty")]
    pub hooks: Hooks,
    /// OCI annotations, passed on to hooks and reported by `state`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub annotations: IndexMap<String, String>,
    /// Parameters runj does not know, kept verbatim.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub extra: IndexMap<String, Vec<String>>,
    /// The kernel parameters as jail.conf wrote them, for a plan lowered
    /// from jail.conf: jail(8)'s order, each name as spelled and the text
    /// jail(8) imports. The values passed are the typed ones above; this
    /// keeps the order and spelling jail(8) would show (`runj apply
    /// --dry-run --format trace`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub written: Vec<Written>,
}

/// One kernel parameter as jail(8) hands it to libjail
/// (freebsd/freebsd-src usr.sbin/jail/config.c `import_params`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Written {
    /// The name as spelled (`allow.nomount`, `ip4.addr`).
    pub name: String,
    /// The text imported: the last value, or every value joined by `,` for
    /// an address list (stripped of `iface|`, `/mask` and ifconfig
    /// arguments); `None` when the parameter has no value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A typed kernel parameter value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Text(String),
    /// A jailsys parameter's mode. Written as its name; a plan read back
    /// types it by the parameter's name ([`typed_parameters`]).
    Mode(Mode),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Text(s) => f.write_str(s),
            Value::Mode(m) => f.write_str(m.name()),
        }
    }
}

/// A jailsys value: `JAIL_SYS_DISABLE`, `JAIL_SYS_NEW`, `JAIL_SYS_INHERIT`
/// (freebsd/freebsd-src sys/sys/jail.h), as jail_set(2) takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Disable = 0,
    New = 1,
    Inherit = 2,
}

impl Mode {
    /// A mode by name or number, as libjail imports it: no value (or an
    /// empty one) means `new` (lib/libjail/jail.c `jailparam_import`).
    pub fn parse(text: &str) -> Option<Mode> {
        Some(match text {
            "" | "new" | "1" => Mode::New,
            "disable" | "0" => Mode::Disable,
            "inherit" | "2" => Mode::Inherit,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Disable => "disable",
            Mode::New => "new",
            Mode::Inherit => "inherit",
        }
    }
}

/// Reads `parameters` typed by the catalog: a jailsys parameter's mode is
/// a [`Value::Mode`], not text.
fn typed_parameters<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<IndexMap<String, Value>, D::Error> {
    let mut parameters = IndexMap::<String, Value>::deserialize(d)?;
    for (name, value) in &mut parameters {
        let jailsys = crate::catalog::lookup(name)
            .is_some_and(|l| l.spec.ty == crate::catalog::Type::JailSys && !l.negated);
        if !jailsys {
            continue;
        }
        let text = value.to_string();
        *value = Value::Mode(Mode::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "parameters.{name}: \"{text}\" is not disable, new or inherit"
            ))
        })?);
    }
    Ok(parameters)
}

/// Addresses and interfaces.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// `ip4.addr`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip4: Vec<Address>,
    /// `ip6.addr`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip6: Vec<Address>,
    /// `interface`: where aliases go for addresses that name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// `vnet.interface`: interfaces moved into the jail's vnet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vnet_interfaces: Vec<String>,
    /// The jail wired to a bridge (runj.ext.json `network.vnet.bridge`),
    /// written in jail.conf as `vnet.interface` and `exec.*` commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<crate::bridge::Bridge>,
}

impl Network {
    pub fn is_empty(&self) -> bool {
        *self == Network::default()
    }
}

/// An address as jail(8) takes it: `[iface|]addr[/mask][ ifconfig-args]`.
/// The kernel receives only `addr`; jail(8) adds an alias on the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub interface: Option<String>,
    pub addr: IpAddr,
    pub mask: Option<Mask>,
    /// Further ifconfig(8) arguments after a space.
    pub extra: Option<String>,
}

/// The part after `/`: a prefix length, or an IPv4 dotted netmask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    Prefix(u8),
    Netmask(Ipv4Addr),
}

/// Why an address does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid address \"{text}\": {reason}")]
pub struct AddressError {
    pub text: String,
    pub reason: String,
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| AddressError {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let (interface, rest) = match text.split_once('|') {
            Some((i, r)) if !i.is_empty() => (Some(i.to_string()), r),
            Some(_) => return Err(fail("empty interface name before '|'")),
            None => (None, text),
        };
        let (rest, extra) = match rest.split_once(' ') {
            Some((r, e)) => (r, Some(e.to_string())),
            None => (rest, None),
        };
        let (addr, mask) = match rest.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (rest, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| fail("not an IPv4 or IPv6 address"))?;
        let mask = match mask {
            None => None,
            Some(m) => Some(match (m.parse::<u8>(), m.parse::<Ipv4Addr>()) {
                (Ok(p), _) if p <= if addr.is_ipv4() { 32 } else { 128 } => Mask::Prefix(p),
                (_, Ok(n)) if addr.is_ipv4() => Mask::Netmask(n),
                _ => return Err(fail("invalid prefix length or netmask")),
            }),
        };
        Ok(Address {
            interface,
            addr,
            mask,
            extra,
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(i) = &self.interface {
            write!(f, "{i}|")?;
        }
        write!(f, "{}", self.addr)?;
        match self.mask {
            Some(Mask::Prefix(p)) => write!(f, "/{p}")?,
            Some(Mask::Netmask(n)) => write!(f, "/{n}")?,
            None => {}
        }
        if let Some(e) = &self.extra {
            write!(f, " {e}")?;
        }
        Ok(())
    }
}

impl Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Filesystems mounted for the jail, in jail(8)'s order: `mount` entries,
/// the lines of `mount.fstab` files, then devfs, fdescfs and procfs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mounts {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<Mount>,
    /// `mount.fstab` files, read when the jail is created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fstab_files: Vec<String>,
    /// `mount.devfs`: devfs on `/dev` with `devfs_ruleset` (default 4).
    #[serde(default, skip_serializing_if = "is_false")]
    pub devfs: bool,
    /// `mount.fdescfs`: fdescfs on `/dev/fd`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fdescfs: bool,
    /// `mount.procfs`: procfs on `/proc`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub procfs: bool,
}

impl Mounts {
    pub fn is_empty(&self) -> bool {
        *self == Mounts::default()
    }
}

fn is_false(b: &bool) -> bool {
    !b
}

/// One mount, as an fstab(5) line would give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mount {
    /// The filesystem type (`nullfs`, `tmpfs`, `devfs`, …).
    #[serde(rename = "type")]
    pub fstype: String,
    /// What is mounted: a host path for nullfs, a name otherwise.
    pub source: String,
    /// Where, as an absolute path inside the jail.
    pub destination: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// jail(8)'s command lists, each run in order at its stage.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commands {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prepare: Vec<Command>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prestart: Vec<Command>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<Command>,
    /// Run in the jail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub start: Vec<Command>,
    /// `command`: run in the jail after `exec.start`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<Command>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub poststart: Vec<Command>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prestop: Vec<Command>,
    /// Run in the jail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<Command>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub poststop: Vec<Command>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub release: Vec<Command>,
}

impl Commands {
    pub fn is_empty(&self) -> bool {
        *self == Commands::default()
    }

    /// The stages in jail.conf spelling with their lists, in the order
    /// jail(8) runs them across a create and a remove.
    pub fn stages(&self) -> [(&'static str, &Vec<Command>); 10] {
        [
            ("exec.prepare", &self.prepare),
            ("exec.prestart", &self.prestart),
            ("exec.created", &self.created),
            ("exec.start", &self.start),
            ("command", &self.command),
            ("exec.poststart", &self.poststart),
            ("exec.prestop", &self.prestop),
            ("exec.stop", &self.stop),
            ("exec.poststop", &self.poststop),
            ("exec.release", &self.release),
        ]
    }

    /// The list for a stage named as in jail.conf.
    pub fn stage_mut(&mut self, name: &str) -> Option<&mut Vec<Command>> {
        Some(match name {
            "exec.prepare" => &mut self.prepare,
            "exec.prestart" => &mut self.prestart,
            "exec.created" => &mut self.created,
            "exec.start" => &mut self.start,
            "command" => &mut self.command,
            "exec.poststart" => &mut self.poststart,
            "exec.prestop" => &mut self.prestop,
            "exec.stop" => &mut self.stop,
            "exec.poststop" => &mut self.poststop,
            "exec.release" => &mut self.release,
            _ => return None,
        })
    }
}

/// One command of a jail(8) list: its text as written, and how jail(8)
/// runs it (the argv and whether in the background), decided once by
/// jail(8)'s rule ([`crate::invocation`]) when the plan is made or read.
/// Serialized as its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    text: String,
    invocation: crate::invocation::Invocation,
}

impl Command {
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let invocation = crate::invocation::invocation(&text);
        Command { text, invocation }
    }

    /// The text as jail.conf writes it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What jail(8) executes for it; an empty argv runs nothing.
    pub fn invocation(&self) -> &crate::invocation::Invocation {
        &self.invocation
    }
}

/// The texts of a command list, as jail.conf writes them.
pub fn texts(list: &[Command]) -> Vec<String> {
    list.iter().map(|c| c.text.clone()).collect()
}

impl From<&str> for Command {
    fn from(text: &str) -> Self {
        Command::new(text)
    }
}

impl From<String> for Command {
    fn from(text: String) -> Self {
        Command::new(text)
    }
}

impl PartialEq<&str> for Command {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Command {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Command::new)
    }
}

/// Options for how jail(8) runs commands.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecOptions {
    /// `exec.clean`: run commands in a clean environment.
    #[serde(default, skip_serializing_if = "is_false")]
    pub clean: bool,
    /// `exec.jail_user`: user for commands in the jail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jail_user: Option<String>,
    /// `exec.system_jail_user`: look `jail_user` up on the host.
    #[serde(default, skip_serializing_if = "is_false")]
    pub system_jail_user: bool,
    /// `exec.system_user`: user for commands on the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_user: Option<String>,
    /// `exec.timeout`: seconds each command may run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// `exec.consolelog`: file that receives the commands' output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consolelog: Option<String>,
    /// `exec.fib`: routing table for commands in the jail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fib: Option<u32>,
    /// `stop.timeout`: seconds to wait after SIGTERM (jail(8) default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<u32>,
    /// `ip_hostname`: resolve `host.hostname` for addresses.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ip_hostname: bool,
    /// `allow.dying` (deprecated; no effect).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_dying: bool,
}

impl ExecOptions {
    pub fn is_empty(&self) -> bool {
        *self == ExecOptions::default()
    }
}

/// The OCI container process.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Process {
    /// The argument vector, never re-split through a shell.
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// Working directory inside the jail.
    pub cwd: String,
    #[serde(default)]
    pub user: User,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rlimits: Vec<Rlimit>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub terminal: bool,
    /// The terminal's size, when `terminal` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_size: Option<ConsoleSize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub umask: Option<u32>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_new_privileges: bool,
}

/// A terminal size in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSize {
    pub height: u32,
    pub width: u32,
}

/// Who the process runs as.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_gids: Vec<u32>,
}

/// A resource limit (`RLIMIT_*` name as in the runtime-spec).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rlimit {
    #[serde(rename = "type")]
    pub kind: String,
    pub soft: u64,
    pub hard: u64,
}

/// FreeBSD's resource limits, by runtime-spec name, with their numbers
/// (freebsd/freebsd-src sys/sys/resource.h; `RLIMIT_AS` is
/// `RLIMIT_VMEM`): what a plan may limit, and what setrlimit(2) is given.
pub const RLIMITS: &[(&str, i32)] = &[
    ("RLIMIT_CPU", 0),
    ("RLIMIT_FSIZE", 1),
    ("RLIMIT_DATA", 2),
    ("RLIMIT_STACK", 3),
    ("RLIMIT_CORE", 4),
    ("RLIMIT_RSS", 5),
    ("RLIMIT_MEMLOCK", 6),
    ("RLIMIT_NPROC", 7),
    ("RLIMIT_NOFILE", 8),
    ("RLIMIT_SBSIZE", 9),
    ("RLIMIT_VMEM", 10),
    ("RLIMIT_AS", 10),
    ("RLIMIT_NPTS", 11),
    ("RLIMIT_SWAP", 12),
    ("RLIMIT_KQUEUES", 13),
    ("RLIMIT_UMTXP", 14),
    ("RLIMIT_PIPEBUF", 15),
];

impl Rlimit {
    /// The limit's FreeBSD resource number, if FreeBSD has it.
    pub fn freebsd_resource(&self) -> Option<i32> {
        freebsd_resource(&self.kind)
    }
}

/// A limit's FreeBSD resource number by its runtime-spec name.
pub fn freebsd_resource(kind: &str) -> Option<i32> {
    RLIMITS.iter().find(|(n, _)| *n == kind).map(|(_, r)| *r)
}

/// OCI hooks by stage.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Hooks {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub create_runtime: Vec<Hook>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub create_container: Vec<Hook>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub start_container: Vec<Hook>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub poststart: Vec<Hook>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub poststop: Vec<Hook>,
}

impl Hooks {
    pub fn is_empty(&self) -> bool {
        *self == Hooks::default()
    }
}

/// One hook: a host program with its argv and environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hook {
    pub path: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
}

impl JailPlan {
    /// The plan as two plans are compared (`runj diff`, migration round
    /// trips): jail.conf's spelling dropped, and `path` made explicit with
    /// the kernel's default (the creator's root).
    pub fn comparable(&self) -> JailPlan {
        let mut plan = self.clone();
        plan.written.clear();
        if plan.path().is_none() {
            plan.parameters
                .insert("path".into(), Value::Text("/".into()));
        }
        plan
    }

    /// A kernel parameter's value.
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.parameters.get(name)
    }

    /// `path`, the jail's root on the host.
    pub fn path(&self) -> Option<&str> {
        match self.param("path") {
            Some(Value::Text(p)) => Some(p),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_jail8_syntax() {
        for text in [
            "192.0.2.1",
            "em0|192.0.2.1/24",
            "lo1|10.0.0.1/255.255.255.0",
            "fd00::1/64",
            "em0|2001:db8::2/64 vhid 1",
        ] {
            let a: Address = text.parse().unwrap();
            assert_eq!(a.to_string(), text);
        }
        let a: Address = "em0|192.0.2.1/24".parse().unwrap();
        assert_eq!(a.interface.as_deref(), Some("em0"));
        assert_eq!(a.mask, Some(Mask::Prefix(24)));
    }

    #[test]
    fn bad_addresses() {
        for text in [
            "",
            "em0|",
            "|1.2.3.4",
            "1.2.3.4/33",
            "fd00::1/129",
            "fd00::1/255.0.0.0",
            "host.example",
        ] {
            assert!(text.parse::<Address>().is_err(), "{text}");
        }
    }

    #[test]
    fn modes_are_typed_by_the_parameter_s_name() {
        let plan: JailPlan = serde_json::from_str(
            r#"{"name":"a","parameters":{"vnet":"new","ip4":2,"host.hostname":"new"}}"#,
        )
        .unwrap();
        assert_eq!(plan.param("vnet"), Some(&Value::Mode(Mode::New)));
        assert_eq!(plan.param("ip4"), Some(&Value::Mode(Mode::Inherit)));
        assert_eq!(
            plan.param("host.hostname"),
            Some(&Value::Text("new".into()))
        );
        let err = serde_json::from_str::<JailPlan>(r#"{"name":"a","parameters":{"vnet":"old"}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("parameters.vnet: \"old\" is not disable, new or inherit"),
            "{err}"
        );
        let toml = toml::to_string(&plan).unwrap();
        assert_eq!(toml::from_str::<JailPlan>(&toml).unwrap(), plan);
    }

    #[test]
    fn json_round_trip() {
        let mut plan = JailPlan {
            name: "www".into(),
            ..JailPlan::default()
        };
        plan.parameters
            .insert("path".into(), Value::Text("/jails/www".into()));
        plan.parameters.insert("persist".into(), Value::Bool(true));
        plan.parameters.insert("securelevel".into(), Value::Int(3));
        plan.network.ip4.push("em0|192.0.2.1/24".parse().unwrap());
        let json = serde_json::to_string(&plan).unwrap();
        assert_eq!(
            json,
            r#"{"name":"www","parameters":{"path":"/jails/www","persist":true,"securelevel":3},"network":{"ip4":["em0|192.0.2.1/24"]}}"#
        );
        assert_eq!(serde_json::from_str::<JailPlan>(&json).unwrap(), plan);
        let toml = toml::to_string(&plan).unwrap();
        assert_eq!(toml::from_str::<JailPlan>(&toml).unwrap(), plan);
    }
}
