//! Typing jail.conf's string values through the catalog, with jail(8)'s and
//! libjail's rules (freebsd/freebsd-src usr.sbin/jail/config.c `bool_param`,
//! `check_intparams`; lib/libjail/jail.c `jailparam_import`).

use crate::catalog::{Spec, Type};
use crate::plan::{Mode, Value};

/// A scalar takes the last of several values, as jail(8) and libjail do.
fn last(values: &[String]) -> Option<&str> {
    values.last().map(String::as_str)
}

/// `true`/`false` (any case) or an integer; no values means true. The `no`
/// form inverts the result (`exec.noclean = false` is true).
pub fn bool_value(values: &[String], negated: bool) -> Result<bool, String> {
    let value = match last(values) {
        None => true,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => v
            .parse::<i64>()
            .map(|i| i != 0)
            .map_err(|_| format!("unknown boolean value \"{v}\""))?,
    };
    Ok(value != negated)
}

/// An integer within `min..=max`.
pub fn int_value(values: &[String], min: i64, max: i64) -> Result<i64, String> {
    let v = last(values).ok_or("no value")?;
    let i: i64 = v
        .parse()
        .map_err(|_| format!("non-integer value \"{v}\""))?;
    if i < min || i > max {
        return Err(format!("value {i} is out of range {min}..{max}"));
    }
    Ok(i)
}

/// The ranges the kernel enforces for integer parameters (kern_jail.c).
fn int_range(name: &str, ty: Type) -> (i64, i64) {
    match (name, ty) {
        ("enforce_statfs", _) => (0, 2),
        ("devfs_ruleset", _) => (0, 65535),
        ("children.max" | "exec.timeout" | "stop.timeout" | "exec.fib", _) => {
            (0, i64::from(i32::MAX))
        }
        (_, Type::UInt) => (0, i64::from(u32::MAX)),
        (_, Type::ULong) => (0, i64::MAX),
        _ => (i64::from(i32::MIN), i64::from(i32::MAX)),
    }
}

/// `disable`, `new` or `inherit`, or the integer 0, 1 or 2; no value (or
/// an empty one) means `new` (libjail: "an empty value means new").
pub fn jailsys_value(values: &[String]) -> Result<Mode, String> {
    let v = last(values).unwrap_or("");
    Mode::parse(v).ok_or_else(|| format!("invalid value \"{v}\": expected disable, new or inherit"))
}

/// Types a kernel scalar parameter (not an address list).
pub fn kernel_value(
    spec: &Spec,
    name: &str,
    negated: bool,
    values: &[String],
) -> Result<Value, String> {
    match spec.ty {
        Type::Bool => bool_value(values, negated).map(Value::Bool),
        Type::Int | Type::UInt | Type::ULong => {
            let (min, max) = int_range(name, spec.ty);
            int_value(values, min, max).map(Value::Int)
        }
        Type::JailSys => jailsys_value(values).map(Value::Mode),
        Type::Str(max) => {
            let v = last(values).unwrap_or("");
            if v.len() >= max {
                return Err(format!(
                    "value is {} bytes long; at most {} allowed",
                    v.len(),
                    max - 1
                ));
            }
            Ok(Value::Text(v.to_string()))
        }
        Type::MacLabel | Type::KeyValue => Ok(Value::Text(last(values).unwrap_or("").to_string())),
        Type::Ip4List | Type::Ip6List | Type::Commands | Type::Strings | Type::FstabLines => {
            Err("not a scalar parameter".to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn booleans_follow_bool_param() {
        assert_eq!(bool_value(&[], false), Ok(true));
        assert_eq!(bool_value(&[], true), Ok(false));
        assert_eq!(bool_value(&v(&["0"]), false), Ok(false));
        assert_eq!(bool_value(&v(&["TRUE"]), false), Ok(true));
        assert_eq!(bool_value(&v(&["false"]), true), Ok(true));
        assert_eq!(
            bool_value(&v(&["1", "0"]), false),
            Ok(false),
            "last value wins"
        );
        assert!(
            bool_value(&v(&["yes"]), false)
                .unwrap_err()
                .contains("unknown boolean value \"yes\"")
        );
    }

    #[test]
    fn integers_and_ranges() {
        assert_eq!(int_value(&v(&["2"]), 0, 2), Ok(2));
        assert!(int_value(&v(&["3"]), 0, 2).is_err());
        assert!(
            int_value(&v(&["x"]), 0, 2)
                .unwrap_err()
                .contains("non-integer")
        );
    }

    #[test]
    fn jailsys_modes() {
        assert_eq!(jailsys_value(&[]), Ok(Mode::New));
        assert_eq!(jailsys_value(&v(&["2"])), Ok(Mode::Inherit));
        assert_eq!(jailsys_value(&v(&["disable"])), Ok(Mode::Disable));
        assert!(jailsys_value(&v(&["shared"])).is_err());
    }
}
