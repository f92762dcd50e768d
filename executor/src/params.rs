//! A plan's kernel parameters, typed for jail_set(2) by the catalog
//! (`runj_translator::catalog`): what every backend receives at creation.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use runj_translator::JailPlan;
use runj_translator::catalog::{Consumer, Type, lookup};
use runj_translator::plan::Value;

use crate::error::{Error, Result};

/// One kernel parameter with its value in the kernel's type, and how
/// jail(8) would hand it to libjail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub value: ParamValue,
    pub import: Import,
}

/// A parameter as jail(8) imports it (the trace shows it so): its name as
/// written and its text, `None` for no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub name: String,
    pub text: Option<String>,
}

/// A value as jail_set(2) takes it (freebsd/freebsd-src sys/kern/kern_jail.c).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    Int(i32),
    UInt(u32),
    ULong(u64),
    /// A NUL-terminated string of at most `max` bytes including the NUL.
    Str {
        text: String,
        max: usize,
    },
    /// Sent by name: `persist` or `nopersist`.
    Bool(bool),
    JailSys(JailSys),
    Ip4(Vec<Ipv4Addr>),
    Ip6(Vec<Ipv6Addr>),
    /// A parameter the catalog does not know, as written: the backend types
    /// it from what the kernel declares (FreeBSD's `security.jail.param`
    /// sysctls, as libjail does) or refuses it.
    Unknown(String),
}

/// `disable|new|inherit` (`JAIL_SYS_*` in sys/sys/jail.h), typed in the plan.
pub use runj_translator::plan::Mode as JailSys;

impl Param {
    /// A parameter imported as the value spells itself: a boolean by its
    /// name alone (`persist`, `nopersist`), a jailsys mode by name, a list
    /// joined with `,`.
    pub fn new(name: &str, value: ParamValue) -> Self {
        let text = |t: String| Some(t);
        let (shown, text) = match &value {
            ParamValue::Bool(true) => (name.to_string(), None),
            ParamValue::Bool(false) => (negated_name(name), None),
            ParamValue::Int(v) => (name.to_string(), text(v.to_string())),
            ParamValue::UInt(v) => (name.to_string(), text(v.to_string())),
            ParamValue::ULong(v) => (name.to_string(), text(v.to_string())),
            ParamValue::Str { text: t, .. } | ParamValue::Unknown(t) => {
                (name.to_string(), text(t.clone()))
            }
            ParamValue::JailSys(mode) => (name.to_string(), text(mode.name().to_string())),
            ParamValue::Ip4(a) => (name.to_string(), text(joined(a))),
            ParamValue::Ip6(a) => (name.to_string(), text(joined(a))),
        };
        Param {
            name: name.to_string(),
            value,
            import: Import { name: shown, text },
        }
    }

    /// A boolean parameter.
    pub fn flag(name: &str, value: bool) -> Self {
        Param::new(name, ParamValue::Bool(value))
    }

    /// A jailsys parameter's mode, if this is one.
    pub fn jailsys(&self) -> Option<JailSys> {
        match self.value {
            ParamValue::JailSys(mode) => Some(mode),
            _ => None,
        }
    }
}

fn joined<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

pub use runj_translator::catalog::negated_name;

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, items: Vec<String>| {
            write!(f, "{}={}", self.name, items.join(","))
        };
        match &self.value {
            ParamValue::Bool(true) => f.write_str(&self.name),
            ParamValue::Bool(false) => f.write_str(&negated_name(&self.name)),
            ParamValue::Int(v) => write!(f, "{}={v}", self.name),
            ParamValue::UInt(v) => write!(f, "{}={v}", self.name),
            ParamValue::ULong(v) => write!(f, "{}={v}", self.name),
            ParamValue::Str { text, .. } | ParamValue::Unknown(text) => {
                write!(f, "{}={text:?}", self.name)
            }
            ParamValue::JailSys(mode) => write!(f, "{}={}", self.name, mode.name()),
            ParamValue::Ip4(a) => list(f, a.iter().map(ToString::to_string).collect()),
            ParamValue::Ip6(a) => list(f, a.iter().map(ToString::to_string).collect()),
        }
    }
}

/// The kernel parameters of a plan, in the order jail_set(2) gets them:
/// jail.conf's order when the plan keeps it (each shown as written), else
/// `jid` (numeric names), `name`, the plan's parameters, the addresses,
/// and the parameters runj does not know (each also reported as a
/// warning).
pub fn kernel_params(plan: &JailPlan) -> Result<(Vec<Param>, Vec<String>)> {
    let (params, warnings) = typed_params(plan)?;
    if plan.written.is_empty() {
        return Ok((params, warnings));
    }
    let mut unwritten = params;
    let mut ordered = Vec::with_capacity(unwritten.len());
    for w in &plan.written {
        let positive = runj_translator::catalog::positive_name(&w.name);
        let at = unwritten
            .iter()
            .position(|p| p.name == positive || p.name == w.name);
        let mut param = match (at, w.name.as_str()) {
            (Some(at), _) => unwritten.remove(at),
            // An empty address list: jail(8) passes it with no address.
            (None, "ip4.addr") => Param::new("ip4.addr", ParamValue::Ip4(Vec::new())),
            (None, "ip6.addr") => Param::new("ip6.addr", ParamValue::Ip6(Vec::new())),
            (None, _) => {
                return Err(Error::Plan(format!(
                    "{}: written in the plan's jail.conf form but not set",
                    w.name
                )));
            }
        };
        param.import = Import {
            name: w.name.clone(),
            text: w.text.clone(),
        };
        ordered.push(param);
    }
    ordered.extend(unwritten);
    Ok((ordered, warnings))
}

/// The plan's kernel parameters, typed, in the default order.
fn typed_params(plan: &JailPlan) -> Result<(Vec<Param>, Vec<String>)> {
    let mut params = Vec::new();
    let mut warnings = Vec::new();
    if let Some(jid) = plan.jid.filter(|j| *j != 0) {
        params.push(Param::new("jid", ParamValue::Int(jid)));
    }
    params.push(typed("name", &Value::Text(plan.name.clone()))?);
    for (name, value) in &plan.parameters {
        if matches!(name.as_str(), "name" | "jid") {
            continue;
        }
        match lookup(name) {
            Some(l) if l.spec.consumer == Consumer::Jail8 => {}
            Some(_) => params.push(typed(name, value)?),
            None => params.push(unknown(name, value.to_string(), &mut warnings)),
        }
    }
    let ip4: Vec<Ipv4Addr> = addresses(&plan.network.ip4, |a| match a {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => None,
    });
    if !ip4.is_empty() {
        params.push(Param::new("ip4.addr", ParamValue::Ip4(ip4)));
    }
    let ip6: Vec<Ipv6Addr> = addresses(&plan.network.ip6, |a| match a {
        IpAddr::V6(a) => Some(a),
        IpAddr::V4(_) => None,
    });
    if !ip6.is_empty() {
        params.push(Param::new("ip6.addr", ParamValue::Ip6(ip6)));
    }
    for (name, values) in &plan.extra {
        params.push(unknown(name, values.join(","), &mut warnings));
    }
    Ok((params, warnings))
}

/// A parameter outside the catalog, with its warning.
fn unknown(name: &str, text: String, warnings: &mut Vec<String>) -> Param {
    warnings.push(format!(
        "{name}: not in runj's parameter catalog; passed on for the kernel to type"
    ));
    Param::new(name, ParamValue::Unknown(text))
}

fn addresses<T>(
    list: &[runj_translator::plan::Address],
    pick: impl Fn(IpAddr) -> Option<T>,
) -> Vec<T> {
    list.iter().filter_map(|a| pick(a.addr)).collect()
}

/// Types one catalogued kernel parameter.
fn typed(name: &str, value: &Value) -> Result<Param> {
    let spec = lookup(name).map(|l| l.spec);
    let bad = |want: &str| Error::Plan(format!("{name}: {want} expected, got \"{value}\""));
    let int = || match value {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Text(t) => t.parse().map_err(|_| bad("an integer")),
        Value::Mode(m) => Ok(*m as i64),
    };
    let value = match spec.map(|s| s.ty) {
        Some(Type::Int) => ParamValue::Int(int()?.try_into().map_err(|_| bad("a 32-bit integer"))?),
        Some(Type::UInt) => ParamValue::UInt(
            int()?
                .try_into()
                .map_err(|_| bad("an unsigned 32-bit integer"))?,
        ),
        Some(Type::ULong) => {
            ParamValue::ULong(int()?.try_into().map_err(|_| bad("an unsigned integer"))?)
        }
        Some(Type::Bool) => ParamValue::Bool(match value {
            Value::Bool(b) => *b,
            _ => int()? != 0,
        }),
        Some(Type::JailSys) => match value {
            Value::Mode(mode) => ParamValue::JailSys(*mode),
            _ => return Err(bad("disable, new or inherit")),
        },
        Some(Type::Str(max)) => ParamValue::Str {
            text: value.to_string(),
            max,
        },
        _ => ParamValue::Str {
            text: value.to_string(),
            max: usize::MAX,
        },
    };
    Ok(Param::new(name, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use runj_translator::plan::Address;

    fn plan() -> JailPlan {
        let mut plan = JailPlan {
            name: "web".into(),
            ..JailPlan::default()
        };
        let p = &mut plan.parameters;
        p.insert("path".into(), Value::Text("/j/web".into()));
        p.insert("host.hostname".into(), Value::Text("web.example".into()));
        p.insert("vnet".into(), Value::Mode(JailSys::New));
        p.insert("allow.mount".into(), Value::Bool(false));
        p.insert("securelevel".into(), Value::Int(3));
        p.insert("exec.timeout".into(), Value::Int(5));
        plan.network.ip4 = vec!["em0|192.0.2.1/24".parse::<Address>().unwrap()];
        plan.extra.insert("newer.param".into(), vec!["x".into()]);
        plan
    }

    #[test]
    fn parameters_are_typed_and_ordered_for_the_kernel() {
        let (params, warnings) = kernel_params(&plan()).unwrap();
        let shown: Vec<String> = params.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "name=\"web\"",
                "path=\"/j/web\"",
                "host.hostname=\"web.example\"",
                "vnet=new",
                "allow.nomount",
                "securelevel=3",
                "ip4.addr=192.0.2.1",
                "newer.param=\"x\"",
            ]
        );
        assert_eq!(
            params[1].value,
            ParamValue::Str {
                text: "/j/web".into(),
                max: 1024
            }
        );
        assert_eq!(
            warnings,
            ["newer.param: not in runj's parameter catalog; passed on for the kernel to type"]
        );
    }

    #[test]
    fn numeric_names_carry_their_jid() {
        let plan = JailPlan {
            name: "7".into(),
            jid: Some(7),
            ..JailPlan::default()
        };
        let (params, _) = kernel_params(&plan).unwrap();
        assert_eq!(params[0], Param::new("jid", ParamValue::Int(7)));
    }

    #[test]
    fn values_outside_the_type_are_errors() {
        let mut plan = plan();
        plan.parameters
            .insert("securelevel".into(), Value::Int(1 << 40));
        let err = kernel_params(&plan).unwrap_err().to_string();
        assert_eq!(
            err,
            "securelevel: a 32-bit integer expected, got \"1099511627776\""
        );
    }
}
