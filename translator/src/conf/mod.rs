//! jail.conf semantics: resolving a loaded configuration into jails, and
//! printing them as `jail -e` does.

mod names;
mod resolve;
mod show;

pub use names::{KNOWN, equalopts, is_wildcard, wildcard_matches};
pub use resolve::{
    Origin, Resolution, ResolveError, ResolvedJail, ResolvedParam, resolve, resolve_each,
};
pub use show::{quoted_print, show_line, to_config};
