//! OCI bundles → jail plans (`runj plan`).
//!
//! A bundle says what its jail is through four sources, read in this order:
//!
//! 1. config.json's standard fields (`root`, `hostname`, `domainname`,
//!    `mounts`, `process`, `hooks`, `annotations`), read with the `oci-spec`
//!    crate ([`config`]);
//! 2. its runtime-spec v1.3 `freebsd` object, read with runj's own types
//!    ([`freebsd`]), merged with runj's `runj.ext.json` ([`ext`]);
//! 3. ocijail's `org.freebsd.*` annotations ([`annotations`]);
//! 4. the `org.freebsd.jail.param.*` annotations `runj migrate` writes
//!    ([`crate::bundle`]).
//!
//! Two sources giving one parameter different values is an error naming
//! both. A field runj cannot honour is an error, or a warning when
//! [`BundleOptions::allow_unsupported`] is set; a property runj does not
//! know is a warning (runtime-spec config.md "Extensibility"). Diagnostics
//! name the JSON path they are about (`mounts[2].destination`). The plan is
//! then checked like a jail.conf jail.
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
mod mounts;
mod paths;
mod process;
mod report;
mod tracked;
mod unsupported;

use std::path::{Path, PathBuf};

use crate::bundle::{PARAM_PREFIX, PROCESS_SOURCE, derived_args, param_annotation};
use crate::diagnostic::Diagnostics;
use crate::plan::{JailPlan, Mount, Process, Value};
use crate::validate::validate;
use config::Config;
use paths::Bundle;
use report::Report;
use tracked::Tracked;

pub use ext::FILE_NAME as EXT_FILE_NAME;
pub use paths::CONFIG as CONFIG_FILE_NAME;

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

fn build(bundle: &Path, options: &BundleOptions, report: &mut Report) -> Option<JailPlan> {
    let bundle = paths::locate(bundle).map_err(|d| report.push(d)).ok()?;
    let document = json::read(&bundle.config)
        .map_err(|d| report.push(d))
        .ok()?;
    let mut config = config::read(document, report)?;
    let mut labels = jail::Labels::default();
    if let Some(ext) = ext::load(options.ext.as_deref(), &bundle.dir, report) {
        ext::merge(ext, &mut config.freebsd, &mut labels, report);
    }
    let mut tracked = Tracked::default();
    parameters(&config, &bundle, &labels, &mut tracked, report);
    check_sources(&tracked, report);
    let parent = tracked
        .parent
        .clone()
        .map(|p| (p, tracked.source("parent").unwrap_or_default().to_string()));
    let mut plan = tracked.plan;
    name(
        options.id.as_deref(),
        &bundle.dir,
        parent,
        &mut plan,
        report,
    );
    filesystems(&config, &bundle, &mut plan, report);
    process(&config, &mut plan, report);
    if let Some(hooks) = config.spec.hooks() {
        plan.hooks = hooks::translate(hooks, report);
    }
    plan.annotations = kept_annotations(&config, report);
    validate(&plan, &mut report.diagnostics);
    Some(plan)
}

/// Everything that sets parameters, in source order.
fn parameters(
    config: &Config,
    bundle: &Bundle,
    labels: &jail::Labels,
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
    annotations::apply(&config.annotations, t, report);
    for (key, text) in &config.annotations {
        t.apply(&annotations::label(key), report, |plan| {
            param_annotation(plan, key, text).unwrap_or(Ok(None))
        });
    }
}

/// Rules between settings from different fields: `host = inherit` keeps
/// the host's names (samuelkarp/runj jail/params.go refuses a hostname
/// with it), and only a vnet jail takes interfaces into its vnet.
fn check_sources(t: &Tracked, report: &mut Report) {
    let source = |key: &str| t.source(key).unwrap_or(key).to_string();
    if t.plan.param("host") == Some(&Value::Text("inherit".into())) {
        for name in ["host.hostname", "host.domainname"] {
            if t.plan.param(name).is_some() {
                report.error(
                    source("host"),
                    format!(
                        "host is \"inherit\", which keeps the host's names, but {} sets {name}",
                        source(name)
                    ),
                );
            }
        }
    }
    let vnet_new = t.plan.param("vnet") == Some(&Value::Text("new".into()));
    if !t.plan.network.vnet_interfaces.is_empty() && !vnet_new {
        report.error(
            source("vnet.interface"),
            "interfaces can only be moved into a jail with its own vnet (vnet = \"new\")",
        );
    }
}

/// The jail's name: the container id (config-freebsd.md: the name SHOULD be
/// the container id), under its parent as `PARENT.ID` (as ocijail names
/// children). A numeric name must be the jail's id (kern_jail.c).
fn name(
    id: Option<&str>,
    dir: &Path,
    parent: Option<(String, String)>,
    plan: &mut JailPlan,
    report: &mut Report,
) {
    let id = id.map_or_else(
        || dir.file_name().unwrap_or_default().to_string_lossy(),
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
            Ok(command) => plan.commands.prestart.push(command),
            Err(message) => report.error("mounts", message),
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
    let derived = derived_args(&plan.commands).map(|(args, _)| Process {
        args,
        cwd: "/".into(),
        ..Process::default()
    });
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
        .filter(|(k, _)| !k.starts_with(PARAM_PREFIX) && *k != PROCESS_SOURCE)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
