//! jail.conf semantics: resolving a loaded configuration into jails, and
//! printing them as `jail -e` does. One path for every command: gather
//! the statements into jails, then resolve each jail (merge, substitute),
//! in parallel runs where the caller allows.

mod eval;
mod gather;
mod merge;
mod names;
mod parallel;
mod resolve;
mod show;
mod string;
mod substitute;

pub use eval::{Evaluation, evaluate};
pub use gather::{Gathered, gather};
pub use names::{KNOWN, equalopts, is_wildcard, wildcard_matches};
pub(crate) use parallel::each_in_runs;
pub use resolve::{
    Origin, Resolution, ResolveError, ResolvedJail, ResolvedParam, Resolver, resolutions, resolve,
    resolve_each,
};
pub use runj_grammar::Parallelism;
pub use show::{quoted_print, show_line, to_config};
