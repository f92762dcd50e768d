//! The jail.conf language of FreeBSD's jail(8).
//!
//! - [`parse`] reads one file into a typed [`Config`] with byte spans and
//!   comments (the pest grammar is `jailconf.pest`);
//! - [`print`] prints a [`Config`] canonically (`runj conf fmt`);
//! - [`load`] reads a file and every file it `.include`s.
//!
//! This crate knows the language, not what parameters mean: that is the
//! translator's business.

mod ast;
pub mod diagnostic;
mod error;
mod loader;
mod parser;
mod printer;
mod unescape;

pub use ast::{
    Block, Comment, Config, Include, Item, ItemKind, Name, Op, Param, Piece, Span, Value,
};
pub use error::{ParseError, SyntaxError, SyntaxErrorKind};
pub use loader::{LoadError, Loaded, MAX_INCLUDE_DEPTH, STDIN, Source, load, load_text, strerror};
pub use parser::{MAX_NESTING, parse, pest_only};
pub use printer::{print, print_name, print_value};
