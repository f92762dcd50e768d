//! Bridge networking emulated: a Linux bridge for if_bridge(4) and a veth
//! pair for the epair(4), named as on FreeBSD (`epairNa` a member of the
//! bridge, `epairNb` moved into the jail's network namespace by the
//! `vnet.interface` step), with the addresses and routes set inside.
//!
//! Through iproute2's `ip`, as the rest of the emulation's network: a
//! netlink crate (rtnetlink) would bring an async runtime into every
//! `runj` for a handful of calls the emulation makes once per container.

use runj_translator::bridge::Action;

use super::{LinuxHost, run_ip};
use crate::error::{Error, Result};
use crate::host::JailRef;

impl LinuxHost {
    /// One action, on the host's network (the namespace runj runs in) or
    /// in the jail's.
    pub(super) fn wire_action(&self, action: &Action, jail: &JailRef) -> Result<()> {
        match action {
            Action::Bridge { name, gateways } => {
                // Under the registry's lock: concurrent creates make the
                // bridge once.
                let _lock = self.lock()?;
                if exists(name) {
                    return Ok(());
                }
                ip(&["link", "add", name, "type", "bridge"])?;
                for g in gateways {
                    let g = g.to_string();
                    ip(&with_nodad(
                        &["addr", "add", &g, "dev", name],
                        g.contains(':'),
                    ))?;
                }
                ip(&["link", "set", name, "up"])
            }
            Action::Epair { unit } => {
                let (a, b) = (format!("epair{unit}a"), format!("epair{unit}b"));
                ip(&["link", "add", &a, "type", "veth", "peer", "name", &b])?;
                ip(&["link", "set", &a, "up"])
            }
            Action::Member { bridge, unit } => {
                ip(&["link", "set", &format!("epair{unit}a"), "master", bridge])
            }
            Action::Address { unit, address } => {
                let (b, a) = (format!("epair{unit}b"), address.to_string());
                let v6 = a.contains(':');
                self.inside(jail, &with_nodad(&["addr", "add", &a, "dev", &b], v6))?;
                self.inside(jail, &["link", "set", &b, "up"])
            }
            Action::Route { gateway } => {
                let family = if gateway.is_ipv4() { "-4" } else { "-6" };
                let via = gateway.to_string();
                self.inside(jail, &[family, "route", "add", "default", "via", &via])
            }
            Action::Loopback => self.inside(jail, &["link", "set", "lo", "up"]),
            // The jail's end goes with its namespace, and the pair with
            // it, while the kernel cleans the namespace up (asynchronously):
            // a pair gone before or during the deletion is destroyed.
            Action::Destroy { unit } => {
                let a = format!("epair{unit}a");
                match exists(&a).then(|| ip(&["link", "del", &a])) {
                    Some(Err(_)) if !exists(&a) => Ok(()),
                    done => done.unwrap_or(Ok(())),
                }
            }
            Action::RemoveBridge { name } => {
                if !is_bridge(name)? {
                    return Err(Error::Plan(format!("there is no bridge {name}")));
                }
                ip(&["link", "del", name])
            }
        }
    }

    fn inside(&self, jail: &JailRef, args: &[&str]) -> Result<()> {
        let jid = super::running(jail)?;
        self.in_jail_net(&self.record(jid)?, args)
    }
}

/// `ip ARGS` in runj's own network namespace.
fn ip(args: &[&str]) -> Result<()> {
    let argv: Vec<String> = std::iter::once("ip")
        .chain(args.iter().copied())
        .map(String::from)
        .collect();
    run_ip(&argv, None)
}

/// IPv6 addresses without duplicate address detection, usable at once,
/// as FreeBSD's epair addresses are once DAD is done.
fn with_nodad<'a>(args: &[&'a str], v6: bool) -> Vec<&'a str> {
    let mut all = args.to_vec();
    if v6 {
        all.push("nodad");
    }
    all
}

/// Whether `name` is a bridge in runj's network namespace (`ip link show
/// type bridge` lists the bridges alone).
fn is_bridge(name: &str) -> Result<bool> {
    let out = std::process::Command::new("ip")
        .args(["-o", "link", "show", "type", "bridge"])
        .output()
        .map_err(|e| Error::os("ip link show type bridge", e))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .any(|n| n == name))
}

/// Whether an interface of this name is in runj's network namespace.
fn exists(name: &str) -> bool {
    crate::host::interface_exists(name)
}
