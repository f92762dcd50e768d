//! Syntax errors, with both runj's wording and jail(8)'s.

use std::fmt;

use crate::ast::{Span, Text};

/// One problem found while reading a jail.conf file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub kind: SyntaxErrorKind,
    /// Where the offending token or statement stands in its file.
    pub span: Span,
    /// The line jail(8) names in its message: flex's line counter after the
    /// offending token, which for a multi-line token is the line it ends on.
    pub jail_line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxErrorKind {
    /// The parser cannot use this token here (yacc's "syntax error").
    UnexpectedToken(Text),
    /// The file ended inside a statement or block.
    UnexpectedEof,
    UnterminatedComment,
    UnterminatedString,
    UnterminatedVariable,
    /// `.include` with a variable reference in its pattern.
    VariableInInclude,
    /// The text starts with a UTF-8 byte order mark. jail(8)'s lexer
    /// returns a byte outside quotes as its token, a `char`, which is
    /// negative for 0xEF where `char` is signed (amd64); yacc takes a
    /// negative token for the end of the input, so jail(8) reads such a
    /// file as empty and starts nothing (freebsd/freebsd-src
    /// usr.sbin/jail/jaillex.l `<_>. return yytext[0];`). runj refuses it.
    ByteOrderMark,
    /// Blocks nested deeper than [`crate::MAX_NESTING`].
    TooDeep,
}

impl SyntaxError {
    /// The message jail(8) prints for this error (without the `jail: `
    /// prefix), as `yyerror()` and the lexer in
    /// freebsd/freebsd-src usr.sbin/jail/jailparse.y and jaillex.l word it.
    pub fn jail_message(&self, file: &str) -> String {
        let line = self.jail_line;
        match &self.kind {
            SyntaxErrorKind::UnexpectedToken(token) => {
                format!("{file} line {line}: {token}: syntax error")
            }
            SyntaxErrorKind::UnexpectedEof => format!("{file}: unexpected EOF"),
            SyntaxErrorKind::UnterminatedComment => {
                format!("{file} line {line}: unterminated comment")
            }
            SyntaxErrorKind::UnterminatedString => {
                format!("{file} line {line}: unterminated string")
            }
            SyntaxErrorKind::UnterminatedVariable => {
                format!("{file} line {line}: unterminated variable")
            }
            SyntaxErrorKind::VariableInInclude => {
                format!("{file} line {line}: variables not permitted in '.include' filename")
            }
            SyntaxErrorKind::ByteOrderMark => format!("{file}: {}", self.kind),
            SyntaxErrorKind::TooDeep => format!("{file} line {line}: {}", self.kind),
        }
    }
}

impl fmt::Display for SyntaxErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyntaxErrorKind::UnexpectedToken(token)
                if token.first().is_some_and(|&b| b >= 0x80) =>
            {
                // jail(8)'s lexer returns such a byte as a negative `char`
                // where `char` is signed, which yacc takes for the end of
                // the input (freebsd/freebsd-src usr.sbin/jail/jaillex.l).
                write!(
                    f,
                    "syntax error: unexpected `{token}`: a byte from 0x80 must be quoted \
                     (jail(8) on amd64 stops reading the file here)"
                )
            }
            SyntaxErrorKind::UnexpectedToken(token) => {
                write!(f, "syntax error: unexpected `{token}`")
            }
            SyntaxErrorKind::UnexpectedEof => f.write_str("syntax error: unexpected end of file"),
            SyntaxErrorKind::UnterminatedComment => f.write_str("unterminated comment"),
            SyntaxErrorKind::UnterminatedString => f.write_str("unterminated string"),
            SyntaxErrorKind::UnterminatedVariable => f.write_str("unterminated variable"),
            SyntaxErrorKind::VariableInInclude => {
                f.write_str("variables not permitted in '.include' filename")
            }
            SyntaxErrorKind::ByteOrderMark => f.write_str(
                "the file starts with a UTF-8 byte order mark, which jail(8) reads as an \
                 empty file (it would start no jail); remove the mark (its first three bytes)",
            ),
            SyntaxErrorKind::TooDeep => {
                write!(f, "blocks nested more than {} deep", crate::MAX_NESTING)
            }
        }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for SyntaxError {}

/// All errors found in one file, in the order jail(8) reports them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .errors.first().map(ToString::to_string).unwrap_or_default())]
pub struct ParseError {
    pub errors: Vec<SyntaxError>,
}
