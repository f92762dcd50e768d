//! The fast scanner against the pest grammar, which defines the language:
//! on any text, the scanner gives the tree the grammar gives, and gives up
//! exactly where the grammar reports an error.

use proptest::prelude::*;
use runj_grammar::{parse, parse_with_pest, scan};

fn assert_agree(text: &str) {
    let parsed = parse_with_pest(text);
    assert_eq!(scan(text).as_ref(), parsed.as_ref().ok(), "{text:?}");
    assert_eq!(parse(text), parsed, "{text:?}");
}

/// Texts near the edges of the lexical rules, valid and not.
#[test]
fn edge_cases() {
    for text in [
        "",
        ";;",
        "a;",
        "a",
        "a {",
        "}",
        "a { b { c; } }",
        "\"a.*\" { x; }",
        "* { x = 1; }",
        "$v { }",
        "$v = 1;",
        "${a.b} = x;",
        "a = b c;",
        "a b, c ,d;",
        "a+=b;",
        "a += ;",
        "a = = b;",
        "a=b/c;",
        "a=b//c\n;",
        "a=b/*c*/;",
        "a = /* c */ b /* d */ , /* e */ c /* f */ ;",
        "a # c\n = # d\n b;",
        "a # c\n { }",
        "a = b # c",
        "/* a */ b; // c\n# d",
        "/* a",
        "a = \"b",
        "a = 'b",
        "a = '\\'';",
        "a = \"\\\"$x${y}\\$z $ $1 ${a\\}b}\";",
        "a = \"${a\"}\";",
        "a = ${a\"b};",
        "a = ${a\nb};",
        "a = \"${a\";",
        "a = ${;",
        "a = $;",
        "a = $1;",
        "a = \\x41\\101\\q\\xg\\",
        "a = \\x41\\101\\q\\xg;",
        "a = \\\n b;",
        "a = \"\\0x\"\\0y;",
        "a = \"\\xff\";",
        "\"a$b\" = 1;",
        "'a$b' = 1;",
        "a\"b\" = 1;",
        "a+b = 1;",
        "*a { }",
        "a*;",
        "a.* { }",
        "a = *+/$;",
        "a = b,;",
        "a = b\r;\r\n",
        "a\x0b= b;",
        "a = b\x0c;",
        "a = \"ä\" 'ö' ü;",
        "a = \"\0\";",
        ".include \"x\";",
        ".include \"$x\";",
        ".include = \"x\";",
        "$a = 1; a { $a { } }",
        "a {\n\n  b;\n\n\n  c;\n;\n d;\n}\n\n# end\n",
    ] {
        assert_agree(text);
    }
}

/// Blocks nested beyond the limit are an error on both sides.
#[test]
fn nesting_limit() {
    let deep = "a {".repeat(runj_grammar::MAX_NESTING + 1) + &"}".repeat(129);
    assert_agree(&deep);
}

/// Fragments of jail.conf: whole statements, and every token and
/// character class the lexer distinguishes.
const FRAGMENTS: &[&str] = &[
    "a = b;",
    "x.y += \"v\";",
    "p;",
    "n {",
    "}",
    "\"q.*\" {",
    "$v = \"$w\";",
    "a",
    "b.c",
    "1",
    "\"s\"",
    "'t'",
    "\"$x\"",
    "\"${y.z}\"",
    "${u}",
    "$v",
    "\\",
    "\\n",
    "\\x4",
    "\\08",
    ";",
    "{",
    "}",
    "=",
    "+=",
    "+",
    ",",
    "*",
    "/",
    "$",
    "${",
    "\"",
    "'",
    "#c",
    "//c",
    "/*",
    "*/",
    " ",
    "\t",
    "\n",
    "\r",
    "\n\n",
    "\x0b",
    "\0",
    "é",
    "🦀",
    ".include",
    "-",
    "!",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn scanner_agrees_with_the_grammar(parts in prop::collection::vec(
        prop::sample::select(FRAGMENTS), 0..24,
    )) {
        assert_agree(&parts.concat());
    }
}

/// A text long enough to be read in two halves on two threads (when the
/// machine has two cores): `jails` blocks with comments and blank lines.
fn long_text(jails: usize, indent: &str) -> String {
    let mut text = String::from("$root = \"/j\";\n");
    for i in 0..jails {
        let blank = if i % 3 == 0 { "\n\n" } else { "" };
        text.push_str(&format!(
            "# jail {i}\n{blank}j{i} {{\n{indent}path = \"$root/{i}\"; # trailing\n\n{indent}allow.raw_sockets;\n}}\n;\n{blank}"
        ));
    }
    text
}

/// Read in halves, a long text gives the tree of the whole; where the half
/// boundary falls inside a block (no indentation tells it apart), the
/// scanner reads the text in one go; an error in either half is found.
#[test]
fn long_texts() {
    for indent in ["\t", ""] {
        let text = long_text(4000, indent);
        assert!(text.len() > 256 * 1024);
        assert_agree(&text);
        let middle = text.len() / 2;
        let mut broken = text.clone();
        broken.insert_str(middle + text[middle..].find('\n').unwrap(), " = ");
        assert_agree(&broken);
        let mut broken = text.clone();
        broken.insert(text.len() / 4, '{');
        assert_agree(&broken);
    }
}
