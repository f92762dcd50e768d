//! Building expected syntax trees, and comparing trees without their layout.

// Each test binary uses only some of these helpers.
#![allow(dead_code)]

use runj_grammar::{
    Block, Comment, Config, Include, Item, ItemKind, Name, Op, Param, Piece, Span, Value,
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
        text: text.to_string(),
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
