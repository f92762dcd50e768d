//! Building expected syntax trees, and comparing trees without their layout.

// Each test binary uses only some of these helpers.
#![allow(dead_code)]

use runj_grammar::{
    Block, Comment, Config, Include, Item, ItemKind, Name, Op, Param, Piece, Span, Text, Value,
};

/// `config` with every span zeroed and every blank-line mark cleared, so
/// that trees can be compared for content alone.
pub fn without_spans(mut config: Config) -> Config {
    strip_items(&mut config.items);
    config
}

fn strip_items(items: &mut [Item]) {
    for item in items {
        item.span = Span::default();
        item.blank_before = false;
        match &mut item.kind {
            ItemKind::Param(p) => {
                p.name.span = Span::default();
                p.values.iter_mut().for_each(strip_value);
            }
            ItemKind::Block(b) => {
                b.name.span = Span::default();
                strip_items(&mut b.items);
            }
            ItemKind::Include(i) => i.patterns.iter_mut().for_each(strip_value),
            ItemKind::Comment(_) => {}
        }
    }
}

fn strip_value(value: &mut Value) {
    value.span = Span::default();
    for piece in &mut value.pieces {
        if let Piece::Var { span, .. } = piece {
            *span = Span::default();
        }
    }
}

fn item(kind: ItemKind) -> Item {
    Item {
        kind,
        span: Span::default(),
        blank_before: false,
    }
}

fn name(text: &str) -> Name {
    Name {
        text: text.into(),
        span: Span::default(),
    }
}

/// A parameter statement.
pub fn param(text: &str, op: Op, values: Vec<Value>) -> Item {
    item(ItemKind::Param(Param {
        name: name(text),
        is_variable: false,
        op,
        values: values.into(),
    }))
}

/// A variable definition (`$text = ...`).
pub fn var_param(text: &str, op: Op, values: Vec<Value>) -> Item {
    item(ItemKind::Param(Param {
        name: name(text),
        is_variable: true,
        op,
        values: values.into(),
    }))
}

pub fn block(text: &str, items: Vec<Item>) -> Item {
    item(ItemKind::Block(Block {
        name: name(text),
        items,
    }))
}

pub fn include(patterns: Vec<Value>) -> Item {
    item(ItemKind::Include(Include {
        patterns,
        files: Vec::new(),
    }))
}

pub fn comment(text: &str, trailing: bool) -> Item {
    item(ItemKind::Comment(Comment {
        text: text.into(),
        trailing,
    }))
}

/// A value of literal text (`""` for the empty string, which has no pieces).
pub fn text(s: &str) -> Value {
    if s.is_empty() {
        value(Vec::new())
    } else {
        Value::text(s)
    }
}

pub fn value(pieces: Vec<Piece>) -> Value {
    Value {
        pieces: pieces.into(),
        span: Span::default(),
    }
}

/// A literal piece.
pub fn t(s: &str) -> Piece {
    Piece::Text(s.into())
}

/// A variable reference piece.
pub fn v(name: &str) -> Piece {
    Piece::Var {
        name: name.into(),
        span: Span::default(),
    }
}

pub fn config(items: Vec<Item>) -> Config {
    Config { items }
}

/// `src` with every character from U+0080 to U+00FF written in ISO 8859-1
/// (one byte) rather than UTF-8; other bytes as they are.
pub fn latin1(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len());
    for chunk in src.utf8_chunks() {
        for c in chunk.valid().chars() {
            match u8::try_from(u32::from(c)) {
                Ok(b) => out.push(b),
                Err(_) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        out.extend_from_slice(chunk.invalid());
    }
    out
}

/// The tree with [`latin1`] applied to every name, text and comment.
pub fn latin1_items(items: Vec<Item>) -> Vec<Item> {
    items.into_iter().map(latin1_item).collect()
}

fn latin1_text(text: &mut Text) {
    *text = Text::from(latin1(text));
}

fn latin1_item(mut item: Item) -> Item {
    match &mut item.kind {
        ItemKind::Param(p) => {
            latin1_text(&mut p.name.text);
            p.values.iter_mut().for_each(latin1_value);
        }
        ItemKind::Block(b) => {
            latin1_text(&mut b.name.text);
            b.items = latin1_items(std::mem::take(&mut b.items));
        }
        ItemKind::Include(i) => i.patterns.iter_mut().for_each(latin1_value),
        ItemKind::Comment(c) => latin1_text(&mut c.text),
    }
    item
}

fn latin1_value(value: &mut Value) {
    for piece in &mut value.pieces {
        match piece {
            Piece::Text(t) | Piece::Var { name: t, .. } => latin1_text(t),
        }
    }
}
