//! OCI bundles → jail plans (`runj plan`).
//!
//! A bundle says what its jail is through four sources, read in this order:
//!
//! 1. config.json's standard fields (`root`, `hostname`, `domainname`,
//!    `mounts`, `process`, `hooks`, `annotations`), read with the `oci-spec`
//!    crate (`config.rs`);
//! 2. its runtime-spec v1.3 `freebsd` object, read with runj's own types
//!    (`freebsd.rs`), merged with runj's `runj.ext.json` (`ext.rs`);
//! 3. ocijail's `org.freebsd.*` annotations (`annotations.rs`);
//! 4. the `org.freebsd.jail.param.*` annotations `runj migrate` writes
//!    ([`crate::bundle`]).
//!
//! Two sources giving one parameter different values is an error naming
//! both. A field runj cannot honour is an error, or a warning when
//! [`BundleOptions::allow_unsupported`] is set; a property runj does not
//! know is a warning (runtime-spec config.md "Extensibility"). Diagnostics
//! name the JSON path they are about (`mounts[2].destination`). The plan is
//! then checked like a jail.conf jail. Field by field: docs/spec-coverage.md.
//!
//! The executor, not the plan, keeps a created container's jail alive until
//! its process starts, so the plan has no `persist` (a printed jail.conf
//! runs the process as `command`, and the jail lives as long as it does).

mod annotations;
mod config;
mod devices;
mod ext;
mod freebsd;
mod hooks;
mod jail;
mod json;
mod limits;
mod mounts;
mod paths;
mod process;
mod report;
mod resources;
mod tracked;
mod unsupported;

use std::path::{Path, PathBuf};

use crate::bundle::{
    JAIL_FILE, PARAM_PREFIX, PROCESS_SOURCE, RCTL_ANNOTATION, Trust, file_param, param_annotation,
};
use crate::diagnostic::Diagnostics;
use crate::plan::{JailPlan, Mount};
use crate::validate::validate;
use config::Config;
use paths::Bundle;
use report::Report;
use tracked::Tracked;

pub use ext::FILE_NAME as EXT_FILE_NAME;
pub use paths::CONFIG as CONFIG_FILE_NAME;
pub use resources::updated as updated_rules;

/// How to read a bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleOptions {
    /// The container id, which names the jail; by default the bundle
    /// directory's name.
    pub id: Option<String>,
    /// A `runj.ext.json` to merge; by default the one beside config.json.
    pub ext: Option<PathBuf>,
    /// Report fields runj cannot honour as warnings and drop them, instead
    /// of failing.
    pub allow_unsupported: bool,
    /// Take from `org.freebsd.jail.param.*` annotations also what acts on
    /// the host or widens the jail (docs/security.md).
    pub trust_annotations: bool,
}

/// A plan (unless an error prevented it) and what was found on the way.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub plan: Option<JailPlan>,
    pub diagnostics: Diagnostics,
}

/// Compiles the bundle at `bundle` (its directory, or its config.json) into
/// a jail plan.
pub fn compile(bundle: &Path, options: &BundleOptions) -> Compiled {
    let mut report = Report::new(options.allow_unsupported);
    let plan = build(bundle, options, &mut report).filter(|_| !report.diagnostics.has_errors());
    Compiled {
        plan,
        diagnostics: report.diagnostics,
    }
}

/// A process given alone as the runtime-spec's `process` JSON (what
/// `runj exec --process` reads), checked and translated as a bundle's.
pub fn process_from_json(text: &str) -> Result<crate::plan::Process, String> {
    let given: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let document = serde_json::json!({ "ociVersion": "1.3.0", "process": given });
    let mut report = Report::new(false);
    let process = config::read(document, &mut report).and_then(|c| {
        let p = c.spec.process().clone()?;
        process::translate(&p, &c.rlimits, &mut report)
    });
    match process {
        Some(p) if !report.diagnostics.has_errors() => Ok(p),
        _ => Err(report
            .diagnostics
            .errors()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

fn build(bundle: &Path, options: &BundleOptions, report: &mut Report) -> Option<JailPlan> {
    let bundle = paths::locate(bundle).map_err(|d| report.push(d)).ok()?;
    let document = json::read(&bundle.config)
        .map_err(|d| report.push(d))
        .ok()?;
    let mut config = config::read(document, report)?;
    let mut labels = jail::Labels::default();
    let mut trusted = options.trust_annotations;
    let mut rctl = std::mem::take(&mut config.rctl);
    let mut bridge = None;
    if let Some(ext) = ext::load(options.ext.as_deref(), &bundle.dir, report) {
        trusted |= ext.trust_annotations;
        rctl.extend(ext::rctl(&ext, report));
        bridge = ext::merge(ext, &mut config.freebsd, &mut labels, report);
    }
    let mut tracked = Tracked::default();
    let trust = if trusted {
        Trust::Trusted
    } else {
        Trust::Untrusted
    };
    parameters(&config, &bundle, &labels, trust, &mut tracked, report);
    let parent = tracked
        .parent
        .clone()
        .map(|p| (p, tracked.source("parent").unwrap_or_default().to_string()));
    let mut plan = std::mem::take(&mut tracked.plan);
    let bridge = bridge.map(|b| (b, format!("{}{}", ext::PREFIX, ext::BRIDGE_PATH)));
    plan.network.bridge = network_bridge(&config, bridge, trust, &plan, report);
    name(
        options.id.as_deref(),
        &bundle.dir,
        parent,
        &mut plan,
        report,
    );
    filesystems(&config, &bundle, &mut plan, report);
    plan.rctl = limits::merge(rctl, &config.annotations, trust, report);
    process(&config, &mut plan, report);
    if let Some(hooks) = config.spec.hooks() {
        plan.hooks = hooks::translate(hooks, report);
    }
    plan.annotations = kept_annotations(&config, report);
    let subject = |key: &str| tracked.source(key).unwrap_or(key).to_string();
    validate(&plan, &subject, &mut report.diagnostics);
    Some(plan)
}

/// The annotation that wires the jail to a bridge: runj.ext.json's
/// `network.vnet.bridge`, as JSON. It makes interfaces on the host, so it
/// is taken only from trusted annotations (docs/security.md).
pub const BRIDGE_ANNOTATION: &str = "org.freebsd.runj.network.bridge";

/// The bridge of runj.ext.json (with where it was given) or of the
/// annotation, checked against the jail's vnet.
fn network_bridge(
    config: &Config,
    from_ext: Option<(crate::bridge::Bridge, String)>,
    trust: Trust,
    plan: &JailPlan,
    report: &mut Report,
) -> Option<crate::bridge::Bridge> {
    let annotated = config.annotations.get(BRIDGE_ANNOTATION).map(|text| {
        let at = annotations::label(BRIDGE_ANNOTATION);
        (text, at)
    });
    let (bridge, at) = match (from_ext, annotated) {
        (None, None) => return None,
        (Some(_), Some((_, at))) => {
            report.error(
                at,
                format!(
                    "runj.ext.json:{} gives the bridge already",
                    ext::BRIDGE_PATH
                ),
            );
            return None;
        }
        (None, Some((_, at))) if trust == Trust::Untrusted => {
            report.error(
                at,
                "a bridge makes interfaces on the host: taken only when annotations are trusted (docs/security.md)",
            );
            return None;
        }
        (None, Some((text, at))) => {
            let value = serde_json::from_str(text)
                .map_err(|e| report.error(&at, format!("not JSON: {e}")))
                .ok()?;
            (ext::bridge_from(&value, &at, report)?, at)
        }
        (Some(given), None) => given,
    };
    if plan.param("vnet") != Some(&crate::plan::Value::Mode(crate::plan::Mode::New)) {
        report.error(
            at,
            "a bridge wires a jail with its own network stack: vnet must be \"new\"",
        );
        return None;
    }
    Some(bridge)
}

/// Everything that sets parameters, in source order.
fn parameters(
    config: &Config,
    bundle: &Bundle,
    labels: &jail::Labels,
    trust: Trust,
    t: &mut Tracked,
    report: &mut Report,
) {
    if let Some(root) = paths::root_path(config.spec.root().as_ref(), &bundle.dir, report) {
        t.param("root.path", "path", &[&root], report);
    }
    for (field, param, value) in [
        ("hostname", "host.hostname", config.spec.hostname()),
        ("domainname", "host.domainname", config.spec.domainname()),
    ] {
        if let Some(v) = value {
            t.param(field, param, &[v], report);
        }
    }
    if let Some(j) = config.freebsd.as_ref().and_then(|f| f.jail.as_ref()) {
        jail::apply(j, labels, t, report);
    }
    jail_file(&bundle.dir, t, report);
    annotations::apply(&config.annotations, t, report);
    for (key, text) in &config.annotations {
        t.apply(&annotations::label(key), report, |plan| {
            param_annotation(plan, key, text, trust).unwrap_or(Ok(None))
        });
    }
}

/// The parameters of the bundle's [`JAIL_FILE`], if it has one: trusted,
/// as the bundle's other files are.
fn jail_file(dir: &Path, t: &mut Tracked, report: &mut Report) {
    let path = dir.join(JAIL_FILE);
    if !path.exists() {
        return;
    }
    let document = match json::read(&path) {
        Ok(d) => d,
        Err(d) => return report.push(d),
    };
    let Some(entries) = document.as_object() else {
        return report.error(JAIL_FILE, "must be a JSON object of jail parameters");
    };
    for (name, value) in entries {
        t.apply(&format!("{JAIL_FILE}:{name}"), report, |plan| {
            file_param(plan, name, value)
        });
    }
}

/// The jail's name: the container id (config-freebsd.md: the name SHOULD be
/// the container id), under its parent as `PARENT.ID` (as ocijail names
/// children). A numeric name must be the jail's id (kern_jail.c). A bundle
/// directory named after the whole jail name (`PARENT.ID`, as `runj migrate`
/// writes a child jail) gives the id `ID`.
fn name(
    id: Option<&str>,
    dir: &Path,
    parent: Option<(String, String)>,
    plan: &mut JailPlan,
    report: &mut Report,
) {
    let id = id.map_or_else(
        || {
            let dir_name = dir.file_name().unwrap_or_default().to_string_lossy();
            match &parent {
                Some((p, _)) => match dir_name
                    .strip_prefix(p.as_str())
                    .and_then(|r| r.strip_prefix('.'))
                {
                    Some(child) => child.to_string().into(),
                    None => dir_name,
                },
                None => dir_name,
            }
        },
        Into::into,
    );
    if id.is_empty() {
        report.error("id", "the container id is empty");
    } else if let Some((prefix, _)) = id.rsplit_once('.') {
        report.error(
            "id",
            format!(
                "\"{id}\" contains '.', which would make the jail a child of jail \"{prefix}\"; name a parent with freebsd.jail.parent instead"
            ),
        );
    } else if id.bytes().all(|b| b.is_ascii_digit()) {
        match id.parse::<i32>() {
            Ok(jid) if jid > 0 => plan.jid = Some(jid),
            _ => report.error(
                "id",
                format!("a numeric id names a jail id, and {id} is not one"),
            ),
        }
    }
    plan.name = match parent {
        Some((p, source))
            if p.is_empty() || p.starts_with('.') || p.ends_with('.') || p.contains("..") =>
        {
            report.error(source, format!("\"{p}\" is not a jail name"));
            id.into_owned()
        }
        Some((p, _)) => format!("{p}.{id}"),
        None => id.into_owned(),
    };
}

/// Mounts, the read-only root, and the devfs rules mounts and devices ask
/// for.
fn filesystems(config: &Config, bundle: &Bundle, plan: &mut JailPlan, report: &mut Report) {
    let given = config.spec.mounts().as_deref().unwrap_or_default();
    let (mut entries, mut rules) = mounts::translate(given, &bundle.dir, report);
    let root = plan.path().unwrap_or("/").to_string();
    if config.spec.root().as_ref().and_then(|r| r.readonly()) == Some(true) {
        // ocijail gives the jail a read-only nullfs alias of its root
        // (dfr/ocijail ocijail/create.cpp); here the root is mounted
        // read-only over itself, before anything is mounted inside it.
        entries.insert(
            0,
            Mount {
                fstype: "nullfs".into(),
                source: root.clone(),
                destination: "/".into(),
                options: vec!["ro".into()],
            },
        );
    }
    if let Some(freebsd) = &config.freebsd {
        rules.extend(devices::rules(&freebsd.devices, &entries, report));
    }
    for rule in &rules {
        match devices::rule_command(&root, rule) {
            Ok(command) => plan.commands.prestart.push(command.into()),
            Err(message) => report.error(&rule.subject, message),
        }
    }
    plan.mounts.entries = entries;
}

/// The process, unless `runj migrate` derived it from `exec.start` and
/// `command`, which the parameter annotations restore instead.
fn process(config: &Config, plan: &mut JailPlan, report: &mut Report) {
    let Some(given) = config.spec.process() else {
        return;
    };
    let Some(process) = process::translate(given, &config.rlimits, report) else {
        return;
    };
    if !config.annotations.contains_key(PROCESS_SOURCE) {
        plan.process = Some(process);
        return;
    }
    let derived = crate::invocation::derived_process(&plan.commands);
    if derived.as_ref() != Some(&process) {
        report.error(
            annotations::label(PROCESS_SOURCE),
            "the process is not the one exec.start and command amount to; remove this annotation to run it as given",
        );
    }
}

/// The annotations a plan keeps: all but those that became parameters.
fn kept_annotations(config: &Config, report: &mut Report) -> indexmap::IndexMap<String, String> {
    if config.annotations.contains_key("") {
        report.error("annotations[\"\"]", "annotation keys must not be empty");
    }
    config
        .annotations
        .iter()
        .filter(|(k, _)| {
            !k.starts_with(PARAM_PREFIX)
                && ![PROCESS_SOURCE, RCTL_ANNOTATION, BRIDGE_ANNOTATION].contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value as Json, json};

    use super::*;
    use crate::plan::{Mode, Value};

    /// Compiles a bundle directory named `dir` holding `config` (and
    /// `ext` as runj.ext.json); the plan and the diagnostics as text.
    fn compiled(
        dir: &str,
        config: Json,
        ext: Option<Json>,
        options: &BundleOptions,
    ) -> (Option<JailPlan>, Vec<String>) {
        let tmp = tempfile::tempdir().unwrap();
        let bundle = tmp.path().join(dir);
        std::fs::create_dir(&bundle).unwrap();
        std::fs::write(bundle.join(CONFIG_FILE_NAME), config.to_string()).unwrap();
        if let Some(ext) = ext {
            std::fs::write(bundle.join(EXT_FILE_NAME), ext.to_string()).unwrap();
        }
        let out = compile(&bundle, options);
        let shown = out.diagnostics.messages();
        (out.plan, shown)
    }

    fn config(extra: Json) -> Json {
        let mut c = json!({
            "ociVersion": "1.3.0",
            "root": { "path": "/jails/x" },
            "process": { "args": ["/bin/sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 } }
        });
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    }

    fn plain(extra: Json) -> (Option<JailPlan>, Vec<String>) {
        compiled("web", config(extra), None, &BundleOptions::default())
    }

    /// An annotation that would run a host command is refused unless the
    /// operator trusts annotations, by option or in runj.ext.json; the
    /// bundle's runj.jail.json is trusted as config.json is.
    #[test]
    fn host_side_annotations_need_trust() {
        let hostile = config(json!({ "annotations": {
            "org.freebsd.jail.param.exec.prestart": "[\"touch /tmp/x\"]",
            "org.freebsd.jail.param.host.hostuuid": "\"fine\"" } }));
        let (plan, shown) = compiled("web", hostile.clone(), None, &BundleOptions::default());
        assert!(plan.is_none());
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(shown[0].starts_with(
            "error: annotations[\"org.freebsd.jail.param.exec.prestart\"]: exec.prestart acts on the host"
        ), "{shown:?}");
        let trusting = BundleOptions {
            trust_annotations: true,
            ..BundleOptions::default()
        };
        let (plan, _) = compiled("web", hostile.clone(), None, &trusting);
        assert_eq!(plan.unwrap().commands.prestart, ["touch /tmp/x"]);
        let ext = json!({ "trustAnnotations": true });
        let (plan, shown) = compiled("web", hostile, Some(ext), &BundleOptions::default());
        assert!(shown.is_empty(), "{shown:?}");
        assert_eq!(plan.unwrap().commands.prestart, ["touch /tmp/x"]);
    }

    /// The bridge annotation is runj.ext.json's `network.vnet.bridge`,
    /// taken only when annotations are trusted; either way the jail needs
    /// its own vnet, and one source only.
    #[test]
    fn a_bridge_from_an_annotation_needs_trust_and_a_vnet() {
        let bridge =
            r#"{"name": "runj0", "ipv4": {"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}}"#;
        let annotated = |vnet: &str| {
            config(json!({ "annotations": {
                BRIDGE_ANNOTATION: bridge, "org.freebsd.jail.vnet": vnet } }))
        };
        let (plan, shown) = compiled("web", annotated("new"), None, &BundleOptions::default());
        assert!(plan.is_none());
        assert_eq!(
            shown,
            [
                "error: annotations[\"org.freebsd.runj.network.bridge\"]: a bridge makes interfaces on the host: taken only when annotations are trusted (docs/security.md)"
            ]
        );
        let trusting = BundleOptions {
            trust_annotations: true,
            ..BundleOptions::default()
        };
        let (plan, shown) = compiled("web", annotated("new"), None, &trusting);
        assert!(shown.is_empty(), "{shown:?}");
        let plan = plan.unwrap();
        assert_eq!(plan.network.bridge.unwrap().name, "runj0");
        assert!(!plan.annotations.contains_key(BRIDGE_ANNOTATION));
        let (_, shown) = compiled("web", annotated("inherit"), None, &trusting);
        assert_eq!(
            shown,
            [
                "error: annotations[\"org.freebsd.runj.network.bridge\"]: a bridge wires a jail with its own network stack: vnet must be \"new\""
            ]
        );
        let ext = json!({ "network": { "vnet": { "mode": "new", "bridge": serde_json::from_str::<Json>(bridge).unwrap() } } });
        let (_, shown) = compiled("web", annotated("new"), Some(ext), &trusting);
        assert_eq!(
            shown,
            [
                "error: annotations[\"org.freebsd.runj.network.bridge\"]: runj.ext.json:network.vnet.bridge gives the bridge already"
            ]
        );
        let ext = json!({ "network": { "vnet": { "bridge": serde_json::from_str::<Json>(bridge).unwrap() } } });
        let (_, shown) = compiled(
            "web",
            config(json!({})),
            Some(ext),
            &BundleOptions::default(),
        );
        assert_eq!(
            shown,
            [
                "error: runj.ext.json:network.vnet.bridge: a bridge wires a jail with its own network stack: vnet must be \"new\""
            ]
        );
        let bad = config(
            json!({ "annotations": { BRIDGE_ANNOTATION: r#"{"name": "runj0", "ipv4": {"subnet": "10.88.0.0/33", "gateway": "10.88.0.1"}}"#, "org.freebsd.jail.vnet": "new" } }),
        );
        let (_, shown) = compiled("web", bad, None, &trusting);
        assert_eq!(
            shown,
            [
                "error: annotations[\"org.freebsd.runj.network.bridge\"].ipv4.subnet: invalid IP address syntax"
            ]
        );
    }

    #[test]
    fn the_bundle_s_jail_file_is_trusted() {
        let tmp = tempfile::tempdir().unwrap();
        let bundle = tmp.path().join("web");
        std::fs::create_dir(&bundle).unwrap();
        std::fs::write(bundle.join(CONFIG_FILE_NAME), config(json!({})).to_string()).unwrap();
        std::fs::write(
            bundle.join(JAIL_FILE),
            r#"{"exec.prestart": ["ifconfig epair0 create"], "mount.devfs": true, "securelevel": "x"}"#,
        )
        .unwrap();
        let out = compile(&bundle, &BundleOptions::default());
        assert_eq!(
            out.diagnostics.messages(),
            ["error: runj.jail.json:securelevel: non-integer value \"x\""]
        );
        std::fs::write(
            bundle.join(JAIL_FILE),
            r#"{"exec.prestart": ["ifconfig epair0 create"], "mount.devfs": true}"#,
        )
        .unwrap();
        let plan = compile(&bundle, &BundleOptions::default()).plan.unwrap();
        assert_eq!(plan.commands.prestart, ["ifconfig epair0 create"]);
        assert!(plan.mounts.devfs);
        std::fs::write(bundle.join(JAIL_FILE), "[1]").unwrap();
        let out = compile(&bundle, &BundleOptions::default());
        assert_eq!(
            out.diagnostics.messages(),
            ["error: runj.jail.json: must be a JSON object of jail parameters"]
        );
    }

    #[test]
    fn a_minimal_bundle() {
        let (plan, shown) = plain(json!({ "hostname": "web.example" }));
        assert!(shown.is_empty(), "{shown:?}");
        let plan = plan.unwrap();
        assert_eq!(plan.name, "web");
        assert_eq!(plan.path(), Some("/jails/x"));
        assert_eq!(
            plan.param("host.hostname"),
            Some(&Value::Text("web.example".into()))
        );
        assert_eq!(plan.param("host"), None, "implied by the kernel");
        assert_eq!(plan.process.unwrap().args, ["/bin/sh"]);
    }

    #[test]
    fn names() {
        let with_id = |id: &str| BundleOptions {
            id: Some(id.into()),
            ..BundleOptions::default()
        };
        let (plan, _) = compiled("b", config(json!({})), None, &with_id("app"));
        assert_eq!(plan.unwrap().name, "app");
        let (plan, _) = compiled("b", config(json!({})), None, &with_id("42"));
        let plan = plan.unwrap();
        assert_eq!((plan.name.as_str(), plan.jid), ("42", Some(42)));
        let parent = json!({ "freebsd": { "jail": { "parent": "pod" } } });
        let (plan, _) = compiled("b", config(parent.clone()), None, &with_id("app"));
        assert_eq!(plan.unwrap().name, "pod.app");
        let (plan, _) = compiled("pod.app", config(parent), None, &BundleOptions::default());
        assert_eq!(
            plan.unwrap().name,
            "pod.app",
            "a directory named after the whole jail name"
        );
        for (id, message) in [
            ("", "error: id: the container id is empty"),
            (
                "a.b",
                "error: id: \"a.b\" contains '.', which would make the jail a child of jail \"a\"",
            ),
            (
                "0",
                "error: id: a numeric id names a jail id, and 0 is not one",
            ),
        ] {
            let (plan, shown) = compiled("b", config(json!({})), None, &with_id(id));
            assert!(plan.is_none());
            assert!(shown[0].starts_with(message), "{shown:?}");
        }
        let (_, shown) = plain(json!({ "annotations": { "org.freebsd.parentJail": "pod." } }));
        assert_eq!(
            shown,
            ["error: annotations[\"org.freebsd.parentJail\"]: \"pod.\" is not a jail name"]
        );
    }

    #[test]
    fn conflicts_between_sources() {
        let (plan, shown) = plain(json!({
            "freebsd": { "jail": { "vnet": "new", "parent": "a" } },
            "annotations": { "org.freebsd.jail.vnet": "inherit", "org.freebsd.parentJail": "b" }
        }));
        assert!(plan.is_none());
        assert_eq!(
            shown,
            [
                "error: annotations[\"org.freebsd.parentJail\"]: sets parent to \"b\", but freebsd.jail.parent sets it to \"a\"",
                "error: annotations[\"org.freebsd.jail.vnet\"]: sets vnet to \"inherit\", but freebsd.jail.vnet sets it to \"new\"",
            ]
        );
        let (_, shown) = plain(json!({
            "freebsd": { "jail": { "ip4": "disable" } },
            "annotations": { "org.freebsd.jail.param.ip4": "\"new\"" }
        }));
        assert_eq!(
            shown,
            [
                "error: annotations[\"org.freebsd.jail.param.ip4\"]: sets ip4 to \"new\", but freebsd.jail.ip4 sets it to \"disable\""
            ]
        );
    }

    #[test]
    fn the_extension_overrides_without_conflict() {
        let c = config(json!({ "freebsd": { "jail": { "vnet": "inherit" } } }));
        let ext = json!({ "network": { "vnet": { "mode": "new", "interfaces": ["epair0b"] } } });
        let (plan, shown) = compiled("b", c.clone(), Some(ext), &BundleOptions::default());
        assert!(shown.is_empty(), "{shown:?}");
        let plan = plan.unwrap();
        assert_eq!(plan.param("vnet"), Some(&Value::Mode(Mode::New)));
        assert_eq!(plan.network.vnet_interfaces, ["epair0b"]);
        let tmp = tempfile::tempdir().unwrap();
        let explicit = BundleOptions {
            ext: Some(tmp.path().join("missing.json")),
            ..BundleOptions::default()
        };
        let (plan, shown) = compiled("b", c, None, &explicit);
        assert!(plan.is_none());
        assert!(
            shown[0].ends_with("missing.json: No such file or directory"),
            "{shown:?}"
        );
    }

    #[test]
    fn rules_across_fields() {
        let (_, shown) = plain(
            json!({ "hostname": "h", "domainname": "d", "freebsd": { "jail": { "host": "inherit" } } }),
        );
        assert_eq!(
            shown,
            [
                "error: freebsd.jail.host: host = inherit keeps the host's names, but hostname sets host.hostname",
                "error: freebsd.jail.host: host = inherit keeps the host's names, but domainname sets host.domainname",
            ]
        );
        let (_, shown) = plain(json!({ "freebsd": { "jail": { "vnetInterfaces": ["epair0b"] } } }));
        assert_eq!(
            shown,
            [
                "error: freebsd.jail.vnetInterfaces: interfaces can only be moved into a jail with its own vnet (vnet = new)"
            ]
        );
        let (_, shown) =
            plain(json!({ "freebsd": { "jail": { "vnet": "new", "ip4Addr": ["192.0.2.1"] } } }));
        assert_eq!(
            shown,
            ["error: vnet: a vnet jail cannot have IP address restrictions (ip4.addr, ip6.addr)"]
        );
    }

    #[test]
    fn a_read_only_root_is_mounted_first() {
        let (plan, _) = plain(json!({
            "root": { "path": "/jails/x", "readonly": true },
            "mounts": [{ "destination": "/tmp", "type": "tmpfs" }]
        }));
        let entries = plan.unwrap().mounts.entries;
        assert_eq!(
            entries[0],
            Mount {
                fstype: "nullfs".into(),
                source: "/jails/x".into(),
                destination: "/".into(),
                options: vec!["ro".into()],
            }
        );
        assert_eq!(entries[1].destination, "/tmp");
    }

    #[test]
    fn devfs_rules_become_prestart_commands() {
        let (plan, shown) = plain(json!({
            "mounts": [{ "destination": "/dev", "type": "devfs", "options": ["ruleset=4", "rule=path shm unhide"] }],
            "freebsd": { "devices": [{ "path": "pf", "mode": 448 }] }
        }));
        assert!(shown.is_empty(), "{shown:?}");
        assert_eq!(
            plan.unwrap().commands.prestart,
            [
                "/sbin/devfs -m /jails/x/dev rule apply path shm unhide",
                "/sbin/devfs -m /jails/x/dev rule apply path pf unhide mode 0700",
            ]
        );
        let (_, shown) = plain(json!({
            "mounts": [{ "destination": "/dev", "type": "devfs" }],
            "freebsd": { "devices": [{ "path": "p\u{0}f" }] }
        }));
        assert!(
            shown[0].starts_with("error: freebsd.devices[0]: cannot quote the devfs rule"),
            "{shown:?}"
        );
    }

    #[test]
    fn a_derived_process_stays_in_the_commands() {
        let derived = json!({
            "process": { "args": ["/bin/sh", "/etc/rc"], "cwd": "/", "user": { "uid": 0, "gid": 0 } },
            "annotations": {
                "org.freebsd.jail.process-source": "exec.start",
                "org.freebsd.jail.param.exec.start": "[\"/bin/sh /etc/rc\"]",
                "com.example": "kept"
            }
        });
        let (plan, shown) = plain(derived.clone());
        assert!(shown.is_empty(), "{shown:?}");
        let plan = plan.unwrap();
        assert_eq!(plan.process, None);
        assert_eq!(plan.commands.start, ["/bin/sh /etc/rc"]);
        assert_eq!(plan.annotations.keys().collect::<Vec<_>>(), ["com.example"]);
        let mut edited = derived;
        edited["process"]["args"] = json!(["/bin/sh", "/etc/other"]);
        let (_, shown) = plain(edited);
        assert_eq!(
            shown,
            [
                "error: annotations[\"org.freebsd.jail.process-source\"]: the process is not the one exec.start and command amount to; remove this annotation to run it as given"
            ]
        );
    }

    #[test]
    fn empty_annotation_keys() {
        let (_, shown) = plain(json!({ "annotations": { "": "x" } }));
        assert_eq!(
            shown,
            ["error: annotations[\"\"]: annotation keys must not be empty"]
        );
    }

    #[test]
    fn unsupported_fields_can_be_allowed() {
        let c = config(json!({ "linux": { "seccomp": {} } }));
        let (plan, _) = compiled("b", c.clone(), None, &BundleOptions::default());
        assert!(plan.is_none());
        let allowed = BundleOptions {
            allow_unsupported: true,
            ..BundleOptions::default()
        };
        let (plan, shown) = compiled("b", c, None, &allowed);
        assert!(plan.is_some());
        assert!(shown[0].starts_with("warning: linux.seccomp: "));
    }

    #[test]
    fn unreadable_bundles() {
        let tmp = tempfile::tempdir().unwrap();
        let out = compile(&tmp.path().join("none"), &BundleOptions::default());
        assert!(out.plan.is_none() && out.diagnostics.has_errors());
        let out = compile(tmp.path(), &BundleOptions::default());
        assert!(
            out.diagnostics.0[0]
                .to_string()
                .ends_with("config.json: No such file or directory")
        );
    }
}
