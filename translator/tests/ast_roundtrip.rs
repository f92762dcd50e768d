//! Round-trip properties of the canonical printer on random syntax trees
//! full of hostile text (quotes, `$`, `\`, `;`, `#`, `//`, `/*`, braces,
//! commas, `=`, newlines, tabs, control characters, non-ASCII, empty strings):
//!
//! - reading the printed text back gives the same tree, but for spans,
//!   blank lines, which comments trail a statement, and `name value` written
//!   as `name = value`;
//! - printing is idempotent;
//! - the printed text resolves to the same jails as the tree itself.

#[path = "../../grammar/tests/support/mod.rs"]
mod support;

use proptest::prelude::*;
use runj_grammar::{
    Block, Comment, Config, Include, Item, ItemKind, Loaded, Name, Op, Param, Piece, Source, Span,
    Value, Values, load_text, parse, parse_with_pest, print, scan,
};
use runj_translator::conf::{resolve, show_line};

/// The file the printed text is read as. Its directory does not exist, so
/// the (relative, glob) include patterns generated below match nothing.
const FILE: &str = "/nonexistent-runj-roundtrip/jail.conf";

/// Fragments that each stress one lexical rule.
const HOSTILE: &[&str] = &[
    "'", "\"", "$", "${", "}", "{", "\\", ";", "#", "//", "/*", "*/", "*", "/", ",", "=", "+=",
    "+", "\n", "\t", " ", "\r", "\x01", "\x7f", "é", "🦀", "|", ":", "@", ".", "-", "_", "0",
];

/// Text of up to eight fragments, hostile or plain, possibly empty.
fn hostile() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        3 => "[a-z0-9]{1,3}",
        2 => proptest::sample::select(HOSTILE).prop_map(str::to_string),
    ];
    proptest::collection::vec(fragment, 0..8).prop_map(|f| f.concat())
}

/// A name: usually a plain one, sometimes anything.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[a-z][a-z0-9_]{0,5}(\\.[a-z*][a-z0-9_]{0,3}){0,2}",
        1 => hostile(),
    ]
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        3 => hostile().prop_map(|text| Piece::Text(text.into())),
        1 => name().prop_map(|name| Piece::Var {
            name: name.into(),
            span: Span::default()
        }),
    ]
}

/// A value as the parser builds it: no empty text, no two texts in a row.
fn value() -> impl Strategy<Value = Value> {
    proptest::collection::vec(piece(), 0..4).prop_map(|pieces| {
        let mut merged: Vec<Piece> = Vec::new();
        for piece in pieces {
            match (merged.last_mut(), piece) {
                (_, Piece::Text(t)) if t.is_empty() => {}
                (Some(Piece::Text(last)), Piece::Text(t)) => last.push_str(&t),
                (_, piece) => merged.push(piece),
            }
        }
        Value {
            pieces: merged.into(),
            span: Span::default(),
        }
    })
}

fn param() -> impl Strategy<Value = ItemKind> {
    let op = proptest::sample::select(vec![Op::Bare, Op::Assign, Op::Append, Op::NameValue]);
    (
        name(),
        any::<bool>(),
        op,
        proptest::collection::vec(value(), 1..4),
    )
        .prop_map(|(text, is_variable, op, values)| {
            ItemKind::Param(Param {
                name: Name {
                    text: text.into(),
                    span: Span::default(),
                },
                is_variable,
                op,
                values: if op == Op::Bare {
                    Values::new()
                } else {
                    values.into()
                },
            })
        })
}

/// `.include` of glob patterns without a `/`, which match nothing beside
/// [`FILE`].
fn include() -> impl Strategy<Value = ItemKind> {
    let pattern = hostile().prop_map(|h| Value::text(format!("{}*", h.replace('/', ""))));
    proptest::collection::vec(pattern, 1..3).prop_map(|patterns| {
        ItemKind::Include(Include {
            patterns,
            files: Vec::new(),
        })
    })
}

/// A comment as the parser keeps it: one line for `#` and `//` (no trailing
/// white space), no `*/` inside `/* */`.
fn comment() -> impl Strategy<Value = ItemKind> {
    let text = hostile().prop_map(|h| h.replace(['\n', '\r'], " "));
    (0..3usize, text, any::<bool>()).prop_map(|(kind, text, trailing)| {
        let text = match kind {
            0 => format!("#{text}").trim_end().to_string(),
            1 => format!("//{text}").trim_end().to_string(),
            _ => format!("/*{}*/", without_comment_end(text)),
        };
        ItemKind::Comment(Comment { text, trailing })
    })
}

/// `text` with every `*/` taken out, including those that taking one out
/// makes (`**//`).
fn without_comment_end(mut text: String) -> String {
    while text.contains("*/") {
        text = text.replace("*/", "");
    }
    text
}

fn item(kind: ItemKind, blank_before: bool) -> Item {
    Item {
        kind,
        span: Span::default(),
        blank_before,
    }
}

/// Items, blocks nested up to three deep. A comment only trails an item
/// that is not itself a comment, as the parser records it.
fn items() -> impl Strategy<Value = Vec<Item>> {
    let leaf = prop_oneof![4 => param(), 1 => include(), 2 => comment()];
    let kinds = leaf.prop_recursive(3, 48, 6, |inner| {
        prop_oneof![
            3 => inner.clone(),
            1 => (name(), proptest::collection::vec((inner, any::<bool>()), 0..6)).prop_map(
                |(text, items)| {
                    ItemKind::Block(Block {
                        name: Name {
                            text: text.into(),
                            span: Span::default(),
                        },
                        items: consistent(items),
                    })
                }
            ),
        ]
    });
    proptest::collection::vec((kinds, any::<bool>()), 0..8).prop_map(consistent)
}

fn consistent(kinds: Vec<(ItemKind, bool)>) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    for (mut kind, blank_before) in kinds {
        if let ItemKind::Comment(c) = &mut kind {
            c.trailing &= items
                .last()
                .is_some_and(|i| !matches!(i.kind, ItemKind::Comment(_)));
        }
        items.push(item(kind, blank_before));
    }
    items
}

/// `config` as the printer's output can be expected to read back.
fn layout_free(config: Config) -> Config {
    fn normalize(items: &mut [Item]) {
        for item in items {
            match &mut item.kind {
                ItemKind::Param(p) if p.op == Op::NameValue => p.op = Op::Assign,
                ItemKind::Comment(c) => c.trailing = false,
                ItemKind::Block(b) => normalize(&mut b.items),
                _ => {}
            }
        }
    }
    let mut config = support::without_spans(config);
    normalize(&mut config.items);
    config
}

/// Each jail's `-e` line and error messages.
fn resolved(loaded: &Loaded) -> Vec<(String, Vec<String>)> {
    resolve(loaded)
        .iter()
        .map(|j| {
            let errors = j.errors.iter().map(|e| e.message.clone()).collect();
            (show_line(j, "\n\t"), errors)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn printed_text_reads_back_as_the_same_tree(items in items()) {
        let config = Config { items };
        let text = print(&config);
        let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{e:?}\n{text}")))?;
        prop_assert_eq!(layout_free(back), layout_free(config), "{}", text);
    }

    /// The fast scanner reads every printed tree, hostile strings and all,
    /// as the pest grammar does.
    #[test]
    fn scanner_reads_printed_text_as_the_grammar_does(items in items()) {
        let text = print(&Config { items });
        prop_assert_eq!(scan(&text), parse_with_pest(&text).ok(), "{}", text);
    }

    #[test]
    fn printing_is_idempotent(items in items()) {
        let text = print(&Config { items });
        let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{e:?}\n{text}")))?;
        prop_assert_eq!(print(&back), text);
    }

    #[test]
    fn printed_text_resolves_like_the_tree(items in items()) {
        let config = Config { items };
        let text = print(&config);
        let tree = Loaded {
            sources: vec![Source {
                name: FILE.to_string(),
                text: String::new(),
                config,
            }],
        };
        let loaded = load_text(FILE, text.clone(), false)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(resolved(&loaded), resolved(&tree), "{}", text);
    }
}
