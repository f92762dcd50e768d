//! A value being substituted: its text and the variables still to insert,
//! each at a byte position of the text (jail(8)'s `struct cfstring`,
//! freebsd/freebsd-src usr.sbin/jail/jailp.h).

use std::borrow::Cow;

use runj_grammar::{Piece, Value};

use super::resolve::Origin;

#[derive(Debug, Clone)]
pub(super) struct CfString<'a> {
    /// Borrowed from the syntax tree until a substitution changes it.
    pub(super) text: Cow<'a, [u8]>,
    pub(super) vars: Vec<VarAt<'a>>,
}

/// A variable reference still to be substituted.
#[derive(Debug, Clone, Copy)]
pub(super) struct VarAt<'a> {
    pub(super) name: &'a [u8],
    /// Where in the text its value goes.
    pub(super) pos: usize,
    pub(super) origin: Origin,
}

impl<'a> CfString<'a> {
    /// Literal text, with no variables.
    pub(super) fn literal(text: Cow<'a, [u8]>) -> Self {
        CfString {
            text,
            vars: Vec::new(),
        }
    }

    /// A value of the syntax tree, read from source `source`.
    pub(super) fn of(value: &'a Value, source: usize) -> Self {
        let mut s = CfString::literal(Cow::Borrowed(b""));
        for piece in &value.pieces {
            match piece {
                // The parser joins adjacent text, so this is mostly the first.
                Piece::Text(t) if s.text.is_empty() => s.text = Cow::Borrowed(t),
                Piece::Text(t) => s.text.to_mut().extend_from_slice(t),
                Piece::Var { name, span } => s.vars.push(VarAt {
                    name,
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

    /// The whole value is one reference, for which a list can be
    /// substituted (no text around it, no other reference after it).
    pub(super) fn stands_alone(&self) -> bool {
        self.text.is_empty() && self.vars.len() == 1
    }
}
