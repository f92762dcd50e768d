//! A plan as the ordered steps jail(8) performs to create (`jail -c`) and
//! to remove (`jail -r`) a jail, each with its undo, and the runner that
//! unwinds a failed creation exactly as jail(8) does. `runj apply
//! --dry-run` prints these very steps, and `apply`, `create` and `delete`
//! run them.
//!
//! Order and rollback: freebsd/freebsd-src usr.sbin/jail/jail.c
//! `startcommands[]`/`stopcommands[]`, `create_jail`, `clear_persist`, and
//! command.c `next_command`/`run_command`; see docs/executor.md.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use runj_translator::JailPlan;
use runj_translator::bridge::Action;
use runj_translator::invocation::Invocation;
use runj_translator::plan::{Command, ExecOptions, Value};
use runj_translator::rctl::Rule;

use crate::error::{Error, Result};
use crate::host::{Alias, Host, JailRef, Jid, MountForm, MountPoint, Place};
use crate::params::{Param, kernel_params};
use crate::trace;

/// jail(8)'s default `stop.timeout`, in seconds.
pub const DEFAULT_STOP_TIMEOUT: u32 = 10;
/// jail(8)'s default `devfs_ruleset` for `mount.devfs` (`devfsrules_jail`).
pub const DEFAULT_DEVFS_RULESET: &str = "4";

/// One thing jail(8) does to a system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An `exec.*` command or `command`, on the host or in the jail.
    Run {
        stage: &'static str,
        place: Place,
        invocation: Invocation,
    },
    /// An address alias for `ip4.addr` / `ip6.addr`; undone by `-alias`.
    Alias {
        stage: &'static str,
        alias: Alias,
    },
    /// A mount; undone by unmounting.
    Mount {
        stage: &'static str,
        mount: MountPoint,
    },
    /// The check that the host can enforce the plan's rctl rules.
    CheckLimits,
    /// jail_set(2) with `JAIL_CREATE`; undone by jail_remove(2).
    Create(Vec<Param>),
    /// rctl_add_rule(2) once the jail exists; undone by rctl_remove_rule(2).
    Limit(Rule),
    /// rctl_remove_rule(2) after the jail is gone: every rule of the
    /// jail with this rule's resource, action and per.
    Unlimit(Rule),
    /// `ifconfig IF vnet JAIL`; undone by `-vnet`.
    VnetInterface(String),
    /// Wiring a jail to its bridge, or unwiring it ([`Action`]): the
    /// commands jail.conf shows for the plan's `network.bridge`; a created
    /// epair is undone by destroying it.
    Wire(Action),
    /// Drops the temporary `persist` jail(8) added for its commands.
    ClearPersist,
    /// SIGTERM to every process of the jail, then a wait of `stop.timeout`.
    Terminate(Duration),
    /// jail_remove(2).
    Remove,
    Unmount {
        stage: &'static str,
        mount: MountPoint,
    },
    Unalias {
        stage: &'static str,
        alias: Alias,
    },
}

impl fmt::Display for Step {
    /// One line for `runj apply --dry-run`: the parameter it comes from and
    /// what is done.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let argv = |argv: &[String]| argv.join(" ");
        match self {
            Step::Run {
                stage,
                place,
                invocation,
            } => {
                let inside = if *place == Place::Jail {
                    "(in the jail) "
                } else {
                    ""
                };
                let bg = if invocation.background { " &" } else { "" };
                write!(f, "{stage}: {inside}{}{bg}", argv(&invocation.argv))
            }
            Step::Alias { stage, alias } => {
                write!(f, "{stage}: {}", argv(&alias.ifconfig_argv(true)))
            }
            Step::Unalias { stage, alias } => {
                write!(f, "{stage}: {}", argv(&alias.ifconfig_argv(false)))
            }
            Step::Mount { stage, mount } => {
                write!(f, "{stage}: {}", argv(&trace::mount_argv(mount, true)))
            }
            Step::Unmount { stage, mount } => {
                write!(f, "{stage}: {}", argv(&trace::mount_argv(mount, false)))
            }
            Step::Create(params) => {
                let shown: Vec<String> = params.iter().map(ToString::to_string).collect();
                write!(f, "create: jail_set(JAIL_CREATE) {}", shown.join(" "))
            }
            Step::CheckLimits => {
                write!(f, "rctl: the kernel accounts resources (kern.racct.enable)")
            }
            Step::Limit(rule) => write!(f, "rctl: rctl_add_rule(jail:NAME:{rule})"),
            Step::Unlimit(rule) => {
                let (resource, action, per) = rule.key();
                write!(
                    f,
                    "rctl: rctl_remove_rule(jail:NAME:{resource}:{action}=/{per})"
                )
            }
            Step::VnetInterface(i) => write!(f, "vnet.interface: /sbin/ifconfig {i} vnet JAIL"),
            Step::Wire(action) => {
                let inside = if action.in_jail() {
                    "(in the jail) "
                } else {
                    ""
                };
                write!(f, "{}: {inside}{action}", action.stage())
            }
            Step::ClearPersist => write!(f, "persist: jail_set(JAIL_UPDATE) jid=JID nopersist"),
            Step::Terminate(t) => write!(
                f,
                "stop.timeout: SIGTERM to the jail's processes, wait up to {} s",
                t.as_secs()
            ),
            Step::Remove => write!(f, "remove: jail_remove(JID)"),
        }
    }
}

impl Step {
    /// The step's lines in the action trace ([`crate::trace`]).
    pub fn trace(&self, jail: &JailRef, exec: &ExecOptions) -> Vec<String> {
        let one = |line: String| vec![line];
        match self {
            Step::Run {
                place, invocation, ..
            } => one(trace::exec_line(
                *place,
                exec,
                invocation.background,
                &invocation.argv,
            )),
            Step::Alias { alias, .. } => one(trace::alias_line(alias, true, exec)),
            Step::Unalias { alias, .. } => one(trace::alias_line(alias, false, exec)),
            Step::Mount { mount, .. } => one(trace::mount_line(mount, true, exec)),
            Step::Unmount { mount, .. } => one(trace::mount_line(mount, false, exec)),
            Step::Create(params) => one(trace::jail_set_line(true, params)),
            Step::CheckLimits => one(trace::CHECK_LIMITS_LINE.to_string()),
            Step::Limit(rule) => one(trace::rctl_line(
                true,
                &rule.for_jail(&jail.name).unwrap_or_else(|e| e.to_string()),
            )),
            Step::Unlimit(rule) => one(trace::rctl_line(
                false,
                &rule
                    .filter_for_jail(&jail.name)
                    .unwrap_or_else(|e| e.to_string()),
            )),
            Step::VnetInterface(i) => one(trace::exec_line(
                Place::Host,
                exec,
                false,
                &trace::vnet_argv(i, true, &jail.designation),
            )),
            Step::Wire(action) => one(trace::wire_line(action, exec)),
            Step::ClearPersist => one(trace::clear_persist_line()),
            Step::Terminate(t) => trace::terminate_lines(t.as_secs()).to_vec(),
            Step::Remove => one(trace::REMOVE_LINE.to_string()),
        }
    }
}

/// The steps for one jail, with what they need to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    pub jail: JailRef,
    pub exec: ExecOptions,
    pub steps: Vec<Step>,
    /// Parameters runj passes on without knowing them.
    pub warnings: Vec<String>,
}

impl Sequence {
    /// The whole sequence as the action trace.
    pub fn trace(&self) -> Vec<String> {
        self.steps
            .iter()
            .flat_map(|s| s.trace(&self.jail, &self.exec))
            .collect()
    }
}

/// How a jail is kept alive once created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persist {
    /// As jail(8): the plan's `persist`, or a temporary one while its
    /// commands run.
    AsPlanned,
    /// Always persist: an OCI container's jail lives until `delete`.
    Always,
}

/// The `jail -c` steps of a plan. A plan with an OCI process runs it in
/// place of `exec.start` and `command` (see [`crate::lifecycle`]), so those
/// are left out when `persist` is [`Persist::Always`] and the plan has one.
pub fn create_sequence(plan: &JailPlan, persist: Persist) -> Result<Sequence> {
    let jail = jail_ref(plan);
    // jail.c `create_jail`: a named jail's path must be absolute.
    if !jail.path.is_absolute() {
        return Err(Error::Plan(format!(
            "path: \"{}\" is not an absolute path",
            jail.path.display()
        )));
    }
    if let Some(file) = plan.mounts.fstab_files.first() {
        return Err(Error::Plan(format!(
            "mount.fstab: {file} has not been read; expand the plan's fstab files first"
        )));
    }
    let (mut params, warnings) = kernel_params(plan)?;
    let c = &plan.commands;
    let planned_persist = matches!(plan.param("persist"), Some(Value::Bool(true)));
    // jail.c `create_jail`: a jail with commands to run later persists
    // while they run; the added `persist` goes first, replacing the
    // jail's own `persist`/`nopersist`.
    let needs_persist = persist == Persist::Always
        || !(c.start.is_empty() && c.command.is_empty() && c.poststart.is_empty());
    let temporary = persist == Persist::AsPlanned && !planned_persist && needs_persist;
    if needs_persist && !planned_persist {
        params.retain(|p| p.name != "persist");
        params.insert(0, Param::flag("persist", true));
    }
    let mut steps = Vec::new();
    limits_can_be_named(plan, &jail)?;
    if !plan.rctl.is_empty() {
        steps.push(Step::CheckLimits);
    }
    run_steps(&mut steps, "exec.prepare", Place::Host, &c.prepare);
    steps.extend(
        aliases(plan)
            .into_iter()
            .map(|(stage, alias)| Step::Alias { stage, alias }),
    );
    steps.extend(
        mounts(plan, &jail.path)
            .into_iter()
            .map(|(stage, mount)| Step::Mount { stage, mount }),
    );
    let bridge = plan.network.bridge.as_ref();
    let wiring = bridge.map(|b| b.wiring()).unwrap_or_default();
    let wire = |steps: &mut Vec<Step>, stage: &str| {
        steps.extend(
            wiring
                .iter()
                .filter(|a| a.stage() == stage)
                .cloned()
                .map(Step::Wire),
        )
    };
    wire(&mut steps, "exec.prestart");
    run_steps(&mut steps, "exec.prestart", Place::Host, &c.prestart);
    steps.push(Step::Create(params));
    steps.extend(plan.rctl.iter().cloned().map(Step::Limit));
    run_steps(&mut steps, "exec.created", Place::Host, &c.created);
    for dataset in &plan.zfs_datasets {
        let script = zfs_attach_script(dataset, &jail.designation);
        steps.push(Step::Run {
            stage: "zfs.dataset",
            place: Place::Host,
            invocation: Invocation {
                argv: vec!["/bin/sh".into(), "-c".into(), script],
                background: false,
            },
        });
    }
    steps.extend(
        plan.network
            .vnet_interfaces
            .iter()
            .filter(|i| !i.is_empty())
            .cloned()
            .chain(bridge.map(|b| b.jail_interface()))
            .map(Step::VnetInterface),
    );
    // The bridge's addresses and routes, in `exec.start` in jail.conf, are
    // set for a container too: its process replaces only the jail's own
    // `exec.start` and `command`.
    wire(&mut steps, "exec.start");
    if !(persist == Persist::Always && plan.process.is_some()) {
        run_steps(&mut steps, "exec.start", Place::Jail, &c.start);
        run_steps(&mut steps, "command", Place::Jail, &c.command);
    }
    run_steps(&mut steps, "exec.poststart", Place::Host, &c.poststart);
    if temporary {
        steps.push(Step::ClearPersist);
    }
    Ok(Sequence {
        jail,
        exec: plan.exec.clone(),
        steps,
        warnings,
    })
}

/// A jail with rctl rules needs a name the kernel can take as their
/// subject.
fn limits_can_be_named(plan: &JailPlan, jail: &JailRef) -> Result<()> {
    match plan.rctl.iter().next() {
        Some(rule) => crate::host::jail_rule(jail, rule).map(drop),
        None => Ok(()),
    }
}

/// The script jail(8) runs for each `zfs.dataset` (command.c,
/// `IP_ZFS_DATASET`): attach the dataset if its `jailed` property is on;
/// failures are only echoed.
fn zfs_attach_script(dataset: &str, jail: &str) -> String {
    format!(
        "if [ $(/sbin/zfs get -H -o value jailed {dataset}) = on ]; then /sbin/zfs jail {jail} {dataset} || echo error, attaching {dataset} to jail {jail} failed; else echo error, you need to set jailed=on for dataset {dataset}; fi"
    )
}

/// The `jail -r` steps of a plan.
pub fn remove_sequence(plan: &JailPlan) -> Result<Sequence> {
    let jail = jail_ref(plan);
    let c = &plan.commands;
    let mut steps = Vec::new();
    run_steps(&mut steps, "exec.prestop", Place::Host, &c.prestop);
    run_steps(&mut steps, "exec.stop", Place::Jail, &c.stop);
    // command.c `term_procs`: a `stop.timeout` of 0 sends no signal.
    let timeout = plan.exec.stop_timeout.unwrap_or(DEFAULT_STOP_TIMEOUT);
    if timeout != 0 {
        steps.push(Step::Terminate(Duration::from_secs(timeout.into())));
    }
    steps.push(Step::Remove);
    steps.extend(plan.rctl.keys().into_iter().cloned().map(Step::Unlimit));
    run_steps(&mut steps, "exec.poststop", Place::Host, &c.poststop);
    if let Some(bridge) = &plan.network.bridge {
        steps.extend(bridge.unwiring().into_iter().map(Step::Wire));
    }
    steps.extend(
        mounts(plan, &jail.path)
            .into_iter()
            .rev()
            .map(|(stage, mount)| Step::Unmount { stage, mount }),
    );
    steps.extend(
        aliases(plan)
            .into_iter()
            .rev()
            .map(|(stage, alias)| Step::Unalias { stage, alias }),
    );
    run_steps(&mut steps, "exec.release", Place::Host, &c.release);
    Ok(Sequence {
        jail,
        exec: plan.exec.clone(),
        steps,
        warnings: Vec::new(),
    })
}

/// The jail a plan makes, before it exists.
pub fn jail_ref(plan: &JailPlan) -> JailRef {
    JailRef {
        name: plan.name.clone(),
        path: PathBuf::from(plan.path().unwrap_or("/")),
        jid: None,
        designation: plan
            .jid
            .map_or_else(|| plan.name.clone(), |j| j.to_string()),
    }
}

/// The commands of one stage, each as the plan says jail(8) runs it;
/// empty and blank ones run nothing and are left out, as jail(8) skips
/// them.
fn run_steps(steps: &mut Vec<Step>, stage: &'static str, place: Place, list: &[Command]) {
    steps.extend(
        list.iter()
            .map(|command| command.invocation().clone())
            .filter(|i| !i.argv.is_empty())
            .map(|invocation| Step::Run {
                stage,
                place,
                invocation,
            }),
    );
}

/// The aliases jail(8) adds: IPv4 then IPv6, for addresses that name an
/// interface or when `interface` is set.
fn aliases(plan: &JailPlan) -> Vec<(&'static str, Alias)> {
    let net = &plan.network;
    let each = |stage: &'static str, list: &[runj_translator::plan::Address]| {
        list.iter()
            .filter_map(|a| {
                let interface = a.interface.clone().or_else(|| net.interface.clone())?;
                Some((
                    stage,
                    Alias {
                        interface,
                        address: a.clone(),
                    },
                ))
            })
            .collect::<Vec<_>>()
    };
    let mut all = each("ip4.addr", &net.ip4);
    all.extend(each("ip6.addr", &net.ip6));
    all
}

/// The mounts in jail(8)'s order: `mount` and fstab entries, then devfs
/// (with `devfs_ruleset` as written, default 4), fdescfs and procfs.
fn mounts(plan: &JailPlan, root: &std::path::Path) -> Vec<(&'static str, MountPoint)> {
    let at =
        |form, fstype: &str, source: &str, destination: &str, options: Vec<String>| MountPoint {
            root: root.to_path_buf(),
            fstype: fstype.into(),
            source: source.into(),
            destination: destination.into(),
            options,
            form,
        };
    let m = &plan.mounts;
    let mut all: Vec<_> = m
        .entries
        .iter()
        .map(|e| {
            let mount = at(
                MountForm::Fstab,
                &e.fstype,
                &e.source,
                &e.destination,
                e.options.clone(),
            );
            ("mount", mount)
        })
        .collect();
    if m.devfs {
        let ruleset = plan
            .written
            .iter()
            .rev()
            .find(|w| w.name == "devfs_ruleset")
            .and_then(|w| w.text.clone())
            .or_else(|| plan.param("devfs_ruleset").map(ToString::to_string))
            .unwrap_or_else(|| DEFAULT_DEVFS_RULESET.to_string());
        let options = vec![format!("ruleset={ruleset}")];
        all.push((
            "mount.devfs",
            at(MountForm::Special, "devfs", "devfs", "/dev", options),
        ));
    }
    if m.fdescfs {
        all.push((
            "mount.fdescfs",
            at(
                MountForm::Special,
                "fdescfs",
                "fdesc",
                "/dev/fd",
                Vec::new(),
            ),
        ));
    }
    if m.procfs {
        all.push((
            "mount.procfs",
            at(MountForm::Special, "procfs", "proc", "/proc", Vec::new()),
        ));
    }
    all
}

impl Step {
    fn apply(&self, host: &mut dyn Host, jail: &mut JailRef, exec: &ExecOptions) -> Result<()> {
        match self {
            Step::Run {
                stage,
                place,
                invocation,
            } => host.run(&crate::host::Command {
                stage,
                argv: &invocation.argv,
                background: invocation.background,
                place: *place,
                jail,
                options: exec,
            }),
            Step::Alias { alias, .. } => host.add_alias(alias),
            Step::Mount { mount, .. } => host.mount(mount),
            Step::Create(params) => {
                jail.jid = Some(host.create(params)?);
                Ok(())
            }
            Step::VnetInterface(i) => {
                jid(jail)?;
                host.move_interface(i, jail)
            }
            Step::CheckLimits => host.check_limits(),
            Step::Limit(rule) => host.add_rule(jail, rule),
            Step::Unlimit(rule) => host.remove_rule(jail, rule),
            Step::Wire(action) => host.wire(action, jail, exec),
            Step::ClearPersist => host.update(jid(jail)?, &[Param::flag("persist", false)]),
            Step::Terminate(timeout) => host.terminate(jid(jail)?, *timeout),
            Step::Remove => host.remove(jid(jail)?),
            Step::Unmount { mount, .. } => host.unmount(mount),
            Step::Unalias { alias, .. } => host.remove_alias(alias),
        }
    }

    /// The "down" form jail(8) runs for this step when unwinding a failed
    /// creation; commands have none.
    fn undo(&self, host: &mut dyn Host, jail: &JailRef, exec: &ExecOptions) -> Result<()> {
        match self {
            Step::Alias { alias, .. } => host.remove_alias(alias),
            Step::Mount { mount, .. } => host.unmount(mount),
            Step::Create(_) => host.remove(jid(jail)?),
            Step::Limit(rule) => host.remove_rule(jail, rule),
            Step::VnetInterface(i) => host.return_interface(i, jail),
            Step::Wire(Action::Epair { unit }) => {
                host.wire(&Action::Destroy { unit: *unit }, jail, exec)
            }
            _ => Ok(()),
        }
    }

    /// Whether this step runs in the jail, which must exist for it.
    fn needs_jail(&self) -> bool {
        matches!(
            self,
            Step::Run {
                place: Place::Jail,
                ..
            } | Step::Terminate(_)
                | Step::Remove
        ) || matches!(self, Step::Wire(a) if a.in_jail())
    }
}

fn jid(jail: &JailRef) -> Result<Jid> {
    jail.jid
        .ok_or_else(|| Error::Plan(format!("jail \"{}\" is not running", jail.name)))
}

/// A step that failed, and what failed while unwinding.
#[derive(Debug, thiserror::Error)]
#[error("{step}: {error}{}", undo_report(.undo_errors))]
pub struct StepError {
    /// The step, as `--dry-run` shows it.
    pub step: String,
    pub error: Error,
    pub undo_errors: Vec<String>,
}

fn undo_report(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(" (and while undoing: {})", errors.join("; "))
    }
}

/// Runs a creation: on a failure at step N, undoes steps N-1 … 1 in reverse
/// and returns the failure. Returns the new jail's id.
pub fn create(host: &mut dyn Host, sequence: &Sequence) -> Result<Jid, StepError> {
    let mut jail = sequence.jail.clone();
    for (n, step) in sequence.steps.iter().enumerate() {
        if let Err(error) = step.apply(host, &mut jail, &sequence.exec) {
            let undo_errors = sequence.steps[..n]
                .iter()
                .rev()
                .filter_map(|done| done.undo(host, &jail, &sequence.exec).err())
                .map(|e| e.to_string())
                .collect();
            return Err(StepError {
                step: step.to_string(),
                error,
                undo_errors,
            });
        }
    }
    jid(&jail).map_err(|error| StepError {
        step: "create".into(),
        error,
        undo_errors: Vec::new(),
    })
}

/// How a removal treats failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// As `jail -r`: the first failure stops it.
    Strict,
    /// Clean up whatever is left (after a crash, `delete --force`): steps
    /// that need a missing jail are skipped, "already gone" errors are
    /// passed over, and every other failure is collected.
    Force,
}

/// Runs a removal of the jail `jid` (`None`: it is not running).
pub fn remove(
    host: &mut dyn Host,
    sequence: &Sequence,
    jid: Option<Jid>,
    mode: Removal,
) -> Result<(), Vec<StepError>> {
    let mut jail = JailRef {
        jid,
        ..sequence.jail.clone()
    };
    let mut errors = Vec::new();
    for step in &sequence.steps {
        if mode == Removal::Force && step.needs_jail() && jail.jid.is_none() {
            continue;
        }
        let result = step.apply(host, &mut jail, &sequence.exec);
        let error = match (result, mode) {
            (Ok(()), _) => continue,
            (Err(e), Removal::Force) if e.is_gone() => continue,
            (Err(e), _) => StepError {
                step: step.to_string(),
                error: e,
                undo_errors: Vec::new(),
            },
        };
        errors.push(error);
        if mode == Removal::Strict {
            break;
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Recorder;
    use runj_translator::plan::{Address, Mount};

    /// A jail with something at every stage.
    fn plan() -> JailPlan {
        let mut plan = JailPlan {
            name: "web".into(),
            ..JailPlan::default()
        };
        plan.parameters
            .insert("path".into(), Value::Text("/j/web".into()));
        plan.network.ip4 = vec!["em0|192.0.2.1/24".parse::<Address>().unwrap()];
        plan.network.ip6 = vec!["em0|2001:db8::1".parse::<Address>().unwrap()];
        plan.network.vnet_interfaces = vec!["epair0b".into()];
        plan.mounts.entries = vec![Mount {
            fstype: "nullfs".into(),
            source: "/src".into(),
            destination: "/src".into(),
            options: vec!["ro".into()],
        }];
        plan.mounts.devfs = true;
        plan.mounts.procfs = true;
        let c = &mut plan.commands;
        for (list, text) in [
            (&mut c.prepare, "prepare"),
            (&mut c.prestart, "prestart"),
            (&mut c.created, "created"),
            (&mut c.start, "start"),
            (&mut c.command, "command"),
            (&mut c.poststart, "poststart"),
            (&mut c.prestop, "prestop"),
            (&mut c.stop, "stop"),
            (&mut c.poststop, "poststop"),
            (&mut c.release, "release"),
        ] {
            list.push(format!("/bin/{text}").into());
        }
        plan
    }

    fn recorded(sequence: &Sequence, run: impl FnOnce(&mut Recorder)) -> Vec<String> {
        let mut host = Recorder::with_exec(&sequence.exec);
        run(&mut host);
        host.calls
    }

    #[test]
    fn creation_follows_jail8_order() {
        let sequence = create_sequence(&plan(), Persist::AsPlanned).unwrap();
        let calls = recorded(&sequence, |host| {
            assert_eq!(create(host, &sequence).unwrap(), 1);
        });
        assert_eq!(
            calls,
            [
                r#"exec host: ["/bin/prepare"]"#,
                r#"exec host: ["/sbin/ifconfig","em0","inet","192.0.2.1/24","alias"]"#,
                r#"exec host: ["/sbin/ifconfig","em0","inet6","2001:db8::1","prefixlen","128","alias"]"#,
                r#"exec host: ["/sbin/mount","-t","nullfs","-o","ro","/src","/j/web/src"]"#,
                r#"exec host: ["/sbin/mount","-t","devfs","-oruleset=4",".","/j/web/dev"]"#,
                r#"exec host: ["/sbin/mount","-t","procfs",".","/j/web/proc"]"#,
                r#"exec host: ["/bin/prestart"]"#,
                r#"jail_set create: [["persist",null],["name","web"],["path","/j/web"],["ip4.addr","192.0.2.1"],["ip6.addr","2001:db8::1"]]"#,
                r#"exec host: ["/bin/created"]"#,
                r#"exec host: ["/sbin/ifconfig","epair0b","vnet","web"]"#,
                r#"exec jail: ["/bin/start"]"#,
                r#"exec jail: ["/bin/command"]"#,
                r#"exec host: ["/bin/poststart"]"#,
                r#"jail_set update: [["jid","JID"],["nopersist",null]]"#,
            ]
        );
        assert_eq!(calls, sequence.trace(), "the run is the dry run");
    }

    #[test]
    fn removal_follows_jail8_order() {
        let sequence = remove_sequence(&plan()).unwrap();
        let calls = recorded(&sequence, |host| {
            host.processes = vec![41, 42];
            remove(host, &sequence, Some(3), Removal::Strict).unwrap();
        });
        assert_eq!(
            calls,
            [
                r#"exec host: ["/bin/prestop"]"#,
                r#"exec jail: ["/bin/stop"]"#,
                "kill jail: SIGTERM",
                "wait jail: stop.timeout=10",
                "jail_remove",
                r#"exec host: ["/bin/poststop"]"#,
                r#"exec host: ["/sbin/umount","/j/web/proc"]"#,
                r#"exec host: ["/sbin/umount","/j/web/dev"]"#,
                r#"exec host: ["/sbin/umount","-t","nullfs","/j/web/src"]"#,
                r#"exec host: ["/sbin/ifconfig","em0","inet6","2001:db8::1","prefixlen","128","-alias"]"#,
                r#"exec host: ["/sbin/ifconfig","em0","inet","192.0.2.1/24","-alias"]"#,
                r#"exec host: ["/bin/release"]"#,
            ]
        );
        assert_eq!(calls, sequence.trace(), "the run is the dry run");
    }

    #[test]
    fn a_stop_timeout_of_zero_signals_nothing() {
        let mut p = plan();
        p.exec.stop_timeout = Some(0);
        let trace = remove_sequence(&p).unwrap().trace();
        assert!(
            !trace
                .iter()
                .any(|l| l.starts_with("kill") || l.starts_with("wait"))
        );
        assert!(trace.contains(&"jail_remove".to_string()));
    }

    fn limited() -> JailPlan {
        let mut plan = JailPlan {
            name: "db".into(),
            ..JailPlan::default()
        };
        plan.parameters
            .insert("path".into(), Value::Text("/j/db".into()));
        plan.commands.created.push("/bin/created".into());
        plan.commands.poststop.push("/bin/poststop".into());
        plan.rctl = [
            "memoryuse:deny=512M",
            "readbps:throttle=1m",
            "readbps:throttle=2m",
        ]
        .iter()
        .map(|r| r.parse().unwrap())
        .collect();
        plan
    }

    /// Rules are added once the jail exists, after a check that the kernel
    /// can enforce them before anything is made, and removed (every rule of
    /// each resource and action) once it is gone.
    #[test]
    fn rctl_rules_follow_the_jail() {
        let plan = limited();
        let create_seq = create_sequence(&plan, Persist::AsPlanned).unwrap();
        let created = recorded(&create_seq, |host| {
            create(host, &create_seq).unwrap();
        });
        assert_eq!(
            created,
            [
                "check racct: kern.racct.enable=1",
                r#"jail_set create: [["name","db"],["path","/j/db"]]"#,
                "rctl_add_rule: jail:db:memoryuse:deny=536870912",
                "rctl_add_rule: jail:db:readbps:throttle=1048576",
                "rctl_add_rule: jail:db:readbps:throttle=2097152",
                r#"exec host: ["/bin/created"]"#,
            ]
        );
        assert_eq!(created, create_seq.trace());
        let remove_seq = remove_sequence(&plan).unwrap();
        let removed = recorded(&remove_seq, |host| {
            remove(host, &remove_seq, Some(1), Removal::Strict).unwrap();
        });
        assert_eq!(
            removed,
            [
                "kill jail: SIGTERM",
                "wait jail: stop.timeout=10",
                "jail_remove",
                "rctl_remove_rule: jail:db:memoryuse:deny=/jail",
                "rctl_remove_rule: jail:db:readbps:throttle=/jail",
                r#"exec host: ["/bin/poststop"]"#,
            ]
        );
        assert_eq!(removed, remove_seq.trace());
        for n in 3..=5 {
            let mut host = Recorder::failing_at(n);
            create(&mut host, &create_seq).unwrap_err();
            let undone = &host.calls[n..];
            assert_eq!(undone.last().map(String::as_str), Some("jail_remove"));
            assert_eq!(undone.len(), n - 2, "failure at {n}: {undone:?}");
            assert!(
                undone[..n - 3]
                    .iter()
                    .all(|c| c.starts_with("rctl_remove_rule: jail:db:"))
            );
        }
    }

    #[test]
    fn a_jail_name_rctl_cannot_take_is_refused() {
        let mut plan = limited();
        plan.name = "a:b".into();
        let error = create_sequence(&plan, Persist::AsPlanned).unwrap_err();
        assert!(
            error.to_string().contains("cannot be an rctl subject"),
            "{error}"
        );
    }

    /// A failure at every call undoes exactly what was done, in reverse,
    /// with the "down" form jail(8) gives each step.
    #[test]
    fn a_failure_at_any_step_unwinds_what_was_done() {
        let sequence = create_sequence(&plan(), Persist::AsPlanned).unwrap();
        let all = sequence.trace();
        for n in 1..=all.len() {
            let mut host = Recorder::failing_at(n);
            let err = create(&mut host, &sequence).unwrap_err();
            assert!(matches!(err.error, Error::Injected(m) if m == n));
            let undone: Vec<String> = all[..n - 1].iter().rev().filter_map(|c| down(c)).collect();
            assert_eq!(&host.calls[..n], &all[..n], "failure at {n}");
            assert_eq!(host.calls[n..], undone[..], "failure at {n}");
        }
    }

    /// jail(8)'s "down" form of a traced action; commands have none.
    fn down(call: &str) -> Option<String> {
        if let Some(rest) = call.strip_suffix(r#","alias"]"#) {
            return Some(format!(r#"{rest},"-alias"]"#));
        }
        if call.contains(r#""/sbin/mount","-t","nullfs""#) {
            return Some(r#"exec host: ["/sbin/umount","-t","nullfs","/j/web/src"]"#.into());
        }
        if let Some((_, target)) = call
            .split_once(r#"".",""#)
            .filter(|_| call.contains("/sbin/mount"))
        {
            return Some(format!(r#"exec host: ["/sbin/umount","{target}"#));
        }
        if call.starts_with("jail_set create") {
            return Some("jail_remove".into());
        }
        if call.contains(r#""epair0b","vnet""#) {
            return Some(call.replace(r#""vnet""#, r#""-vnet""#));
        }
        None
    }

    /// A container on a bridge: its wiring runs where its jail.conf has
    /// it (before the jail's own commands of the stage, the addresses
    /// after the move into the vnet, also for an OCI process), the epair
    /// is destroyed when a later step fails, and after the removal.
    #[test]
    fn a_bridge_is_wired_as_its_jail_conf_says() {
        let mut p = JailPlan {
            name: "web".into(),
            process: Some(Default::default()),
            ..JailPlan::default()
        };
        p.parameters
            .insert("path".into(), Value::Text("/j/web".into()));
        p.commands.prestart = vec!["/bin/prestart".into()];
        p.commands.poststop = vec!["/bin/poststop".into()];
        p.network.bridge = Some(runj_translator::bridge::Bridge {
            name: "runj0".into(),
            epair: Some(3),
            ipv4: Some(runj_translator::bridge::Addressing {
                subnet: "10.88.0.0/16".parse().unwrap(),
                gateway: "10.88.0.1".parse().unwrap(),
                address: Some("10.88.0.5".parse().unwrap()),
            }),
            ipv6: None,
        });
        let sequence = create_sequence(&p, Persist::Always).unwrap();
        let calls = recorded(&sequence, |host| {
            create(host, &sequence).unwrap();
        });
        assert_eq!(
            calls,
            [
                r#"exec host: ["/bin/sh","-c","/sbin/ifconfig runj0 >/dev/null 2>&1 || { /sbin/ifconfig bridge create name runj0 up && /sbin/ifconfig runj0 inet 10.88.0.1/16 alias; }"]"#,
                r#"exec host: ["/sbin/ifconfig","epair3","create","up"]"#,
                r#"exec host: ["/sbin/ifconfig","runj0","addm","epair3a"]"#,
                r#"exec host: ["/bin/prestart"]"#,
                r#"jail_set create: [["persist",null],["name","web"],["path","/j/web"]]"#,
                r#"exec host: ["/sbin/ifconfig","epair3b","vnet","web"]"#,
                r#"exec jail: ["/sbin/ifconfig","epair3b","inet","10.88.0.5/16","up"]"#,
                r#"exec jail: ["/sbin/route","add","-inet","default","10.88.0.1"]"#,
                r#"exec jail: ["/sbin/ifconfig","lo0","up"]"#,
            ]
        );
        assert_eq!(calls, sequence.trace(), "the run is the dry run");
        let bridge = p.network.bridge.as_ref().unwrap();
        for step in &sequence.steps {
            if let Step::Wire(action) = step {
                let written = bridge.around_stage(action.stage(), Vec::new());
                assert!(written.contains(&action.to_string()), "{action}");
            }
        }
        let failed_at = calls.iter().position(|c| c.contains("route")).unwrap() + 1;
        let mut host = Recorder::failing_at(failed_at);
        create(&mut host, &sequence).unwrap_err();
        let undone = &host.calls[failed_at..];
        assert_eq!(
            undone,
            [
                r#"exec host: ["/sbin/ifconfig","epair3b","-vnet","web"]"#,
                "jail_remove",
                r#"exec host: ["/sbin/ifconfig","epair3a","destroy"]"#,
            ]
        );
        let removal = remove_sequence(&p).unwrap().trace();
        assert_eq!(
            removal[removal.len() - 2..],
            [
                r#"exec host: ["/bin/poststop"]"#.to_string(),
                r#"exec host: ["/sbin/ifconfig","epair3a","destroy"]"#.to_string(),
            ]
        );
    }

    #[test]
    fn persist_is_temporary_only_while_commands_need_it() {
        let mut quiet = plan();
        quiet.commands = Default::default();
        let s = create_sequence(&quiet, Persist::AsPlanned).unwrap();
        assert!(!s.steps.contains(&Step::ClearPersist));
        assert!(
            s.trace()
                .iter()
                .any(|l| l.starts_with(r#"jail_set create: [["name","web"]"#))
        );
        let mut own = plan();
        own.parameters.insert("persist".into(), Value::Bool(false));
        let s = create_sequence(&own, Persist::AsPlanned).unwrap();
        let create = s
            .trace()
            .into_iter()
            .find(|l| l.starts_with("jail_set"))
            .unwrap();
        assert!(create.starts_with(r#"jail_set create: [["persist",null],["name","web"]"#));
        assert!(!create.contains("nopersist"), "{create}");
    }

    #[test]
    fn a_container_persists_and_runs_its_process_instead_of_exec_start() {
        let mut p = plan();
        p.process = Some(Default::default());
        let oci = create_sequence(&p, Persist::Always).unwrap();
        assert!(!oci.steps.contains(&Step::ClearPersist));
        assert!(!oci.steps.iter().any(|s| matches!(
            s,
            Step::Run {
                stage: "command" | "exec.start",
                ..
            }
        )));
    }

    #[test]
    fn commands_run_each_as_jail8_runs_it() {
        let mut p = plan();
        p.commands.start = vec![
            "daemon -f &".into(),
            "other arg".into(),
            " ".into(),
            "a; b".into(),
        ];
        let trace = create_sequence(&p, Persist::AsPlanned).unwrap().trace();
        let jail: Vec<&String> = trace
            .iter()
            .filter(|l| l.starts_with("exec jail"))
            .collect();
        assert_eq!(
            jail,
            [
                r#"exec jail bg: ["daemon","-f"]"#,
                r#"exec jail: ["other","arg"]"#,
                r#"exec jail: ["/bin/sh","-c","a; b"]"#,
                r#"exec jail: ["/bin/command"]"#,
            ]
        );
    }

    #[test]
    fn a_forced_removal_skips_what_needs_a_missing_jail_and_goes_on() {
        let sequence = remove_sequence(&plan()).unwrap();
        let mut host = Recorder::failing_at(2);
        let errors = remove(&mut host, &sequence, None, Removal::Force).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].step, "exec.poststop: /bin/poststop");
        assert_eq!(host.calls.len(), 8, "{:?}", host.calls);
        assert!(
            !host
                .calls
                .iter()
                .any(|c| c.starts_with("exec jail") || c.starts_with("jail_remove"))
        );
    }

    #[test]
    fn dry_run_lines_name_each_step() {
        let shown: Vec<String> = create_sequence(&plan(), Persist::AsPlanned)
            .unwrap()
            .steps
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown[1],
            "ip4.addr: /sbin/ifconfig em0 inet 192.0.2.1/24 alias"
        );
        assert_eq!(
            shown[4],
            "mount.devfs: /sbin/mount -t devfs -oruleset=4 . /j/web/dev"
        );
        assert_eq!(shown[10], "exec.start: (in the jail) /bin/start");
        assert_eq!(
            shown[13],
            "persist: jail_set(JAIL_UPDATE) jid=JID nopersist"
        );
    }

    #[test]
    fn unread_fstab_files_and_relative_paths_are_refused() {
        let mut p = plan();
        p.mounts.fstab_files = vec!["/etc/fstab.web".into()];
        let err = create_sequence(&p, Persist::AsPlanned).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("mount.fstab: /etc/fstab.web has not been read")
        );
        let mut p = plan();
        p.parameters
            .insert("path".into(), Value::Text("j/web".into()));
        let err = create_sequence(&p, Persist::AsPlanned).unwrap_err();
        assert_eq!(err.to_string(), "path: \"j/web\" is not an absolute path");
        assert!(
            remove_sequence(&p).is_ok(),
            "jail -r does not check the path"
        );
    }
}
