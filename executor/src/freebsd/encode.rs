//! The argument lists of jail_set(2), jail_get(2) and nmount(2), built as
//! libjail and mount(8) build them: an array of iovecs in name/value
//! pairs, each name NUL-terminated, ending with `errmsg` and a buffer for
//! the kernel's message. Plain data, so that the exact bytes are tested on
//! every system; the FreeBSD backend turns them into calls.

use std::ffi::{c_int, c_long, c_uint, c_ulong};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use runj_translator::catalog::lookup;

use crate::error::{Error, Result};
use crate::host::Jid;
use crate::params::{JailSys, Param, ParamValue, negated_name};
use runj_translator::catalog::without_no;

/// `JAIL_ERRMSGLEN`, the size of libjail's errmsg buffer
/// (freebsd/freebsd-src lib/libjail/jail.h).
pub const JAIL_ERRMSGLEN: usize = 1024;
/// The size of the errmsg buffer of mount(8) and its helpers
/// (freebsd/freebsd-src sbin/mount/mount_fs.c, sbin/mount_nullfs/mount_nullfs.c).
pub const MOUNT_ERRMSGLEN: usize = 255;

/// jail_set(2)'s flags (freebsd/freebsd-src sys/sys/jail.h).
const JAIL_CREATE: c_int = 0x01;
const JAIL_UPDATE: c_int = 0x02;

/// Sysctl types (freebsd/freebsd-src sys/sys/sysctl.h).
const CTLTYPE: u32 = 0xf;
const CTLTYPE_INT: u32 = 2;
const CTLTYPE_STRING: u32 = 3;
const CTLTYPE_S64: u32 = 4;
const CTLTYPE_OPAQUE: u32 = 5;
const CTLTYPE_UINT: u32 = 6;
const CTLTYPE_LONG: u32 = 7;
const CTLTYPE_ULONG: u32 = 8;
const CTLTYPE_U64: u32 = 9;

/// What jail_set(2) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `JAIL_CREATE`: a new jail.
    Create,
    /// `JAIL_UPDATE` of the running jail with this id, given first as a
    /// `jid` pair (usr.sbin/jail/jail.c `clear_persist`).
    Update(Jid),
}

/// One call's iovec array as owned buffers, in order; `None` is a NULL
/// base with length 0. The last one is the errmsg buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    parts: Vec<Option<Vec<u8>>>,
    /// The call's `flags` argument.
    pub flags: c_int,
}

impl Request {
    fn new(flags: c_int) -> Self {
        Request {
            parts: Vec::new(),
            flags,
        }
    }

    fn pair(&mut self, name: &str, value: Option<Vec<u8>>) -> Result<()> {
        self.parts.push(Some(c_string(name, name.as_bytes())?));
        self.parts.push(value);
        Ok(())
    }

    /// Appends `errmsg` and its zeroed buffer of `len` bytes.
    fn with_errmsg(mut self, len: usize) -> Self {
        self.parts.push(Some(b"errmsg\0".to_vec()));
        self.parts.push(Some(vec![0; len]));
        self
    }

    /// The buffers, in iovec order.
    pub fn parts(&self) -> &[Option<Vec<u8>>] {
        &self.parts
    }

    /// The buffers, for the call to point at; the kernel writes into the
    /// last one.
    pub fn parts_mut(&mut self) -> &mut [Option<Vec<u8>>] {
        &mut self.parts
    }

    /// The message the kernel left in the errmsg buffer, if any.
    pub fn errmsg(&self) -> Option<String> {
        let buffer = self.parts.last()?.as_deref()?;
        let text: Vec<u8> = buffer.iter().copied().take_while(|b| *b != 0).collect();
        (!text.is_empty()).then(|| String::from_utf8_lossy(&text).into_owned())
    }
}

/// A jail parameter's type as the kernel describes it: the kind and
/// format of its `security.jail.param` sysctl (freebsd/freebsd-src
/// lib/libjail/jail.c `jailparam_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelType {
    /// `I`: an `int`.
    Int,
    /// `IU`: an `unsigned int`.
    UInt,
    /// `L`: a `long`.
    Long,
    /// `LU`: an `unsigned long`.
    ULong,
    /// `Q`: an `int64_t`.
    S64,
    /// `QU`: a `uint64_t`.
    U64,
    /// `B`: a boolean, sent by name; `negated` when the name given is its
    /// `no` form (libjail's `JP_NOBOOL`).
    Bool { negated: bool },
    /// `E,jailsys`: `disable`, `new` or `inherit`.
    JailSys,
    /// `A`: a string of at most `max` bytes with its NUL.
    Str { max: usize },
    /// `S,in_addr,a`: IPv4 addresses.
    Ip4,
    /// `S,in6_addr,a`: IPv6 addresses.
    Ip6,
}

impl KernelType {
    /// The type of parameter `name` from its sysctl's `kind` and `format`;
    /// a string's maximum length, which its sysctl holds, is read with
    /// `string_max` when needed.
    pub fn described(
        name: &str,
        kind: u32,
        format: &str,
        string_max: impl FnOnce() -> Result<usize>,
    ) -> Result<Self> {
        let unsupported = || {
            Error::Unsupported(format!(
                "{name}: the kernel's type for it (kind {kind:#x}, format \"{format}\") is not one runj can encode"
            ))
        };
        let array = format.ends_with(",a");
        Ok(match (kind & CTLTYPE, format) {
            (CTLTYPE_OPAQUE, "S,in_addr,a") => KernelType::Ip4,
            (CTLTYPE_OPAQUE, "S,in6_addr,a") => KernelType::Ip6,
            // No jail parameter is an array of anything else.
            _ if array => return Err(unsupported()),
            (CTLTYPE_INT, f) if f.starts_with('B') => KernelType::Bool { negated: false },
            (CTLTYPE_INT, "E,jailsys") => KernelType::JailSys,
            (CTLTYPE_INT, _) => KernelType::Int,
            (CTLTYPE_UINT, _) => KernelType::UInt,
            (CTLTYPE_LONG, _) => KernelType::Long,
            (CTLTYPE_ULONG, _) => KernelType::ULong,
            (CTLTYPE_S64, _) => KernelType::S64,
            (CTLTYPE_U64, _) => KernelType::U64,
            (CTLTYPE_STRING, _) => KernelType::Str { max: string_max()? },
            _ => return Err(unsupported()),
        })
    }
}

/// The request jail_set(2) gets for `params`, as libjail's
/// `jailparam_set` builds it (freebsd/freebsd-src lib/libjail/jail.c):
/// integers in the machine's byte order, strings NUL-terminated, booleans
/// by name with no value (`persist` / `nopersist`), jailsys modes as
/// `int`s, addresses as packed `struct in_addr` / `struct in6_addr`, then
/// `errmsg`. A parameter the catalog does not type is typed by `resolve`,
/// which asks the kernel as libjail does, and its text read as
/// `jailparam_import` reads it.
pub fn jail_set(
    op: Operation,
    params: &[Param],
    mut resolve: impl FnMut(&str) -> Result<KernelType>,
) -> Result<Request> {
    let mut request = Request::new(match op {
        Operation::Create => JAIL_CREATE,
        Operation::Update(_) => JAIL_UPDATE,
    });
    if let Operation::Update(jid) = op {
        request.pair("jid", Some(jid.to_ne_bytes().to_vec()))?;
    }
    for param in params {
        let (name, value) = encoded(param, &mut resolve)?;
        request.pair(&name, value)?;
    }
    Ok(request.with_errmsg(JAIL_ERRMSGLEN))
}

/// The request jail_get(2) gets to find a jail by name (flags 0, as
/// usr.sbin/jail/jail.c `running_jid`).
pub fn jail_get(name: &str) -> Result<Request> {
    let mut request = Request::new(0);
    request.pair("name", Some(c_string("name", name.as_bytes())?))?;
    Ok(request.with_errmsg(JAIL_ERRMSGLEN))
}

/// The request nmount(2) gets to mount `source` of type `fstype` on
/// `fspath`, as `mount -t FSTYPE -o OPTIONS SOURCE FSPATH` builds it
/// (freebsd/freebsd-src sbin/mount/mount.c `mangle`, sbin/mount/mount_fs.c,
/// sbin/mount_nullfs/mount_nullfs.c): each option in order, `name=value`
/// as a pair and a bare name with no value (nullfs: an empty string), then
/// `fstype`, `fspath`, the source (`target` for nullfs, `from` with
/// repeated and trailing slashes removed otherwise) and `errmsg`. The
/// flags are 0, as mount_nullfs passes them: the kernel reads `ro`,
/// `nosuid`, `noexec` and the other standard options by name
/// (sys/kern/vfs_mount.c `vfs_donmount`). The fstab(5) options mount(8)
/// drops are dropped; one it would hand to another program is an error.
pub fn nmount(fstype: &str, fspath: &Path, source: &Path, options: &[String]) -> Result<Request> {
    let nullfs = fstype == "nullfs";
    let mut request = Request::new(0);
    for option in options {
        if option.is_empty() || mount8_only(option) {
            continue;
        }
        if option.starts_with("mountprog") || option.starts_with('-') {
            return Err(Error::Unsupported(format!(
                "mount on {}: option \"{option}\" is for mount(8)'s helper programs; runj calls nmount(2)",
                fspath.display()
            )));
        }
        let (name, value) = option
            .split_once('=')
            .map_or((option.as_str(), None), |(n, v)| (n, Some(v)));
        let value = match value {
            Some(v) => Some(c_string(option, v.as_bytes())?),
            None if nullfs => Some(vec![0]),
            None => None,
        };
        request.pair(name, value)?;
    }
    request.pair("fstype", Some(c_string("fstype", fstype.as_bytes())?))?;
    let fspath_bytes = fspath.as_os_str().as_bytes();
    request.pair("fspath", Some(c_string("fspath", fspath_bytes)?))?;
    let source_bytes = source.as_os_str().as_bytes();
    if nullfs {
        request.pair("target", Some(c_string("target", source_bytes)?))?;
    } else {
        request.pair(
            "from",
            Some(c_string("from", &without_extra_slashes(source_bytes))?),
        )?;
    }
    Ok(request.with_errmsg(MOUNT_ERRMSGLEN))
}

/// An fstab(5) option mount(8) keeps to itself and does not pass on
/// (freebsd/freebsd-src sbin/mount/mount.c `mangle`).
fn mount8_only(option: &str) -> bool {
    matches!(
        option,
        "noauto" | "late" | "failok" | "userquota" | "groupquota"
    ) || option.starts_with("userquota=")
        || option.starts_with("groupquota=")
}

/// A parameter's name and value as sent; one the catalog did not type is
/// read for the type `resolve` gives.
fn encoded(
    param: &Param,
    resolve: &mut impl FnMut(&str) -> Result<KernelType>,
) -> Result<(String, Option<Vec<u8>>)> {
    let name = &param.name;
    let bytes = match &param.value {
        ParamValue::Int(v) => v.to_ne_bytes().to_vec(),
        ParamValue::UInt(v) => v.to_ne_bytes().to_vec(),
        ParamValue::ULong(v) => unsigned_long(name, *v)?,
        ParamValue::Str { text, max } => string(name, text, *max)?,
        ParamValue::Bool(on) => {
            let negated = lookup(name).is_some_and(|l| l.negated);
            return flag(name, *on, negated);
        }
        ParamValue::JailSys(mode) => (*mode as c_int).to_ne_bytes().to_vec(),
        ParamValue::Ip4(list) => list.iter().flat_map(Ipv4Addr::octets).collect(),
        ParamValue::Ip6(list) => list.iter().flat_map(Ipv6Addr::octets).collect(),
        ParamValue::Unknown(text) => return imported(name, text, resolve(name)?),
    };
    Ok((name.clone(), Some(bytes)))
}

/// A parameter's name and value from its text, read for the kernel's type
/// as libjail's `jailparam_import` reads it; values outside the type are
/// errors rather than truncated.
fn imported(name: &str, text: &str, ty: KernelType) -> Result<(String, Option<Vec<u8>>)> {
    let bad = |what: &str| Error::Plan(format!("{name}: {what} \"{text}\""));
    let integer = |what: &str| bad(&format!("{what} expected, got"));
    // The text as a C number type, in the machine's byte order.
    macro_rules! number {
        ($ty:ty, $what:literal) => {
            text.parse::<$ty>()
                .map_err(|_| integer($what))?
                .to_ne_bytes()
                .to_vec()
        };
    }
    let bytes = match ty {
        KernelType::Int => number!(c_int, "an int"),
        KernelType::UInt => number!(c_uint, "an unsigned int"),
        KernelType::Long => number!(c_long, "a long"),
        KernelType::ULong => number!(c_ulong, "an unsigned long"),
        KernelType::S64 => number!(i64, "a 64-bit integer"),
        KernelType::U64 => number!(u64, "an unsigned 64-bit integer"),
        KernelType::Bool { negated } => {
            let on = match text.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => int(text).ok_or_else(|| bad("unknown boolean value"))? != 0,
            };
            return flag(name, on, negated);
        }
        KernelType::JailSys => {
            let mode = match text.to_ascii_lowercase().as_str() {
                "" | "new" => JailSys::New as c_int,
                "disable" => JailSys::Disable as c_int,
                "inherit" => JailSys::Inherit as c_int,
                _ => int(text).ok_or_else(|| bad("unknown jailsys value"))?,
            };
            mode.to_ne_bytes().to_vec()
        }
        KernelType::Str { max } => string(name, text, max)?,
        KernelType::Ip4 => addresses(text, |a: Ipv4Addr| a.octets().to_vec())
            .map_err(|a| bad(&format!("not an IPv4 address: {a} in")))?,
        KernelType::Ip6 => addresses(text, |a: Ipv6Addr| a.octets().to_vec())
            .map_err(|a| bad(&format!("not an IPv6 address: {a} in")))?,
    };
    Ok((name.to_string(), Some(bytes)))
}

/// A C `int` from decimal text.
fn int(text: &str) -> Option<c_int> {
    text.parse().ok()
}

/// A comma-separated address list packed, `""` and `-` being empty
/// (libjail); the first address that does not parse is the error.
fn addresses<A: std::str::FromStr>(
    text: &str,
    pack: impl Fn(A) -> Vec<u8>,
) -> Result<Vec<u8>, String> {
    if text.is_empty() || text == "-" {
        return Ok(Vec::new());
    }
    let mut bytes = Vec::new();
    for item in text.split(',') {
        bytes.extend(pack(item.parse().map_err(|_| item.to_string())?));
    }
    Ok(bytes)
}

/// A boolean sent by name with no value: true as named, false under the
/// other spelling — `noNAME` for a `NAME` (libjail `noname`), `NAME` for a
/// `noNAME` (libjail `nononame`).
fn flag(name: &str, on: bool, negated: bool) -> Result<(String, Option<Vec<u8>>)> {
    let sent = match (on, negated) {
        (true, _) => name.to_string(),
        (false, false) => negated_name(name),
        (false, true) => {
            without_no(name).ok_or_else(|| Error::Plan(format!("mismatched boolean: {name}")))?
        }
    };
    Ok((sent, None))
}

/// An `unsigned long` of this machine.
fn unsigned_long(name: &str, value: u64) -> Result<Vec<u8>> {
    let too_big = || Error::Plan(format!("{name}: {value} does not fit in an unsigned long"));
    Ok(match size_of::<c_ulong>() {
        8 => value.to_ne_bytes().to_vec(),
        _ => u32::try_from(value)
            .map_err(|_| too_big())?
            .to_ne_bytes()
            .to_vec(),
    })
}

/// A string parameter's value: the text and its NUL, within `max` bytes
/// (the kernel's limit, which it would enforce with `ENAMETOOLONG`).
fn string(name: &str, text: &str, max: usize) -> Result<Vec<u8>> {
    let bytes = c_string(name, text.as_bytes())?;
    if bytes.len() > max {
        return Err(Error::Plan(format!(
            "{name}: \"{text}\" is {} bytes long; the kernel takes at most {}",
            text.len(),
            max.saturating_sub(1)
        )));
    }
    Ok(bytes)
}

/// `bytes` and a NUL; an interior NUL, which the kernel would read as the
/// end, is an error naming `what`.
fn c_string(what: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    if bytes.contains(&0) {
        return Err(Error::Plan(format!(
            "{}: contains a NUL byte",
            what.escape_debug()
        )));
    }
    let mut out = bytes.to_vec();
    out.push(0);
    Ok(out)
}

/// The path with repeated slashes collapsed and a trailing one removed
/// (freebsd/freebsd-src sbin/mount/getmntopts.c `rmslashes`).
fn without_extra_slashes(path: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(path.len());
    for &b in path {
        if !(b == b'/' && out.last() == Some(&b'/')) {
            out.push(b);
        }
    }
    if out.len() > 1 && out.last() == Some(&b'/') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(bytes: &[u8]) -> Option<Vec<u8>> {
        Some(bytes.to_vec())
    }

    fn param(name: &str, value: ParamValue) -> Param {
        Param::new(name, value)
    }

    fn str_param(name: &str, text: &str, max: usize) -> Param {
        param(
            name,
            ParamValue::Str {
                text: text.into(),
                max,
            },
        )
    }

    fn no_lookup(name: &str) -> Result<KernelType> {
        panic!("{name} looked up")
    }

    fn errmsg(len: usize) -> [Option<Vec<u8>>; 2] {
        [some(b"errmsg\0"), Some(vec![0; len])]
    }

    #[test]
    fn creation_encodes_each_type_as_libjail_does() {
        let params = [
            str_param("name", "web", 256),
            str_param("path", "/j/web", 1024),
            param("securelevel", ParamValue::Int(-1)),
            param("children.max", ParamValue::UInt(3)),
            param("host.hostid", ParamValue::ULong(0x1234_5678)),
            param("vnet", ParamValue::JailSys(JailSys::New)),
            param("ip4", ParamValue::JailSys(JailSys::Inherit)),
            Param::flag("persist", true),
            Param::flag("allow.mount", false),
            param(
                "ip4.addr",
                ParamValue::Ip4(vec![
                    "192.0.2.1".parse().unwrap(),
                    "192.0.2.10".parse().unwrap(),
                ]),
            ),
            param(
                "ip6.addr",
                ParamValue::Ip6(vec!["2001:db8::1".parse().unwrap()]),
            ),
        ];
        let request = jail_set(Operation::Create, &params, no_lookup).unwrap();
        assert_eq!(request.flags, 0x01);
        let mut hostid = 0x1234_5678u64.to_ne_bytes().to_vec();
        hostid.truncate(size_of::<c_ulong>());
        let mut expected = vec![
            some(b"name\0"),
            some(b"web\0"),
            some(b"path\0"),
            some(b"/j/web\0"),
            some(b"securelevel\0"),
            some(&(-1i32).to_ne_bytes()),
            some(b"children.max\0"),
            some(&3u32.to_ne_bytes()),
            some(b"host.hostid\0"),
            Some(hostid),
            some(b"vnet\0"),
            some(&1i32.to_ne_bytes()),
            some(b"ip4\0"),
            some(&2i32.to_ne_bytes()),
            some(b"persist\0"),
            None,
            some(b"allow.nomount\0"),
            None,
            some(b"ip4.addr\0"),
            some(&[192, 0, 2, 1, 192, 0, 2, 10]),
            some(b"ip6.addr\0"),
            some(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        ];
        expected.extend(errmsg(1024));
        assert_eq!(request.parts(), expected.as_slice());
    }

    #[test]
    fn native_byte_order_is_the_machines() {
        let request = jail_set(
            Operation::Create,
            &[param("securelevel", ParamValue::Int(3))],
            no_lookup,
        )
        .unwrap();
        let value = request.parts()[1].as_deref().unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(value, [3, 0, 0, 0]);
        } else {
            assert_eq!(value, [0, 0, 0, 3]);
        }
    }

    #[test]
    fn clearing_persist_is_jail8s_update() {
        let request = jail_set(
            Operation::Update(7),
            &[Param::flag("persist", false)],
            no_lookup,
        )
        .unwrap();
        assert_eq!(request.flags, 0x02);
        let mut expected = vec![
            some(b"jid\0"),
            some(&7i32.to_ne_bytes()),
            some(b"nopersist\0"),
            None,
        ];
        expected.extend(errmsg(1024));
        assert_eq!(request.parts(), expected.as_slice());
    }

    #[test]
    fn a_false_no_form_is_sent_under_the_positive_name() {
        let request = jail_set(
            Operation::Create,
            &[
                Param::flag("nopersist", false),
                Param::flag("allow.nomount", true),
            ],
            no_lookup,
        )
        .unwrap();
        assert_eq!(request.parts()[0], some(b"persist\0"));
        assert_eq!(request.parts()[2], some(b"allow.nomount\0"));
    }

    #[test]
    fn strings_are_checked_against_the_kernels_limit() {
        let fits = jail_set(
            Operation::Create,
            &[str_param("host.hostname", "abc", 4)],
            no_lookup,
        );
        assert_eq!(fits.unwrap().parts()[1], some(b"abc\0"));
        let err = jail_set(
            Operation::Create,
            &[str_param("host.hostname", "abcd", 4)],
            no_lookup,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "host.hostname: \"abcd\" is 4 bytes long; the kernel takes at most 3"
        );
        let err = jail_set(
            Operation::Create,
            &[str_param("path", "/a\0b", 1024)],
            no_lookup,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "path: contains a NUL byte");
    }

    #[test]
    fn unknown_parameters_are_read_for_the_kernels_type() {
        let cases: &[(KernelType, &str, &[u8])] = &[
            (KernelType::Int, "-5", &(-5i32).to_ne_bytes()),
            (KernelType::UInt, "5", &5u32.to_ne_bytes()),
            (KernelType::Long, "-5", &(-5 as c_long).to_ne_bytes()),
            (KernelType::ULong, "5", &(5 as c_ulong).to_ne_bytes()),
            (KernelType::S64, "-5", &(-5i64).to_ne_bytes()),
            (KernelType::U64, "5", &5u64.to_ne_bytes()),
            (KernelType::JailSys, "Inherit", &2i32.to_ne_bytes()),
            (KernelType::JailSys, "", &1i32.to_ne_bytes()),
            (KernelType::Str { max: 8 }, "x", b"x\0"),
            (
                KernelType::Ip4,
                "192.0.2.1,192.0.2.2",
                &[192, 0, 2, 1, 192, 0, 2, 2],
            ),
            (KernelType::Ip4, "-", &[]),
        ];
        for (ty, text, bytes) in cases {
            let request = jail_set(
                Operation::Create,
                &[param("new.param", ParamValue::Unknown(text.to_string()))],
                |name| {
                    assert_eq!(name, "new.param");
                    Ok(*ty)
                },
            )
            .unwrap();
            assert_eq!(
                request.parts()[..2],
                [some(b"new.param\0"), some(bytes)],
                "{ty:?} {text}"
            );
        }
    }

    #[test]
    fn unknown_booleans_are_sent_by_name() {
        let encode = |name: &str, text: &str, negated| {
            let request = jail_set(
                Operation::Create,
                &[param(name, ParamValue::Unknown(text.into()))],
                |_| Ok(KernelType::Bool { negated }),
            )
            .unwrap();
            assert_eq!(request.parts()[1], None);
            String::from_utf8(request.parts()[0].clone().unwrap()).unwrap()
        };
        assert_eq!(encode("allow.new", "TRUE", false), "allow.new\0");
        assert_eq!(encode("allow.new", "0", false), "allow.nonew\0");
        assert_eq!(encode("allow.nonew", "false", true), "allow.new\0");
        assert_eq!(encode("allow.nonew", "1", true), "allow.nonew\0");
    }

    #[test]
    fn unknown_values_outside_the_type_are_errors() {
        let err = |ty: KernelType, text: &str| {
            jail_set(
                Operation::Create,
                &[param("p", ParamValue::Unknown(text.into()))],
                |_| Ok(ty),
            )
            .unwrap_err()
            .to_string()
        };
        assert_eq!(
            err(KernelType::Int, "4294967296"),
            "p: an int expected, got \"4294967296\""
        );
        assert_eq!(
            err(KernelType::Bool { negated: false }, "yes"),
            "p: unknown boolean value \"yes\""
        );
        assert_eq!(
            err(KernelType::JailSys, "old"),
            "p: unknown jailsys value \"old\""
        );
        assert_eq!(
            err(KernelType::Ip4, "192.0.2.1,::1"),
            "p: not an IPv4 address: ::1 in \"192.0.2.1,::1\""
        );
    }

    #[test]
    fn a_type_that_cannot_be_known_refuses_the_parameter() {
        let err = jail_set(
            Operation::Create,
            &[param("newer.param", ParamValue::Unknown("x".into()))],
            |name| Err(Error::Unsupported(format!("{name}: unknown parameter"))),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
        assert_eq!(err.to_string(), "newer.param: unknown parameter");
    }

    #[test]
    fn kernel_descriptions_map_to_types() {
        let ty = |kind, format: &str| {
            KernelType::described("p", kind, format, || panic!("{format}: not a string"))
        };
        // CTLFLAG bits above the type are ignored.
        assert_eq!(ty(0x8000_0002, "I").unwrap(), KernelType::Int);
        assert_eq!(ty(2, "B").unwrap(), KernelType::Bool { negated: false });
        assert_eq!(ty(2, "E,jailsys").unwrap(), KernelType::JailSys);
        assert_eq!(ty(6, "IU").unwrap(), KernelType::UInt);
        assert_eq!(ty(7, "L").unwrap(), KernelType::Long);
        assert_eq!(ty(8, "LU").unwrap(), KernelType::ULong);
        assert_eq!(ty(4, "Q").unwrap(), KernelType::S64);
        assert_eq!(ty(9, "QU").unwrap(), KernelType::U64);
        assert_eq!(ty(5, "S,in_addr,a").unwrap(), KernelType::Ip4);
        assert_eq!(ty(5, "S,in6_addr,a").unwrap(), KernelType::Ip6);
        let string = KernelType::described("p", 3, "A", || Ok(256));
        assert_eq!(string.unwrap(), KernelType::Str { max: 256 });
        for (kind, format) in [(5, "S,mac"), (2, "I,a"), (1, "N")] {
            let err = ty(kind, format).unwrap_err();
            assert!(matches!(err, Error::Unsupported(_)), "{format}: {err:?}");
        }
    }

    #[test]
    fn finding_a_jail_asks_by_name() {
        let request = jail_get("web").unwrap();
        assert_eq!(request.flags, 0);
        let mut expected = vec![some(b"name\0"), some(b"web\0")];
        expected.extend(errmsg(1024));
        assert_eq!(request.parts(), expected.as_slice());
    }

    #[test]
    fn the_kernels_message_is_read_up_to_its_nul() {
        let mut request = jail_get("web").unwrap();
        assert_eq!(request.errmsg(), None);
        let buffer = request.parts_mut().last_mut().unwrap().as_mut().unwrap();
        buffer[..12].copy_from_slice(b"no such jail");
        assert_eq!(request.errmsg().as_deref(), Some("no such jail"));
    }

    fn options(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn mounts_are_encoded_as_mount8_does() {
        let request = nmount(
            "devfs",
            Path::new("/j/web/dev"),
            Path::new("devfs"),
            &options(&["ruleset=4", "noexec"]),
        )
        .unwrap();
        assert_eq!(request.flags, 0);
        let mut expected = vec![
            some(b"ruleset\0"),
            some(b"4\0"),
            some(b"noexec\0"),
            None,
            some(b"fstype\0"),
            some(b"devfs\0"),
            some(b"fspath\0"),
            some(b"/j/web/dev\0"),
            some(b"from\0"),
            some(b"devfs\0"),
        ];
        expected.extend(errmsg(255));
        assert_eq!(request.parts(), expected.as_slice());
    }

    #[test]
    fn nullfs_is_encoded_as_mount_nullfs_does() {
        let request = nmount(
            "nullfs",
            Path::new("/j/web/src"),
            Path::new("/src"),
            &options(&["ro"]),
        )
        .unwrap();
        let mut expected = vec![
            some(b"ro\0"),
            some(b"\0"),
            some(b"fstype\0"),
            some(b"nullfs\0"),
            some(b"fspath\0"),
            some(b"/j/web/src\0"),
            some(b"target\0"),
            some(b"/src\0"),
        ];
        expected.extend(errmsg(255));
        assert_eq!(request.parts(), expected.as_slice());
    }

    #[test]
    fn mount8s_own_options_are_not_passed_on() {
        let request = nmount(
            "tmpfs",
            Path::new("/j/web/tmp"),
            Path::new("//tmp//x/"),
            &options(&["late", "noauto", "failok", "userquota=/q", "", "size=10m"]),
        )
        .unwrap();
        assert_eq!(request.parts()[..2], [some(b"size\0"), some(b"10m\0")]);
        assert_eq!(request.parts()[6..8], [some(b"from\0"), some(b"/tmp/x\0")]);
        for option in ["mountprog=/sbin/mount_x", "-x"] {
            let err = nmount(
                "tmpfs",
                Path::new("/j/t"),
                Path::new("tmpfs"),
                &options(&[option]),
            )
            .unwrap_err();
            assert!(matches!(err, Error::Unsupported(_)), "{option}: {err:?}");
        }
    }

    #[test]
    fn extra_slashes_are_removed_from_the_source() {
        for (given, kept) in [
            ("/", "/"),
            ("//", "/"),
            ("a//b/", "a/b"),
            ("devfs", "devfs"),
        ] {
            assert_eq!(
                without_extra_slashes(given.as_bytes()),
                kept.as_bytes(),
                "{given}"
            );
        }
    }

    #[test]
    fn positive_names_drop_the_last_components_no() {
        assert_eq!(without_no("nopersist").as_deref(), Some("persist"));
        assert_eq!(without_no("allow.nomount").as_deref(), Some("allow.mount"));
        assert_eq!(without_no("allow.mount"), None);
    }
}
