//! The fast scanner against the pest grammar, which defines the language:
//! on any text, the scanner gives the tree the grammar gives, and gives up
//! exactly where the grammar reports an error.

use proptest::prelude::*;
use runj_grammar::{Parallelism, escaped, parse, parse_with_pest, scan};

/// The scanner, on one thread and on two, gives pest's tree or gives up
/// where pest fails; [`parse`] gives pest's result.
fn assert_agree(text: impl AsRef<[u8]>) {
    let text = text.as_ref();
    let parsed = parse_with_pest(text);
    let shown = escaped(text);
    let two = Parallelism::Threads(2.try_into().expect("2 is not 0"));
    for parallelism in [Parallelism::One, two] {
        let scanned = scan(text, parallelism);
        assert_eq!(
            scanned.as_ref(),
            parsed.as_ref().ok(),
            "{parallelism:?} {shown:?}"
        );
    }
    assert_eq!(parse(text), parsed, "{shown:?}");
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
    assert_agree(deep);
}

/// Fragments of jail.conf: whole statements, every token and character
/// class the lexer distinguishes, and bytes that are not UTF-8.
const FRAGMENTS: &[&[u8]] = &[
    b"a = b;",
    b"x.y += \"v\";",
    b"p;",
    b"n {",
    b"}",
    b"\"q.*\" {",
    b"$v = \"$w\";",
    b"a",
    b"b.c",
    b"1",
    b"\"s\"",
    b"'t'",
    b"\"$x\"",
    b"\"${y.z}\"",
    b"${u}",
    b"$v",
    b"\\",
    b"\\n",
    b"\\x4",
    b"\\08",
    b";",
    b"{",
    b"}",
    b"=",
    b"+=",
    b"+",
    b",",
    b"*",
    b"/",
    b"$",
    b"${",
    b"\"",
    b"'",
    b"#c",
    b"//c",
    b"/*",
    b"*/",
    b" ",
    b"\t",
    b"\n",
    b"\r",
    b"\n\n",
    b"\x0b",
    b"\0",
    "é".as_bytes(),
    "🦀".as_bytes(),
    b".include",
    b"-",
    b"!",
    b"\xe4",
    b"\xff",
    b"\x80",
    b"\xef\xbb\xbf",
    b"\"\xe4\"",
    b"# \xfc",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn scanner_agrees_with_the_grammar(parts in prop::collection::vec(
        prop::sample::select(FRAGMENTS), 0..24,
    )) {
        assert_agree(parts.concat());
    }
}

/// A text long enough to be read in two halves on two threads:
/// `jails` blocks with comments and blank lines.
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
