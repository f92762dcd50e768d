//! The runtime-spec v1.3 `freebsd` object, which oci-spec 0.10 does not
//! model (youki-dev/oci-spec-rs#316). Types follow
//! opencontainers/runtime-spec schema/config-freebsd.json and
//! schema/defs-freebsd.json; the schema is open, so unknown properties are
//! warnings (see [`super::json::typed`]), not errors.

use serde::{Deserialize, Serialize};

/// `freebsd`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(super) struct FreeBsd {
    #[serde(default)]
    pub devices: Vec<Device>,
    #[serde(default)]
    pub jail: Option<Jail>,
}

/// `freebsd.devices[]`: a device to expose in the container's devfs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(super) struct Device {
    /// Relative to `/dev`; required by config-freebsd.md (not the schema).
    pub path: String,
    /// Permission bits in decimal (schema `FileMode`, 0..=511).
    #[serde(default)]
    pub mode: Option<u32>,
}

/// `SharingMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum SharingMode {
    Disable,
    New,
    Inherit,
}

/// `SharingModeNoDisable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum SharingModeNoDisable {
    New,
    Inherit,
}

/// `freebsd.jail`. Absent fields keep the kernel's defaults. It serializes
/// back to its JSON field names, absent ones skipped, which is how
/// [`super::jail`] maps fields to parameters by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Jail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<SharingModeNoDisable>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip4: Option<SharingMode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip4_addr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip6: Option<SharingMode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip6_addr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vnet: Option<SharingModeNoDisable>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vnet_interfaces: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sysvmsg: Option<SharingMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sysvsem: Option<SharingMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sysvshm: Option<SharingMode>,
    /// Schema `uint8`; the kernel takes 0..=2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce_statfs: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<Allow>,
}

/// `freebsd.jail.allow`. The booleans are `Option`s: absent keeps the
/// kernel default, which for `setHostname`, `reservedPorts` and `suser` is
/// allowed (the spec's prose disagrees with itself there, and Go's
/// `omitempty` cannot say `false`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Allow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_hostname: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_sockets: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chflags: Option<bool>,
    /// Filesystem types that may be mounted in the jail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mount: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quotas: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket_af: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlock: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_ports: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suser: Option<bool>,
}
