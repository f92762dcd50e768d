//! Bridge networking: a vnet jail wired to an if_bridge(4) through an
//! epair(4), addressed and routed — in the plan a typed [`Bridge`], in
//! jail.conf the plain jail(8) terms an operator writes for it (the
//! handbook's and jail managers' way: `vnet.interface` plus `exec.*`
//! commands running ifconfig(8) and route(8)).
//!
//! The epair's `a` end is a member of the bridge on the host, its `b` end
//! is the jail's (`vnet.interface`). The bridge is made with the gateway
//! addresses when it does not exist, and kept: jails share it.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::plan::Command;

/// The longest interface name: `IFNAMSIZ` (16, with its NUL) on FreeBSD
/// (freebsd/freebsd-src sys/net/if.h) and Linux (include/uapi/linux/if.h).
pub const IFNAME_MAX: usize = 15;

/// The highest epair(4) unit: if_clone(9)'s `IF_MAXUNIT` (0x7fff,
/// freebsd/freebsd-src sys/net/if.h).
pub const EPAIR_MAX_UNIT: u16 = 0x7fff;

/// A jail on a bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bridge {
    /// The bridge interface on the host.
    pub name: String,
    /// The epair(4) unit N (`epairNa` on the bridge, `epairNb` in the
    /// jail); allocated when the container is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epair: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<Addressing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Addressing>,
}

/// One address family of a jail on a bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Addressing {
    /// The bridge's network (its prefix is the jail's and the gateway's).
    pub subnet: IpNet,
    /// The bridge's address, the jail's default route.
    pub gateway: IpAddr,
    /// The jail's address; `None`: the next free one of `subnet`, taken
    /// when the container is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
}

impl Addressing {
    /// Why this addressing cannot be used, if it cannot: the gateway (and
    /// the address) must be hosts of the subnet, apart.
    pub fn check(&self) -> Result<(), String> {
        let net = self.subnet;
        let family = |a: &IpAddr| a.is_ipv4() == net.addr().is_ipv4();
        if net.trunc() != net {
            return Err(format!(
                "subnet {net} has host bits set (the network is {})",
                net.trunc()
            ));
        }
        for (what, addr) in [("gateway", Some(self.gateway)), ("address", self.address)] {
            let Some(addr) = addr else { continue };
            if !family(&addr) {
                return Err(format!("{what} {addr} is not of the subnet's family"));
            }
            if !is_host(&net, addr) {
                return Err(format!("{what} {addr} is not a host address of {net}"));
            }
        }
        if self.address == Some(self.gateway) {
            return Err(format!("address {} is the gateway's", self.gateway));
        }
        Ok(())
    }

    /// The address with the subnet's prefix, as ifconfig(8) takes it.
    fn with_prefix(&self, addr: IpAddr) -> IpNet {
        IpNet::new(addr, self.subnet.prefix_len()).expect("the subnet's prefix fits its family")
    }

    /// The addresses a jail may be given, in order: the subnet's hosts but
    /// the gateway.
    pub fn candidates(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let net = self.subnet;
        net.hosts()
            .filter(move |a| *a != self.gateway && is_host(&net, *a))
    }
}

/// Whether `addr` is a host of `net`: inside it, and not its network
/// address (IPv6's subnet-router anycast, RFC 4291 2.6.1) nor IPv4's
/// broadcast, unless the prefix leaves no room for them (RFC 3021).
fn is_host(net: &IpNet, addr: IpAddr) -> bool {
    let room = net.max_prefix_len() - net.prefix_len() >= 2;
    net.contains(&addr)
        && !(room && (addr == net.network() || (addr.is_ipv4() && addr == net.broadcast())))
}

/// Why a bridge name cannot be used, if it cannot: it is written in host
/// commands and must be an interface name on both systems, so a letter,
/// then letters, digits, `_` or `-`, at most [`IFNAME_MAX`] in all.
pub fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.len() <= IFNAME_MAX;
    if !valid {
        return Err(format!(
            "\"{name}\" is not an interface name: a letter, then letters, digits, '_' or '-', at most {IFNAME_MAX} characters"
        ));
    }
    if name.starts_with("epair") {
        return Err(format!(
            "\"{name}\" is an epair(4) name, which runj gives the jails' ends"
        ));
    }
    Ok(())
}

/// One thing done to wire a jail to its bridge or to unwire it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The bridge with the gateway addresses, unless it exists (kept).
    Bridge { name: String, gateways: Vec<IpNet> },
    /// `epairN` created and its `a` end up.
    Epair { unit: u16 },
    /// `epairNa` made a member of the bridge.
    Member { bridge: String, unit: u16 },
    /// In the jail: `epairNb` given its address and brought up.
    Address { unit: u16, address: IpNet },
    /// In the jail: the default route through the gateway.
    Route { gateway: IpAddr },
    /// In the jail: loopback up.
    Loopback,
    /// `epairNa` destroyed (its `b` end with it).
    Destroy { unit: u16 },
    /// A bridge destroyed (`runj network rm`).
    RemoveBridge { name: String },
}

impl Action {
    /// The jail.conf parameter it is written in.
    pub fn stage(&self) -> &'static str {
        match self {
            Action::Bridge { .. } | Action::Epair { .. } | Action::Member { .. } => "exec.prestart",
            Action::Address { .. } | Action::Route { .. } | Action::Loopback => "exec.start",
            Action::Destroy { .. } | Action::RemoveBridge { .. } => "exec.poststop",
        }
    }

    /// Whether it runs in the jail (`exec.start`) rather than on the host.
    pub fn in_jail(&self) -> bool {
        self.stage() == "exec.start"
    }

    /// The command as jail.conf writes it and jail(8) runs it on FreeBSD.
    /// Every word is a checked name, a number or an address, so nothing
    /// needs quoting.
    pub fn command(&self) -> Command {
        Command::new(self.to_string())
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const IFCONFIG: &str = "/sbin/ifconfig";
        let inet = |a: &IpAddr| if a.is_ipv4() { "inet" } else { "inet6" };
        match self {
            // A bridge is cloned by its driver's name and then named
            // (freebsd/freebsd-src sbin/ifconfig/ifconfig.8 `create`,
            // `name`), one address family per invocation.
            Action::Bridge { name, gateways } => {
                write!(
                    f,
                    "{IFCONFIG} {name} >/dev/null 2>&1 || {{ {IFCONFIG} bridge create name {name} up"
                )?;
                for g in gateways {
                    write!(f, " && {IFCONFIG} {name} {} {g} alias", inet(&g.addr()))?;
                }
                f.write_str("; }")
            }
            // `epairN` clones the pair `epairNa`/`epairNb` with unit N
            // (freebsd/freebsd-src sys/net/if_epair.c `epair_clone_match`,
            // `epair_clone_create`); it fails when the unit is taken.
            Action::Epair { unit } => write!(f, "{IFCONFIG} epair{unit} create up"),
            Action::Member { bridge, unit } => write!(f, "{IFCONFIG} {bridge} addm epair{unit}a"),
            Action::Address { unit, address } => write!(
                f,
                "{IFCONFIG} epair{unit}b {} {address} up",
                inet(&address.addr())
            ),
            Action::Route { gateway } => {
                write!(f, "/sbin/route add -{} default {gateway}", inet(gateway))
            }
            Action::Loopback => write!(f, "{IFCONFIG} lo0 up"),
            Action::Destroy { unit } => write!(f, "{IFCONFIG} epair{unit}a destroy"),
            // Only a bridge: an interface of the group `bridge`
            // (ifconfig(8) `-g groupname`).
            Action::RemoveBridge { name } => write!(
                f,
                "{IFCONFIG} -g bridge | /usr/bin/grep -qx {name} && {IFCONFIG} {name} destroy"
            ),
        }
    }
}

impl Bridge {
    /// The epair unit, the one a first jail would get when not allocated.
    fn unit(&self) -> u16 {
        self.epair.unwrap_or(0)
    }

    /// The families, IPv4 first.
    pub fn families(&self) -> impl Iterator<Item = &Addressing> {
        self.ipv4.iter().chain(&self.ipv6)
    }

    /// Whether the unit and every address are decided.
    pub fn is_allocated(&self) -> bool {
        self.epair.is_some() && self.families().all(|a| a.address.is_some())
    }

    /// The jail's end, moved into its vnet (`vnet.interface`).
    pub fn jail_interface(&self) -> String {
        format!("epair{}b", self.unit())
    }

    /// What wires the jail, in order: on the host before the jail is made
    /// (`exec.prestart`), then in the jail (`exec.start`). An address not
    /// yet allocated is shown as the subnet's first candidate.
    pub fn wiring(&self) -> Vec<Action> {
        let unit = self.unit();
        let mut all = vec![
            Action::Bridge {
                name: self.name.clone(),
                gateways: self.families().map(|a| a.with_prefix(a.gateway)).collect(),
            },
            Action::Epair { unit },
            Action::Member {
                bridge: self.name.clone(),
                unit,
            },
        ];
        for a in self.families() {
            if let Some(address) = a.address.or_else(|| a.candidates().next()) {
                all.push(Action::Address {
                    unit,
                    address: a.with_prefix(address),
                });
            }
        }
        all.extend(
            self.families()
                .map(|a| Action::Route { gateway: a.gateway }),
        );
        all.push(Action::Loopback);
        all
    }

    /// What unwires it once the jail is removed (`exec.poststop`).
    pub fn unwiring(&self) -> Vec<Action> {
        vec![Action::Destroy { unit: self.unit() }]
    }

    /// A stage's commands with the bridge's: its wiring before the jail's
    /// own (the network is up when they run), its unwiring after.
    pub fn around_stage(&self, stage: &str, own: Vec<String>) -> Vec<String> {
        let of = |actions: Vec<Action>| -> Vec<String> {
            actions
                .iter()
                .filter(|a| a.stage() == stage)
                .map(ToString::to_string)
                .collect()
        };
        [of(self.wiring()), own, of(self.unwiring())].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v4(subnet: &str, gateway: &str, address: Option<&str>) -> Addressing {
        Addressing {
            subnet: subnet.parse().unwrap(),
            gateway: gateway.parse().unwrap(),
            address: address.map(|a| a.parse().unwrap()),
        }
    }

    fn bridge() -> Bridge {
        Bridge {
            name: "runj0".into(),
            epair: Some(7),
            ipv4: Some(v4("10.88.0.0/16", "10.88.0.1", Some("10.88.0.5"))),
            ipv6: Some(Addressing {
                subnet: "fd00:88::/64".parse().unwrap(),
                gateway: "fd00:88::1".parse().unwrap(),
                address: None,
            }),
        }
    }

    #[test]
    fn the_commands_an_operator_writes() {
        let b = bridge();
        let lines: Vec<String> = b
            .wiring()
            .iter()
            .chain(&b.unwiring())
            .map(|a| format!("{}: {a}", a.stage()))
            .collect();
        assert_eq!(
            lines,
            [
                "exec.prestart: /sbin/ifconfig runj0 >/dev/null 2>&1 || { /sbin/ifconfig bridge create name runj0 up && /sbin/ifconfig runj0 inet 10.88.0.1/16 alias && /sbin/ifconfig runj0 inet6 fd00:88::1/64 alias; }",
                "exec.prestart: /sbin/ifconfig epair7 create up",
                "exec.prestart: /sbin/ifconfig runj0 addm epair7a",
                "exec.start: /sbin/ifconfig epair7b inet 10.88.0.5/16 up",
                "exec.start: /sbin/ifconfig epair7b inet6 fd00:88::2/64 up",
                "exec.start: /sbin/route add -inet default 10.88.0.1",
                "exec.start: /sbin/route add -inet6 default fd00:88::1",
                "exec.start: /sbin/ifconfig lo0 up",
                "exec.poststop: /sbin/ifconfig epair7a destroy",
            ]
        );
        assert_eq!(b.jail_interface(), "epair7b");
        assert_eq!(
            Action::RemoveBridge {
                name: "runj0".into()
            }
            .to_string(),
            "/sbin/ifconfig -g bridge | /usr/bin/grep -qx runj0 && /sbin/ifconfig runj0 destroy"
        );
        assert!(!b.is_allocated(), "the IPv6 address is not taken yet");
        let argv = |a: &Action| a.command().invocation().argv.clone();
        assert_eq!(
            argv(&Action::Epair { unit: 7 }),
            ["/sbin/ifconfig", "epair7", "create", "up"]
        );
        assert_eq!(
            argv(&b.wiring()[0])[..2],
            ["/bin/sh", "-c"],
            "jail(8) runs it with sh"
        );
    }

    #[test]
    fn addressing_rules() {
        for (a, why) in [
            (
                v4("10.88.0.0/16", "10.89.0.1", None),
                "gateway 10.89.0.1 is not a host address of 10.88.0.0/16",
            ),
            (
                v4("10.88.0.0/16", "10.88.0.1", Some("10.88.255.255")),
                "address 10.88.255.255 is not a host address of 10.88.0.0/16",
            ),
            (
                v4("10.88.0.0/16", "10.88.0.0", None),
                "gateway 10.88.0.0 is not a host address of 10.88.0.0/16",
            ),
            (
                v4("10.88.0.1/16", "10.88.0.1", None),
                "subnet 10.88.0.1/16 has host bits set (the network is 10.88.0.0/16)",
            ),
            (
                v4("10.88.0.0/16", "10.88.0.1", Some("10.88.0.1")),
                "address 10.88.0.1 is the gateway's",
            ),
            (
                v4("10.88.0.0/16", "fd00::1", None),
                "gateway fd00::1 is not of the subnet's family",
            ),
        ] {
            assert_eq!(a.check().unwrap_err(), why);
        }
        v4("10.88.0.0/16", "10.88.0.1", Some("10.88.0.5"))
            .check()
            .unwrap();
        let small = v4("10.0.0.0/30", "10.0.0.1", None);
        assert_eq!(
            small.candidates().collect::<Vec<_>>(),
            ["10.0.0.2".parse::<IpAddr>().unwrap()]
        );
    }

    #[test]
    fn bridge_names_are_interface_names() {
        for good in ["runj0", "br-web", "a", "x_1234567890123"] {
            check_name(good).unwrap();
        }
        for bad in [
            "",
            "0br",
            "runj0;reboot",
            "br 0",
            "a$(id)",
            "x12345678901234567",
            "epair3a",
            "br.0",
            "br/0",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        /// A name that passes the check is one shell word in every
        /// command: jail(8) runs each with exactly the words printed.
        #[test]
        fn checked_names_stay_single_words(name in "[a-zA-Z][a-zA-Z0-9_-]{0,16}") {
            prop_assume!(check_name(&name).is_ok());
            let b = Bridge { name: name.clone(), ..bridge() };
            for a in b.wiring().iter().filter(|a| !matches!(a, Action::Bridge { .. })) {
                let words = shlex::split(&a.to_string()).unwrap();
                prop_assert_eq!(words, a.command().invocation().argv.clone());
            }
            let words = |b: &Bridge| shlex::split(&b.wiring()[0].to_string()).unwrap().len();
            prop_assert_eq!(words(&b), words(&bridge()), "the script keeps its shape");
        }

        /// Hostile names never pass.
        #[test]
        fn hostile_names_are_refused(name in "[a-z][a-z0-9]{0,5}[ ;|&$`'\"\\\\(){}<>*?!#~\n][\\PC]{0,5}") {
            prop_assert!(check_name(&name).is_err());
        }
    }
}
