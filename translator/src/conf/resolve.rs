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

use runj_grammar::{Item, ItemKind, Loaded, Op, Piece, Span, Value};

use super::names::{KNOWN, equalopts, is_wildcard, wildcard_matches};

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

/// Resolves every jail of a loaded configuration, in configuration order.
pub fn resolve(loaded: &Loaded) -> Vec<ResolvedJail> {
    let mut gather = Gather {
        loaded,
        jails: Vec::new(),
        global: None,
    };
    if let Some(main) = loaded.sources.first() {
        gather.items(&main.config.items, 0, None);
    }
    let (wild, jails): (Vec<_>, Vec<_>) = gather
        .jails
        .into_iter()
        .enumerate()
        .partition(|(_, j)| is_wildcard(&j.name));
    jails
        .into_iter()
        .map(|(seq, jail)| resolve_jail(seq, jail, &wild))
        .collect()
}

// ---------------------------------------------------------------------------
// Gathering statements into jails (jailparse.y actions).

/// A value being substituted: text and the variables still to insert, each at
/// a byte position of the text (jail(8)'s `struct cfstring`).
#[derive(Debug, Clone)]
struct CfString {
    text: String,
    vars: Vec<VarAt>,
}

#[derive(Debug, Clone)]
struct VarAt {
    name: String,
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

#[derive(Debug, Clone)]
struct CfParam {
    name: String,
    values: Vec<CfString>,
    flags: Flags,
    generation: u32,
    origin: Option<Origin>,
}

struct CfJail {
    name: String,
    params: Vec<CfParam>,
}

struct Gather<'a> {
    loaded: &'a Loaded,
    jails: Vec<CfJail>,
    global: Option<usize>,
}

impl Gather<'_> {
    fn items(&mut self, items: &[Item], source: usize, current: Option<usize>) {
        for item in items {
            match &item.kind {
                ItemKind::Param(p) => {
                    let jail = match current {
                        Some(j) => j,
                        None => *self.global.get_or_insert_with(|| {
                            self.jails.push(CfJail {
                                name: "*".into(),
                                params: Vec::new(),
                            });
                            self.jails.len() - 1
                        }),
                    };
                    let param = CfParam {
                        name: p.name.text.clone(),
                        values: p.values.iter().map(|v| cf_string(v, source)).collect(),
                        flags: Flags {
                            var: p.is_variable,
                            append: p.op == Op::Append,
                            ..Flags::default()
                        },
                        generation: 0,
                        origin: Some(Origin {
                            source,
                            span: item.span,
                        }),
                    };
                    self.jails[jail].params.push(param);
                }
                ItemKind::Block(b) => {
                    let name = match current {
                        Some(parent) => format!("{}.{}", self.jails[parent].name, b.name.text),
                        None => b.name.text.clone(),
                    };
                    self.jails.push(CfJail {
                        name,
                        params: Vec::new(),
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

fn cf_string(value: &Value, source: usize) -> CfString {
    let mut s = CfString {
        text: String::new(),
        vars: Vec::new(),
    };
    for piece in &value.pieces {
        match piece {
            Piece::Text(t) => s.text.push_str(t),
            Piece::Var { name, span } => s.vars.push(VarAt {
                name: name.clone(),
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

struct Merge {
    params: Vec<CfParam>,
    errors: Vec<ResolveError>,
    /// jail(8)'s `intparams[KP_NAME]` is set.
    has_name: bool,
}

impl Merge {
    fn fail(&mut self, message: String, origin: Option<Origin>) {
        self.errors.push(ResolveError { message, origin });
    }

    /// The implicit `name` or `jid` parameter (`add_param(j, NULL, KP_…)`).
    fn add_implicit(&mut self, key: &str, value: &str) {
        self.params.push(CfParam {
            name: key.to_string(),
            values: vec![CfString {
                text: value.to_string(),
                vars: Vec::new(),
            }],
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

    fn add(&mut self, p: &CfParam) {
        if let Some(d) = self.params.iter_mut().find(|d| equalopts(&d.name, &p.name)) {
            if d.flags.var != p.flags.var {
                let message = format!(
                    "variable \"${}\" cannot have the same name as a parameter.",
                    p.name
                );
                return self.fail(message, p.origin);
            }
            if d.flags.immutable {
                let message = format!("cannot redefine parameter \"{}\".", d.name);
                return self.fail(message, p.origin);
            }
            if d.name != p.name {
                d.name.clone_from(&p.name);
            }
            if !p.flags.append || p.values.is_empty() {
                d.values.clear();
            }
            d.values.extend(p.values.iter().cloned());
            d.flags.var |= p.flags.var;
            d.flags.append |= p.flags.append;
            d.origin = p.origin;
            return;
        }
        self.params.push(p.clone());
        if let Some(known) = KNOWN.iter().find(|k| equalopts(&p.name, k.name)) {
            if p.flags.var {
                let message = format!(
                    "variable \"${}\" cannot have the same name as a parameter.",
                    p.name
                );
                return self.fail(message, p.origin);
            }
            let last = self.params.last_mut().expect("just pushed");
            last.flags.immutable |= known.immutable;
            self.has_name |= known.name == "name";
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

fn resolve_jail(seq: usize, jail: CfJail, wild: &[(usize, CfJail)]) -> ResolvedJail {
    let mut m = Merge {
        params: Vec::new(),
        errors: Vec::new(),
        has_name: false,
    };
    m.add_implicit(if is_jid(&jail.name) { "jid" } else { "name" }, &jail.name);
    let mut did_self = false;
    for (wseq, w) in wild {
        if seq < *wseq && !did_self {
            jail.params.iter().for_each(|p| m.add(p));
            did_self = true;
        }
        if wildcard_matches(&jail.name, &w.name) {
            w.params.iter().for_each(|p| m.add(p));
        }
    }
    if !did_self {
        jail.params.iter().for_each(|p| m.add(p));
    }
    if !m.has_name {
        m.add_implicit("name", &jail.name);
    }
    substitute(&mut m);
    let params = m
        .params
        .into_iter()
        .filter(|p| !p.flags.var)
        .map(|p| ResolvedParam {
            name: p.name,
            values: p.values.into_iter().map(|s| s.text).collect(),
            origin: p.origin,
        })
        .collect();
    ResolvedJail {
        name: jail.name,
        params,
        errors: m.errors,
    }
}

// ---------------------------------------------------------------------------
// Variable substitution (the `find_vars:` loop of load_config).

/// A list can only be substituted for a reference that is the whole value
/// (no text around it, no other reference after it).
fn stands_alone(s: &CfString) -> bool {
    s.text.is_empty() && s.vars.len() == 1
}

enum Lookup {
    Bad(Option<String>),
    ResolveFirst(usize),
    Value(usize),
}

fn substitute(m: &mut Merge) {
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
                while let Some(v) = params[p].values[s].vars.first().cloned() {
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
                            params[p].values[s].vars.remove(0);
                        }
                        Lookup::Value(q) => {
                            let values: Vec<String> =
                                params[q].values.iter().map(|vs| vs.text.clone()).collect();
                            let target = &mut params[p].values[s];
                            target.text.insert_str(v.pos, &values[0]);
                            target.vars.remove(0);
                            for later in &mut target.vars {
                                later.pos += values[0].len();
                            }
                            let extra: Vec<CfString> = values[1..]
                                .iter()
                                .map(|t| CfString {
                                    text: t.clone(),
                                    vars: Vec::new(),
                                })
                                .collect();
                            let n = extra.len();
                            params[p].values.splice(s + 1..s + 1, extra);
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
