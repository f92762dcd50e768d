//! runj's `runj.ext.json`: FreeBSD network settings kept beside a bundle's
//! config.json (or named by `--ext`, or passed by the shim), merged into
//! `freebsd.jail` as runj does (samuelkarp/runj runtimespec/config.go,
//! oci/config.go `merge`): modes override when non-empty, lists append, and
//! missing `freebsd`/`freebsd.jail` objects are created. runj's own
//! `network.vnet.bridge` (docs/jail-plan.md, "Bridge networking") has no
//! `freebsd.jail` field: it becomes the plan's `network.bridge`.

use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::freebsd::{FreeBsd, SharingMode, SharingModeNoDisable};
use super::jail::Labels;
use super::json;
use super::report::Report;
use crate::bridge::{self, Addressing, Bridge};
use crate::rctl::Rule;

/// The file's name beside config.json.
pub const FILE_NAME: &str = "runj.ext.json";

/// How JSON paths inside the file are prefixed in diagnostics.
pub(super) const PREFIX: &str = "runj.ext.json:";

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Ext {
    #[serde(default)]
    network: Option<Network>,
    /// runj's own: trust the bundle's annotations (docs/security.md). The
    /// file is the operator's (the shim's runtime options) or the bundle
    /// writer's, both trusted.
    #[serde(default)]
    pub(super) trust_annotations: bool,
    #[serde(default)]
    resources: Option<Resources>,
}

/// `resources`: rctl(8) rules without their subject (`crate::rctl`).
#[derive(Debug, Default, Deserialize)]
struct Resources {
    #[serde(default)]
    rctl: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Network {
    #[serde(default)]
    ipv4: Option<Ipv4>,
    #[serde(default)]
    vnet: Option<Vnet>,
}

/// `network.ipv4`; an empty `mode` is unset, as in Go.
#[derive(Debug, Default, Deserialize)]
struct Ipv4 {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    addr: Vec<String>,
}

/// `network.vnet`.
#[derive(Debug, Default, Deserialize)]
struct Vnet {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    interfaces: Vec<String>,
    #[serde(default)]
    bridge: Option<BridgeSpec>,
}

/// `network.vnet.bridge`: the bridge's name and the jail's addressing.
#[derive(Debug, Deserialize)]
struct BridgeSpec {
    name: String,
    #[serde(default)]
    ipv4: Option<FamilySpec>,
    #[serde(default)]
    ipv6: Option<FamilySpec>,
}

/// `{address: "A/P", gateway}` or `{subnet: "N/P", gateway}`.
#[derive(Debug, Deserialize)]
struct FamilySpec {
    #[serde(default)]
    address: Option<IpNet>,
    #[serde(default)]
    subnet: Option<IpNet>,
    gateway: IpAddr,
}

/// Reads the extension: `explicit` (which must exist), else the file beside
/// config.json when there is one.
pub(super) fn load(explicit: Option<&Path>, dir: &Path, report: &mut Report) -> Option<Ext> {
    let beside = dir.join(FILE_NAME);
    let path = match explicit {
        Some(path) => path,
        None if beside.exists() => &beside,
        None => return None,
    };
    match json::read(path) {
        Ok(value) => json::typed(&value, PREFIX, report),
        Err(d) => {
            report.push(d);
            None
        }
    }
}

/// The extension's rctl rules, in order; a bad one is an error naming it.
pub(super) fn rctl(ext: &Ext, report: &mut Report) -> Vec<Rule> {
    let given = ext.resources.iter().flat_map(|r| r.rctl.iter());
    given
        .enumerate()
        .filter_map(|(i, text)| {
            text.parse()
                .map_err(|e: crate::rctl::RuleError| {
                    report.error(format!("{PREFIX}resources.rctl[{i}]"), e.to_string())
                })
                .ok()
        })
        .collect()
}

/// Merges the extension into `freebsd.jail`, recording in `labels` which
/// fields it set; returns the bridge it asks for, checked.
pub(super) fn merge(
    ext: Ext,
    freebsd: &mut Option<FreeBsd>,
    labels: &mut Labels,
    report: &mut Report,
) -> Option<Bridge> {
    let jail = freebsd
        .get_or_insert_with(FreeBsd::default)
        .jail
        .get_or_insert_with(Default::default);
    let network = ext.network?;
    if let Some(v4) = network.ipv4 {
        if let Some(mode) = mode::<SharingMode>(&v4.mode, "network.ipv4.mode", report) {
            jail.ip4 = Some(mode);
            labels.set("ip4", format!("{PREFIX}network.ipv4.mode"));
        }
        append(
            &mut jail.ip4_addr,
            v4.addr,
            "ip4Addr",
            "network.ipv4.addr",
            labels,
        );
    }
    if let Some(vnet) = network.vnet {
        if let Some(mode) = mode::<SharingModeNoDisable>(&vnet.mode, "network.vnet.mode", report) {
            jail.vnet = Some(mode);
            labels.set("vnet", format!("{PREFIX}network.vnet.mode"));
        }
        append(
            &mut jail.vnet_interfaces,
            vnet.interfaces,
            "vnetInterfaces",
            "network.vnet.interfaces",
            labels,
        );
        return checked_bridge(vnet.bridge?, &format!("{PREFIX}{BRIDGE_PATH}"), report);
    }
    None
}

/// Where the bridge is in the file.
pub(super) const BRIDGE_PATH: &str = "network.vnet.bridge";

/// A bridge given as JSON elsewhere (an annotation), read as the file's
/// `network.vnet.bridge`; errors are named under `path`.
pub(super) fn bridge_from(
    value: &serde_json::Value,
    path: &str,
    report: &mut Report,
) -> Option<Bridge> {
    let spec = json::typed(value, path, report)?;
    checked_bridge(spec, path, report)
}

/// The bridge as the plan holds it, or the errors that prevent it.
fn checked_bridge(spec: BridgeSpec, path: &str, report: &mut Report) -> Option<Bridge> {
    let mut ok = bridge::check_name(&spec.name)
        .map_err(|e| report.error(format!("{path}.name"), e))
        .is_ok();
    let mut family = |spec: Option<FamilySpec>, name: &str, v4: bool| {
        let spec = spec?;
        let at = format!("{path}.{name}");
        let addressing = addressing(spec, v4)
            .and_then(|a| a.check().map(|()| a))
            .map_err(|e| report.error(&at, e))
            .ok();
        ok &= addressing.is_some();
        addressing
    };
    let ipv4 = family(spec.ipv4, "ipv4", true);
    let ipv6 = family(spec.ipv6, "ipv6", false);
    ok.then_some(Bridge {
        name: spec.name,
        epair: None,
        ipv4,
        ipv6,
    })
}

/// One family's addressing: a fixed address with its prefix, or a subnet
/// to take the next free address of.
fn addressing(spec: FamilySpec, v4: bool) -> Result<Addressing, String> {
    let (subnet, address) = match (spec.address, spec.subnet) {
        (Some(a), None) => (a.trunc(), Some(a.addr())),
        (None, Some(s)) => (s, None),
        (Some(_), Some(_)) => return Err("give either address or subnet, not both".into()),
        (None, None) => return Err("give an address (A/PREFIX) or a subnet".into()),
    };
    if subnet.addr().is_ipv4() != v4 {
        let family = if v4 { "IPv4" } else { "IPv6" };
        return Err(format!("{subnet} is not an {family} network"));
    }
    Ok(Addressing {
        subnet,
        gateway: spec.gateway,
        address,
    })
}

/// A mode string typed like the `freebsd.jail` field it overrides; empty
/// means unset.
fn mode<T: DeserializeOwned>(text: &str, path: &str, report: &mut Report) -> Option<T> {
    if text.is_empty() {
        return None;
    }
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|e| report.error(format!("{PREFIX}{path}"), e.to_string()))
        .ok()
}

fn append(
    list: &mut Vec<String>,
    more: Vec<String>,
    field: &'static str,
    path: &str,
    labels: &mut Labels,
) {
    if more.is_empty() {
        return;
    }
    let ext = format!("{PREFIX}{path}");
    let label = if list.is_empty() {
        ext
    } else {
        format!("{} and {ext}", labels.of(field))
    };
    labels.set(field, label);
    list.extend(more);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::freebsd::Jail;

    fn ext(json: serde_json::Value) -> Ext {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn modes_override_lists_append() {
        let mut freebsd = Some(FreeBsd {
            devices: vec![],
            jail: Some(Jail {
                ip4: Some(SharingMode::Inherit),
                ip4_addr: vec!["192.0.2.1".into()],
                vnet: Some(SharingModeNoDisable::Inherit),
                ..Jail::default()
            }),
        });
        let mut labels = Labels::default();
        let mut report = Report::new(false);
        let e = ext(serde_json::json!({ "network": {
            "ipv4": { "mode": "new", "addr": ["192.0.2.2"] },
            "vnet": { "mode": "", "interfaces": ["epair0b"] } } }));
        merge(e, &mut freebsd, &mut labels, &mut report);
        let jail = freebsd.unwrap().jail.unwrap();
        assert_eq!(jail.ip4, Some(SharingMode::New));
        assert_eq!(jail.ip4_addr, ["192.0.2.1", "192.0.2.2"]);
        assert_eq!(
            jail.vnet,
            Some(SharingModeNoDisable::Inherit),
            "an empty mode is unset"
        );
        assert_eq!(jail.vnet_interfaces, ["epair0b"]);
        assert_eq!(labels.of("ip4"), "runj.ext.json:network.ipv4.mode");
        assert_eq!(
            labels.of("ip4Addr"),
            "freebsd.jail.ip4Addr and runj.ext.json:network.ipv4.addr"
        );
        assert_eq!(labels.of("vnet"), "freebsd.jail.vnet");
        assert_eq!(
            labels.of("vnetInterfaces"),
            "runj.ext.json:network.vnet.interfaces"
        );
        assert!(report.diagnostics.0.is_empty());
    }

    #[test]
    fn rctl_rules_are_read_and_checked() {
        let e = ext(serde_json::json!({ "resources": { "rctl": [
            "memoryuse:deny=512M", "pcpu:throttle=5", "openfiles:deny=1024" ] } }));
        let mut report = Report::new(false);
        let rules: Vec<String> = rctl(&e, &mut report)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(rules, ["memoryuse:deny=536870912", "openfiles:deny=1024"]);
        assert_eq!(
            report.diagnostics.messages(),
            [
                "error: runj.ext.json:resources.rctl[1]: rctl rule \"pcpu:throttle=5\": throttle applies only to readbps, writebps, readiops and writeiops"
            ]
        );
    }

    #[test]
    fn missing_objects_are_created() {
        let mut freebsd = None;
        let e = ext(serde_json::json!({ "network": { "vnet": { "mode": "new" } } }));
        merge(
            e,
            &mut freebsd,
            &mut Labels::default(),
            &mut Report::new(false),
        );
        assert_eq!(
            freebsd.unwrap().jail.unwrap().vnet,
            Some(SharingModeNoDisable::New)
        );
    }

    #[test]
    fn bad_modes_name_the_ext_path() {
        let mut freebsd = None;
        let mut report = Report::new(false);
        let e = ext(serde_json::json!({ "network": { "vnet": { "mode": "disable" } } }));
        merge(e, &mut freebsd, &mut Labels::default(), &mut report);
        assert_eq!(
            report.diagnostics.0[0].to_string(),
            "error: runj.ext.json:network.vnet.mode: unknown variant `disable`, expected `new` or `inherit`"
        );
    }

    fn bridge_of(network: serde_json::Value) -> (Option<Bridge>, Vec<String>) {
        let mut report = Report::new(false);
        let path = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            path.path(),
            serde_json::json!({ "network": network }).to_string(),
        )
        .unwrap();
        let dir = path.path().parent().unwrap();
        let e = load(Some(path.path()), dir, &mut report).unwrap_or_default();
        let bridge = merge(e, &mut None, &mut Labels::default(), &mut report);
        let shown = report
            .diagnostics
            .0
            .iter()
            .map(ToString::to_string)
            .collect();
        (bridge, shown)
    }

    #[test]
    fn a_bridge_with_an_address_or_a_subnet() {
        let (bridge, shown) = bridge_of(serde_json::json!({ "vnet": { "mode": "new", "bridge": {
            "name": "runj0",
            "ipv4": { "address": "10.88.0.5/16", "gateway": "10.88.0.1" },
            "ipv6": { "subnet": "fd00:88::/64", "gateway": "fd00:88::1" } } } }));
        assert!(shown.is_empty(), "{shown:?}");
        let bridge = bridge.unwrap();
        let v4 = bridge.ipv4.unwrap();
        assert_eq!(v4.subnet.to_string(), "10.88.0.0/16");
        assert_eq!(v4.address.unwrap().to_string(), "10.88.0.5");
        assert_eq!(bridge.ipv6.unwrap().address, None);
        assert_eq!(bridge.epair, None, "allocated at create");
    }

    #[test]
    fn bad_bridges_name_the_json_path() {
        for (bridge, vnet_mode, error) in [
            (
                serde_json::json!({ "name": "runj0", "ipv4": { "address": "10.88.0.500/16", "gateway": "10.88.0.1" } }),
                "new",
                "error: runj.ext.json:network.vnet.bridge.ipv4.address: invalid IP address syntax",
            ),
            (
                serde_json::json!({ "name": "runj0", "ipv4": { "address": "10.88.0.5", "gateway": "10.88.0.1" } }),
                "new",
                "error: runj.ext.json:network.vnet.bridge.ipv4.address: invalid IP address syntax",
            ),
            (
                serde_json::json!({ "name": "a-very-long-bridge-name", "ipv4": { "subnet": "10.88.0.0/16", "gateway": "10.88.0.1" } }),
                "new",
                "error: runj.ext.json:network.vnet.bridge.name: \"a-very-long-bridge-name\" is not an interface name: a letter, then letters, digits, '_' or '-', at most 15 characters",
            ),
            (
                serde_json::json!({ "name": "runj0", "ipv4": { "subnet": "fd00::/64", "gateway": "fd00::1" } }),
                "new",
                "error: runj.ext.json:network.vnet.bridge.ipv4: fd00::/64 is not an IPv4 network",
            ),
            (
                serde_json::json!({ "name": "runj0", "ipv6": { "gateway": "fd00::1" } }),
                "new",
                "error: runj.ext.json:network.vnet.bridge.ipv6: give an address (A/PREFIX) or a subnet",
            ),
        ] {
            let (made, shown) =
                bridge_of(serde_json::json!({ "vnet": { "mode": vnet_mode, "bridge": bridge } }));
            assert!(made.is_none());
            assert_eq!(shown, [error]);
        }
    }

    #[test]
    fn load_finds_the_file_beside_config() {
        let dir = tempfile::tempdir().unwrap();
        let mut report = Report::new(false);
        assert!(load(None, dir.path(), &mut report).is_none());
        std::fs::write(dir.path().join(FILE_NAME), r#"{"network":{"ipv6":{}}}"#).unwrap();
        assert!(load(None, dir.path(), &mut report).is_some());
        assert_eq!(
            report.diagnostics.0[0].to_string(),
            "warning: runj.ext.json:network.ipv6: unknown property, ignored"
        );
        let missing = dir.path().join("other.json");
        assert!(load(Some(&missing), dir.path(), &mut report).is_none());
        assert!(report.diagnostics.has_errors());
    }
}
