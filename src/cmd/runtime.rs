//! What the lifecycle commands share: the runtime root, the backend for
//! this system, and a bundle compiled into a plan ready to execute.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use clap::Args;
use runj_executor::host::Host;
use runj_translator::oci::{BundleOptions, compile};
use runj_translator::{JailPlan, expand_fstab_files};

/// Flags every lifecycle command takes, as runc and runj spell them.
#[derive(Args, Clone, Debug)]
pub struct Global {
    /// Where container state is kept.
    #[arg(
        long,
        global = true,
        default_value = "/var/run/runj",
        value_name = "DIR"
    )]
    pub root: PathBuf,
    /// Also append warnings and errors to this file.
    #[arg(long, global = true, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// The log file's format.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Accepted for compatibility with runc's command line.
    #[arg(long, global = true)]
    pub debug: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl Global {
    /// Prints a warning on standard error and in the log.
    pub fn warn(&self, message: &str) {
        eprintln!("runj: warning: {message}");
        self.log("warning", message);
    }

    /// Prints a warning diagnostic (its subject and message: the level is
    /// already said).
    pub fn warn_diagnostic(&self, d: &runj_translator::Diagnostic) {
        self.warn(&format!("{}: {}", d.subject, d.message));
    }

    /// Writes a line to the log file, if any.
    pub fn log(&self, level: &str, message: &str) {
        use std::io::Write;
        let Some(path) = &self.log else { return };
        let line = match self.log_format {
            LogFormat::Text => format!("{level}: {message}\n"),
            LogFormat::Json => {
                serde_json::json!({ "level": level, "msg": message }).to_string() + "\n"
            }
        };
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
        {
            let _ = file.write_all(line.as_bytes());
        }
    }

    /// The backend of this system.
    pub fn host(&self) -> Result<Backend> {
        Backend::new(&self.root)
    }
}

/// The `Host` of this system, with what it reports.
pub struct Backend {
    #[cfg(target_os = "linux")]
    inner: runj_executor::linux::LinuxHost,
    #[cfg(target_os = "freebsd")]
    inner: runj_executor::freebsd::FreeBsdHost,
}

impl Backend {
    #[cfg(target_os = "linux")]
    fn new(root: &Path) -> Result<Self> {
        Ok(Backend {
            inner: runj_executor::linux::LinuxHost::new(root.join(".jails")),
        })
    }

    #[cfg(target_os = "freebsd")]
    fn new(root: &Path) -> Result<Self> {
        Ok(Backend {
            inner: runj_executor::freebsd::FreeBsdHost::new(root.join(".jails")),
        })
    }

    #[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
    fn new(_root: &Path) -> Result<Self> {
        bail!("runj runs jails on FreeBSD, and emulates them on Linux; not on this system")
    }

    pub fn host(&mut self) -> &mut dyn Host {
        &mut self.inner
    }

    /// What the backend did not enforce (the Linux emulation).
    pub fn warnings(&mut self) -> Vec<String> {
        #[cfg(target_os = "linux")]
        return self.inner.take_warnings();
        #[cfg(not(target_os = "linux"))]
        Vec::new()
    }
}

/// Options for reading a bundle to run.
#[derive(Args, Clone, Debug, Default)]
pub struct BundleArgs {
    /// A runj.ext.json to merge [default: the one beside config.json, if any].
    #[arg(long, value_name = "FILE")]
    pub ext: Option<PathBuf>,
    /// Drop the fields runj cannot honour, with a warning, instead of failing.
    #[arg(long, env = "RUNJ_ALLOW_UNSUPPORTED")]
    pub allow_unsupported: bool,
    /// Take also what acts on the host or widens the jail from the
    /// bundle's annotations (docs/security.md).
    #[arg(long, env = "RUNJ_TRUST_ANNOTATIONS")]
    pub trust_annotations: bool,
}

/// The plan of a bundle for container `id`, its fstab files read; the
/// warnings go to standard error and the log.
pub fn bundle_plan(
    global: &Global,
    bundle: &Path,
    id: &str,
    args: &BundleArgs,
) -> Result<JailPlan> {
    let options = BundleOptions {
        id: Some(id.to_string()),
        ext: args.ext.clone(),
        allow_unsupported: args.allow_unsupported,
        trust_annotations: args.trust_annotations,
    };
    let compiled = compile(bundle, &options);
    let mut errors = Vec::new();
    for d in &compiled.diagnostics.0 {
        match d.severity {
            runj_translator::Severity::Error => errors.push(d.to_string()),
            runj_translator::Severity::Warning => global.warn_diagnostic(d),
        }
    }
    let mut plan = compiled
        .plan
        .ok_or_else(|| anyhow!("{}: {}", bundle.display(), errors.join("\n")))?;
    ready(global, &mut plan)?;
    Ok(plan)
}

/// Reads the plan's fstab files, as jail(8) does when it starts a jail.
pub fn ready(global: &Global, plan: &mut JailPlan) -> Result<()> {
    for w in expand_fstab_files(plan).map_err(|d| anyhow!("{d}"))? {
        global.warn_diagnostic(&w);
    }
    if let Some(file) = plan.mounts.fstab_files.first() {
        bail!("mount.fstab: cannot read {file}");
    }
    Ok(())
}

/// The plan with what its bridge leaves open as a create under `--root`
/// would take it now, nothing taken: what `runj plan` and `runj apply
/// --dry-run` show.
pub fn preview(mut plan: JailPlan, global: &Global) -> JailPlan {
    let Some(bridge) = plan.network.bridge.as_ref().filter(|b| !b.is_allocated()) else {
        return plan;
    };
    let in_use = |unit| runj_executor::host::interface_exists(&format!("epair{unit}a"));
    match runj_executor::leases::Leases::under(&global.root).preview(bridge, in_use) {
        Ok(taken) => {
            global.warn(&format!(
                "network.bridge: {} and the addresses shown are the next free under --root; a create takes them",
                taken.jail_interface().trim_end_matches('b'),
            ));
            plan.network.bridge = Some(taken);
        }
        Err(e) => global.warn(&format!("network.bridge: {e}")),
    }
    plan
}
