//! A plan as the ordered steps jail(8) performs to create (`jail -c`) and
//! to remove (`jail -r`) a jail, each with its undo, and the runner that
//! unwinds a failed creation exactly as jail(8) does.
//!
//! Order and rollback: freebsd/freebsd-src usr.sbin/jail/jail.c
//! `startcommands[]`/`stopcommands[]` and command.c `next_command`; see
//! the project's jail(8) reference, §6.2 and §6.3.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use runj_translator::JailPlan;
use runj_translator::plan::{ExecOptions, Value};

use crate::error::{Error, Result};
use crate::host::{Alias, Command, Host, JailRef, Jid, MountPoint, Place};
use crate::params::{Param, kernel_params};

/// jail(8)'s default `stop.timeout`, in seconds.
pub const DEFAULT_STOP_TIMEOUT: u32 = 10;
/// jail(8)'s default `devfs_ruleset` for `mount.devfs`.
pub const DEFAULT_DEVFS_RULESET: i64 = 4;

/// One thing jail(8) does to a system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An `exec.*` command or `command`, on the host or in the jail.
    Run {
        stage: &'static str,
        place: Place,
        command: String,
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
    /// jail_set(2) with `JAIL_CREATE`; undone by jail_remove(2).
    Create(Vec<Param>),
    /// `ifconfig IF vnet JID`; undone by `-vnet`.
    VnetInterface(String),
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
    /// One line for `runj apply --dry-run`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Run {
                stage,
                place: Place::Host,
                command,
            } => write!(f, "{stage}: {command}"),
            Step::Run { stage, command, .. } => write!(f, "{stage}: (in the jail) {command}"),
            Step::Alias { stage, alias } | Step::Unalias { stage, alias } => {
                let add = matches!(self, Step::Alias { .. });
                write!(
                    f,
                    "{stage}: ifconfig {}",
                    alias.ifconfig_args(add).join(" ")
                )
            }
            Step::Mount { stage, mount } => write!(f, "{stage}: {mount}"),
            Step::Unmount { stage, mount } => {
                write!(f, "{stage}: umount {}", mount.target().display())
            }
            Step::Create(params) => {
                let shown: Vec<String> = params.iter().map(ToString::to_string).collect();
                write!(f, "create: jail_set(JAIL_CREATE) {}", shown.join(" "))
            }
            Step::VnetInterface(i) => write!(f, "vnet.interface: ifconfig {i} vnet JID"),
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

/// The steps for one jail, with what they need to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    pub jail: JailRef,
    pub exec: ExecOptions,
    pub steps: Vec<Step>,
    /// Parameters runj passes on without knowing them.
    pub warnings: Vec<String>,
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

/// The `jail -c` steps of a plan, without `command` when `with_command`
/// is false (an OCI container process takes its place).
pub fn create_sequence(plan: &JailPlan, persist: Persist, with_command: bool) -> Result<Sequence> {
    let jail = jail_ref(plan)?;
    if let Some(file) = plan.mounts.fstab_files.first() {
        return Err(Error::Plan(format!(
            "mount.fstab: {file} has not been read; expand the plan's fstab files first"
        )));
    }
    let (mut params, warnings) = kernel_params(plan)?;
    let c = &plan.commands;
    let planned_persist = matches!(plan.param("persist"), Some(Value::Bool(true)));
    let temporary = persist == Persist::AsPlanned
        && !planned_persist
        && !(c.start.is_empty()
            && (c.command.is_empty() || !with_command)
            && c.poststart.is_empty());
    if persist == Persist::Always || temporary {
        params.retain(|p| p.name != "persist");
        params.push(Param::flag("persist", true));
    }
    let mut steps = Vec::new();
    let host =
        |stage, list: &[String], steps: &mut Vec<Step>| run_steps(stage, Place::Host, list, steps);
    host("exec.prepare", &c.prepare, &mut steps);
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
    host("exec.prestart", &c.prestart, &mut steps);
    steps.push(Step::Create(params));
    host("exec.created", &c.created, &mut steps);
    steps.extend(
        plan.network
            .vnet_interfaces
            .iter()
            .cloned()
            .map(Step::VnetInterface),
    );
    run_steps("exec.start", Place::Jail, &c.start, &mut steps);
    if with_command {
        run_steps("command", Place::Jail, &c.command, &mut steps);
    }
    host("exec.poststart", &c.poststart, &mut steps);
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

/// The `jail -r` steps of a plan.
pub fn remove_sequence(plan: &JailPlan) -> Result<Sequence> {
    let jail = jail_ref(plan)?;
    let c = &plan.commands;
    let mut steps = Vec::new();
    run_steps("exec.prestop", Place::Host, &c.prestop, &mut steps);
    run_steps("exec.stop", Place::Jail, &c.stop, &mut steps);
    let timeout = plan.exec.stop_timeout.unwrap_or(DEFAULT_STOP_TIMEOUT);
    steps.push(Step::Terminate(Duration::from_secs(timeout.into())));
    steps.push(Step::Remove);
    run_steps("exec.poststop", Place::Host, &c.poststop, &mut steps);
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
    run_steps("exec.release", Place::Host, &c.release, &mut steps);
    Ok(Sequence {
        jail,
        exec: plan.exec.clone(),
        steps,
        warnings: Vec::new(),
    })
}

fn jail_ref(plan: &JailPlan) -> Result<JailRef> {
    let path = plan.path().unwrap_or("/");
    if !path.starts_with('/') {
        return Err(Error::Plan(format!(
            "path: \"{path}\" is not an absolute path"
        )));
    }
    Ok(JailRef {
        name: plan.name.clone(),
        path: PathBuf::from(path),
        jid: None,
    })
}

fn run_steps(stage: &'static str, place: Place, list: &[String], steps: &mut Vec<Step>) {
    steps.extend(list.iter().map(|command| Step::Run {
        stage,
        place,
        command: command.clone(),
    }));
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

/// The mounts in jail(8)'s order: `mount` and fstab entries, then devfs,
/// fdescfs and procfs.
fn mounts(plan: &JailPlan, root: &std::path::Path) -> Vec<(&'static str, MountPoint)> {
    let at = |fstype: &str, source: &str, destination: &str, options: Vec<String>| MountPoint {
        root: root.to_path_buf(),
        fstype: fstype.into(),
        source: source.into(),
        destination: destination.into(),
        options,
    };
    let m = &plan.mounts;
    let mut all: Vec<_> = m
        .entries
        .iter()
        .map(|e| {
            (
                "mount",
                at(&e.fstype, &e.source, &e.destination, e.options.clone()),
            )
        })
        .collect();
    if m.devfs {
        let ruleset = match plan.param("devfs_ruleset") {
            Some(Value::Int(n)) => *n,
            _ => DEFAULT_DEVFS_RULESET,
        };
        all.push((
            "mount.devfs",
            at("devfs", "devfs", "/dev", vec![format!("ruleset={ruleset}")]),
        ));
    }
    if m.fdescfs {
        all.push((
            "mount.fdescfs",
            at("fdescfs", "fdesc", "/dev/fd", Vec::new()),
        ));
    }
    if m.procfs {
        all.push(("mount.procfs", at("procfs", "proc", "/proc", Vec::new())));
    }
    all
}

impl Step {
    fn apply(&self, host: &mut dyn Host, jail: &mut JailRef, exec: &ExecOptions) -> Result<()> {
        match self {
            Step::Run {
                stage,
                place,
                command,
            } => host.run(&Command {
                stage,
                text: command,
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
            Step::VnetInterface(i) => host.move_interface(i, jid(jail)?),
            Step::ClearPersist => host.update(jid(jail)?, &[Param::flag("persist", false)]),
            Step::Terminate(timeout) => terminate(host, jid(jail)?, *timeout),
            Step::Remove => host.remove(jid(jail)?),
            Step::Unmount { mount, .. } => host.unmount(mount),
            Step::Unalias { alias, .. } => host.remove_alias(alias),
        }
    }

    /// The "down" form jail(8) runs for this step when unwinding a failed
    /// creation; commands have none.
    fn undo(&self, host: &mut dyn Host, jail: &JailRef) -> Result<()> {
        match self {
            Step::Alias { alias, .. } => host.remove_alias(alias),
            Step::Mount { mount, .. } => host.unmount(mount),
            Step::Create(_) => host.remove(jid(jail)?),
            Step::VnetInterface(i) => host.return_interface(i, jid(jail)?),
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
        )
    }
}

fn jid(jail: &JailRef) -> Result<Jid> {
    jail.jid
        .ok_or_else(|| Error::Plan(format!("jail \"{}\" is not running", jail.name)))
}

/// SIGTERM to every process of the jail, then waits for them to go, at
/// most `timeout` (jail(8)'s `stop.timeout` phase).
fn terminate(host: &mut dyn Host, jid: Jid, timeout: Duration) -> Result<()> {
    for pid in host.processes(jid)? {
        host.signal(pid, libc::SIGTERM).or_else(ignore_gone)?;
    }
    let deadline = Instant::now() + timeout;
    while !host.processes(jid)?.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn ignore_gone(e: Error) -> Result<()> {
    if e.is_gone() { Ok(()) } else { Err(e) }
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
                .filter_map(|done| done.undo(host, &jail).err())
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
            list.push(format!("/bin/{text}"));
        }
        plan
    }

    #[test]
    fn creation_follows_jail8_order() {
        let sequence = create_sequence(&plan(), Persist::AsPlanned, true).unwrap();
        let mut host = Recorder::default();
        assert_eq!(create(&mut host, &sequence).unwrap(), 1);
        assert_eq!(
            host.calls,
            [
                "run exec.prepare (host) /bin/prepare",
                "ifconfig em0 inet 192.0.2.1/24 alias",
                "ifconfig em0 inet6 2001:db8::1 prefixlen 128 alias",
                "mount -t nullfs -o ro /src /j/web/src",
                "mount -t devfs -o ruleset=4 devfs /j/web/dev",
                "mount -t procfs proc /j/web/proc",
                "run exec.prestart (host) /bin/prestart",
                "jail_set create name=\"web\" path=\"/j/web\" ip4.addr=192.0.2.1 ip6.addr=2001:db8::1 persist",
                "run exec.created (host) /bin/created",
                "ifconfig epair0b vnet 1",
                "run exec.start (jail) /bin/start",
                "run command (jail) /bin/command",
                "run exec.poststart (host) /bin/poststart",
                "jail_set update jid=1 nopersist",
            ]
        );
    }

    #[test]
    fn removal_follows_jail8_order() {
        let sequence = remove_sequence(&plan()).unwrap();
        let mut host = Recorder::default();
        host.processes = vec![41, 42];
        remove(&mut host, &sequence, Some(3), Removal::Strict).unwrap();
        assert_eq!(
            host.calls,
            [
                "run exec.prestop (host) /bin/prestop",
                "run exec.stop (jail) /bin/stop",
                "kill -15 41",
                "kill -15 42",
                "jail_remove 3",
                "run exec.poststop (host) /bin/poststop",
                "umount /j/web/proc",
                "umount /j/web/dev",
                "umount /j/web/src",
                "ifconfig em0 inet6 2001:db8::1 prefixlen 128 -alias",
                "ifconfig em0 inet 192.0.2.1/24 -alias",
                "run exec.release (host) /bin/release",
            ]
        );
    }

    /// A failure at every call undoes exactly what was done, in reverse,
    /// with the "down" form jail(8) gives each step.
    #[test]
    fn a_failure_at_any_step_unwinds_what_was_done() {
        let sequence = create_sequence(&plan(), Persist::AsPlanned, true).unwrap();
        let mut all = Recorder::default();
        create(&mut all, &sequence).unwrap();
        for n in 1..=all.calls.len() {
            let mut host = Recorder::failing_at(n);
            let err = create(&mut host, &sequence).unwrap_err();
            assert!(matches!(err.error, Error::Injected(m) if m == n));
            let done = &all.calls[..n - 1];
            let undone: Vec<String> = done.iter().rev().filter_map(|c| down(c)).collect();
            assert_eq!(&host.calls[..n], &all.calls[..n], "failure at {n}");
            assert_eq!(host.calls[n..], undone[..], "failure at {n}");
        }
    }

    /// jail(8)'s "down" form of a recorded call; commands have none.
    fn down(call: &str) -> Option<String> {
        if let Some(rest) = call.strip_suffix(" alias") {
            return Some(format!("{rest} -alias"));
        }
        if call.starts_with("mount ") {
            let target = call.rsplit(' ').next().unwrap();
            return Some(format!("umount {target}"));
        }
        if call.starts_with("jail_set create") {
            return Some("jail_remove 1".into());
        }
        if let Some(i) = call.strip_prefix("ifconfig epair0b vnet ") {
            return Some(format!("ifconfig epair0b -vnet {i}"));
        }
        None
    }

    #[test]
    fn persist_is_temporary_only_while_commands_need_it() {
        let mut quiet = plan();
        quiet.commands = Default::default();
        let s = create_sequence(&quiet, Persist::AsPlanned, true).unwrap();
        assert!(!s.steps.contains(&Step::ClearPersist));
        let Step::Create(params) = &s.steps[s
            .steps
            .iter()
            .position(|s| matches!(s, Step::Create(_)))
            .unwrap()]
        else {
            unreachable!()
        };
        assert!(!params.iter().any(|p| p.name == "persist"));
        let oci = create_sequence(&plan(), Persist::Always, false).unwrap();
        assert!(!oci.steps.contains(&Step::ClearPersist));
        assert!(!oci.steps.iter().any(|s| matches!(
            s,
            Step::Run {
                stage: "command",
                ..
            }
        )));
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
                .any(|c| c.contains("(jail)") || c.starts_with("jail_remove"))
        );
    }

    #[test]
    fn dry_run_lines_name_each_step() {
        let shown: Vec<String> = create_sequence(&plan(), Persist::AsPlanned, true)
            .unwrap()
            .steps
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown[1], "ip4.addr: ifconfig em0 inet 192.0.2.1/24 alias");
        assert_eq!(
            shown[4],
            "mount.devfs: mount -t devfs -o ruleset=4 devfs /j/web/dev"
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
        let err = create_sequence(&p, Persist::AsPlanned, true).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("mount.fstab: /etc/fstab.web has not been read")
        );
        let mut p = plan();
        p.parameters
            .insert("path".into(), Value::Text("j/web".into()));
        let err = remove_sequence(&p).unwrap_err();
        assert_eq!(err.to_string(), "path: \"j/web\" is not an absolute path");
    }
}
