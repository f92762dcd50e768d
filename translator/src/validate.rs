//! Consistency rules the kernel enforces across parameters
//! (freebsd/freebsd-src sys/kern/kern_jail.c `kern_jail_set`).

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::plan::{JailPlan, Value};

/// Adds an error for each rule the plan breaks. `subject` names where a
/// parameter was set (itself for jail.conf, a JSON path for a bundle).
pub fn validate(plan: &JailPlan, subject: &dyn Fn(&str) -> String, out: &mut Diagnostics) {
    let mode = |name: &str| match plan.param(name) {
        Some(Value::Mode(m)) => Some(m.name()),
        _ => None,
    };
    if plan.name.is_empty() {
        out.push(Diagnostic::error("name", "the jail has no name"));
    }
    if let Some(path) = plan.path()
        && !path.starts_with('/')
    {
        out.push(Diagnostic::error(
            "path",
            format!("\"{path}\" is not an absolute path"),
        ));
    }
    for name in ["vnet", "host"] {
        if mode(name) == Some("disable") {
            out.push(Diagnostic::error(
                name,
                "\"disable\" is not valid here: use \"new\" or \"inherit\"",
            ));
        }
    }
    let has_addresses = !plan.network.ip4.is_empty() || !plan.network.ip6.is_empty();
    if mode("vnet") == Some("new") && has_addresses {
        out.push(Diagnostic::error(
            "vnet",
            "a vnet jail cannot have IP address restrictions (ip4.addr, ip6.addr)",
        ));
    }
    for (family, list) in [("ip4", &plan.network.ip4), ("ip6", &plan.network.ip6)] {
        if !list.is_empty() && matches!(mode(family), Some("disable" | "inherit")) {
            out.push(Diagnostic::error(
                family,
                format!(
                    "{family} = {} conflicts with {family}.addr",
                    mode(family).unwrap_or_default()
                ),
            ));
        }
    }
    // samuelkarp/runj jail/params.go refuses names with host = inherit.
    if mode("host") == Some("inherit") {
        for name in ["host.hostname", "host.domainname"]
            .into_iter()
            .filter(|n| plan.param(n).is_some())
        {
            out.push(Diagnostic::error(
                subject("host"),
                format!(
                    "host = inherit keeps the host's names, but {} sets {name}",
                    subject(name)
                ),
            ));
        }
    }
    // jail(8) moves interfaces with `ifconfig IF vnet JID`, which needs a vnet.
    if !plan.network.vnet_interfaces.is_empty() && mode("vnet") != Some("new") {
        out.push(Diagnostic::error(
            subject("vnet.interface"),
            "interfaces can only be moved into a jail with its own vnet (vnet = new)",
        ));
    }
    for m in &plan.mounts.entries {
        if !m.destination.starts_with('/') || m.destination.split('/').any(|c| c == "..") {
            out.push(Diagnostic::error(
                "mount",
                format!(
                    "destination \"{}\" must be an absolute path without \"..\"",
                    m.destination
                ),
            ));
        }
    }
}
