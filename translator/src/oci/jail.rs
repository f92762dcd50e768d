//! `freebsd.jail` (merged with runj.ext.json) → plan parameters, following
//! the runtime-spec's mapping table (opencontainers/runtime-spec
//! config-freebsd.md): modes and `enforceStatfs` become the same-named
//! parameters, `ip4Addr`/`ip6Addr` become `ip4.addr`/`ip6.addr`,
//! `interface` and `vnetInterfaces` jail(8)'s `interface` and
//! `vnet.interface`, each `allow` boolean its `allow.*` parameter, and a
//! non-empty `allow.mount` list `allow.mount` plus `allow.mount.<fs>` for
//! each type. `parent` names the jail's parent (see [`super::name`]).

use std::collections::HashMap;
use std::net::IpAddr;

use serde_json::{Map, Value as Json};

use super::freebsd::{Allow, Jail};
use super::report::Report;
use super::tracked::Tracked;
use crate::bundle::{ALLOW_FIELDS, JAIL_FIELDS};
use crate::catalog;
use crate::plan::Address;

/// Where each `freebsd.jail` field's value came from: `freebsd.jail.FIELD`
/// unless runj.ext.json set or extended it.
#[derive(Debug, Default)]
pub(super) struct Labels(HashMap<String, String>);

impl Labels {
    /// The source of a field (`ip4`, `allow.rawSockets`).
    pub fn of(&self, field: &str) -> String {
        self.0
            .get(field)
            .cloned()
            .unwrap_or_else(|| format!("freebsd.jail.{field}"))
    }

    pub fn set(&mut self, field: &str, label: String) {
        self.0.insert(field.to_string(), label);
    }
}

/// Applies `freebsd.jail` to the plan.
pub(super) fn apply(jail: &Jail, labels: &Labels, t: &mut Tracked, report: &mut Report) {
    if let Some(parent) = &jail.parent {
        t.set_parent(&labels.of("parent"), parent, report);
    }
    scalars(&fields(jail), JAIL_FIELDS, "", labels, t, report);
    addresses(t, &labels.of("ip4Addr"), &jail.ip4_addr, true, report);
    addresses(t, &labels.of("ip6Addr"), &jail.ip6_addr, false, report);
    if let Some(interface) = &jail.interface {
        t.apply(&labels.of("interface"), report, |plan| {
            plan.network.interface = Some(interface.clone());
            Ok(None)
        });
    }
    if !jail.vnet_interfaces.is_empty() {
        t.apply(&labels.of("vnetInterfaces"), report, |plan| {
            plan.network.vnet_interfaces = jail.vnet_interfaces.clone();
            Ok(None)
        });
    }
    if let Some(allow) = &jail.allow {
        apply_allow(allow, labels, t, report);
    }
}

fn apply_allow(allow: &Allow, labels: &Labels, t: &mut Tracked, report: &mut Report) {
    scalars(&fields(allow), ALLOW_FIELDS, "allow.", labels, t, report);
    if allow.mount.is_empty() {
        return;
    }
    let label = labels.of("allow.mount");
    t.param(&label, "allow.mount", &[], report);
    for (i, fs) in allow.mount.iter().enumerate() {
        let subject = format!("{label}[{i}]");
        let param = format!("allow.mount.{fs}");
        match catalog::lookup(&param) {
            Some(l) if !l.negated => t.param(&subject, &param, &[], report),
            _ => report.error(subject, format!("\"{fs}\" is not a filesystem type name")),
        }
    }
}

/// A typed struct's fields by their JSON names; absent ones are skipped.
fn fields<T: serde::Serialize>(value: &T) -> Map<String, Json> {
    match serde_json::to_value(value) {
        Ok(Json::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Sets each parameter of `table` (parameter, field) whose field is present.
fn scalars(
    fields: &Map<String, Json>,
    table: &[(&str, &str)],
    prefix: &str,
    labels: &Labels,
    t: &mut Tracked,
    report: &mut Report,
) {
    for (param, field) in table {
        let text = match fields.get(*field) {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Number(n)) => n.to_string(),
            Some(Json::Bool(b)) => b.to_string(),
            _ => continue,
        };
        t.param(
            &labels.of(&format!("{prefix}{field}")),
            param,
            &[&text],
            report,
        );
    }
}

/// Sets `ip4.addr` or `ip6.addr` from numeric addresses.
pub(super) fn addresses(
    t: &mut Tracked,
    source: &str,
    texts: &[String],
    v4: bool,
    report: &mut Report,
) {
    if texts.is_empty() {
        return;
    }
    let parsed: Result<Vec<Address>, String> =
        texts.iter().map(|a| numeric_address(a, v4)).collect();
    t.apply(source, report, |plan| {
        let list = if v4 {
            &mut plan.network.ip4
        } else {
            &mut plan.network.ip6
        };
        *list = parsed?;
        Ok(None)
    });
}

/// An address in numeric form, as config-freebsd.md asks (no interface,
/// prefix or ifconfig arguments: those belong to `interface`).
fn numeric_address(text: &str, v4: bool) -> Result<Address, String> {
    let family = if v4 { "IPv4" } else { "IPv6" };
    match text.parse::<IpAddr>() {
        Ok(addr) if addr.is_ipv4() == v4 => Ok(Address {
            interface: None,
            addr,
            mask: None,
            extra: None,
        }),
        _ => Err(format!("\"{text}\" is not a numeric {family} address")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::freebsd::{SharingMode, SharingModeNoDisable};
    use crate::plan::{Mode, Value};

    fn applied(jail: &Jail) -> (Tracked, Report) {
        let mut t = Tracked::default();
        let mut report = Report::new(false);
        apply(jail, &Labels::default(), &mut t, &mut report);
        (t, report)
    }

    #[test]
    fn every_field_maps() {
        let jail = Jail {
            parent: Some("pod".into()),
            host: Some(SharingModeNoDisable::New),
            ip4: Some(SharingMode::New),
            ip4_addr: vec!["192.0.2.1".into(), "192.0.2.2".into()],
            ip6: Some(SharingMode::Disable),
            interface: Some("lo1".into()),
            sysvmsg: Some(SharingMode::Inherit),
            sysvsem: Some(SharingMode::New),
            sysvshm: Some(SharingMode::Disable),
            enforce_statfs: Some(1),
            allow: Some(Allow {
                set_hostname: Some(false),
                raw_sockets: Some(true),
                chflags: Some(true),
                mount: vec!["tmpfs".into(), "nullfs".into()],
                quotas: Some(false),
                socket_af: Some(true),
                mlock: Some(true),
                reserved_ports: Some(false),
                suser: Some(false),
            }),
            ..Jail::default()
        };
        let (t, report) = applied(&jail);
        assert!(report.diagnostics.0.is_empty(), "{:?}", report.diagnostics);
        assert_eq!(t.parent.as_deref(), Some("pod"));
        let p = &t.plan.parameters;
        let text = |s: &str| Value::Mode(Mode::parse(s).unwrap());
        assert_eq!(p["host"], text("new"));
        assert_eq!(p["ip4"], text("new"));
        assert_eq!(p["ip6"], text("disable"));
        assert_eq!(p["sysvmsg"], text("inherit"));
        assert_eq!(p["sysvsem"], text("new"));
        assert_eq!(p["sysvshm"], text("disable"));
        assert_eq!(p["enforce_statfs"], Value::Int(1));
        for (name, on) in [
            ("allow.set_hostname", false),
            ("allow.raw_sockets", true),
            ("allow.chflags", true),
            ("allow.quotas", false),
            ("allow.socket_af", true),
            ("allow.mlock", true),
            ("allow.reserved_ports", false),
            ("allow.suser", false),
            ("allow.mount", true),
            ("allow.mount.tmpfs", true),
            ("allow.mount.nullfs", true),
        ] {
            assert_eq!(p[name], Value::Bool(on), "{name}");
        }
        let n = &t.plan.network;
        assert_eq!(n.ip4.len(), 2);
        assert_eq!(n.interface.as_deref(), Some("lo1"));
        assert_eq!(
            t.source("allow.raw_sockets"),
            Some("freebsd.jail.allow.rawSockets")
        );
        assert_eq!(t.source("ip4.addr"), Some("freebsd.jail.ip4Addr"));
    }

    #[test]
    fn vnet_and_interfaces() {
        let jail = Jail {
            vnet: Some(SharingModeNoDisable::New),
            vnet_interfaces: vec!["epair0b".into()],
            ..Jail::default()
        };
        let (t, _) = applied(&jail);
        assert_eq!(t.plan.param("vnet"), Some(&Value::Mode(Mode::New)));
        assert_eq!(t.plan.network.vnet_interfaces, ["epair0b"]);
    }

    #[test]
    fn bad_addresses_and_filesystems() {
        let jail = Jail {
            ip4_addr: vec!["192.0.2.1".into(), "fd00::1".into()],
            ip6_addr: vec!["em0|fd00::1/64".into()],
            allow: Some(Allow {
                mount: vec!["tmp fs".into()],
                ..Allow::default()
            }),
            ..Jail::default()
        };
        let (t, report) = applied(&jail);
        let shown: Vec<String> = report.diagnostics.messages();
        assert_eq!(
            shown,
            [
                "error: freebsd.jail.ip4Addr: \"fd00::1\" is not a numeric IPv4 address",
                "error: freebsd.jail.ip6Addr: \"em0|fd00::1/64\" is not a numeric IPv6 address",
                "error: freebsd.jail.allow.mount[0]: \"tmp fs\" is not a filesystem type name",
            ]
        );
        assert!(t.plan.network.ip4.is_empty());
    }
}
