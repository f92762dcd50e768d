//! jail.conf semantics: from the loaded syntax tree to each jail's final,
//! ordered parameter list — what `jail -e` prints. Every command resolves
//! through here.
//!
//! This follows `load_config()` and `add_param()` of
//! freebsd/freebsd-src usr.sbin/jail/config.c step by step:
//! 1. the statements are gathered into jails ([`gather`](super::gather));
//! 2. wildcard jails (a `*` component) are set aside;
//! 3. for each jail: the implicit immutable `name` (or `jid` when the name is
//!    a non-zero number), then matching wildcards declared before it, its own
//!    statements, matching wildcards declared after it (`merge`);
//! 4. `name` is back-filled for numeric jails;
//! 5. variables are substituted (`substitute`), and variables are deleted.
//!
//! Names and values are bytes, as jail(8) passes them on; only
//! [`ResolvedJail`], the input of a plan, is text.
//!
//! Errors fail one jail, which is still reported with what it resolved to.
//! One deliberate difference: expanding a list reference (`x = ${ip4.addr}`
//! with several addresses) crashes jail(8) (a NULL dereference after the
//! `free_var:` label); here it expands to the list.

use std::borrow::Cow;

use runj_grammar::{Loaded, Parallelism, Span, escaped};
use smallvec::{SmallVec, smallvec};

use super::gather::{Gathered, gather};
use super::merge::{CfParam, Merge, Values, is_jid};
use super::names::wildcard_matches;
use super::parallel::in_runs;
use super::string::CfString;
use super::substitute::substitute;

/// Where a statement or reference was written: a source index of
/// [`Loaded::sources`] and a byte span in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub source: usize,
    pub span: Span,
}

/// A resolution error; the jail it names is marked failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveError {
    /// jail(8)'s message, without the `jail: NAME: ` prefix (bytes that are
    /// not UTF-8 shown as `\xHH`).
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

/// A parameter of a resolved jail, values fully substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedParam {
    /// The spelling last applied (`nopersist` if that came last).
    pub name: String,
    pub values: Vec<String>,
    /// The statement that last set it (none for the implicit `name`/`jid`).
    pub origin: Option<Origin>,
}

/// One non-wildcard jail after resolution, as text: what a plan is made
/// from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedJail {
    pub name: String,
    pub params: Vec<ResolvedParam>,
    pub errors: Vec<ResolveError>,
    /// Names and values that are not UTF-8 (shown escaped in `name` and
    /// `params`): jail(8) takes them, a plan and an OCI bundle cannot.
    pub not_text: Vec<ResolveError>,
}

impl ResolvedJail {
    /// It failed to resolve, or holds what is not text.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty() || !self.not_text.is_empty()
    }

    /// The first parameter of that exact name.
    pub fn param(&self, name: &str) -> Option<&ResolvedParam> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// One jail as resolved, borrowing its names and values (bytes) from the
/// configuration ([`Resolver::resolve`]).
pub struct Resolution<'a> {
    name: &'a [u8],
    params: Vec<CfParam<'a>>,
    errors: Vec<ResolveError>,
}

impl<'a> Resolution<'a> {
    pub fn name(&self) -> &'a [u8] {
        self.name
    }

    pub fn errors(&self) -> &[ResolveError] {
        &self.errors
    }

    /// Each parameter's name and values, in order.
    pub fn params(&self) -> impl Iterator<Item = (&[u8], impl Iterator<Item = &[u8]>)> {
        self.params
            .iter()
            .map(|p| (p.name, p.values.iter().map(|s| &*s.text)))
    }

    /// The jail as text ([`ResolvedJail`]). Each name or value that is not
    /// UTF-8 is recorded in [`ResolvedJail::not_text`], naming the
    /// parameter, and kept shown escaped.
    pub fn into_resolved(self) -> ResolvedJail {
        let mut not_text = Vec::new();
        let mut text = |bytes: &[u8], what: &dyn Fn() -> String, origin: Option<Origin>| {
            match std::str::from_utf8(bytes) {
                Ok(text) => text.to_string(),
                Err(_) => {
                    let shown = escaped(bytes).into_owned();
                    not_text.push(ResolveError {
                        message: format!(
                            "{}: \"{shown}\" is not UTF-8 text, which a jail plan and an OCI \
                             bundle hold",
                            what()
                        ),
                        origin,
                    });
                    shown
                }
            }
        };
        let name = text(self.name, &|| "the jail's name".to_string(), None);
        let mut params = Vec::with_capacity(self.params.len());
        for p in &self.params {
            let param = || format!("parameter {}", escaped(p.name));
            let values = p
                .values
                .iter()
                .map(|v| text(&v.text, &|| format!("{}'s value", param()), p.origin))
                .collect();
            params.push(ResolvedParam {
                name: text(p.name, &param, p.origin),
                values,
                origin: p.origin,
            });
        }
        ResolvedJail {
            name,
            params,
            errors: self.errors,
            not_text,
        }
    }
}

/// Below this many jails a thread costs more than it saves.
pub(super) const JAILS_PER_THREAD: usize = 1024;

/// Every jail of a loaded configuration resolved, in configuration order,
/// on as many threads as `parallelism` allows.
pub fn resolutions<'a>(
    gathered: &'a Gathered<'a>,
    parallelism: Parallelism,
) -> Vec<Resolution<'a>> {
    in_runs(gathered.len(), parallelism, JAILS_PER_THREAD, |run| {
        let mut resolver = gathered.resolver();
        run.map(|i| resolver.resolve(i)).collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// Every jail of a loaded configuration resolved to text
/// ([`Resolution::into_resolved`]), in configuration order.
pub fn resolve(loaded: &Loaded, parallelism: Parallelism) -> Vec<ResolvedJail> {
    resolve_each(loaded, parallelism, |jail| jail)
}

/// `f` of every jail of a loaded configuration resolved to text, in
/// configuration order: each jail is resolved and handed to `f` in runs
/// of jails on as many threads as `parallelism` allows, and only what `f`
/// returns is kept.
pub fn resolve_each<R: Send>(
    loaded: &Loaded,
    parallelism: Parallelism,
    f: impl Fn(ResolvedJail) -> R + Sync,
) -> Vec<R> {
    let gathered = gather(loaded, parallelism);
    in_runs(gathered.len(), parallelism, JAILS_PER_THREAD, |run| {
        let mut resolver = gathered.resolver();
        run.map(|i| f(resolver.resolve(i).into_resolved()))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
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
    pub(super) fn new(gathered: &'a Gathered<'a>) -> Self {
        Resolver {
            gathered,
            start: None,
        }
    }

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
                merge: Merge::start(gathered, jid, &before),
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
        m.params[0].values = Values::Own(smallvec![CfString::literal(Cow::Borrowed(&jail.name))]);
        jail.statements.iter().for_each(|p| m.add(p, None));
        for &w in &after {
            m.add_wildcard(gathered, w);
        }
        if !m.has_name {
            m.add_implicit(b"name", &jail.name);
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

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use runj_grammar::load_text;

    use super::super::gather::gather_in;
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
        let loaded = load_text("t.conf", text.as_bytes().to_vec(), false, Parallelism::One)
            .expect("the configuration loads");
        let gathered = gather(&loaded, Parallelism::One);
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

    /// Gathered in three runs, a configuration resolves as gathered in one
    /// go: top-level parameters and wildcards in every run (the global jail
    /// of a later run joins the first's), nested blocks, a global jail that
    /// only the last run has.
    #[test]
    fn runs_gather_as_one() {
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
            let loaded = load_text("t.conf", text.into_bytes(), false, Parallelism::One)
                .expect("the configuration loads");
            let items = loaded.sources[0].config.items.len();
            assert!(items > 80, "{items}");
            let three = Parallelism::Threads(NonZeroUsize::new(3).expect("3 is not 0"));
            let one = gather_in(&loaded, Parallelism::One, 1);
            let two = gather_in(&loaded, three, 1);
            assert_eq!(one.len(), two.len());
            assert_eq!(lines(&one), lines(&two));
        }
    }
}
