//! Merging statements into one jail's parameters, as jail(8)'s
//! `add_param()` does (freebsd/freebsd-src usr.sbin/jail/config.c): a
//! parameter set again replaces its values (`+=` appends), `no` spellings
//! denote the same parameter, `name` and `jid` are immutable, and a
//! variable may not share a name with a parameter.

use std::borrow::Cow;

use runj_grammar::{Op, escaped};
use smallvec::{SmallVec, smallvec};

use super::gather::{Gathered, Statement};
use super::names::{equalopts, opt_key};
use super::resolve::{Origin, ResolveError};
use super::string::CfString;

/// A jail's parameters as merged so far, and its errors.
#[derive(Clone)]
pub(super) struct Merge<'a> {
    pub(super) params: Vec<CfParam<'a>>,
    pub(super) errors: Vec<ResolveError>,
    /// jail(8)'s `intparams[KP_NAME]` is set.
    pub(super) has_name: bool,
}

/// A parameter of the jail being resolved.
#[derive(Debug, Clone)]
pub(super) struct CfParam<'a> {
    pub(super) name: &'a [u8],
    /// The name's [`opt_key`].
    pub(super) key: u32,
    pub(super) values: Values<'a>,
    pub(super) flags: Flags,
    /// The substitution pass that last visited it (loop detection).
    pub(super) generation: u32,
    pub(super) origin: Option<Origin>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Flags {
    pub(super) var: bool,
    pub(super) append: bool,
    pub(super) immutable: bool,
    pub(super) bad: bool,
}

/// A parameter's values: a jail's own statements are converted for it (and
/// mostly hold one value, kept in place); a wildcard's, converted once, are
/// shared by every jail it applies to until one changes them.
#[derive(Debug, Clone)]
pub(super) enum Values<'a> {
    Shared(&'a [CfString<'a>]),
    Own(SmallVec<[CfString<'a>; 1]>),
}

impl<'a> Values<'a> {
    pub(super) fn to_mut(&mut self) -> &mut SmallVec<[CfString<'a>; 1]> {
        if let Values::Shared(values) = *self {
            *self = Values::Own(values.iter().cloned().collect());
        }
        match self {
            Values::Own(values) => values,
            Values::Shared(_) => unreachable!("just made its own"),
        }
    }
}

impl<'a> std::ops::Deref for Values<'a> {
    type Target = [CfString<'a>];

    fn deref(&self) -> &Self::Target {
        match self {
            Values::Shared(values) => values,
            Values::Own(values) => values,
        }
    }
}

/// A statement's flags as written.
fn flags(p: &Statement<'_>) -> Flags {
    Flags {
        var: p.param.is_variable,
        append: p.param.op == Op::Append,
        ..Flags::default()
    }
}

fn same_name_as_parameter(name: &[u8]) -> String {
    format!(
        "variable \"${}\" cannot have the same name as a parameter.",
        escaped(name)
    )
}

impl<'a> Merge<'a> {
    /// The merge a jail starts from: its implicit `jid` (or `name`, its
    /// value to be set), then the `wildcards` declared before it that match
    /// it.
    pub(super) fn start(gathered: &'a Gathered<'a>, jid: bool, wildcards: &[usize]) -> Self {
        let mut m = Merge {
            params: Vec::new(),
            errors: Vec::new(),
            has_name: false,
        };
        m.add_implicit(if jid { b"jid" } else { b"name" }, b"");
        for &w in wildcards {
            m.add_wildcard(gathered, w);
        }
        m
    }

    /// A copy, with room for `room` more parameters.
    pub(super) fn with_room(&self, room: usize) -> Merge<'a> {
        let mut params = Vec::with_capacity(self.params.len() + room);
        params.extend_from_slice(&self.params);
        Merge {
            params,
            errors: self.errors.clone(),
            has_name: self.has_name,
        }
    }

    fn fail(&mut self, message: String, origin: Option<Origin>) {
        self.errors.push(ResolveError { message, origin });
    }

    /// The implicit `name` or `jid` parameter (`add_param(j, NULL, KP_…)`).
    pub(super) fn add_implicit(&mut self, param: &'static [u8], name: &'a [u8]) {
        self.params.push(CfParam {
            name: param,
            key: opt_key(param),
            values: Values::Own(smallvec![CfString::literal(Cow::Borrowed(name))]),
            flags: Flags {
                append: true,
                immutable: true,
                ..Flags::default()
            },
            generation: 0,
            origin: None,
        });
        self.has_name |= param == b"name";
    }

    /// Merges the statements of wildcard jail `w`, with their values
    /// converted once.
    pub(super) fn add_wildcard(&mut self, gathered: &'a Gathered<'a>, w: usize) {
        let wild = &gathered.jails[w];
        let shared = wild.shared.iter().map(|values| &values[..]);
        for (p, values) in wild.statements.iter().zip(shared) {
            self.add(p, Some(values));
        }
    }

    /// Adds statement `p`, with its values converted once (`shared`) when
    /// it is a wildcard's.
    pub(super) fn add(&mut self, p: &'a Statement<'a>, shared: Option<&'a [CfString<'a>]>) {
        let (name, flags) = (p.name(), flags(p));
        let origin = Some(p.origin);
        let key = p.key;
        let same = |d: &&mut CfParam<'_>| d.key == key && equalopts(d.name, name);
        if let Some(d) = self.params.iter_mut().find(same) {
            if d.flags.var != flags.var {
                return self.fail(same_name_as_parameter(name), origin);
            }
            if d.flags.immutable {
                let message = format!("cannot redefine parameter \"{}\".", escaped(d.name));
                return self.fail(message, origin);
            }
            d.name = name;
            if !flags.append || p.param.values.is_empty() {
                d.values = Values::Shared(&[]);
            }
            match shared {
                Some(values) if d.values.is_empty() => d.values = Values::Shared(values),
                Some(values) => d.values.to_mut().extend(values.iter().cloned()),
                None => d.values.to_mut().extend(p.values()),
            }
            d.flags.var |= flags.var;
            d.flags.append |= flags.append;
            d.origin = origin;
            return;
        }
        let mut flags = flags;
        let mut error = None;
        if let Some(known) = p.known {
            if flags.var {
                error = Some(same_name_as_parameter(name));
            } else {
                flags.immutable |= known.immutable;
                self.has_name |= known.name == "name";
            }
        }
        self.params.push(CfParam {
            name,
            key,
            values: match shared {
                Some(values) => Values::Shared(values),
                None => Values::Own(p.values().collect()),
            },
            flags,
            generation: 0,
            origin,
        });
        if let Some(message) = error {
            self.fail(message, origin);
        }
    }
}

/// `strtol(name, &ep, 10) && !*ep`: the name is a whole non-zero integer.
pub(super) fn is_jid(name: &[u8]) -> bool {
    // isspace(3): blanks and \t \n \v \f \r.
    let blanks = name.iter().take_while(|b| b" \t\n\x0b\x0c\r".contains(b));
    let t = &name[blanks.count()..];
    let digits = t.strip_prefix(b"+").or(t.strip_prefix(b"-")).unwrap_or(t);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) && digits.iter().any(|&b| b != b'0')
}
