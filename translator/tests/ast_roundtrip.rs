//! Round-trip properties of the canonical printer on random syntax trees
//! full of hostile text (quotes, `$`, `\`, `;`, `#`, `//`, `/*`, braces,
//! commas, `=`, newlines, tabs, control characters, UTF-8, ISO 8859-1 and
//! arbitrary bytes in names, values and comments, empty strings):
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
    Block, Comment, Config, Include, Item, ItemKind, Loaded, Name, Op, Parallelism, Param, Piece,
    Source, Span, Text, Value, Values, escaped, load_text, parse, parse_with_pest, print, scan,
};
use runj_translator::conf::{gather, resolutions};

/// The file the printed text is read as. Its directory does not exist, so
/// the (relative, glob) include patterns generated below match nothing.
const FILE: &str = "/nonexistent-runj-roundtrip/jail.conf";

/// Fragments that each stress one lexical rule.
const HOSTILE: &[&[u8]] = &[
    b"'",
    b"\"",
    b"$",
    b"${",
    b"}",
    b"{",
    b"\\",
    b";",
    b"#",
    b"//",
    b"/*",
    b"*/",
    b"*",
    b"/",
    b",",
    b"=",
    b"+=",
    b"+",
    b"\n",
    b"\t",
    b" ",
    b"\r",
    b"\x01",
    b"\x7f",
    "é".as_bytes(),
    "🦀".as_bytes(),
    b"\xe4",
    b"\xfc",
    b"\xff",
    b"\xef\xbb\xbf",
    b"|",
    b":",
    b"@",
    b".",
    b"-",
    b"_",
    b"0",
];

/// Text of up to eight fragments, hostile, plain or any byte but NUL (which
/// ends a piece in jail(8)), possibly empty.
fn hostile() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        3 => "[a-z0-9]{1,3}".prop_map(String::into_bytes),
        2 => proptest::sample::select(HOSTILE).prop_map(<[u8]>::to_vec),
        1 => (1..=u8::MAX).prop_map(|b| vec![b]),
    ];
    proptest::collection::vec(fragment, 0..8).prop_map(|f| f.concat())
}

/// A name: usually a plain one, sometimes anything.
fn name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => "[a-z][a-z0-9_]{0,5}(\\.[a-z*][a-z0-9_]{0,3}){0,2}".prop_map(String::into_bytes),
        1 => hostile(),
    ]
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        3 => hostile().prop_map(|text| Piece::Text(Text::from(text))),
        1 => name().prop_map(|name| Piece::Var {
            name: Text::from(name),
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
                (Some(Piece::Text(last)), Piece::Text(t)) => last.push_bytes(&t),
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
                    text: Text::from(text),
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
/// [`FILE`]. File names are read as UTF-8 (the loader refuses others).
fn include() -> impl Strategy<Value = ItemKind> {
    let pattern = hostile().prop_map(|mut h| {
        h.retain(|&b| b != b'/' && b.is_ascii());
        h.push(b'*');
        Value::text(h)
    });
    proptest::collection::vec(pattern, 1..3).prop_map(|patterns| {
        ItemKind::Include(Include {
            patterns,
            files: Vec::new(),
        })
    })
}

/// A comment as the parser keeps it: one line for `#` and `//` (no trailing
/// white space), no `*/` inside `/* */`; any bytes else, NUL included.
fn comment() -> impl Strategy<Value = ItemKind> {
    let text = (hostile(), any::<bool>()).prop_map(|(mut h, nul)| {
        if nul {
            h.push(0);
        }
        h
    });
    (0..3usize, text, any::<bool>()).prop_map(|(kind, text, trailing)| {
        let line = |marker: &[u8]| {
            let mut line = [marker, &text].concat();
            line.iter_mut()
                .filter(|b| matches!(b, b'\n' | b'\r'))
                .for_each(|b| *b = b' ');
            line.trim_ascii_end().to_vec()
        };
        let text = match kind {
            0 => line(b"#"),
            1 => line(b"//"),
            _ => [&b"/*"[..], &without_comment_end(text), b"*/"].concat(),
        };
        ItemKind::Comment(Comment {
            text: Text::from(text),
            trailing,
        })
    })
}

/// `text` with every `*/` taken out, including those that taking one out
/// makes (`**//`).
fn without_comment_end(mut text: Vec<u8>) -> Vec<u8> {
    while let Some(at) = text.windows(2).position(|w| w == b"*/") {
        text.drain(at..at + 2);
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
                            text: Text::from(text),
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

/// Each jail's `-e` line (bytes) and error messages.
fn resolved(loaded: &Loaded) -> Vec<(Vec<u8>, Vec<String>)> {
    let gathered = gather(loaded, Parallelism::One);
    resolutions(&gathered, Parallelism::One)
        .iter()
        .map(|j| {
            let errors = j.errors().iter().map(|e| e.message.clone()).collect();
            let mut line = Vec::new();
            j.write_line(&mut line, b"\n\t");
            (line, errors)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn printed_text_reads_back_as_the_same_tree(items in items()) {
        let config = Config { items };
        let text = print(&config);
        let shown = escaped(&text);
        let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{e:?}\n{shown}")))?;
        prop_assert_eq!(layout_free(back), layout_free(config), "{}", shown);
    }

    /// The fast scanner reads every printed tree, hostile strings and all,
    /// as the pest grammar does.
    #[test]
    fn scanner_reads_printed_text_as_the_grammar_does(items in items()) {
        let text = print(&Config { items });
        prop_assert_eq!(
            scan(&text, Parallelism::One),
            parse_with_pest(&text).ok(),
            "{}",
            escaped(&text)
        );
    }

    #[test]
    fn printing_is_idempotent(items in items()) {
        let text = print(&Config { items });
        let shown = escaped(&text);
        let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{e:?}\n{shown}")))?;
        prop_assert_eq!(print(&back), text);
    }

    #[test]
    fn printed_text_resolves_like_the_tree(items in items()) {
        let config = Config { items };
        let text = print(&config);
        let tree = Loaded {
            sources: vec![Source {
                name: FILE.to_string(),
                text: Vec::new(),
                config,
            }],
        };
        let loaded = load_text(FILE, text.clone(), false, Parallelism::One)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", escaped(&text))))?;
        prop_assert_eq!(resolved(&loaded), resolved(&tree), "{}", escaped(&text));
    }
}
