//! The canonical printer: [`Config`] → jail.conf text.
//!
//! Layout: one statement per line, tab indentation inside blocks, `=` for the
//! name-value form, a blank line before each block and wherever the source
//! had one. Values are printed bare when every character is safe outside
//! quotes, otherwise double-quoted with escapes, so that reading the output
//! back gives the same tree (`parse(print(c))` equals `c` but for spans and
//! layout) and printing is idempotent.

use std::fmt::Write as _;

use crate::ast::{Config, Item, ItemKind, Op, Param, Piece, Value};

/// Prints a whole file.
pub fn print(config: &Config) -> String {
    let mut out = String::new();
    print_items(&mut out, &config.items, 0);
    out
}

fn print_items(out: &mut String, items: &[Item], depth: usize) {
    let mut previous: Option<&Item> = None;
    for item in items {
        if let ItemKind::Comment(c) = &item.kind
            && c.trailing
            && previous.is_some()
        {
            out.pop();
            let _ = writeln!(out, " {}", c.text);
            previous = Some(item);
            continue;
        }
        if let Some(prev) = previous {
            let after_block = matches!(prev.kind, ItemKind::Block(_));
            let before_block = matches!(item.kind, ItemKind::Block(_))
                && !matches!(prev.kind, ItemKind::Comment(_));
            if item.blank_before || after_block || before_block {
                out.push('\n');
            }
        }
        indent(out, depth);
        match &item.kind {
            ItemKind::Param(p) => print_param(out, p),
            ItemKind::Include(inc) => {
                out.push_str(".include ");
                print_values(out, &inc.patterns);
                out.push(';');
            }
            ItemKind::Comment(c) => out.push_str(&c.text),
            ItemKind::Block(b) => {
                print_name(out, &b.name.text);
                out.push_str(" {\n");
                print_items(out, &b.items, depth + 1);
                indent(out, depth);
                out.push('}');
            }
        }
        out.push('\n');
        previous = Some(item);
    }
}

fn indent(out: &mut String, depth: usize) {
    out.extend(std::iter::repeat_n('\t', depth));
}

fn print_param(out: &mut String, p: &Param) {
    if p.is_variable {
        print_var(out, &p.name.text, None);
    } else {
        print_name(out, &p.name.text);
    }
    match p.op {
        Op::Bare => {}
        Op::Assign | Op::NameValue => out.push_str(" = "),
        Op::Append => out.push_str(" += "),
    }
    print_values(out, &p.values);
    out.push(';');
}

fn print_values(out: &mut String, values: &[Value]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        print_value(out, v);
    }
}

/// Characters of jail(8)'s unquoted word rule.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_!%&()-.:<>?@[]^`|~".contains(c)
}

/// Prints a block or parameter name, which must stay one lexical piece.
pub fn print_name(out: &mut String, name: &str) {
    if name == "*" || (!name.is_empty() && name.chars().all(is_word_char)) {
        out.push_str(name);
    } else {
        out.push('"');
        escape_into(out, name, "\"$\\");
        out.push('"');
    }
}

/// True when `value` reads back the same without quotes.
fn is_bare(value: &Value) -> bool {
    let mut printed = String::new();
    for piece in &value.pieces {
        match piece {
            Piece::Text(t) => {
                if !t.chars().all(|c| is_word_char(c) || "/*+".contains(c)) {
                    return false;
                }
                printed.push_str(t);
            }
            Piece::Var { name, .. } => {
                if name.contains(['"', '{', '}', '\\', '\n']) {
                    return false;
                }
                printed.push('$');
            }
        }
    }
    !printed.is_empty() && !printed.contains("//") && !printed.contains("/*")
}

/// Prints one value, bare when safe, else double-quoted.
pub fn print_value(out: &mut String, value: &Value) {
    let bare = is_bare(value);
    if !bare {
        out.push('"');
    }
    for (i, piece) in value.pieces.iter().enumerate() {
        match piece {
            Piece::Text(t) if bare => out.push_str(t),
            Piece::Text(t) => escape_into(out, t, "\"$\\"),
            Piece::Var { name, .. } => {
                let next = match value.pieces.get(i + 1) {
                    Some(Piece::Text(t)) => t.chars().next(),
                    _ => None,
                };
                print_var(out, name, next);
            }
        }
    }
    if !bare {
        out.push('"');
    }
}

/// `$name` when the name is an identifier and no identifier character
/// follows, `${name}` otherwise (with `"{}\` and newlines escaped).
fn print_var(out: &mut String, name: &str, next: Option<char>) {
    let ident = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let joins = next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident && !joins {
        out.push('$');
        out.push_str(name);
    } else {
        out.push_str("${");
        escape_into(out, name, "\"{}\\");
        out.push('}');
    }
}

/// Escapes `special` characters with a backslash and control characters as
/// `\n`, `\t`, `\r` or `\xHH`.
fn escape_into(out: &mut String, text: &str, special: &str) {
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if special.contains(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}
