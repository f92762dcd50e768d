//! Variable substitution, the `find_vars:` loop of jail(8)'s
//! `load_config()` (freebsd/freebsd-src usr.sbin/jail/config.c): each
//! parameter's references are replaced by the first value of the parameter
//! or variable they name (a reference that is the whole value by all its
//! values); a referenced parameter with references of its own is resolved
//! first, moved before the one that needs it; loops and missing names fail
//! the jail.

use std::borrow::Cow;

use runj_grammar::escaped;

use super::merge::Merge;
use super::resolve::ResolveError;
use super::string::CfString;

enum Lookup {
    Bad(Option<String>),
    ResolveFirst(usize),
    Value(usize),
}

pub(super) fn substitute(m: &mut Merge<'_>) {
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
                                Lookup::Bad(Some(format!("{}: variable loop", escaped(v.name))))
                            } else if params[q].values.iter().any(|vs| !vs.vars.is_empty()) {
                                Lookup::ResolveFirst(q)
                            } else if params[q].values.len() > 1
                                && !params[p].values[s].stands_alone()
                            {
                                let message = format!(
                                    "{}: array cannot be substituted inline",
                                    escaped(params[p].name)
                                );
                                Lookup::Bad(Some(message))
                            } else {
                                Lookup::Value(q)
                            }
                        }
                        _ => Lookup::Bad(Some(format!(
                            "{}: variable \"{}\" not found",
                            escaped(params[p].name),
                            escaped(v.name)
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
                                .map(|vs| CfString::literal(vs.text.clone()))
                                .collect();
                            let target = &mut params[p].values.to_mut()[s];
                            if target.text.is_empty() {
                                // The whole value so far: share the text.
                                target.text = first.clone();
                            } else if !first.is_empty() {
                                // One allocation (`to_mut()` and a splice
                                // would copy, then grow).
                                let text = &target.text;
                                let mut joined = Vec::with_capacity(text.len() + first.len());
                                joined.extend_from_slice(&text[..v.pos]);
                                joined.extend_from_slice(&first);
                                joined.extend_from_slice(&text[v.pos..]);
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
