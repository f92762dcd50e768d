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

/// The text is parsed a piece of about this many bytes at a time, each
/// piece ending at a line break, so that pest's token queue (40 bytes a
/// token, several tokens a line) stays small: a piece that parses on its own
/// ends between two statements, and its tree is that part of the whole
/// text's tree.
const CHUNK: usize = 64 * 1024;

fn parse_text(src: &str, recover: bool) -> Result<Config, Vec<SyntaxError>> {
    let mut builder = Builder::new(src);
    let (mut start, mut len) = (0, CHUNK);
    loop {
        let end = line_end_after(src, start + len);
        let last = end == src.len();
        match JailConfParser::parse(Rule::config, &src[start..end]) {
            Ok(mut pairs) => {
                let config = pairs.next().expect("the config rule yields one pair");
                builder.offset = start;
                for pair in config.into_inner() {
                    if last || pair.as_rule() != Rule::EOI {
                        builder.statement(pair);
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
                let lexed = lex(src);
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
fn line_end_after(src: &str, at: usize) -> usize {
    let bytes = src.as_bytes();
    match bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
    {
        Some(i) => at + i + 1,
        None => src.len(),
    }
}

/// A block still open while its items are read.
struct OpenBlock {
    name: Name,
    start: usize,
    blank_before: bool,
    /// Where its items begin in [`Builder::items`].
    first: usize,
}

struct Builder<'s> {
    src: &'s str,
    errors: Vec<SyntaxError>,
    open: Vec<OpenBlock>,
    /// The top-level items, then those of each open block in turn: a block's
    /// items are moved into a vector of their own, of the right size, when
    /// it closes.
    items: Vec<Item>,
    /// End of the last token read, for blank lines and trailing comments.
    last_end: usize,
    /// Where the piece of text being read starts: pest's positions are
    /// relative to it.
    offset: usize,
}

impl<'s> Builder<'s> {
    fn new(src: &'s str) -> Self {
        Builder {
            src,
            errors: Vec::new(),
            open: Vec::new(),
            items: Vec::new(),
            last_end: 0,
            offset: 0,
        }
    }

    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.offset + s.start(), self.offset + s.end())
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
        // Mostly a line break and an indentation: no line in between.
        if gap.bytes().filter(|&b| b == b'\n').nth(1).is_none() {
            return false;
        }
        let mut lines = gap.split('\n').skip(1).peekable();
        while let Some(line) = lines.next() {
            if lines.peek().is_some() && matches!(line.trim(), "" | ";") {
                return true;
            }
        }
        false
    }

    fn push(&mut self, kind: ItemKind, span: Span) {
        let blank_before = self.blank_before(span.start);
        let item = Item {
            kind,
            span,
            blank_before,
        };
        self.items.push(item);
        self.last_end = span.end;
    }

    fn statement(&mut self, pair: Pair<'s, Rule>) {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::comment => self.comment(&pair, false),
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

    fn comment(&mut self, pair: &Pair<'s, Rule>, hoisted: bool) {
        let span = self.span(pair);
        let trailing = !hoisted
            && self.last_end > 0
            && !self.src[self.last_end.min(span.start)..span.start].contains('\n')
            && self
                .current_items()
                .last()
                .is_some_and(|i| !matches!(i.kind, ItemKind::Comment(_)));
        let text = pair.as_str().trim_end().to_string();
        self.push(ItemKind::Comment(Comment { text, trailing }), span);
    }

    fn current_items(&self) -> &[Item] {
        &self.items[self.open.last().map_or(0, |block| block.first)..]
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
            first: self.items.len(),
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
                items: self.items.split_off(block.first),
            }),
            span: Span::new(block.start, span.end),
            blank_before: block.blank_before,
        };
        self.items.push(item);
        self.last_end = span.end;
    }

    /// A statement's children are its head, then its comments and the
    /// pieces of its values in source order. Comments that stand inside a
    /// statement are hoisted before it on lines of their own, in source
    /// order.
    fn named_statement(&mut self, pair: Pair<'s, Rule>) {
        let span = self.span(&pair);
        let children = pair.into_inner();
        // At most one value per child but the head.
        let mut values = Vec::with_capacity(children.len() - 1);
        let mut children = children.peekable();
        let head = children.next().expect("a statement has a head");
        // The operator is the first character after the head, past blanks
        // and the comments there.
        let bytes = self.src.as_bytes();
        let mut at = self.span(&head).end;
        loop {
            while matches!(bytes[at], b' ' | b'\t' | b'\n' | b'\r') {
                at += 1;
            }
            match children.next_if(|c| c.as_rule() == Rule::comment && self.span(c).start == at) {
                Some(comment) => {
                    at = self.span(&comment).end;
                    self.comment(&comment, true);
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
                return self.error(
                    SyntaxErrorKind::UnexpectedToken("{".into()),
                    Span::new(at, at + 1),
                );
            }
            return self.block_open(name, span);
        };
        let mut value: Option<ValueText> = None;
        for child in children {
            if child.as_rule() == Rule::comment {
                self.comment(&child, true);
                continue;
            }
            let Span { start, end } = self.span(&child);
            let current = match &mut value {
                Some(v) if v.end == start => v,
                _ => {
                    if let Some(done) = value.take() {
                        values.extend(self.value(done));
                    }
                    value.insert(ValueText::new(start, child.as_str().len()))
                }
            };
            current.end = end;
            self.piece(child, &mut current.text, &mut current.pieces);
        }
        if let Some(done) = value {
            values.extend(self.value(done));
        }
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
    fn name(&mut self, piece: Pair<'s, Rule>) -> Option<(Name, bool)> {
        let span = self.span(&piece);
        let is_variable = piece.as_rule() == Rule::var_ref;
        if piece.as_rule() == Rule::word {
            // The common case: plain ASCII, nothing to decode.
            let text = piece.as_str().to_string();
            return Some((Name { text, span }, false));
        }
        if let Some(var) = first_var(&piece) {
            let var_span = self.span(&var);
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

    fn value(&mut self, v: ValueText) -> Option<Value> {
        let ValueText {
            start,
            end,
            text,
            mut pieces,
        } = v;
        let span = Span::new(start, end);
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
            Rule::escape | Rule::single_char | Rule::dq_text => decode_into(text, pair.as_str()),
            Rule::single_quoted | Rule::plain_quoted => {
                let quoted = pair.as_str();
                decode_into(text, &quoted[1..quoted.len() - 1]);
            }
            Rule::double_quoted => {
                for inner in pair.into_inner() {
                    self.piece(inner, text, pieces);
                }
            }
            Rule::var_ref | Rule::dq_var => {
                let span = self.span(&pair);
                let reference = pair.as_str();
                let name = match reference.strip_prefix("${") {
                    Some(braced) => {
                        let raw = &braced[..braced.len() - 1];
                        String::from_utf8_lossy(&unescape(raw)).into_owned()
                    }
                    None => reference[1..].to_string(),
                };
                if !text.is_empty() {
                    let bytes = std::mem::take(text);
                    if let Some(t) = self.utf8(bytes, span) {
                        pieces.push(Piece::Text(t));
                    }
                }
                pieces.push(Piece::Var { name, span });
            }
            Rule::bad_dq_var => self.error(SyntaxErrorKind::UnterminatedVariable, self.span(&pair)),
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

/// A value being read: its extent so far, its literal text not yet flushed,
/// and its pieces.
struct ValueText {
    start: usize,
    end: usize,
    text: Vec<u8>,
    pieces: Vec<Piece>,
}

impl ValueText {
    fn new(start: usize, first_piece_len: usize) -> Self {
        ValueText {
            start,
            end: start,
            // Decoding never lengthens a piece, and a value is mostly one
            // piece: room for it, and one piece in the list.
            text: Vec::with_capacity(first_piece_len),
            pieces: Vec::with_capacity(1),
        }
    }
}

/// Appends the decoded bytes of a piece's raw text.
fn decode_into(text: &mut Vec<u8>, raw: &str) {
    // Text without a backslash or a NUL decodes to itself.
    if raw.bytes().any(|b| b == b'\\' || b == 0) {
        text.extend_from_slice(&unescape(raw));
    } else {
        text.extend_from_slice(raw.as_bytes());
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
