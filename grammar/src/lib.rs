//! The jail.conf language of FreeBSD's jail(8).
//!
//! - [`parse`] reads one file (bytes, as jail(8) does) into a typed [`Config`] with byte spans and
//!   comments: the pest grammar `jailconf.pest` defines the language
//!   ([`parse_with_pest`]), and a fast scanner ([`scan`]) reads the texts it
//!   can to the same tree;
//! - [`print`] prints a [`Config`] canonically (`runj conf fmt`);
//! - [`load`] reads a file and every file it `.include`s.
//!
//! This crate knows the language, not what parameters mean: that is the
//! translator's business.

#![forbid(unsafe_code)]

mod ast;
mod builder;
pub mod diagnostic;
mod error;
mod loader;
mod parallelism;
mod parser;
mod printer;
mod scanner;
mod text;
mod unescape;

pub use ast::{
    Block, Comment, Config, Include, Item, ItemKind, Name, Op, Param, Piece, Pieces, Span, Text,
    Value, Values,
};
pub use builder::MAX_NESTING;
pub use error::{ParseError, SyntaxError, SyntaxErrorKind};
pub use loader::{LoadError, Loaded, MAX_INCLUDE_DEPTH, STDIN, Source, load, load_text, strerror};
pub use parallelism::Parallelism;
pub use parser::{parse, parse_in, parse_with_pest};
pub use printer::{print, print_name, print_value};
pub use scanner::scan;
pub use text::escaped;
