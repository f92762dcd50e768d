//! The pest facade: the only module that sees pest pairs. It turns the parse
//! tree of `jailconf.pest` into the typed [`Config`], and a failed parse into
//! the [`SyntaxError`]s jail(8) would report.

use pest::Parser as _;
use pest::iterators::Pair;

use crate::ast::{
    Block, Comment, Config, Include, Item, ItemKind, Name, Op, Param, Piece, Span, Value,
};
use crate::error::{ParseError, SyntaxError, SyntaxErrorKind};
use crate::unescape::unescape;

#[derive(pest_derive::Parser)]
#[grammar = "jailconf.pest"]
struct JailConfParser;

/// Blocks may nest at most this deep; a jail name of more components would
/// exceed the kernel's 256-byte name limit anyway.
pub const MAX_NESTING: usize = 128;

/// Parses one jail.conf file. `.include` directives are kept as
/// [`ItemKind::Include`] items with no files; [`crate::load`] expands them.
pub fn parse(src: &str) -> Result<Config, ParseError> {
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

fn parse_text(src: &str, recover: bool) -> Result<Config, Vec<SyntaxError>> {
    let mut builder = Builder::new(src);
    match JailConfParser::parse(Rule::config, src) {
        Ok(mut pairs) => {
            let config = pairs.next().expect("the config rule yields one pair");
            for pair in config.into_inner() {
                builder.statement(pair);
            }
        }
        Err(err) => {
            let pos = match err.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((p, _)) => p,
            };
            let lexed = lex(src);
            if recover && !lexed.errors.is_empty() {
                // jail(8)'s lexer reports a malformed token and reads on as
                // if it were white space: do the same, then parse again.
                let mut errors = lexed.errors.clone();
                let blanked = blank(src, &lexed.errors);
                if let Err(more) = parse_text(&blanked, false) {
                    errors.extend(more);
                }
                return Err(errors);
            }
            builder.errors.push(lexed.error_at(src, pos));
        }
    }
    builder.finish()
}

/// A block still open while its items are read.
struct OpenBlock {
    name: Name,
    start: usize,
    blank_before: bool,
    items: Vec<Item>,
}

struct Builder<'s> {
    src: &'s str,
    errors: Vec<SyntaxError>,
    open: Vec<OpenBlock>,
    items: Vec<Item>,
    /// End of the last token read, for blank lines and trailing comments.
    last_end: usize,
}

impl<'s> Builder<'s> {
    fn new(src: &'s str) -> Self {
        Builder {
            src,
            errors: Vec::new(),
            open: Vec::new(),
            items: Vec::new(),
            last_end: 0,
        }
    }

    fn finish(self) -> Result<Config, Vec<SyntaxError>> {
        if self.errors.is_empty() {
            Ok(Config { items: self.items })
        } else {
            Err(self.errors)
        }
    }

    fn error(&mut self, kind: SyntaxErrorKind, span: Span) {
        let jail_line = line_after(self.src, span.end);
        self.errors.push(SyntaxError {
            kind,
            span,
            jail_line,
        });
    }

    /// True when an empty line lies between the last token and `start`:
    /// one of the lines strictly between the line the last token ended on
    /// and the line `start` is on is blank (or holds a lone `;`).
    fn blank_before(&self, start: usize) -> bool {
        let gap = &self.src[self.last_end.min(start)..start];
        let (Some(first), Some(last)) = (gap.find('\n'), gap.rfind('\n')) else {
            return false;
        };
        first < last
            && gap[first + 1..last]
                .split('\n')
                .any(|l| l.trim().is_empty() || l.trim() == ";")
    }

    fn push(&mut self, kind: ItemKind, span: Span) {
        let blank_before = self.blank_before(span.start);
        let item = Item {
            kind,
            span,
            blank_before,
        };
        match self.open.last_mut() {
            Some(block) => block.items.push(item),
            None => self.items.push(item),
        }
        self.last_end = span.end;
    }

    fn statement(&mut self, pair: Pair<'s, Rule>) {
        let span = span_of(&pair);
        match pair.as_rule() {
            Rule::COMMENT => self.comment(pair, false),
            Rule::named_statement => self.named_statement(pair),
            Rule::block_close => self.block_close(span),
            Rule::empty_statement => self.last_end = span.end,
            Rule::EOI => {
                if !self.open.is_empty() {
                    self.error(SyntaxErrorKind::UnexpectedEof, span);
                }
            }
            rule => unreachable!("statement rule {rule:?}"),
        }
    }

    /// Comments that stand inside a statement (between its name and its
    /// operator, between the values of a list, before its `;`) are hoisted
    /// before it on lines of their own, in source order. pest puts them
    /// among the children of the statement and of its tail only: the name
    /// and each value are atomic, so no comment lies deeper. Returns the
    /// head and the tail.
    fn inner_comments(&mut self, pair: Pair<'s, Rule>) -> (Pair<'s, Rule>, Pair<'s, Rule>) {
        let mut head = None;
        let mut tail = None;
        for child in pair.into_inner() {
            if child.as_rule() == Rule::COMMENT {
                self.comment(child, true);
            } else if head.is_none() {
                head = Some(child);
            } else {
                for inner in child.clone().into_inner() {
                    if inner.as_rule() == Rule::COMMENT {
                        self.comment(inner, true);
                    }
                }
                tail = Some(child);
            }
        }
        (
            head.expect("a statement has a head"),
            tail.expect("a statement has a tail"),
        )
    }

    fn comment(&mut self, pair: Pair<'s, Rule>, hoisted: bool) {
        let span = span_of(&pair);
        let inner = pair
            .into_inner()
            .next()
            .expect("a comment has one alternative");
        let kind = match inner.as_rule() {
            Rule::hash_comment | Rule::slash_comment | Rule::block_comment => {
                let trailing = !hoisted
                    && self.last_end > 0
                    && !self.src[self.last_end.min(span.start)..span.start].contains('\n')
                    && self
                        .current_items()
                        .last()
                        .is_some_and(|i| !matches!(i.kind, ItemKind::Comment(_)));
                let text = inner.as_str().trim_end().to_string();
                ItemKind::Comment(Comment { text, trailing })
            }
            rule => unreachable!("comment rule {rule:?}"),
        };
        self.push(kind, span);
    }

    fn current_items(&self) -> &[Item] {
        match self.open.last() {
            Some(block) => &block.items,
            None => &self.items,
        }
    }

    fn block_open(&mut self, name: Name, span: Span) {
        if self.open.len() >= MAX_NESTING {
            return self.error(SyntaxErrorKind::TooDeep, span);
        }
        let blank_before = self.blank_before(span.start);
        self.open.push(OpenBlock {
            name,
            start: span.start,
            blank_before,
            items: Vec::new(),
        });
        self.last_end = span.end;
    }

    fn block_close(&mut self, span: Span) {
        let Some(block) = self.open.pop() else {
            return self.error(SyntaxErrorKind::UnexpectedToken("}".into()), span);
        };
        let item = Item {
            kind: ItemKind::Block(Block {
                name: block.name,
                items: block.items,
            }),
            span: Span::new(block.start, span.end),
            blank_before: block.blank_before,
        };
        match self.open.last_mut() {
            Some(parent) => parent.items.push(item),
            None => self.items.push(item),
        }
        self.last_end = span.end;
    }

    fn named_statement(&mut self, pair: Pair<'s, Rule>) {
        let span = span_of(&pair);
        let (head, tail) = self.inner_comments(pair);
        let Some((name, is_variable)) = self.name(head) else {
            return;
        };
        let op = match tail.as_rule() {
            Rule::block_open if is_variable => {
                return self.error(SyntaxErrorKind::UnexpectedToken("{".into()), span_of(&tail));
            }
            Rule::block_open => return self.block_open(name, span),
            Rule::assign => Op::Assign,
            Rule::append => Op::Append,
            Rule::name_value => Op::NameValue,
            Rule::bare => Op::Bare,
            rule => unreachable!("statement tail {rule:?}"),
        };
        // Sized by the children (values and comments) rather than grown: a
        // statement mostly has one value, and a large file has many.
        let children = tail.into_inner();
        let mut values = Vec::with_capacity(children.len());
        values.extend(
            children
                .filter(|p| p.as_rule() == Rule::value)
                .filter_map(|p| self.value(p)),
        );
        // jailparse.y special_param(): only `.include "x";` (name-value form,
        // plain name) is the directive; `.include = "x";` is a parameter.
        if op == Op::NameValue && !is_variable && name.text == ".include" {
            let mut patterns = Vec::new();
            for value in values {
                if value.vars().next().is_some() {
                    let end = span.end;
                    self.errors.push(SyntaxError {
                        kind: SyntaxErrorKind::VariableInInclude,
                        span: value.span,
                        jail_line: line_after(self.src, end),
                    });
                } else {
                    patterns.push(value);
                }
            }
            return self.push(
                ItemKind::Include(Include {
                    patterns,
                    files: Vec::new(),
                }),
                span,
            );
        }
        self.push(
            ItemKind::Param(Param {
                name,
                is_variable,
                op,
                values,
            }),
            span,
        );
    }

    /// A block or parameter name: one lexical piece. A double-quoted name
    /// with a variable inside lexes as several pieces in jail(8), which is a
    /// syntax error at the variable. Also tells whether the name is a
    /// variable's (`$name`).
    fn name(&mut self, pair: Pair<'s, Rule>) -> Option<(Name, bool)> {
        let span = span_of(&pair);
        let piece = pair.into_inner().next().expect("a name has one piece");
        let is_variable = piece.as_rule() == Rule::var_ref;
        if piece.as_rule() == Rule::word {
            // The common case: plain ASCII, nothing to decode.
            let text = piece.as_str().to_string();
            return Some((Name { text, span }, false));
        }
        if let Some(var) = first_var(&piece) {
            let var_span = span_of(&var);
            self.error(
                SyntaxErrorKind::UnexpectedToken(var.as_str().to_string()),
                var_span,
            );
            return None;
        }
        let mut text = Vec::new();
        let mut vars = Vec::new();
        self.piece(piece, &mut text, &mut vars);
        let text = match vars.pop() {
            Some(Piece::Var { name, .. }) => name,
            _ => self.utf8(text, span)?,
        };
        Some((Name { text, span }, is_variable))
    }

    fn value(&mut self, pair: Pair<'s, Rule>) -> Option<Value> {
        let span = span_of(&pair);
        // Mostly one piece; a vector grown from empty would make room for four.
        let mut pieces = Vec::with_capacity(1);
        // Decoding never lengthens the text, so this is room enough.
        let mut text = Vec::with_capacity(span.end - span.start);
        for piece in pair.into_inner() {
            self.piece(piece, &mut text, &mut pieces);
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(self.utf8(text, span)?));
        }
        Some(Value { pieces, span })
    }

    /// Appends one lexical piece: literal bytes go to `text`; a variable
    /// flushes `text` into `pieces` and is pushed after it.
    fn piece(&mut self, pair: Pair<'s, Rule>, text: &mut Vec<u8>, pieces: &mut Vec<Piece>) {
        match pair.as_rule() {
            Rule::word => text.extend_from_slice(pair.as_str().as_bytes()),
            Rule::escape | Rule::single_char | Rule::sq_text | Rule::dq_text => {
                let raw = pair.as_str();
                // Text without a backslash or a NUL decodes to itself.
                if raw.bytes().any(|b| b == b'\\' || b == 0) {
                    text.extend_from_slice(&unescape(raw));
                } else {
                    text.extend_from_slice(raw.as_bytes());
                }
            }
            Rule::single_quoted | Rule::double_quoted => {
                for inner in pair.into_inner() {
                    self.piece(inner, text, pieces);
                }
            }
            Rule::var_ref | Rule::dq_var => {
                let span = span_of(&pair);
                let inner = pair.into_inner().next().expect("a variable has a name");
                let name = match inner.as_rule() {
                    Rule::var_ident => inner.as_str().to_string(),
                    _ => String::from_utf8_lossy(&unescape(inner.as_str())).into_owned(),
                };
                if !text.is_empty() {
                    let bytes = std::mem::take(text);
                    if let Some(t) = self.utf8(bytes, span) {
                        pieces.push(Piece::Text(t));
                    }
                }
                pieces.push(Piece::Var { name, span });
            }
            Rule::bad_dq_var => self.error(SyntaxErrorKind::UnterminatedVariable, span_of(&pair)),
            rule => unreachable!("piece rule {rule:?}"),
        }
    }

    fn utf8(&mut self, bytes: Vec<u8>, span: Span) -> Option<String> {
        match String::from_utf8(bytes) {
            Ok(s) => Some(s),
            Err(_) => {
                self.error(SyntaxErrorKind::InvalidUtf8, span);
                None
            }
        }
    }
}

/// The input as jail(8)'s lexer sees it: its error tokens, and where each
/// real token ends.
struct Lexed {
    errors: Vec<SyntaxError>,
    /// (span, text as flex would hold it in `yytext`) of each token.
    tokens: Vec<(Span, String)>,
}

fn lex(src: &str) -> Lexed {
    let pairs = JailConfParser::parse(Rule::tokens, src)
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
            Rule::COMMENT => continue,
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
                lexed.tokens.push((span, first_lexeme(&token).to_string()));
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
    fn error_at(&self, src: &str, pos: usize) -> SyntaxError {
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
fn blank(src: &str, errors: &[SyntaxError]) -> String {
    let mut bytes = src.as_bytes().to_vec();
    for e in errors {
        for b in &mut bytes[e.span.start..e.span.end] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    String::from_utf8(bytes).expect("blanking keeps UTF-8 valid")
}

/// The text flex would hold in `yytext` for this token: a double-quoted
/// string is cut at its first variable.
fn first_lexeme<'s>(token: &Pair<'s, Rule>) -> &'s str {
    match first_var(token) {
        Some(var) => &token.get_input()[token.as_span().start()..var.as_span().start()],
        None => token.as_str(),
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

/// flex's `yylineno` once it has read up to byte `end`.
fn line_after(src: &str, end: usize) -> usize {
    1 + src.as_bytes()[..end.min(src.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

#[doc(hidden)]
pub fn pest_only(src: &str) -> usize {
    JailConfParser::parse(Rule::config, src)
        .map(|p| p.flatten().count())
        .unwrap_or(0)
}
