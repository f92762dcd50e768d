//! Emitting a [`JailPlan`] as an OCI bundle's `config.json` (runtime-spec
//! 1.3.0 with its `freebsd` section), for `runj migrate`.
//!
//! What the runtime-spec models goes into its own fields: `root.path`,
//! `hostname`, `domainname`, `mounts`, `process` and `freebsd.jail`.
//! Everything else is kept in annotations under [`PARAM_PREFIX`], one per
//! jail.conf parameter, its value in JSON (a string, number, boolean, or a
//! list of strings); the OCI translator reads them back, so that the bundle
//! plans to the same jail.
//!
//! jail(8) runs `exec.start` and then `command`; an OCI container has one
//! process. The process is built from those lists (one command: its argv by
//! jail(8)'s rule; several: one `/bin/sh -c` script joining them with `&&`),
//! the lists themselves are kept as parameter annotations, and
//! [`PROCESS_SOURCE`] records that the process is derived from them.

use serde_json::{Map, Value as Json, json};

use crate::invocation::derived_args;
use crate::lower::set_param;
use crate::plan::{JailPlan, Value};

/// Prefix of the annotations that carry jail parameters.
pub const PARAM_PREFIX: &str = "org.freebsd.jail.param.";

/// Annotation carrying the jail's rctl(8) rules, a JSON list
/// (`["memoryuse:deny=512M"]`); limits only restrict, so annotations may
/// set them (docs/security.md).
pub const RCTL_ANNOTATION: &str = "org.freebsd.rctl";

/// Annotation naming the parameters the OCI process was derived from.
pub const PROCESS_SOURCE: &str = "org.freebsd.jail.process-source";

/// `freebsd.jail` fields that are plain kernel parameters, by parameter.
pub(crate) const JAIL_FIELDS: &[(&str, &str)] = &[
    ("host", "host"),
    ("ip4", "ip4"),
    ("ip6", "ip6"),
    ("vnet", "vnet"),
    ("sysvmsg", "sysvmsg"),
    ("sysvsem", "sysvsem"),
    ("sysvshm", "sysvshm"),
    ("enforce_statfs", "enforceStatfs"),
];

/// `freebsd.jail.allow` booleans, by parameter.
pub(crate) const ALLOW_FIELDS: &[(&str, &str)] = &[
    ("allow.set_hostname", "setHostname"),
    ("allow.raw_sockets", "rawSockets"),
    ("allow.chflags", "chflags"),
    ("allow.quotas", "quotas"),
    ("allow.socket_af", "socketAf"),
    ("allow.mlock", "mlock"),
    ("allow.reserved_ports", "reservedPorts"),
    ("allow.suser", "suser"),
];

/// The file in a bundle directory that carries jail parameters no
/// annotation may set (docs/security.md): a JSON object of parameter
/// names and values, as in the [`PARAM_PREFIX`] annotations.
pub const JAIL_FILE: &str = "runj.jail.json";

/// Whether annotations may set what acts on the host or widens the jail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Only what [`crate::trust::refusal`] lets through.
    Untrusted,
    /// Anything: the operator writes the annotations.
    Trusted,
}

/// Applies one annotation if it is a [`PARAM_PREFIX`] one (`None` if not):
/// `Ok` with a warning, if any, or the error.
pub(crate) fn param_annotation(
    plan: &mut JailPlan,
    key: &str,
    text: &str,
    trust: Trust,
) -> Option<Result<Option<String>, String>> {
    let param = key.strip_prefix(PARAM_PREFIX)?;
    Some(
        serde_json::from_str::<Json>(text)
            .map_err(|e| format!("not a JSON parameter value: {e}"))
            .and_then(|j| param_values(&j).map_err(|e| format!("not a JSON parameter value: {e}")))
            .and_then(|values| {
                if trust == Trust::Untrusted
                    && let Some(why) = crate::trust::refusal(param, &values, plan)
                {
                    return Err(format!(
                        "{why}: not taken from an annotation (write it in the bundle's {JAIL_FILE}, \
                         or trust annotations with --trust-annotations)"
                    ));
                }
                set_param(plan, param, &values)
            }),
    )
}

/// Applies one parameter of a bundle's [`JAIL_FILE`], as jail.conf would
/// set it.
pub(crate) fn file_param(
    plan: &mut JailPlan,
    name: &str,
    value: &Json,
) -> Result<Option<String>, String> {
    let values = param_values(value).map_err(|e| format!("not a JSON parameter value: {e}"))?;
    set_param(plan, name, &values)
}

/// A JSON annotation value as jail.conf values: `true` is a bare boolean,
/// other scalars one value, a list of strings several.
fn param_values(json: &Json) -> Result<Vec<String>, String> {
    match json {
        Json::Bool(true) => Ok(Vec::new()),
        Json::Bool(false) => Ok(vec!["false".into()]),
        Json::Number(n) => Ok(vec![n.to_string()]),
        Json::String(s) => Ok(vec![s.clone()]),
        Json::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("list item {i} is not a string"))
            })
            .collect(),
        other => Err(format!(
            "{other} is not a string, number, boolean or list of strings"
        )),
    }
}

/// A bundle's files for a plan: `config.json`, and the [`JAIL_FILE`] with
/// the parameters no annotation may carry, if there are any.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleFiles {
    pub config: Json,
    pub jail_file: Option<Json>,
}

impl BundleFiles {
    /// Each file's name in the bundle directory and its JSON.
    pub fn files(&self) -> impl Iterator<Item = (&'static str, &Json)> {
        std::iter::once(("config.json", &self.config))
            .chain(self.jail_file.iter().map(|j| (JAIL_FILE, j)))
    }

    /// Each file's name in the bundle directory and its text.
    pub fn texts(&self) -> Vec<(&'static str, String)> {
        self.files()
            .map(|(name, j)| {
                let text = serde_json::to_string_pretty(j).expect("JSON values serialize");
                (name, text + "\n")
            })
            .collect()
    }
}

/// The bundle's files for a plan.
pub fn bundle_files(plan: &JailPlan) -> BundleFiles {
    let mut e = BundleEmitter {
        annotations: Map::new(),
        jail: Map::new(),
        allow: Map::new(),
        jail_file: Map::new(),
    };
    let mut config = Map::new();
    config.insert("ociVersion".into(), json!("1.3.0"));
    if let Some(process) = e.process(plan) {
        config.insert("process".into(), process);
    }
    config.insert("root".into(), json!({ "path": plan.path().unwrap_or("/") }));
    for (field, param) in [
        ("hostname", "host.hostname"),
        ("domainname", "host.domainname"),
    ] {
        if let Some(Value::Text(v)) = plan.param(param) {
            config.insert(field.into(), json!(v));
        }
    }
    if !plan.mounts.entries.is_empty() {
        let mounts: Vec<Json> = plan
            .mounts
            .entries
            .iter()
            .map(|m| json!({ "destination": m.destination, "type": m.fstype, "source": m.source, "options": m.options }))
            .collect();
        config.insert("mounts".into(), Json::Array(mounts));
    }
    e.parameters(plan);
    e.network(plan);
    e.jail8(plan);
    let mut jail = e.jail;
    // A child jail `PARENT.ID` is written to a directory of that whole name;
    // the parent field tells the translator which part is the parent.
    if let Some((parent, _)) = plan.name.rsplit_once('.') {
        jail.insert("parent".into(), json!(parent));
    }
    if !e.allow.is_empty() {
        jail.insert("allow".into(), Json::Object(e.allow));
    }
    if !jail.is_empty() {
        config.insert("freebsd".into(), json!({ "jail": jail }));
    }
    let mut annotations = e.annotations;
    if !plan.rctl.is_empty() {
        let rules = serde_json::to_string(&plan.rctl).expect("rules serialize");
        annotations.insert(RCTL_ANNOTATION.into(), json!(rules));
    }
    annotations.extend(plan.annotations.iter().map(|(k, v)| (k.clone(), json!(v))));
    if !annotations.is_empty() {
        config.insert("annotations".into(), Json::Object(annotations));
    }
    BundleFiles {
        config: Json::Object(config),
        jail_file: (!e.jail_file.is_empty()).then(|| Json::Object(e.jail_file)),
    }
}

struct BundleEmitter {
    annotations: Map<String, Json>,
    jail: Map<String, Json>,
    allow: Map<String, Json>,
    jail_file: Map<String, Json>,
}

impl BundleEmitter {
    /// Keeps a parameter the runtime-spec has no field for: as an
    /// annotation, or in the [`JAIL_FILE`] when no annotation may set it.
    fn keep(&mut self, param: &str, value: Json) {
        let values = param_values(&value).expect("kept values are strings, numbers or booleans");
        if crate::trust::refusal(param, &values, &JailPlan::default()).is_some() {
            self.jail_file.insert(param.to_string(), value);
            return;
        }
        let encoded = serde_json::to_string(&value).expect("JSON values serialize");
        self.annotations
            .insert(format!("{PARAM_PREFIX}{param}"), Json::String(encoded));
    }

    fn keep_list(&mut self, param: &str, values: &[String]) {
        if !values.is_empty() {
            self.keep(param, json!(values));
        }
    }

    fn parameters(&mut self, plan: &JailPlan) {
        let mut mount_fs = Vec::new();
        for (name, value) in &plan.parameters {
            let jail_field = JAIL_FIELDS.iter().find(|(p, _)| p == name).map(|(_, f)| *f);
            let allow_field = ALLOW_FIELDS
                .iter()
                .find(|(p, _)| p == name)
                .map(|(_, f)| *f);
            match (name.as_str(), value) {
                ("path" | "host.hostname" | "host.domainname", _) => {}
                (_, v) if jail_field.is_some() => {
                    self.jail
                        .insert(jail_field.unwrap_or_default().into(), json!(v));
                }
                (_, Value::Bool(b)) if allow_field.is_some() => {
                    self.allow
                        .insert(allow_field.unwrap_or_default().into(), json!(b));
                }
                (n, Value::Bool(true))
                    if n.starts_with("allow.mount.")
                        && plan.param("allow.mount") == Some(&Value::Bool(true)) =>
                {
                    mount_fs.push(n["allow.mount.".len()..].to_string());
                }
                ("allow.mount", Value::Bool(true)) => {}
                (n, v) => self.keep(n, json!(v)),
            }
        }
        match plan.param("allow.mount") {
            // The spec's list names filesystems; `allow.mount` alone is kept
            // as a parameter, since an empty list would read back as unset.
            Some(Value::Bool(true)) if mount_fs.is_empty() => self.keep("allow.mount", json!(true)),
            Some(Value::Bool(true)) => {
                self.allow.insert("mount".into(), json!(mount_fs));
            }
            _ => {
                for fs in mount_fs {
                    self.keep(&format!("allow.mount.{fs}"), json!(true));
                }
            }
        }
    }

    fn network(&mut self, plan: &JailPlan) {
        let n = &plan.network;
        for (param, field, list) in [
            ("ip4.addr", "ip4Addr", &n.ip4),
            ("ip6.addr", "ip6Addr", &n.ip6),
        ] {
            let plain = list
                .iter()
                .all(|a| a.interface.is_none() && a.mask.is_none() && a.extra.is_none());
            let texts: Vec<String> = list.iter().map(ToString::to_string).collect();
            if plain && !list.is_empty() {
                self.jail.insert(field.into(), json!(texts));
            } else {
                self.keep_list(param, &texts);
            }
        }
        if let Some(i) = &n.interface {
            self.jail.insert("interface".into(), json!(i));
        }
        if !n.vnet_interfaces.is_empty() {
            self.jail
                .insert("vnetInterfaces".into(), json!(n.vnet_interfaces));
        }
    }

    /// jail(8)'s own parameters, all kept as annotations.
    fn jail8(&mut self, plan: &JailPlan) {
        let m = &plan.mounts;
        self.keep_list("mount.fstab", &m.fstab_files);
        for (param, on) in [
            ("mount.devfs", m.devfs),
            ("mount.fdescfs", m.fdescfs),
            ("mount.procfs", m.procfs),
        ] {
            if on {
                self.keep(param, json!(true));
            }
        }
        for (stage, list) in plan.commands.stages() {
            self.keep_list(stage, &crate::plan::texts(list));
        }
        let x = &plan.exec;
        for (param, on) in [
            ("exec.clean", x.clean),
            ("exec.system_jail_user", x.system_jail_user),
            ("ip_hostname", x.ip_hostname),
            ("allow.dying", x.allow_dying),
        ] {
            if on {
                self.keep(param, json!(true));
            }
        }
        for (param, value) in [
            ("exec.jail_user", x.jail_user.as_ref().map(|v| json!(v))),
            ("exec.system_user", x.system_user.as_ref().map(|v| json!(v))),
            ("exec.consolelog", x.consolelog.as_ref().map(|v| json!(v))),
            ("exec.timeout", x.timeout.map(|v| json!(v))),
            ("exec.fib", x.fib.map(|v| json!(v))),
            ("stop.timeout", x.stop_timeout.map(|v| json!(v))),
        ] {
            if let Some(v) = value {
                self.keep(param, v);
            }
        }
        self.keep_list("depend", &plan.depend);
        self.keep_list("zfs.dataset", &plan.zfs_datasets);
        if let Some(jid) = plan.jid {
            self.keep("jid", json!(jid));
        }
        for (name, values) in &plan.extra {
            self.keep(name, json!(values));
        }
    }

    /// The OCI process: the plan's own, or one derived from `exec.start`
    /// and `command`.
    fn process(&mut self, plan: &JailPlan) -> Option<Json> {
        if let Some(p) = &plan.process {
            let mut process = json!({
                "terminal": p.terminal,
                "user": { "uid": p.user.uid, "gid": p.user.gid },
                "args": p.args,
                "env": p.env,
                "cwd": p.cwd,
            });
            if !p.user.additional_gids.is_empty() {
                process["user"]["additionalGids"] = json!(p.user.additional_gids);
            }
            if let Some(umask) = p.umask {
                process["user"]["umask"] = json!(umask);
            }
            if !p.rlimits.is_empty() {
                process["rlimits"] = json!(p.rlimits);
            }
            if let Some(size) = p.console_size {
                process["consoleSize"] = json!({ "height": size.height, "width": size.width });
            }
            if p.no_new_privileges {
                process["noNewPrivileges"] = json!(true);
            }
            return Some(process);
        }
        let (args, sources) = derived_args(&plan.commands)?;
        self.annotations
            .insert(PROCESS_SOURCE.into(), json!(sources.join(",")));
        Some(json!({ "args": args, "cwd": "/", "user": { "uid": 0, "gid": 0 } }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Diagnostic, Diagnostics};
    use crate::plan::Mode;

    #[test]
    fn annotations_read_back_as_parameters() {
        let mut plan = JailPlan::default();
        let mut d = Diagnostics::default();
        let annotations: Vec<(String, String)> = [
            ("org.freebsd.jail.param.securelevel", "3"),
            ("org.freebsd.jail.param.allow.mount", "false"),
            ("org.freebsd.jail.param.exec.prestart", r#"["a", "b"]"#),
            ("org.freebsd.jail.param.mount.devfs", "true"),
            ("org.freebsd.jail.param.frob", r#""x""#),
            ("org.freebsd.jail.param.persist", "{}"),
            ("other", "ignored: not a parameter annotation"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (key, text) in &annotations {
            let subject = format!("annotations[\"{key}\"]");
            match param_annotation(&mut plan, key, text, Trust::Trusted) {
                None | Some(Ok(None)) => {}
                Some(Ok(Some(w))) => d.push(Diagnostic::warning(subject, w)),
                Some(Err(e)) => d.push(Diagnostic::error(subject, e)),
            }
        }
        assert_eq!(plan.param("securelevel"), Some(&Value::Int(3)));
        assert_eq!(plan.param("allow.mount"), Some(&Value::Bool(false)));
        assert_eq!(plan.commands.prestart, ["a", "b"]);
        assert!(plan.mounts.devfs);
        assert_eq!(plan.extra["frob"], ["x"]);
        let shown: Vec<String> = d.0.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[0].starts_with(
            "warning: annotations[\"org.freebsd.jail.param.frob\"]: unknown parameter"
        ));
        assert!(shown[1].starts_with(
            "error: annotations[\"org.freebsd.jail.param.persist\"]: not a JSON parameter value"
        ));
    }

    #[test]
    fn plain_plan() {
        let mut plan = JailPlan {
            name: "www".into(),
            ..JailPlan::default()
        };
        plan.parameters
            .insert("path".into(), Value::Text("/j/www".into()));
        plan.parameters
            .insert("host.hostname".into(), Value::Text("www.example".into()));
        plan.parameters
            .insert("vnet".into(), Value::Mode(Mode::New));
        plan.parameters
            .insert("allow.raw_sockets".into(), Value::Bool(true));
        plan.parameters.insert("securelevel".into(), Value::Int(3));
        plan.commands.start = vec!["/bin/sh /etc/rc".into()];
        plan.mounts.devfs = true;
        plan.commands.prestart = vec!["touch /tmp/x".into()];
        let files = bundle_files(&plan);
        let c = files.config;
        assert_eq!(
            files.jail_file,
            Some(json!({ "exec.prestart": ["touch /tmp/x"], "mount.devfs": true }))
        );
        assert_eq!(c["root"]["path"], "/j/www");
        assert_eq!(c["hostname"], "www.example");
        assert_eq!(c["freebsd"]["jail"]["vnet"], "new");
        assert_eq!(c["freebsd"]["jail"]["allow"]["rawSockets"], true);
        assert_eq!(c["process"]["args"], json!(["/bin/sh", "/etc/rc"]));
        let a = &c["annotations"];
        assert_eq!(a["org.freebsd.jail.param.securelevel"], "3");
        assert_eq!(
            a["org.freebsd.jail.param.exec.start"],
            r#"["/bin/sh /etc/rc"]"#
        );
        assert_eq!(a.get("org.freebsd.jail.param.mount.devfs"), None);
        assert_eq!(a.get("org.freebsd.jail.param.exec.prestart"), None);
        assert_eq!(a[PROCESS_SOURCE], "exec.start");
    }
}
