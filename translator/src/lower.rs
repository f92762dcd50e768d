//! Lowering: a resolved jail.conf jail → a [`JailPlan`], every value typed
//! through the [`catalog`](crate::catalog) and checked.

use crate::catalog::{self, Consumer, Type};
use crate::conf::{Origin, ResolvedJail, ResolvedParam};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::fstab;
use crate::plan::{Address, Command, JailPlan, Mount, Written};
use crate::typing::{bool_value, int_value, kernel_value};
use crate::validate::validate;

/// A plan (unless an error prevented it) and what was found on the way.
#[derive(Debug, Clone)]
pub struct Lowered {
    pub plan: Option<JailPlan>,
    pub diagnostics: Diagnostics,
}

/// Lowers one resolved jail. A jail that failed to resolve is not lowered.
pub fn lower(jail: &ResolvedJail) -> Lowered {
    lower_with(jail, Purpose::Create)
}

/// Lowers a jail to be removed. `jail -r` checks only jail(8)'s own
/// parameters (freebsd/freebsd-src usr.sbin/jail/jail.c: `import_params`
/// runs for `-c` and `-m` alone), so a kernel parameter that does not type
/// (`devfs_ruleset = NETRULENUM`, a template's `path`) is left out with a
/// warning rather than refusing the removal.
pub fn lower_for_removal(jail: &ResolvedJail) -> Lowered {
    lower_with(jail, Purpose::Remove)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Create,
    Remove,
}

fn lower_with(jail: &ResolvedJail, purpose: Purpose) -> Lowered {
    let mut diagnostics = Diagnostics::default();
    // A plan holds text: a name or value that is not UTF-8 fails it.
    for e in jail.errors.iter().chain(&jail.not_text) {
        diagnostics.push(Diagnostic::error(&jail.name, e.message.clone()).at(e.origin));
    }
    let mut plan = JailPlan {
        name: jail.name.clone(),
        ..JailPlan::default()
    };
    let mut mount_lines: Option<(&[String], Option<Origin>)> = None;
    for p in &jail.params {
        let result = match p.name.as_str() {
            "name" => {
                plan.name = p.values.last().cloned().unwrap_or_default();
                Ok(None)
            }
            "mount" => {
                mount_lines = Some((&p.values, p.origin));
                Ok(None)
            }
            name => set_param(&mut plan, name, &p.values),
        };
        match result {
            Ok(None) => {}
            Ok(Some(warning)) => {
                diagnostics.push(Diagnostic::warning(&p.name, warning).at(p.origin))
            }
            Err(message) if purpose == Purpose::Remove && is_kernel(&p.name) => {
                let message = format!("{message}; left out, as jail -r does not check it");
                diagnostics.push(Diagnostic::warning(&p.name, message).at(p.origin))
            }
            Err(message) => diagnostics.push(Diagnostic::error(&p.name, message).at(p.origin)),
        }
    }
    if let Some((lines, origin)) = mount_lines {
        for line in lines {
            match mount_entry(&plan, line) {
                Ok(mount) => plan.mounts.entries.push(mount),
                Err(message) => diagnostics.push(Diagnostic::error("mount", message).at(origin)),
            }
        }
    }
    plan.written = jail.params.iter().filter_map(written).collect();
    let mut checks = Diagnostics::default();
    validate(&plan, &|name| name.to_string(), &mut checks);
    for d in checks.0 {
        diagnostics.push(match purpose {
            Purpose::Remove if d.is_error() => {
                Diagnostic::warning(d.subject, format!("{}; not checked by jail -r", d.message))
            }
            _ => d,
        });
    }
    let plan = (!diagnostics.has_errors()).then_some(plan);
    Lowered { plan, diagnostics }
}

/// Whether jail(8) hands a parameter to the kernel (those runj does not
/// know included).
fn is_kernel(name: &str) -> bool {
    catalog::lookup(name).is_none_or(|l| l.spec.consumer == Consumer::Kernel)
}

/// A kernel parameter (or one runj does not know, which jail(8) passes to
/// the kernel too) as jail(8) imports it: freebsd/freebsd-src
/// usr.sbin/jail/config.c `import_params` takes the last value of a scalar
/// and joins an array's values with `,`; `check_intparams` has stripped
/// each address of `iface|`, `/mask` and what follows a space.
fn written(p: &ResolvedParam) -> Option<Written> {
    if !is_kernel(&p.name) {
        return None;
    }
    let lookup = catalog::lookup(&p.name);
    let text = match lookup.map(|l| l.spec.ty) {
        _ if p.values.is_empty() => None,
        Some(Type::Ip4List | Type::Ip6List) => Some(
            p.values
                .iter()
                .map(|v| address_text(v))
                .collect::<Vec<_>>()
                .join(","),
        ),
        Some(_) => p.values.last().cloned(),
        None => Some(p.values.join(",")),
    };
    Some(Written {
        name: p.name.clone(),
        text,
    })
}

/// An `ip4.addr`/`ip6.addr` value as the kernel gets it.
fn address_text(value: &str) -> &str {
    let bare = value.split_once('|').map_or(value, |(_, rest)| rest);
    let bare = bare.split('/').next().unwrap_or(bare);
    bare.split(' ').next().unwrap_or(bare)
}

/// Sets one jail.conf parameter (anything but `name` and `mount`) on a
/// plan from its jail.conf values, typed through the catalog. An unknown
/// parameter is kept verbatim in `extra`, and the warning says so.
pub(crate) fn set_param(
    plan: &mut JailPlan,
    name: &str,
    values: &[String],
) -> Result<Option<String>, String> {
    match (name, catalog::lookup(name)) {
        ("jid", _) => {
            plan.jid = Some(int_value(values, 1, i64::from(i32::MAX))? as i32);
        }
        (_, None) => {
            plan.extra.insert(name.to_string(), values.to_vec());
            return Ok(Some("unknown parameter, kept verbatim".to_string()));
        }
        (_, Some(l)) if l.spec.consumer == Consumer::Kernel => kernel(plan, name, &l, values)?,
        (_, Some(l)) => jail8(plan, l.spec.name, l.negated, values)?,
    }
    Ok(None)
}

fn kernel(
    plan: &mut JailPlan,
    name: &str,
    l: &catalog::Lookup,
    values: &[String],
) -> Result<(), String> {
    match l.spec.ty {
        Type::Ip4List | Type::Ip6List => {
            let v4 = l.spec.ty == Type::Ip4List;
            let mut addresses = Vec::new();
            for text in values
                .iter()
                .flat_map(|v| v.split(','))
                .filter(|t| !t.is_empty() && *t != "-")
            {
                let a: Address = text
                    .parse()
                    .map_err(|e: crate::plan::AddressError| e.to_string())?;
                if a.addr.is_ipv4() != v4 {
                    return Err(format!(
                        "\"{text}\" is not an IPv{} address",
                        if v4 { 4 } else { 6 }
                    ));
                }
                addresses.push(a);
            }
            if v4 {
                plan.network.ip4 = addresses
            } else {
                plan.network.ip6 = addresses
            }
            Ok(())
        }
        _ => {
            let value = kernel_value(&l.spec, name, l.negated, values)?;
            plan.parameters.insert(catalog::positive_name(name), value);
            Ok(())
        }
    }
}

fn jail8(plan: &mut JailPlan, name: &str, negated: bool, values: &[String]) -> Result<(), String> {
    let text = || values.last().cloned().unwrap_or_default();
    let count = || int_value(values, 0, i64::from(i32::MAX)).map(|i| i as u32);
    let flag = || bool_value(values, negated);
    let exec = &mut plan.exec;
    match name {
        "mount.fstab" => {
            plan.mounts.fstab_files = values.iter().filter(|v| !v.is_empty()).cloned().collect()
        }
        "mount.devfs" => plan.mounts.devfs = flag()?,
        "mount.fdescfs" => plan.mounts.fdescfs = flag()?,
        "mount.procfs" => plan.mounts.procfs = flag()?,
        "vnet.interface" => plan.network.vnet_interfaces = values.to_vec(),
        "interface" => plan.network.interface = Some(text()),
        "zfs.dataset" => plan.zfs_datasets = values.to_vec(),
        "depend" => plan.depend = values.to_vec(),
        "exec.clean" => exec.clean = flag()?,
        "exec.system_jail_user" => exec.system_jail_user = flag()?,
        "ip_hostname" => exec.ip_hostname = flag()?,
        "allow.dying" => exec.allow_dying = flag()?,
        "exec.jail_user" => exec.jail_user = Some(text()),
        "exec.system_user" => exec.system_user = Some(text()),
        "exec.consolelog" => exec.consolelog = Some(text()),
        "exec.timeout" => exec.timeout = Some(count()?),
        "exec.fib" => exec.fib = Some(count()?),
        "stop.timeout" => exec.stop_timeout = Some(count()?),
        stage => {
            let list = plan
                .commands
                .stage_mut(stage)
                .ok_or_else(|| format!("no plan field for {stage}"))?;
            *list = values.iter().map(|v| Command::new(v.as_str())).collect();
        }
    }
    Ok(())
}

/// An fstab line, its mount point turned into a path inside the jail.
pub(crate) fn mount_entry(plan: &JailPlan, line: &str) -> Result<Mount, String> {
    let l = fstab::parse_line(line)?;
    let path = plan.path().ok_or("mounts need the jail's path to be set")?;
    let destination = inside(path, &l.mountpoint).ok_or_else(|| {
        format!(
            "mount point \"{}\" is outside the jail's path \"{path}\"",
            l.mountpoint
        )
    })?;
    Ok(Mount {
        fstype: l.fstype,
        source: l.device,
        destination,
        options: l.options,
    })
}

/// Reads each `mount.fstab` file as jail(8) does when it starts the jail
/// (`#` starts a comment; blank lines are skipped) and appends its lines to
/// the mount entries. A file that cannot be read here stays a reference,
/// read when the jail starts as jail(8) would, and a warning says so.
pub fn expand_fstab_files(plan: &mut JailPlan) -> Result<Vec<Diagnostic>, Diagnostic> {
    let mut warnings = Vec::new();
    for file in std::mem::take(&mut plan.mounts.fstab_files) {
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) => {
                let why = runj_grammar::strerror(&e);
                let message = format!("{file}: {why}; kept as a file to read when the jail starts");
                warnings.push(Diagnostic::warning("mount.fstab", message));
                plan.mounts.fstab_files.push(file);
                continue;
            }
        };
        for (n, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if !line.is_empty() {
                let mount = mount_entry(plan, line).map_err(|m| {
                    Diagnostic::error("mount.fstab", format!("{file}:{}: {m}", n + 1))
                })?;
                plan.mounts.entries.push(mount);
            }
        }
    }
    Ok(warnings)
}

/// `host` as an absolute path inside the jail rooted at `root`, if it lies
/// beneath it (no `..` components).
pub fn inside(root: &str, host: &str) -> Option<String> {
    let root = root.trim_end_matches('/');
    let rest = host.strip_prefix(root)?;
    if !(rest.is_empty() || rest.starts_with('/')) || rest.split('/').any(|c| c == "..") {
        return None;
    }
    let rest = rest.trim_end_matches('/');
    Some(if rest.is_empty() {
        "/".to_string()
    } else {
        rest.to_string()
    })
}
