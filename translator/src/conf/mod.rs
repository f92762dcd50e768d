//! jail.conf semantics: resolving a loaded configuration into jails, and
//! printing them as `jail -e` does.

mod eval;
mod names;
mod resolve;
mod show;

pub use eval::{Evaluation, evaluate};
pub use names::{KNOWN, equalopts, is_wildcard, wildcard_matches};
pub use resolve::{
    Gathered, Origin, Resolution, ResolveError, ResolvedJail, ResolvedParam, Resolver, gather,
    resolve,
};
pub use show::{quoted_print, show_line, to_config};
