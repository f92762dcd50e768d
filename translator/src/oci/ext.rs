//! runj's `runj.ext.json`: FreeBSD network settings kept beside a bundle's
//! config.json (or named by `--ext`, or passed by the shim), merged into
//! `freebsd.jail` as runj does (samuelkarp/runj runtimespec/config.go,
//! oci/config.go `merge`): modes override when non-empty, lists append, and
//! missing `freebsd`/`freebsd.jail` objects are created.

use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::freebsd::{FreeBsd, SharingMode, SharingModeNoDisable};
use super::jail::Labels;
use super::json;
use super::report::Report;
use crate::rctl::Rule;

/// The file's name beside config.json.
pub const FILE_NAME: &str = "runj.ext.json";

/// How JSON paths inside the file are prefixed in diagnostics.
const PREFIX: &str = "runj.ext.json:";

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
/// fields it set.
pub(super) fn merge(
    ext: Ext,
    freebsd: &mut Option<FreeBsd>,
    labels: &mut Labels,
    report: &mut Report,
) {
    let jail = freebsd
        .get_or_insert_with(FreeBsd::default)
        .jail
        .get_or_insert_with(Default::default);
    let Some(network) = ext.network else {
        return;
    };
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
    }
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
