//! The canonical printer: [`Config`] → jail.conf text.
//!
//! Layout: one statement per line, tab indentation inside blocks, `=` for the
//! name-value form, a blank line before each block and wherever the source
//! had one. Values are printed bare when every character is safe outside
//! quotes, otherwise double-quoted with escapes, so that reading the output
//! back gives the same tree (`parse(print(c))` equals `c` but for spans and
//! layout) and printing is idempotent. Bytes that are not ASCII are printed
//! as they are, inside quotes, and comments are printed byte for byte.

use std::io::Write as _;

use crate::ast::{Config, Item, ItemKind, Op, Param, Piece, Value};

/// Prints a whole file.
pub fn print(config: &Config) -> Vec<u8> {
    let mut out = Vec::new();
    print_items(&mut out, &config.items, 0);
    out
}

fn print_items(out: &mut Vec<u8>, items: &[Item], depth: usize) {
    let mut previous: Option<&Item> = None;
    for item in items {
        if let ItemKind::Comment(c) = &item.kind
            && c.trailing
            && previous.is_some()
        {
            out.pop();
            out.push(b' ');
            out.extend_from_slice(&c.text);
            out.push(b'\n');
            previous = Some(item);
            continue;
        }
        if let Some(prev) = previous {
            let after_block = matches!(prev.kind, ItemKind::Block(_));
            let before_block = matches!(item.kind, ItemKind::Block(_))
                && !matches!(prev.kind, ItemKind::Comment(_));
            if item.blank_before || after_block || before_block {
                out.push(b'\n');
            }
        }
        indent(out, depth);
        match &item.kind {
            ItemKind::Param(p) => print_param(out, p),
            ItemKind::Include(inc) => {
                out.extend_from_slice(b".include ");
                print_values(out, &inc.patterns);
                out.push(b';');
            }
            ItemKind::Comment(c) => out.extend_from_slice(&c.text),
            ItemKind::Block(b) => {
                print_name(out, &b.name.text);
                out.extend_from_slice(b" {\n");
                print_items(out, &b.items, depth + 1);
                indent(out, depth);
                out.push(b'}');
            }
        }
        out.push(b'\n');
        previous = Some(item);
    }
}

fn indent(out: &mut Vec<u8>, depth: usize) {
    out.extend(std::iter::repeat_n(b'\t', depth));
}

fn print_param(out: &mut Vec<u8>, p: &Param) {
    if p.is_variable {
        print_var(out, &p.name.text, None);
    } else {
        print_name(out, &p.name.text);
    }
    match p.op {
        Op::Bare => {}
        Op::Assign | Op::NameValue => out.extend_from_slice(b" = "),
        Op::Append => out.extend_from_slice(b" += "),
    }
    print_values(out, &p.values);
    out.push(b';');
}

fn print_values(out: &mut Vec<u8>, values: &[Value]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        print_value(out, v);
    }
}

/// Bytes of jail(8)'s unquoted word rule.
fn is_word_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_!%&()-.:<>?@[]^`|~".contains(&b)
}

/// Prints a block or parameter name, which must stay one lexical piece.
pub fn print_name(out: &mut Vec<u8>, name: &[u8]) {
    if name == b"*" || (!name.is_empty() && name.iter().all(|&b| is_word_char(b))) {
        out.extend_from_slice(name);
    } else {
        out.push(b'"');
        escape_into(out, name, b"\"$\\");
        out.push(b'"');
    }
}

/// True when `value` reads back the same without quotes.
fn is_bare(value: &Value) -> bool {
    let mut printed = Vec::new();
    for piece in &value.pieces {
        match piece {
            Piece::Text(t) => {
                if !t.iter().all(|&b| is_word_char(b) || b"/*+".contains(&b)) {
                    return false;
                }
                printed.extend_from_slice(t);
            }
            Piece::Var { name, .. } => {
                if name.iter().any(|b| b"\"{}\\\n".contains(b)) {
                    return false;
                }
                printed.push(b'$');
            }
        }
    }
    !printed.is_empty() && !printed.windows(2).any(|w| w == b"//" || w == b"/*")
}

/// Prints one value, bare when safe, else double-quoted.
pub fn print_value(out: &mut Vec<u8>, value: &Value) {
    let bare = is_bare(value);
    if !bare {
        out.push(b'"');
    }
    for (i, piece) in value.pieces.iter().enumerate() {
        match piece {
            Piece::Text(t) if bare => out.extend_from_slice(t),
            Piece::Text(t) => escape_into(out, t, b"\"$\\"),
            Piece::Var { name, .. } => {
                let next = match value.pieces.get(i + 1) {
                    Some(Piece::Text(t)) => t.first().copied(),
                    _ => None,
                };
                print_var(out, name, next);
            }
        }
    }
    if !bare {
        out.push(b'"');
    }
}

/// `$name` when the name is an identifier and no identifier character
/// follows, `${name}` otherwise (with `"{}\` and newlines escaped).
fn print_var(out: &mut Vec<u8>, name: &[u8], next: Option<u8>) {
    let ident = name
        .first()
        .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_')
        && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_');
    let joins = next.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ident && !joins {
        out.push(b'$');
        out.extend_from_slice(name);
    } else {
        out.extend_from_slice(b"${");
        escape_into(out, name, b"\"{}\\");
        out.push(b'}');
    }
}

/// Escapes `special` bytes with a backslash and control characters as
/// `\n`, `\t`, `\r` or `\xHH`; other bytes, ASCII or not, stay as they are.
fn escape_into(out: &mut Vec<u8>, text: &[u8], special: &[u8]) {
    for &b in text {
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b if b.is_ascii_control() => {
                let _ = write!(out, "\\x{b:02x}");
            }
            b if special.contains(&b) => out.extend_from_slice(&[b'\\', b]),
            b => out.push(b),
        }
    }
}
