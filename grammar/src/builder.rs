//! Building the syntax tree from the statements, comments and lexical
//! pieces a front end reads, in source order: blank lines, trailing and
//! hoisted comments, block nesting, `.include`, names and values. Both front
//! ends feed it, the pest facade ([`crate::parser`]) and the fast scanner
//! ([`crate::scanner`]), so that the tree does not depend on which read the
//! text.

use smallvec::SmallVec;

use crate::ast::{
    Block, Comment, Config, Include, Item, ItemKind, Name, Op, Param, Piece, Pieces, Span, Text,
    Value,
};
use crate::error::{SyntaxError, SyntaxErrorKind};
use crate::unescape::unescape;

/// Blocks may nest at most this deep; a jail name of more components would
/// exceed the kernel's 256-byte name limit anyway.
pub const MAX_NESTING: usize = 128;

/// About the text a top-level item takes in a large configuration (a jail's
/// block or the comment before it: one per 132 bytes in a generated
/// 10,000-jail file).
const ITEM_BYTES: usize = 128;

/// A block still open while its items are read.
struct OpenBlock {
    name: Name,
    start: usize,
    blank_before: bool,
    /// Where its items begin in [`Builder::items`].
    first: usize,
}

pub(crate) struct Builder<'s> {
    src: &'s [u8],
    errors: Vec<SyntaxError>,
    open: Vec<OpenBlock>,
    /// The top-level items, then those of each open block in turn: a block's
    /// items are moved into a vector of their own, of the right size, when
    /// it closes.
    items: Vec<Item>,
    /// End of the last token read, for blank lines and trailing comments.
    last_end: usize,
}

impl<'s> Builder<'s> {
    pub(crate) fn new(src: &'s [u8]) -> Self {
        Builder::resume(src, 0)
    }

    /// A builder that goes on from byte `last_end` of `src`, where the last
    /// token before the statements it is given ended, at the top level.
    pub(crate) fn resume(src: &'s [u8], last_end: usize) -> Self {
        Builder {
            src,
            errors: Vec::new(),
            open: Vec::new(),
            // Room for the items of the text still to read, at one
            // top-level item per `ITEM_BYTES`: growing the vector would copy
            // it.
            items: Vec::with_capacity((src.len() - last_end) / ITEM_BYTES),
            last_end,
        }
    }

    pub(crate) fn src(&self) -> &'s [u8] {
        self.src
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub(crate) fn finish(self) -> Result<Config, Vec<SyntaxError>> {
        if self.errors.is_empty() {
            Ok(Config { items: self.items })
        } else {
            Err(self.errors)
        }
    }

    pub(crate) fn error(&mut self, kind: SyntaxErrorKind, span: Span) {
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
        let (Some(first), Some(last)) = (
            gap.iter().position(|&b| b == b'\n'),
            gap.iter().rposition(|&b| b == b'\n'),
        ) else {
            return false;
        };
        first < last
            && gap[first + 1..last]
                .split(|&b| b == b'\n')
                .any(|line| matches!(line.trim_ascii(), b"" | b";"))
    }

    fn push(&mut self, kind: ItemKind, span: Span) {
        let blank_before = self.blank_before(span.start);
        self.items.push(Item {
            kind,
            span,
            blank_before,
        });
        self.last_end = span.end;
    }

    /// A `;` standing alone.
    pub(crate) fn empty_statement(&mut self, span: Span) {
        self.last_end = span.end;
    }

    /// The end of the text.
    pub(crate) fn end(&mut self, span: Span) {
        if !self.open.is_empty() {
            self.error(SyntaxErrorKind::UnexpectedEof, span);
        }
    }

    /// A comment; `hoisted` when it stood inside a statement, which puts it
    /// before that statement on a line of its own.
    pub(crate) fn comment(&mut self, span: Span, hoisted: bool) {
        let trailing = !hoisted
            && self.last_end > 0
            && !self.src[self.last_end.min(span.start)..span.start].contains(&b'\n')
            && self
                .current_items()
                .last()
                .is_some_and(|i| !matches!(i.kind, ItemKind::Comment(_)));
        let text = Text::from(self.src[span.start..span.end].trim_ascii_end());
        self.push(ItemKind::Comment(Comment { text, trailing }), span);
    }

    fn current_items(&self) -> &[Item] {
        &self.items[self.open.last().map_or(0, |block| block.first)..]
    }

    /// `name {`: `span` runs from the name to the brace.
    pub(crate) fn block_open(&mut self, name: Name, span: Span) {
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

    pub(crate) fn block_close(&mut self, span: Span) {
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

    /// A parameter or variable statement, or the `.include` directive it
    /// spells. Its hoisted comments have been added already.
    pub(crate) fn statement(&mut self, param: Param, span: Span) {
        // jailparse.y special_param(): only `.include "x";` (name-value form,
        // plain name) is the directive; `.include = "x";` is a parameter.
        if param.op != Op::NameValue || param.is_variable || param.name.text != ".include" {
            return self.push(ItemKind::Param(param), span);
        }
        let mut patterns = Vec::new();
        for value in param.values {
            if value.vars().next().is_some() {
                let jail_line = line_after(self.src, span.end);
                self.errors.push(SyntaxError {
                    kind: SyntaxErrorKind::VariableInInclude,
                    span: value.span,
                    jail_line,
                });
            } else {
                patterns.push(value);
            }
        }
        self.push(
            ItemKind::Include(Include {
                patterns,
                files: Vec::new(),
            }),
            span,
        );
    }
}

/// A value being read, piece by piece: its extent so far, its literal text
/// not yet flushed, and its pieces.
pub(crate) struct ValueText {
    start: usize,
    end: usize,
    /// Most values are short: their text is kept in place.
    text: SmallVec<[u8; 32]>,
    pieces: Pieces,
}

impl ValueText {
    /// A value whose first piece starts at `start`.
    pub(crate) fn new(start: usize) -> Self {
        ValueText {
            start,
            end: start,
            text: SmallVec::new(),
            pieces: Pieces::new(),
        }
    }

    /// Where the value read so far ends.
    pub(crate) fn end(&self) -> usize {
        self.end
    }

    /// The value goes on to `end`.
    pub(crate) fn extend_to(&mut self, end: usize) {
        self.end = end;
    }

    /// Literal text needing no decoding (an unquoted word).
    pub(crate) fn push_verbatim(&mut self, text: &[u8]) {
        self.text.extend_from_slice(text);
    }

    /// The raw text of a lexical piece (quoted text without its quotes, an
    /// escape), decoded. Each piece is decoded on its own: jail(8) keeps
    /// each as a C string, so a NUL ends that piece only.
    pub(crate) fn push_raw(&mut self, raw: &[u8]) {
        // Text without a backslash or a NUL decodes to itself.
        if raw.iter().any(|&b| b == b'\\' || b == 0) {
            self.text.extend_from_slice(&unescape(raw));
        } else {
            self.text.extend_from_slice(raw);
        }
    }

    /// A `$name` or `${name}` reference (`name` decoded) at `span`.
    pub(crate) fn push_var(&mut self, name: Text, span: Span) {
        self.flush();
        self.pieces.push(Piece::Var { name, span });
    }

    /// The value.
    pub(crate) fn finish(mut self) -> Value {
        self.flush();
        let span = Span::new(self.start, self.end);
        Value {
            pieces: self.pieces,
            span,
        }
    }

    /// A name's text: a name is one piece, either text or a single variable.
    pub(crate) fn into_name(mut self) -> Text {
        self.flush();
        match self.pieces.pop() {
            Some(Piece::Text(name) | Piece::Var { name, .. }) => name,
            None => Text::default(),
        }
    }

    /// The literal text read since the last variable becomes a piece.
    fn flush(&mut self) {
        if !self.text.is_empty() {
            self.pieces.push(Piece::Text(Text::from(&self.text[..])));
            self.text.clear();
        }
    }
}

/// The decoded name of a `$name` or `${name}` reference.
pub(crate) fn var_name(reference: &[u8]) -> Text {
    match reference.strip_prefix(b"${") {
        Some(braced) => Text::from(unescape(&braced[..braced.len() - 1])),
        None => Text::from(&reference[1..]),
    }
}

/// flex's `yylineno` once it has read up to byte `end`.
pub(crate) fn line_after(src: &[u8], end: usize) -> usize {
    1 + src[..end.min(src.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}
