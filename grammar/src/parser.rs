//! The pest facade: the only module that sees pest pairs. It reads a text
//! with the grammar of `jailconf.pest` into the tree [`Builder`], and turns
//! a failed parse into the [`SyntaxError`]s jail(8) would report.
//!
//! jail.conf is bytes; pest reads `&str`. pest is given the text's shadow
//! ([`shadow`]), of the same length, in which every byte from 0x80 is DEL
//! (0x7F): the grammar treats DEL exactly as it treats those bytes (not a
//! word character, text inside quotes and comments, one byte after a
//! backslash, as flex does), so the shadow parses as the text does, at the
//! same offsets. Names, values, comments and tokens are then taken from the
//! text itself by their spans, never from the shadow.

use pest::Parser as _;
use pest::iterators::Pair;

use crate::ast::{Config, Name, Op, Param, Span, Text, Values};
use crate::builder::{Builder, ValueText, line_after, var_name};
use crate::error::{ParseError, SyntaxError, SyntaxErrorKind};
use crate::parallelism::Parallelism;
use crate::scanner;

#[derive(pest_derive::Parser)]
#[grammar = "jailconf.pest"]
struct JailConfParser;

/// Parses one jail.conf file. `.include` directives are kept as
/// [`ItemKind::Include`](crate::ItemKind::Include) items with no files;
/// [`crate::load`] expands them.
///
/// The fast scanner ([`scan`](crate::scan)) reads the text when it can;
/// otherwise, and for every error, the pest grammar does. The result is the
/// same either way.
///
/// A text that starts with a UTF-8 byte order mark is refused
/// ([`SyntaxErrorKind::ByteOrderMark`]). Everything runs on the calling
/// thread ([`parse_in`] may use more).
pub fn parse(src: &[u8]) -> Result<Config, ParseError> {
    parse_in(src, Parallelism::One)
}

/// [`parse`], a large text read on up to two threads when `parallelism`
/// allows them.
pub fn parse_in(src: &[u8], parallelism: Parallelism) -> Result<Config, ParseError> {
    // The scanner gives up on a byte order mark, as on any byte from 0x80
    // outside quotes.
    match scanner::scan(src, parallelism) {
        Some(config) => Ok(config),
        None => parse_with_pest(src),
    }
}

/// Parses one jail.conf file with the pest grammar alone: the definition of
/// the language, which [`parse`] agrees with.
pub fn parse_with_pest(src: &[u8]) -> Result<Config, ParseError> {
    if src.starts_with(BOM) {
        return Err(ParseError {
            errors: vec![SyntaxError {
                kind: SyntaxErrorKind::ByteOrderMark,
                span: Span::new(0, BOM.len()),
                jail_line: 1,
            }],
        });
    }
    parse_text(src, true).map_err(|mut errors| {
        errors.sort_by_key(|e| e.span.start);
        // yacc reports one syntax error: its recovery (`param: error`) then
        // runs a rule action on an undefined value, so jail(8)'s behaviour
        // after it is undefined. Report nothing beyond it.
        let syntax = |e: &SyntaxError| {
            matches!(
                e.kind,
                SyntaxErrorKind::UnexpectedToken(_) | SyntaxErrorKind::UnexpectedEof
            )
        };
        if let Some(first) = errors.iter().position(syntax) {
            errors.truncate(first + 1);
        }
        ParseError { errors }
    })
}

/// The text is parsed a piece of about this many bytes at a time, each
/// piece ending at a line break, so that pest's token queue (40 bytes a
/// token, several tokens a line) stays small: a piece that parses on its own
/// ends between two statements, and its tree is that part of the whole
/// text's tree.
const CHUNK: usize = 64 * 1024;

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// `src` with every byte from 0x80 turned to DEL: what pest reads.
fn shadow(src: &[u8]) -> String {
    let ascii = src
        .iter()
        .map(|&b| if b < 0x80 { b } else { 0x7f })
        .collect();
    String::from_utf8(ascii).expect("ASCII is UTF-8")
}

fn parse_text(src: &[u8], recover: bool) -> Result<Config, Vec<SyntaxError>> {
    let shadow = shadow(src);
    let mut builder = Builder::new(src);
    let (mut start, mut len) = (0, CHUNK);
    loop {
        let end = line_end_after(src, start + len);
        let last = end == src.len();
        match JailConfParser::parse(Rule::config, &shadow[start..end]) {
            Ok(mut pairs) => {
                let config = pairs.next().expect("the config rule yields one pair");
                let mut walker = Walker {
                    builder: &mut builder,
                    src,
                    offset: start,
                };
                for pair in config.into_inner() {
                    if last || pair.as_rule() != Rule::EOI {
                        walker.statement(pair);
                    }
                }
                if last {
                    break;
                }
                (start, len) = (end, CHUNK);
            }
            // The cut fell inside a statement, a comment or a string (or
            // the piece has an error): read on, twice as far.
            Err(_) if !last => len *= 2,
            Err(err) => {
                // pest reports the farthest position at which a rule failed;
                // everything before `start` parsed, so the rest of the text
                // fails where the whole text does.
                let pos = start
                    + match err.location {
                        pest::error::InputLocation::Pos(p) => p,
                        pest::error::InputLocation::Span((p, _)) => p,
                    };
                let lexed = lex(src, &shadow);
                if recover && !lexed.errors.is_empty() {
                    // jail(8)'s lexer reports a malformed token and reads on
                    // as if it were white space: do the same, then parse
                    // again.
                    let mut errors = lexed.errors.clone();
                    let blanked = blank(src, &lexed.errors);
                    if let Err(more) = parse_text(&blanked, false) {
                        errors.extend(more);
                    }
                    return Err(errors);
                }
                return Err(vec![lexed.error_at(src, pos)]);
            }
        }
    }
    builder.finish()
}

/// The end of the line `at` is on (past its line break), or of the text.
fn line_end_after(bytes: &[u8], at: usize) -> usize {
    match bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
    {
        Some(i) => at + i + 1,
        None => bytes.len(),
    }
}

/// Walks pest's pairs into the [`Builder`]. Pest's positions are relative to
/// the piece of text being parsed, which starts at `offset`.
struct Walker<'s, 'b> {
    builder: &'b mut Builder<'s>,
    src: &'s [u8],
    offset: usize,
}

impl<'s> Walker<'s, '_> {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.offset + s.start(), self.offset + s.end())
    }

    /// The bytes of the text that `pair` read (in the shadow).
    fn bytes(&self, pair: &Pair<'_, Rule>) -> &'s [u8] {
        let span = self.span(pair);
        &self.src[span.start..span.end]
    }

    fn statement(&mut self, pair: Pair<'_, Rule>) {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::comment => self.builder.comment(span, false),
            Rule::named_statement => self.named_statement(pair),
            Rule::block_close => self.builder.block_close(span),
            Rule::empty_statement => self.builder.empty_statement(span),
            Rule::EOI => self.builder.end(span),
            rule => unreachable!("statement rule {rule:?}"),
        }
    }

    /// A statement's children are its head, then its comments and the
    /// pieces of its values in source order. Comments that stand inside a
    /// statement are hoisted before it on lines of their own, in source
    /// order.
    fn named_statement(&mut self, pair: Pair<'_, Rule>) {
        let span = self.span(&pair);
        let children = pair.into_inner();
        // At most one value per child but the head.
        let mut values = Values::new();
        let mut children = children.peekable();
        let head = children.next().expect("a statement has a head");
        // The operator is the first character after the head, past blanks
        // and the comments there.
        let bytes = self.src;
        let mut at = self.span(&head).end;
        loop {
            while matches!(bytes[at], b' ' | b'\t' | b'\n' | b'\r') {
                at += 1;
            }
            match children.next_if(|c| c.as_rule() == Rule::comment && self.span(c).start == at) {
                Some(comment) => {
                    let comment = self.span(&comment);
                    at = comment.end;
                    self.builder.comment(comment, true);
                }
                None => break,
            }
        }
        let op = match bytes[at] {
            b'{' => None,
            b'=' => Some(Op::Assign),
            b'+' if bytes[at + 1] == b'=' => Some(Op::Append),
            b';' => Some(Op::Bare),
            _ => Some(Op::NameValue),
        };
        let Some((name, is_variable)) = self.name(head) else {
            return;
        };
        let Some(op) = op else {
            if is_variable {
                return self.builder.error(
                    SyntaxErrorKind::UnexpectedToken("{".into()),
                    Span::new(at, at + 1),
                );
            }
            return self.builder.block_open(name, span);
        };
        let mut value: Option<ValueText> = None;
        for child in children {
            let child_span = self.span(&child);
            if child.as_rule() == Rule::comment {
                self.builder.comment(child_span, true);
                continue;
            }
            let current = match &mut value {
                Some(v) if v.end() == child_span.start => v,
                _ => {
                    if let Some(done) = value.take() {
                        values.push(done.finish());
                    }
                    value.insert(ValueText::new(child_span.start))
                }
            };
            current.extend_to(child_span.end);
            self.piece(child, current);
        }
        if let Some(done) = value {
            values.push(done.finish());
        }
        let param = Param {
            name,
            is_variable,
            op,
            values,
        };
        self.builder.statement(param, span);
    }

    /// A block or parameter name: one lexical piece. A double-quoted name
    /// with a variable inside lexes as several pieces in jail(8), which is a
    /// syntax error at the variable. Also tells whether the name is a
    /// variable's (`$name`).
    fn name(&mut self, piece: Pair<'_, Rule>) -> Option<(Name, bool)> {
        let span = self.span(&piece);
        let is_variable = piece.as_rule() == Rule::var_ref;
        if piece.as_rule() == Rule::word {
            // The common case: plain ASCII, nothing to decode.
            let text = Text::from(self.bytes(&piece));
            return Some((Name { text, span }, false));
        }
        if let Some(var) = first_var(&piece) {
            let var_span = self.span(&var);
            let token = Text::from(self.bytes(&var));
            self.builder
                .error(SyntaxErrorKind::UnexpectedToken(token), var_span);
            return None;
        }
        let mut text = ValueText::new(span.start);
        self.piece(piece, &mut text);
        let text = text.into_name();
        Some((Name { text, span }, is_variable))
    }

    /// Adds one lexical piece to a value.
    fn piece(&mut self, pair: Pair<'_, Rule>, value: &mut ValueText) {
        match pair.as_rule() {
            Rule::word => value.push_verbatim(self.bytes(&pair)),
            Rule::escape | Rule::single_char | Rule::dq_text => value.push_raw(self.bytes(&pair)),
            Rule::single_quoted | Rule::plain_quoted => {
                let quoted = self.bytes(&pair);
                value.push_raw(&quoted[1..quoted.len() - 1]);
            }
            Rule::double_quoted => {
                for inner in pair.into_inner() {
                    self.piece(inner, value);
                }
            }
            Rule::var_ref | Rule::dq_var => {
                let span = self.span(&pair);
                value.push_var(var_name(self.bytes(&pair)), span);
            }
            Rule::bad_dq_var => self
                .builder
                .error(SyntaxErrorKind::UnterminatedVariable, self.span(&pair)),
            rule => unreachable!("piece rule {rule:?}"),
        }
    }
}

/// The input as jail(8)'s lexer sees it: its error tokens, and where each
/// real token ends.
struct Lexed {
    errors: Vec<SyntaxError>,
    /// (span, text as flex would hold it in `yytext`) of each token.
    tokens: Vec<(Span, Text)>,
}

/// Lexes `src`, reading its `shadow`.
fn lex(src: &[u8], shadow: &str) -> Lexed {
    let pairs = JailConfParser::parse(Rule::tokens, shadow)
        .expect("every input lexes")
        .next()
        .expect("the tokens rule yields one pair");
    let mut lexed = Lexed {
        errors: Vec::new(),
        tokens: Vec::new(),
    };
    for token in pairs.into_inner() {
        let span = span_of(&token);
        let kind = match token.as_rule() {
            Rule::comment => continue,
            Rule::EOI => break,
            Rule::unterminated_comment => SyntaxErrorKind::UnterminatedComment,
            Rule::unterminated_string => SyntaxErrorKind::UnterminatedString,
            Rule::unterminated_variable => SyntaxErrorKind::UnterminatedVariable,
            _ => {
                // An unterminated `${` inside double quotes is an error
                // token of the DQ start state, inside a string token.
                let bad = token.clone().into_inner();
                for var in bad.filter(|p| p.as_rule() == Rule::bad_dq_var) {
                    let var_span = span_of(&var);
                    lexed.errors.push(SyntaxError {
                        kind: SyntaxErrorKind::UnterminatedVariable,
                        span: var_span,
                        jail_line: line_after(src, var_span.end),
                    });
                }
                let lexeme = first_lexeme(&token);
                lexed
                    .tokens
                    .push((span, Text::from(&src[lexeme.start..lexeme.end])));
                continue;
            }
        };
        lexed.errors.push(SyntaxError {
            kind,
            span,
            jail_line: line_after(src, span.end),
        });
    }
    lexed
}

impl Lexed {
    /// The syntax error yacc reports when the parse fails at byte `pos`:
    /// the token there, or the end of the file.
    fn error_at(&self, src: &[u8], pos: usize) -> SyntaxError {
        match self.tokens.iter().find(|(span, _)| span.end > pos) {
            Some((span, text)) => SyntaxError {
                kind: SyntaxErrorKind::UnexpectedToken(text.clone()),
                span: *span,
                jail_line: line_after(src, span.end),
            },
            None => SyntaxError {
                kind: SyntaxErrorKind::UnexpectedEof,
                span: Span::new(src.len(), src.len()),
                jail_line: line_after(src, src.len()),
            },
        }
    }
}

/// `src` with the bytes of each error token turned to spaces (newlines kept,
/// so offsets and line numbers stay put).
fn blank(src: &[u8], errors: &[SyntaxError]) -> Vec<u8> {
    let mut bytes = src.to_vec();
    for e in errors {
        for b in &mut bytes[e.span.start..e.span.end] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    bytes
}

/// Where the text flex would hold in `yytext` for this token stands: a
/// double-quoted string is cut at its first variable.
fn first_lexeme(token: &Pair<'_, Rule>) -> Span {
    let span = span_of(token);
    match first_var(token) {
        Some(var) => Span::new(span.start, var.as_span().start()),
        None => span,
    }
}

/// The first variable (or malformed variable) inside a double-quoted piece.
fn first_var<'s>(piece: &Pair<'s, Rule>) -> Option<Pair<'s, Rule>> {
    if piece.as_rule() != Rule::double_quoted {
        return None;
    }
    piece
        .clone()
        .into_inner()
        .find(|p| p.as_rule() != Rule::dq_text)
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}
