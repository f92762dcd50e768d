//! Gathering a loaded configuration's statements into jails, as the
//! actions of jailparse.y do (freebsd/freebsd-src usr.sbin/jail): jails in
//! the order of their `{`, nested blocks named `parent.child`, every
//! top-level parameter into one global `*` jail placed at the first.
//!
//! Names and texts are borrowed from the syntax tree: a statement of a
//! wildcard (the global `*` above all) is merged into every jail it
//! matches, and copying it each time would make most of the work.

use std::borrow::Cow;
use std::collections::HashMap;

use runj_grammar::{Item, ItemKind, Loaded, Parallelism, Param};
use rustc_hash::FxBuildHasher;

use super::names::{Known, is_wildcard, known_param, opt_key};
use super::parallel::in_runs;
use super::resolve::{Origin, Resolver};
use super::string::CfString;

/// A loaded configuration's statements gathered into jails, each ready to be
/// resolved on its own: in any order, or on several threads at once.
pub struct Gathered<'a> {
    pub(super) jails: Vec<CfJail<'a>>,
    /// The length of the configuration's text, every file included.
    text_len: usize,
    /// The wildcard jails, and the others in configuration order.
    pub(super) wild: Vec<usize>,
    pub(super) real: Vec<usize>,
}

/// One jail's (or wildcard's) statements.
pub(super) struct CfJail<'a> {
    /// A top-level block's name is borrowed; a nested one is joined to its
    /// parent's.
    pub(super) name: Cow<'a, [u8]>,
    pub(super) statements: Vec<Statement<'a>>,
    /// For a wildcard jail, each statement's values, converted once.
    pub(super) shared: Vec<Vec<CfString<'a>>>,
}

/// A statement as gathered.
pub(super) struct Statement<'a> {
    pub(super) param: &'a Param,
    pub(super) origin: Origin,
    /// The entry of jail(8)'s table the statement's name denotes, looked up
    /// once per statement.
    pub(super) known: Option<&'static Known>,
    /// The name's [`opt_key`].
    pub(super) key: u32,
}

impl<'a> Statement<'a> {
    pub(super) fn name(&self) -> &'a [u8] {
        &self.param.name.text
    }

    /// Its values, to be substituted in one jail.
    pub(super) fn values(&self) -> impl Iterator<Item = CfString<'a>> {
        let source = self.origin.source;
        self.param
            .values
            .iter()
            .map(move |v| CfString::of(v, source))
    }
}

/// Configurations of this many top-level items per thread and more are
/// gathered on several threads.
const ITEMS_PER_THREAD: usize = 2048;

/// Gathers the statements of a loaded configuration into jails.
///
/// A long configuration is gathered in runs of top-level items on as many
/// threads as `parallelism` allows: each item goes to the jails of its own
/// run, and the global jail's statements of a later run join those of the
/// first run that has one.
pub fn gather(loaded: &Loaded, parallelism: Parallelism) -> Gathered<'_> {
    gather_in(loaded, parallelism, ITEMS_PER_THREAD)
}

/// Gathers in runs of at least `per_thread` top-level items.
pub(super) fn gather_in(
    loaded: &Loaded,
    parallelism: Parallelism,
    per_thread: usize,
) -> Gathered<'_> {
    let items = loaded
        .sources
        .first()
        .map_or(&[][..], |main| &main.config.items[..]);
    let runs = in_runs(items.len(), parallelism, per_thread, |run| {
        let mut gather = Gather {
            loaded,
            jails: Vec::new(),
            global: None,
            names: HashMap::default(),
        };
        gather.items(&items[run], 0, None);
        gather
    });
    let gather = runs
        .into_iter()
        .reduce(Gather::followed_by)
        .expect("at least one run");
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
        Resolver::new(self)
    }
}

struct Gather<'a> {
    loaded: &'a Loaded,
    jails: Vec<CfJail<'a>>,
    global: Option<usize>,
    /// What each statement name seen so far denotes: a configuration
    /// repeats a few names in every jail.
    names: HashMap<&'a [u8], (Option<&'static Known>, u32), FxBuildHasher>,
}

impl<'a> Gather<'a> {
    /// The table entry and the [`opt_key`] of statement name `name`.
    fn name_facts(&mut self, name: &'a [u8]) -> (Option<&'static Known>, u32) {
        *self
            .names
            .entry(name)
            .or_insert_with(|| (known_param(name), opt_key(name)))
    }

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
                                name: Cow::Borrowed(b"*"),
                                statements: Vec::new(),
                                shared: Vec::new(),
                            });
                            self.jails.len() - 1
                        }),
                    };
                    let (known, key) = self.name_facts(&p.name.text);
                    let statement = Statement {
                        param: p,
                        origin: Origin {
                            source,
                            span: item.span,
                        },
                        known,
                        key,
                    };
                    self.jails[jail].statements.push(statement);
                }
                ItemKind::Block(b) => {
                    let name = match current {
                        Some(parent) => {
                            Cow::Owned([&self.jails[parent].name[..], b".", &b.name.text].concat())
                        }
                        None => Cow::Borrowed(&b.name.text[..]),
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
