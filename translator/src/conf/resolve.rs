//! jail.conf semantics: from the loaded syntax tree to each jail's final,
//! ordered parameter list — what `jail -e` prints.
//!
//! This follows `load_config()` and `add_param()` of
//! freebsd/freebsd-src usr.sbin/jail/config.c step by step:
//! 1. the statements are gathered into jails in the order of their `{`, and
//!    all top-level parameters into one global `*` jail placed at the first;
//! 2. wildcard jails (a `*` component) are set aside;
//! 3. for each jail: the implicit immutable `name` (or `jid` when the name is
//!    a non-zero number), then matching wildcards declared before it, its own
//!    statements, matching wildcards declared after it;
//! 4. `name` is back-filled for numeric jails;
//! 5. variables are substituted (first value; a whole-string reference to a
//!    list expands to the list), and variables are deleted.
//!
//! Errors fail one jail, which is still reported with what it resolved to.
//! One deliberate difference: expanding a list reference (`x = ${ip4.addr}`
//! with several addresses) crashes jail(8) (a NULL dereference after the
//! `free_var:` label); here it expands to the list.

use std::borrow::Cow;

use runj_grammar::{Item, ItemKind, Loaded, Op, Param, Piece, Span, Value};
use smallvec::{SmallVec, smallvec};

use super::names::{Known, equalopts, is_wildcard, known_param, wildcard_matches};

/// Where a statement or reference was written: a source index of
/// [`Loaded::sources`] and a byte span in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub source: usize,
    pub span: Span,
}

/// A parameter of a resolved jail, values fully substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedParam {
    /// The spelling last applied (`nopersist` if that came last).
    pub name: String,
    pub values: Vec<String>,
    /// The statement that last set it (none for the implicit `name`/`jid`).
    pub origin: Option<Origin>,
}

/// A resolution error; the jail it names is marked failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveError {
    /// jail(8)'s message, without the `jail: NAME: ` prefix.
    pub message: String,
    pub origin: Option<Origin>,
}

impl ResolveError {
    /// The line jail(8) prints on standard error for this error of jail
    /// `jail` (without the line break).
    pub fn jail_line(&self, jail: &str) -> String {
        format!("jail: {jail}: {}", self.message)
    }
}

/// One non-wildcard jail after resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedJail {
    pub name: String,
    pub params: Vec<ResolvedParam>,
    pub errors: Vec<ResolveError>,
}

impl ResolvedJail {
    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The first parameter of that exact name.
    pub fn param(&self, name: &str) -> Option<&ResolvedParam> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// One jail as resolved, borrowing its names and values from the
/// configuration ([`Resolver::resolve`]): what printing it needs, without a copy
/// of every name and value.
pub struct Resolution<'a> {
    name: &'a str,
    params: Vec<CfParam<'a>>,
    errors: Vec<ResolveError>,
}

impl<'a> Resolution<'a> {
    pub fn name(&self) -> &'a str {
        self.name
    }

    pub fn errors(&self) -> &[ResolveError] {
        &self.errors
    }

    /// Each parameter's name and values, in order.
    pub(super) fn params(&self) -> impl Iterator<Item = (&str, impl Iterator<Item = &str>)> {
        self.params
            .iter()
            .map(|p| (p.name, p.values.iter().map(|s| &*s.text)))
    }

    pub fn into_resolved(self) -> ResolvedJail {
        let mut params = Vec::with_capacity(self.params.len());
        params.extend(self.params.into_iter().map(|p| ResolvedParam {
            name: p.name.to_string(),
            values: p.values.iter().map(|s| s.text.to_string()).collect(),
            origin: p.origin,
        }));
        ResolvedJail {
            name: self.name.to_string(),
            params,
            errors: self.errors,
        }
    }
}

/// Resolves every jail of a loaded configuration, in configuration order.
pub fn resolve(loaded: &Loaded) -> Vec<ResolvedJail> {
    let gathered = gather(loaded);
    let mut resolver = gathered.resolver();
    (0..gathered.len())
        .map(|i| resolver.resolve(i).into_resolved())
        .collect()
}

/// A loaded configuration's statements gathered into jails, each ready to be
/// resolved on its own: in any order, or on several threads at once.
pub struct Gathered<'a> {
    jails: Vec<CfJail<'a>>,
    /// The length of the configuration's text, every file included.
    text_len: usize,
    /// The wildcard jails, and the others in configuration order.
    wild: Vec<usize>,
    real: Vec<usize>,
}

/// Gathers the statements of a loaded configuration into jails.
///
/// A long configuration is gathered in two halves at once, on two threads
/// when the machine has them: each top-level item goes to the jails of its
/// own half, and the global jail's statements of the second half join those
/// of the first.
pub fn gather(loaded: &Loaded) -> Gathered<'_> {
    let items = loaded
        .sources
        .first()
        .map_or(0, |main| main.config.items.len());
    let halves = items >= PARALLEL_MIN_ITEMS
        && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    gather_in(loaded, halves)
}

/// Configurations of this many top-level items and more are gathered in
/// two halves.
const PARALLEL_MIN_ITEMS: usize = 4096;

/// Gathers in one go, or in two halves at once.
fn gather_in(loaded: &Loaded, halves: bool) -> Gathered<'_> {
    let items = loaded
        .sources
        .first()
        .map_or(&[][..], |main| &main.config.items[..]);
    let run = |items| {
        let mut gather = Gather {
            loaded,
            jails: Vec::new(),
            global: None,
        };
        gather.items(items, 0, None);
        gather
    };
    let gather = if halves {
        let (first, second) = items.split_at(items.len() / 2);
        let (first, second) = std::thread::scope(|scope| {
            let second = scope.spawn(|| run(second));
            (run(first), second.join().expect("gathering does not panic"))
        });
        first.followed_by(second)
    } else {
        run(items)
    };
    let Gather { mut jails, .. } = gather;
    let (wild, real): (Vec<_>, _) = (0..jails.len()).partition(|&i| is_wildcard(&jails[i].name));
    for &w in &wild {
        let jail = &mut jails[w];
        jail.shared = jail
            .statements
            .iter()
            .map(|p| p.values().collect())
            .collect();
    }
    Gathered {
        jails,
        text_len: loaded.sources.iter().map(|s| s.text.len()).sum(),
        wild,
        real,
    }
}

impl Gathered<'_> {
    /// How many jails (wildcards aside) the configuration defines.
    pub fn len(&self) -> usize {
        self.real.len()
    }

    pub fn is_empty(&self) -> bool {
        self.real.is_empty()
    }

    /// The length of the configuration's text, every file included.
    pub fn text_len(&self) -> usize {
        self.text_len
    }

    /// A resolver for the jails, which resolves them one at a time.
    pub fn resolver(&self) -> Resolver<'_> {
        Resolver {
            gathered: self,
            start: None,
        }
    }
}

/// Resolves the jails of a [`Gathered`] configuration one at a time. Most
/// jails start from the same merge (the implicit `name`, then the matching
/// wildcards declared before them, the global `*` above all): the resolver
/// keeps the last such start and begins the next jail from a copy of it.
pub struct Resolver<'a> {
    gathered: &'a Gathered<'a>,
    start: Option<Start<'a>>,
}

/// A merge up to a jail's own statements, and what it depends on: whether
/// the implicit parameter is `jid` and which wildcards were merged. It does
/// not depend on the jail's name, which only the implicit parameter's value
/// holds.
struct Start<'a> {
    jid: bool,
    wildcards: SmallVec<[usize; 4]>,
    merge: Merge<'a>,
}

impl<'a> Resolver<'a> {
    /// The `i`th jail, in configuration order, resolved.
    pub fn resolve(&mut self, i: usize) -> Resolution<'a> {
        let gathered = self.gathered;
        let seq = gathered.real[i];
        let jail = &gathered.jails[seq];
        let jid = is_jid(&jail.name);
        let matching = |w: &usize| wildcard_matches(&jail.name, &gathered.jails[*w].name);
        let (before, after): (SmallVec<[usize; 4]>, SmallVec<[usize; 4]>) = gathered
            .wild
            .iter()
            .copied()
            .filter(matching)
            .partition(|&w| w < seq);
        let start = match &self.start {
            Some(start) if start.jid == jid && start.wildcards == before => start,
            _ => self.start.insert(Start {
                merge: gathered.start_merge(jid, &before),
                jid,
                wildcards: before,
            }),
        };
        // Room for the jail's own statements and the wildcards after it.
        let room = jail.statements.len()
            + after
                .iter()
                .map(|&w| gathered.jails[w].statements.len())
                .sum::<usize>()
            + 1;
        let mut m = start.merge.with_room(room);
        m.params[0].values = Values::Own(smallvec![CfString {
            text: Cow::Borrowed(&jail.name),
            vars: Vec::new(),
        }]);
        jail.statements.iter().for_each(|p| m.add(p, None));
        for &w in &after {
            gathered.add_wildcard(&mut m, w);
        }
        if !m.has_name {
            m.add_implicit("name", &jail.name);
        }
        substitute(&mut m);
        m.params.retain(|p| !p.flags.var);
        Resolution {
            name: &jail.name,
            params: m.params,
            errors: m.errors,
        }
    }
}

impl<'a> Gathered<'a> {
    /// The merge a jail starts from: its implicit `jid` (or `name`, its
    /// value to be set), then the `wildcards` declared before it that match
    /// it.
    fn start_merge(&'a self, jid: bool, wildcards: &[usize]) -> Merge<'a> {
        let mut m = Merge {
            params: Vec::new(),
            errors: Vec::new(),
            has_name: false,
        };
        m.add_implicit(if jid { "jid" } else { "name" }, "");
        for &w in wildcards {
            self.add_wildcard(&mut m, w);
        }
        m
    }

    /// Merges the statements of wildcard jail `w`, with their values
    /// converted once.
    fn add_wildcard(&'a self, m: &mut Merge<'a>, w: usize) {
        let wild = &self.jails[w];
        let shared = wild.shared.iter().map(|values| &values[..]);
        for (p, values) in wild.statements.iter().zip(shared) {
            m.add(p, Some(values));
        }
    }
}

// ---------------------------------------------------------------------------
// Gathering statements into jails (jailparse.y actions).
//
// Names and texts are borrowed from the syntax tree until the resolved jail
// is built (or, to print it, throughout): a statement of a wildcard (the
// global `*` above all) is merged into every jail it matches, and copying it
// each time would make most of the work.

/// A value being substituted: text and the variables still to insert, each at
/// a byte position of the text (jail(8)'s `struct cfstring`).
#[derive(Debug, Clone)]
struct CfString<'a> {
    text: Cow<'a, str>,
    vars: Vec<VarAt<'a>>,
}

#[derive(Debug, Clone, Copy)]
struct VarAt<'a> {
    name: &'a str,
    pos: usize,
    origin: Origin,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Flags {
    var: bool,
    append: bool,
    immutable: bool,
    bad: bool,
}

/// A statement as gathered.
struct Statement<'a> {
    param: &'a Param,
    origin: Origin,
    /// The entry of jail(8)'s table the statement's name denotes, looked up
    /// once per statement.
    known: Option<&'static Known>,
}

impl<'a> Statement<'a> {
    fn name(&self) -> &'a str {
        &self.param.name.text
    }

    fn flags(&self) -> Flags {
        Flags {
            var: self.param.is_variable,
            append: self.param.op == Op::Append,
            ..Flags::default()
        }
    }

    /// Its values, to be substituted in one jail.
    fn values(&self) -> impl Iterator<Item = CfString<'a>> {
        let source = self.origin.source;
        self.param.values.iter().map(move |v| cf_string(v, source))
    }
}

/// A parameter of the jail being resolved.
#[derive(Debug, Clone)]
struct CfParam<'a> {
    name: &'a str,
    values: Values<'a>,
    flags: Flags,
    generation: u32,
    origin: Option<Origin>,
}

/// A parameter's values: a jail's own statements are converted for it (and
/// mostly hold one value, kept in place); a wildcard's, converted once, are
/// shared by every jail it applies to until one changes them.
#[derive(Debug, Clone)]
enum Values<'a> {
    Shared(&'a [CfString<'a>]),
    Own(SmallVec<[CfString<'a>; 1]>),
}

impl<'a> Values<'a> {
    fn to_mut(&mut self) -> &mut SmallVec<[CfString<'a>; 1]> {
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

struct CfJail<'a> {
    /// A top-level block's name is borrowed; a nested one is joined to its
    /// parent's.
    name: Cow<'a, str>,
    statements: Vec<Statement<'a>>,
    /// For a wildcard jail, each statement's values, converted once.
    shared: Vec<Vec<CfString<'a>>>,
}

struct Gather<'a> {
    loaded: &'a Loaded,
    jails: Vec<CfJail<'a>>,
    global: Option<usize>,
}

impl<'a> Gather<'a> {
    /// The jails gathered from this part of the top level and then from
    /// `next`, the part that follows it.
    fn followed_by(mut self, next: Gather<'a>) -> Gather<'a> {
        for (i, jail) in next.jails.into_iter().enumerate() {
            if Some(i) == next.global {
                if let Some(global) = self.global {
                    self.jails[global].statements.extend(jail.statements);
                    continue;
                }
                self.global = Some(self.jails.len());
            }
            self.jails.push(jail);
        }
        self
    }

    fn items(&mut self, items: &'a [Item], source: usize, current: Option<usize>) {
        for item in items {
            match &item.kind {
                ItemKind::Param(p) => {
                    let jail = match current {
                        Some(j) => j,
                        None => *self.global.get_or_insert_with(|| {
                            self.jails.push(CfJail {
                                name: Cow::Borrowed("*"),
                                statements: Vec::new(),
                                shared: Vec::new(),
                            });
                            self.jails.len() - 1
                        }),
                    };
                    let statement = Statement {
                        param: p,
                        origin: Origin {
                            source,
                            span: item.span,
                        },
                        known: known_param(&p.name.text),
                    };
                    self.jails[jail].statements.push(statement);
                }
                ItemKind::Block(b) => {
                    let name = match current {
                        Some(parent) => {
                            Cow::Owned(format!("{}.{}", self.jails[parent].name, b.name.text))
                        }
                        None => Cow::Borrowed(b.name.text.as_str()),
                    };
                    let statements = b
                        .items
                        .iter()
                        .filter(|i| matches!(i.kind, ItemKind::Param(_)))
                        .count();
                    self.jails.push(CfJail {
                        name,
                        statements: Vec::with_capacity(statements),
                        shared: Vec::new(),
                    });
                    let id = self.jails.len() - 1;
                    self.items(&b.items, source, Some(id));
                }
                ItemKind::Include(inc) => {
                    for &file in &inc.files {
                        let loaded = self.loaded;
                        self.items(&loaded.sources[file].config.items, file, current);
                    }
                }
                ItemKind::Comment(_) => {}
            }
        }
    }
}

fn cf_string(value: &Value, source: usize) -> CfString<'_> {
    let mut s = CfString {
        text: Cow::Borrowed(""),
        vars: Vec::new(),
    };
    for piece in &value.pieces {
        match piece {
            // The parser joins adjacent text, so this is mostly the first.
            Piece::Text(t) if s.text.is_empty() => s.text = Cow::Borrowed(t),
            Piece::Text(t) => s.text.to_mut().push_str(t),
            Piece::Var { name, span } => s.vars.push(VarAt {
                name,
                pos: s.text.len(),
                origin: Origin {
                    source,
                    span: *span,
                },
            }),
        }
    }
    s
}

// ---------------------------------------------------------------------------
// Merging (add_param).

#[derive(Clone)]
struct Merge<'a> {
    params: Vec<CfParam<'a>>,
    errors: Vec<ResolveError>,
    /// jail(8)'s `intparams[KP_NAME]` is set.
    has_name: bool,
}

impl<'a> Merge<'a> {
    /// A copy, with room for `room` more parameters.
    fn with_room(&self, room: usize) -> Merge<'a> {
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
    fn add_implicit(&mut self, key: &'static str, name: &'a str) {
        self.params.push(CfParam {
            name: key,
            values: Values::Own(smallvec![CfString {
                text: Cow::Borrowed(name),
                vars: Vec::new(),
            }]),
            flags: Flags {
                append: true,
                immutable: true,
                ..Flags::default()
            },
            generation: 0,
            origin: None,
        });
        self.has_name |= key == "name";
    }

    /// Adds statement `p`, with its values converted once (`shared`) when
    /// it is a wildcard's.
    fn add(&mut self, p: &'a Statement<'a>, shared: Option<&'a [CfString<'a>]>) {
        let (name, flags) = (p.name(), p.flags());
        let origin = Some(p.origin);
        if let Some(d) = self.params.iter_mut().find(|d| equalopts(d.name, name)) {
            if d.flags.var != flags.var {
                let message =
                    format!("variable \"${name}\" cannot have the same name as a parameter.");
                return self.fail(message, origin);
            }
            if d.flags.immutable {
                let message = format!("cannot redefine parameter \"{}\".", d.name);
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
                error = Some(format!(
                    "variable \"${name}\" cannot have the same name as a parameter."
                ));
            } else {
                flags.immutable |= known.immutable;
                self.has_name |= known.name == "name";
            }
        }
        self.params.push(CfParam {
            name,
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
fn is_jid(name: &str) -> bool {
    let t = name.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.bytes().any(|b| b != b'0')
}

// ---------------------------------------------------------------------------
// Variable substitution (the `find_vars:` loop of load_config).

/// A list can only be substituted for a reference that is the whole value
/// (no text around it, no other reference after it).
fn stands_alone(s: &CfString<'_>) -> bool {
    s.text.is_empty() && s.vars.len() == 1
}

enum Lookup {
    Bad(Option<String>),
    ResolveFirst(usize),
    Value(usize),
}

fn substitute(m: &mut Merge<'_>) {
    let params = &mut m.params;
    let mut generation = 0;
    let mut i = 0;
    while i < params.len() {
        generation += 1;
        params[i].generation = generation;
        let mut p = i;
        'find_vars: loop {
            let mut s = 0;
            while s < params[p].values.len() {
                while let Some(&v) = params[p].values[s].vars.first() {
                    let lookup = match params.iter().position(|q| q.name == v.name) {
                        Some(q) if !params[q].values.is_empty() => {
                            if params[q].flags.bad {
                                Lookup::Bad(None)
                            } else if params[q].generation == generation {
                                Lookup::Bad(Some(format!("{}: variable loop", v.name)))
                            } else if params[q].values.iter().any(|vs| !vs.vars.is_empty()) {
                                Lookup::ResolveFirst(q)
                            } else if params[q].values.len() > 1
                                && !stands_alone(&params[p].values[s])
                            {
                                let message = format!(
                                    "{}: array cannot be substituted inline",
                                    params[p].name
                                );
                                Lookup::Bad(Some(message))
                            } else {
                                Lookup::Value(q)
                            }
                        }
                        _ => Lookup::Bad(Some(format!(
                            "{}: variable \"{}\" not found",
                            params[p].name, v.name
                        ))),
                    };
                    match lookup {
                        Lookup::ResolveFirst(q) => {
                            // Resolve the referenced parameter first: move it
                            // before this one and start over with it.
                            params[q].generation = generation;
                            let moved = params.remove(q);
                            let at = if q < p { p - 1 } else { p };
                            params.insert(at, moved);
                            i = at;
                            p = at;
                            continue 'find_vars;
                        }
                        Lookup::Bad(message) => {
                            if let Some(message) = message {
                                m.errors.push(ResolveError {
                                    message,
                                    origin: Some(v.origin),
                                });
                            }
                            for q in params.iter_mut().filter(|q| q.generation == generation) {
                                q.flags.bad = true;
                            }
                            params[p].values.to_mut()[s].vars.remove(0);
                        }
                        Lookup::Value(q) => {
                            let first = params[q].values[0].text.clone();
                            let extra: Vec<CfString> = params[q].values[1..]
                                .iter()
                                .map(|vs| CfString {
                                    text: vs.text.clone(),
                                    vars: Vec::new(),
                                })
                                .collect();
                            let target = &mut params[p].values.to_mut()[s];
                            if target.text.is_empty() {
                                // The whole value so far: share the text.
                                target.text = first.clone();
                            } else if !first.is_empty() {
                                // One allocation (`to_mut().insert_str()`
                                // would copy, then grow).
                                let text = &target.text;
                                let mut joined = String::with_capacity(text.len() + first.len());
                                joined.push_str(&text[..v.pos]);
                                joined.push_str(&first);
                                joined.push_str(&text[v.pos..]);
                                target.text = Cow::Owned(joined);
                            }
                            target.vars.remove(0);
                            for later in &mut target.vars {
                                later.pos += first.len();
                            }
                            let n = extra.len();
                            if n > 0 {
                                params[p].values.to_mut().insert_many(s + 1, extra);
                            }
                            s += n;
                        }
                    }
                }
                s += 1;
            }
            break;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use runj_grammar::load_text;

    use super::*;

    /// Every jail's `jail -e` line and messages.
    fn lines(gathered: &Gathered<'_>) -> Vec<String> {
        let mut resolver = gathered.resolver();
        (0..gathered.len())
            .map(|i| {
                let jail = resolver.resolve(i).into_resolved();
                let errors: Vec<_> = jail.errors.iter().map(|e| &e.message).collect();
                format!("{}{errors:?}", super::super::show_line(&jail, "|"))
            })
            .collect()
    }

    /// A resolver that starts each jail from a copy of the last jail's start
    /// resolves every jail as one that starts it afresh: jails named by a
    /// number (`jid`) and by a name, wildcards matching some jails only,
    /// before and after them, a wildcard that tries to redefine `name` or
    /// sets it for a numeric jail, variables.
    #[test]
    fn a_shared_start_resolves_as_a_fresh_one() {
        let text = "$v = x;\npath = \"/j/$name\";\n\"*\" { name = bad; allow.mount; }\n\
                    a { host.hostname = $v; }\nb { persist; }\n12 { persist; }\n13 { }\n\
                    \"a.*\" { n = 1; }\na.c { nomount; }\na.d { }\n14 { }\nc { }\n\
                    \"*\" { devfs_ruleset += 4; }\ne { }\n";
        let loaded = load_text("t.conf", text.to_string(), false).expect("the configuration loads");
        let gathered = gather(&loaded);
        let shared = lines(&gathered);
        let fresh: Vec<String> = (0..gathered.len())
            .map(|i| {
                let jail = gathered.resolver().resolve(i).into_resolved();
                let errors: Vec<_> = jail.errors.iter().map(|e| &e.message).collect();
                format!("{}{errors:?}", super::super::show_line(&jail, "|"))
            })
            .collect();
        assert_eq!(shared.len(), 9);
        assert_eq!(shared, fresh);
        assert!(shared[2].contains("|name=bad|"), "{}", shared[2]);
        assert!(shared[0].contains("cannot redefine"), "{}", shared[0]);
        assert!(shared[1].starts_with("name=b|path=/j/b|"), "{}", shared[1]);
    }

    /// Gathered in two halves, a configuration resolves as gathered in one
    /// go: top-level parameters and wildcards on both sides of the middle
    /// (the global jail of the second half joins the first's), nested
    /// blocks, a global jail that only the second half has.
    #[test]
    fn halves_gather_as_one() {
        let mut both = String::new();
        let mut second_only = String::new();
        for i in 0..40 {
            both.push_str(&format!(
                "p{i} = {i};\nj{i} {{ v = \"$p0 $p{i}\"; n{i} {{ w = $p1; }} }}\n\"*\" {{ d{i} += {i}; }}\n"
            ));
            second_only.push_str(&format!("k{i} {{ v = {i}; }}\n\"k*\" {{ d = {i}; }}\n"));
        }
        second_only.push_str("g = 1;\n");
        for text in [both, second_only] {
            let loaded = load_text("t.conf", text, false).expect("the configuration loads");
            let items = loaded.sources[0].config.items.len();
            assert!(items > 80, "{items}");
            let one = gather_in(&loaded, false);
            let two = gather_in(&loaded, true);
            assert_eq!(one.len(), two.len());
            assert_eq!(lines(&one), lines(&two));
        }
    }
}
