//! The fast scanner: reads a jail.conf text byte by byte straight into the
//! tree [`Builder`], without pest's generated parser and its bookkeeping.
//!
//! `jailconf.pest` defines the language; this module follows its rules one
//! by one (the rule each function follows is named in its comment) for the
//! texts that parse, and gives up on anything else — any syntax or lexical
//! error, a backslash at the very end — so that pest reads that text and
//! reports its errors. Where this scanner returns a tree, it is the tree the
//! pest grammar gives: the test suite checks that over the corpus, every
//! example and generated texts (`grammar/tests/scanner.rs`), and the fuzz
//! target over whatever it finds.
//!
//! It exists for speed: on large files pest's parser took most of
//! `runj conf eval`'s time (docs/performance.md).

use memchr::{memchr, memchr2, memchr3, memmem};

use crate::ast::{Config, Item, Name, Op, Param, Span, Text, Value, Values};
use crate::builder::{Builder, ValueText, var_name};
use crate::parallelism::Parallelism;

/// Reads `src` to its syntax tree, or `None` where the text has an error
/// (or a construct this scanner leaves to the pest grammar):
/// [`crate::parse`] then parses it with pest.
///
/// A large text is read in two halves at once, on two threads, when
/// `parallelism` allows them.
pub fn scan(src: &[u8], parallelism: Parallelism) -> Option<Config> {
    if src.len() >= PARALLEL_MIN_LEN
        && parallelism.threads() > 1
        && let Some(split) = split_point(src)
        && let Some(items) = scan_halves(src, split)
    {
        return Some(Config { items });
    }
    scan_from(Builder::new(src), 0).map(|items| Config { items })
}

/// Texts from this long are read in two halves.
const PARALLEL_MIN_LEN: usize = 256 * 1024;

/// The tree of `src` from byte `pos`, at the top level, into `builder`.
fn scan_from(builder: Builder<'_>, pos: usize) -> Option<Vec<Item>> {
    let src = builder.src();
    let mut scanner = Scanner { src, pos, builder };
    scanner.config()?;
    scanner.builder.finish().ok().map(|config| config.items)
}

/// Reads the text before `split` and the text from it at once. The first
/// half parsing on its own, with no block left open, proves that `split`
/// stands between two top-level statements, where the second half's reading
/// starts: then the two trees together are the whole text's tree. Where the
/// first half does not parse, the whole text is read in one go (the split
/// may have fallen inside a block or a string); where the second does not,
/// neither does the whole text.
fn scan_halves(src: &[u8], split: usize) -> Option<Vec<Item>> {
    // Where the last token before the split ends (the blanks before it are
    // what the first item after it looks back over for blank lines).
    let last_end = src[..split]
        .iter()
        .rposition(|b| !matches!(b, b'\t' | b'\n' | b'\r' | b' '))
        .map_or(0, |i| i + 1);
    let (first, second) = std::thread::scope(|scope| {
        let second = scope.spawn(|| scan_from(Builder::resume(src, last_end), split));
        let first = scan_from(Builder::new(&src[..split]), 0);
        (first, second.join().expect("the scanner does not panic"))
    });
    let mut items = first?;
    items.extend(second?);
    Some(items)
}

/// A line start near the middle of `src` where a top-level statement or
/// comment is likely to begin: the line starts with a name or a comment,
/// not with blanks or a `}`.
fn split_point(bytes: &[u8]) -> Option<usize> {
    let middle = bytes.len() / 2;
    memchr::memchr_iter(b'\n', &bytes[middle..])
        .map(|i| middle + i + 1)
        .find(|&at| bytes.get(at).is_some_and(|&b| b == b'#' || is_word(b)))
}

/// Gives up: the text is left to the pest grammar.
struct GiveUp;

type Scan<T> = Result<T, GiveUp>;

/// What a lexical piece was, as far as names care.
#[derive(PartialEq, Eq)]
enum PieceKind {
    Word,
    /// `$name` or `${name}`.
    Var,
    /// A double-quoted string with a variable inside.
    QuotedWithVar,
    Other,
}

struct Scanner<'s> {
    src: &'s [u8],
    pos: usize,
    builder: Builder<'s>,
}

impl<'s> Scanner<'s> {
    fn at(&self, i: usize) -> Option<u8> {
        self.src.get(i).copied()
    }

    fn here(&self) -> Option<u8> {
        self.at(self.pos)
    }

    /// Gives up when the builder has found an error.
    fn check(&self) -> Scan<()> {
        if self.builder.has_errors() {
            Err(GiveUp)
        } else {
            Ok(())
        }
    }

    /// `config`: statements, block ends, empty statements and comments.
    fn config(&mut self) -> Option<()> {
        loop {
            self.skip_blanks();
            let Some(byte) = self.here() else {
                let end = self.src.len();
                self.builder.end(Span::new(end, end));
                return self.check().ok();
            };
            let start = self.pos;
            match byte {
                b';' => {
                    self.pos += 1;
                    self.builder.empty_statement(Span::new(start, self.pos));
                }
                b'}' => {
                    self.pos += 1;
                    self.builder.block_close(Span::new(start, self.pos));
                }
                _ if self.comment_starts() => self.comment(false).ok()?,
                _ => self.named_statement().ok()?,
            }
            self.check().ok()?;
        }
    }

    /// `blank`.
    fn skip_blanks(&mut self) {
        while let Some(b'\t' | b'\n' | b'\r' | b' ') = self.here() {
            self.pos += 1;
        }
    }

    fn comment_starts(&self) -> bool {
        match self.here() {
            Some(b'#') => true,
            Some(b'/') => matches!(self.at(self.pos + 1), Some(b'/' | b'*')),
            _ => false,
        }
    }

    /// `comment`: `#…` and `//…` to the end of the line, `/* … */`.
    fn comment(&mut self, hoisted: bool) -> Scan<()> {
        let start = self.pos;
        let end = if self.src[start..].starts_with(b"/*") {
            let close = memmem::find(&self.src[start + 2..], b"*/").ok_or(GiveUp)?;
            start + 2 + close + 2
        } else {
            memchr(b'\n', &self.src[start..]).map_or(self.src.len(), |i| start + i)
        };
        self.pos = end;
        self.builder.comment(Span::new(start, end), hoisted);
        Ok(())
    }

    /// `trivia`: blanks and comments, the comments hoisted before the
    /// statement they stand in.
    fn trivia(&mut self) -> Scan<()> {
        loop {
            self.skip_blanks();
            if !self.comment_starts() {
                return Ok(());
            }
            self.comment(true)?;
        }
    }

    /// `named_statement`: a block's head, or a parameter statement.
    fn named_statement(&mut self) -> Scan<()> {
        let start = self.pos;
        // Mostly a word, which is its own text.
        let mut head = ValueText::new(start);
        let kind = if self.here().is_some_and(is_word) {
            self.pos = self.word_end(start);
            PieceKind::Word
        } else {
            self.piece(&mut head)?.ok_or(GiveUp)?
        };
        let head_end = self.pos;
        // `&separator | !piece_start`: a name is one piece.
        match self.here() {
            Some(b' ' | b';' | b'=' | b'\t' | b'\n' | b'{') => {}
            Some(_) if !self.piece_starts() => {}
            _ => return Err(GiveUp),
        }
        if kind == PieceKind::QuotedWithVar {
            return Err(GiveUp);
        }
        self.trivia()?;
        let is_variable = kind == PieceKind::Var;
        let text = if kind == PieceKind::Word {
            Text::from(&self.src[start..head_end])
        } else {
            head.into_name()
        };
        let name = Name {
            text,
            span: Span::new(start, head_end),
        };
        let op = match (self.here(), self.at(self.pos + 1)) {
            (Some(b'{'), _) if !is_variable => {
                self.pos += 1;
                self.builder.block_open(name, Span::new(start, self.pos));
                return Ok(());
            }
            (Some(b';'), _) => Op::Bare,
            (Some(b'='), _) => Op::Assign,
            (Some(b'+'), Some(b'=')) => Op::Append,
            (Some(b'{') | None, _) => return Err(GiveUp),
            _ => Op::NameValue,
        };
        let values = match op {
            Op::Bare => {
                self.pos += 1;
                Values::new()
            }
            _ => {
                self.pos += match op {
                    Op::Assign => 1,
                    Op::Append => 2,
                    _ => 0,
                };
                self.trivia()?;
                self.values()?
            }
        };
        let param = Param {
            name,
            is_variable,
            op,
            values,
        };
        self.builder.statement(param, Span::new(start, self.pos));
        Ok(())
    }

    /// `values`: values separated by commas, up to and including the `;`.
    fn values(&mut self) -> Scan<Values> {
        let mut values = Values::new();
        values.push(self.value()?);
        if self.here() == Some(b';') {
            self.pos += 1;
            return Ok(values);
        }
        self.trivia()?;
        while self.here() == Some(b',') {
            self.pos += 1;
            self.trivia()?;
            values.push(self.value()?);
            self.trivia()?;
        }
        if self.here() != Some(b';') {
            return Err(GiveUp);
        }
        self.pos += 1;
        Ok(values)
    }

    /// One value: a piece and the pieces adjacent to it (`adjacent`).
    fn value(&mut self) -> Scan<Value> {
        let mut value = ValueText::new(self.pos);
        self.piece(&mut value)?.ok_or(GiveUp)?;
        while !matches!(self.here(), None | Some(b';' | b' ' | b'\t' | b'\n' | b','))
            && self.piece(&mut value)?.is_some()
        {}
        Ok(value.finish())
    }

    /// `piece_start`: a piece (or a malformed one) starts here.
    fn piece_starts(&self) -> bool {
        match self.here() {
            Some(b'"' | b'\'' | b'\\' | b'$' | b'*') => true,
            Some(b'+') => self.at(self.pos + 1) != Some(b'='),
            Some(b'/') => !matches!(self.at(self.pos + 1), Some(b'/' | b'*')),
            Some(b) => is_word(b),
            None => false,
        }
    }

    /// `piece`: reads one lexical piece into `value`. `None` where no piece
    /// starts here; gives up on a malformed one.
    fn piece(&mut self, value: &mut ValueText) -> Scan<Option<PieceKind>> {
        let start = self.pos;
        let Some(byte) = self.here() else {
            return Ok(None);
        };
        let kind = match byte {
            b if is_word(b) => {
                self.pos = self.word_end(start);
                value.push_verbatim(&self.src[start..self.pos]);
                PieceKind::Word
            }
            b'"' => self.double_quoted(value)?,
            b'$' => match self.variable_end(start, true)? {
                Some(end) => {
                    self.pos = end;
                    let span = Span::new(start, end);
                    value.push_var(var_name(&self.src[start..end]), span);
                    PieceKind::Var
                }
                None => self.single_char(value),
            },
            b'\'' => {
                self.pos = self.single_quoted_end(start)?;
                value.push_raw(&self.src[start + 1..self.pos - 1]);
                PieceKind::Other
            }
            b'\\' => {
                self.pos = self.escape_end(start)?;
                value.push_raw(&self.src[start..self.pos]);
                PieceKind::Other
            }
            b'*' => self.single_char(value),
            b'+' if self.at(start + 1) != Some(b'=') => self.single_char(value),
            b'/' if !matches!(self.at(start + 1), Some(b'/' | b'*')) => self.single_char(value),
            _ => return Ok(None),
        };
        value.extend_to(self.pos);
        Ok(Some(kind))
    }

    /// The end of the word at `start`.
    fn word_end(&self, start: usize) -> usize {
        start
            + self.src[start..]
                .iter()
                .take_while(|&&b| is_word(b))
                .count()
    }

    /// `single_char`: a `$`, `*`, `+` or `/` that is text.
    fn single_char(&mut self, value: &mut ValueText) -> PieceKind {
        value.push_raw(&self.src[self.pos..self.pos + 1]);
        self.pos += 1;
        PieceKind::Other
    }

    /// `var_ref` (`unquoted`) and `dq_var` (inside double quotes, where a
    /// `"` cannot stand in the braces): the end of the `$name` or `${name}`
    /// at `start`, `None` where the `$` is text. Gives up on a `${` left
    /// open.
    fn variable_end(&self, start: usize, unquoted: bool) -> Scan<Option<usize>> {
        match self.at(start + 1) {
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => {
                let ident = self.src[start + 2..]
                    .iter()
                    .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_')
                    .count();
                Ok(Some(start + 2 + ident))
            }
            Some(b'{') => {
                let mut i = start + 2;
                loop {
                    match self.at(i).ok_or(GiveUp)? {
                        b'}' => return Ok(Some(i + 1)),
                        b'\\' => i = self.after_char(i + 1)?,
                        b'\n' | b'{' => return Err(GiveUp),
                        b'"' if !unquoted => return Err(GiveUp),
                        _ => i += 1,
                    }
                }
            }
            _ => Ok(None),
        }
    }

    /// `plain_quoted` and `double_quoted`: text runs (`dq_text`) decoded one
    /// by one, variables (`dq_var`) between them.
    fn double_quoted(&mut self, value: &mut ValueText) -> Scan<PieceKind> {
        let mut kind = PieceKind::Other;
        let mut run = self.pos + 1;
        let mut i = run;
        loop {
            let found = i + memchr3(b'"', b'\\', b'$', &self.src[i..]).ok_or(GiveUp)?;
            match self.src[found] {
                b'"' => {
                    value.push_raw(&self.src[run..found]);
                    self.pos = found + 1;
                    return Ok(kind);
                }
                b'\\' => i = self.after_char(found + 1)?,
                _ => match self.variable_end(found, false)? {
                    Some(end) => {
                        value.push_raw(&self.src[run..found]);
                        let span = Span::new(found, end);
                        value.push_var(var_name(&self.src[found..end]), span);
                        kind = PieceKind::QuotedWithVar;
                        (run, i) = (end, end);
                    }
                    None => i = found + 1,
                },
            }
        }
    }

    /// `single_quoted`: the end of the string opened at `start`.
    fn single_quoted_end(&self, start: usize) -> Scan<usize> {
        let mut i = start + 1;
        loop {
            let found = i + memchr2(b'\'', b'\\', &self.src[i..]).ok_or(GiveUp)?;
            if self.src[found] == b'\'' {
                return Ok(found + 1);
            }
            i = self.after_char(found + 1)?;
        }
    }

    /// `escape`: `\ooo` (one to three octal digits), `\xH[H]`, or a
    /// backslash and any one character. A backslash ending the text is left
    /// to pest.
    fn escape_end(&self, start: usize) -> Scan<usize> {
        let digits = |from: usize, max: usize, ok: fn(&u8) -> bool| {
            self.src[from..]
                .iter()
                .take(max)
                .take_while(|b| ok(b))
                .count()
        };
        let octal = digits(start + 1, 3, |b| (b'0'..=b'7').contains(b));
        if octal > 0 {
            return Ok(start + 1 + octal);
        }
        if self.at(start + 1) == Some(b'x') {
            let hex = digits(start + 2, 2, u8::is_ascii_hexdigit);
            if hex > 0 {
                return Ok(start + 2 + hex);
            }
        }
        self.after_char(start + 1)
    }

    /// The end of the byte at `i`: what a backslash escapes (flex's
    /// `\\(.|\n)`, one byte, whatever it is).
    fn after_char(&self, i: usize) -> Scan<usize> {
        if i < self.src.len() {
            Ok(i + 1)
        } else {
            Err(GiveUp)
        }
    }
}

/// `word`: `[A-Za-z0-9_!%&()\-.:<>?@\[\]^`|~]`, jail(8)'s unquoted
/// characters.
fn is_word(b: u8) -> bool {
    WORD[usize::from(b)]
}

const WORD: [bool; 256] = {
    let mut table = [false; 256];
    let chars = b"!%&()-.:<>?@[]^_`|~";
    let mut i = 0;
    while i < chars.len() {
        table[chars[i] as usize] = true;
        i += 1;
    }
    let mut b = 0;
    while b < 256 {
        if (b as u8).is_ascii_alphanumeric() {
            table[b] = true;
        }
        b += 1;
    }
    table
};
