//! The typed jail.conf syntax tree.
//!
//! Every node carries the byte [`Span`] it was read from in its own source
//! file. Comments are kept as items so that the canonical printer can put them
//! back; layout beyond "a blank line stood here" is not kept.
//!
//! Names, texts and comments are bytes, as jail(8) reads them: [`Text`]s,
//! which keep up to 16 bytes in place. A statement's values and a value's
//! pieces are kept in place when there is one: most statements of a
//! jail.conf take no allocation at all.

pub use crate::text::Text;
use serde::Serialize;
use smallvec::SmallVec;

/// A statement's values: mostly one, kept in place.
pub type Values = SmallVec<[Value; 1]>;

/// A value's pieces: mostly one, kept in place.
pub type Pieces = SmallVec<[Piece; 1]>;

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// One parsed jail.conf file: its statements in order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Config {
    pub items: Vec<Item>,
}

/// A statement or comment, with its place in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
    /// An empty line separated this item from the one before it.
    pub blank_before: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ItemKind {
    Param(Param),
    Block(Block),
    Include(Include),
    Comment(Comment),
}

/// `name { ... }`: a jail, or a wildcard (`*`, `"a.*"`), with nested items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    pub name: Name,
    pub items: Vec<Item>,
}

/// A parameter or variable statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Param {
    pub name: Name,
    /// `$name = ...` defines a variable rather than a parameter.
    pub is_variable: bool,
    pub op: Op,
    pub values: Values,
}

/// How a statement assigns its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    /// `name;`: a boolean, or a list cleared to no values.
    Bare,
    /// `name = v, ...;`
    Assign,
    /// `name += v, ...;`
    Append,
    /// `name v, ...;` (same meaning as `=`).
    NameValue,
}

/// A decoded name (escapes and quotes removed) and where it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Name {
    pub text: Text,
    pub span: Span,
}

/// One value: literal text and variable references, concatenated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Value {
    pub pieces: Pieces,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Piece {
    /// Decoded literal text.
    Text(Text),
    /// A `$name` or `${name}` reference.
    Var { name: Text, span: Span },
}

/// `.include "pattern", ...;`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Include {
    pub patterns: Vec<Value>,
    /// The files each pattern named, in order, once the loader has expanded
    /// them (indexes into the loader's source list); empty after a bare parse.
    pub files: Vec<usize>,
}

/// A comment, verbatim including its markers (`#`, `//`, `/* */`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub text: Text,
    /// It followed a statement on the same line.
    pub trailing: bool,
}

impl Value {
    /// A value of literal text only.
    pub fn text(text: impl Into<Text>) -> Self {
        Value {
            pieces: smallvec::smallvec![Piece::Text(text.into())],
            span: Span::default(),
        }
    }

    /// The variable references in this value, in order.
    pub fn vars(&self) -> impl Iterator<Item = &[u8]> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var { name, .. } => Some(name.as_bytes()),
            Piece::Text(_) => None,
        })
    }
}
