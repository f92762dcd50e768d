//! One or more tests per rule of the jail.conf language: the lexical rules
//! of jail(8)'s `jaillex.l`, the statement grammar of `jailparse.y`, and the
//! edge cases of the reference (docs/jailconf-reference.md §1, §2, §4).
//! Expected trees are built by hand and compared without spans.

mod support;

use runj_grammar::{
    Item, ItemKind, Op, Parallelism, Piece, Span, SyntaxErrorKind, Value, escaped, parse,
    parse_with_pest, scan,
};
use support::{
    block, comment, config, include, latin1, latin1_items, param, t, text, v, value, var_param,
    without_spans,
};

/// The statements of `src`, spans removed. The fast scanner and the pest
/// grammar must read it alike, and its Latin-1 variant too
/// ([`latin1_variant`]).
fn items(src: impl AsRef<[u8]>) -> Vec<Item> {
    let src = src.as_ref();
    let items = read_alike(src);
    let (variant, expected) = latin1_variant(src, &items);
    assert_eq!(
        read_alike(&variant),
        expected,
        "the Latin-1 variant of {}",
        escaped(src)
    );
    items
}

/// `src` read by [`parse`], the scanner and pest, which must agree.
fn read_alike(src: &[u8]) -> Vec<Item> {
    let shown = escaped(src);
    let config = parse(src).unwrap_or_else(|e| panic!("{shown:?} does not parse: {e:?}"));
    assert_eq!(
        scan(src, Parallelism::One).as_ref(),
        Some(&config),
        "the scanner on {shown:?}"
    );
    assert_eq!(
        parse_with_pest(src).as_ref(),
        Ok(&config),
        "pest on {shown:?}"
    );
    without_spans(config).items
}

/// A Latin-1 variant of a text that parses to `items`, and its expected
/// statements: a Latin-1 comment before it, its characters U+0080 to U+00FF
/// in ISO 8859-1 (so also in its names and values), and a variable with a
/// Latin-1 value after it.
fn latin1_variant(src: &[u8], items: &[Item]) -> (Vec<u8>, Vec<Item>) {
    let mut variant = b"# Gef\xe4ngnis f\xfcr den Webserver\n".to_vec();
    variant.extend(latin1(src));
    variant.extend_from_slice(b"\n${gef\xe4ngnis} = \"caf\xe9\", 'F\xfc\\\xdfe';\n");
    let mut expected = vec![comment("# Gef\u{e4}ngnis f\u{fc}r den Webserver", false)];
    expected.extend(items.iter().cloned());
    expected.push(var_param(
        "gef\u{e4}ngnis",
        Op::Assign,
        vec![text("caf\u{e9}"), text("F\u{fc}\u{df}e")],
    ));
    (variant, latin1_items(expected))
}

/// The values of `x = <src>;` (comments inside it aside).
fn values(src: &str) -> Vec<Value> {
    let statement = format!("x = {src};");
    let params: Vec<_> = items(&statement)
        .into_iter()
        .filter_map(|item| match item.kind {
            ItemKind::Param(p) => Some(p),
            _ => None,
        })
        .collect();
    match params.as_slice() {
        [p] => p.values.to_vec(),
        other => panic!("{statement:?} is not one parameter: {other:?}"),
    }
}

/// The one literal value of `x = <src>;`.
fn literal(src: &str) -> String {
    match values(src).as_slice() {
        [value] => match value.pieces.as_slice() {
            [] => String::new(),
            [Piece::Text(text)] => text.to_string(),
            pieces => panic!("{src:?} is not literal text: {pieces:?}"),
        },
        other => panic!("{src:?} is not one value: {other:?}"),
    }
}

/// What jail(8) prints (without `jail: `) when `src`, read as `t.conf`,
/// fails to parse.
fn errors(src: impl AsRef<[u8]>) -> Vec<String> {
    let src = src.as_ref();
    assert_eq!(
        scan(src, Parallelism::One),
        None,
        "the scanner reads {}",
        escaped(src)
    );
    match parse(src) {
        Ok(config) => panic!("{} parses: {config:?}", escaped(src)),
        Err(e) => e.errors.iter().map(|e| e.jail_message("t.conf")).collect(),
    }
}

fn syntax_error(line: usize, token: &str) -> Vec<String> {
    vec![format!("t.conf line {line}: {token}: syntax error")]
}

fn unexpected_eof() -> Vec<String> {
    vec!["t.conf: unexpected EOF".to_string()]
}

mod comments {
    use super::*;

    #[test]
    fn hash_runs_to_the_end_of_the_line() {
        assert_eq!(
            items("# a ; b { } \"\nx;"),
            [
                comment("# a ; b { } \"", false),
                param("x", Op::Bare, vec![])
            ]
        );
    }

    #[test]
    fn double_slash_runs_to_the_end_of_the_line() {
        assert_eq!(
            items("// a ; }\nx;"),
            [comment("// a ; }", false), param("x", Op::Bare, vec![])]
        );
    }

    #[test]
    fn block_comment_spans_lines() {
        assert_eq!(
            items("/* a\n ; b */ x;"),
            [
                comment("/* a\n ; b */", false),
                param("x", Op::Bare, vec![])
            ]
        );
    }

    #[test]
    fn block_comments_do_not_nest() {
        assert_eq!(
            items("/* a /* b */ x;"),
            [comment("/* a /* b */", false), param("x", Op::Bare, vec![])]
        );
        // The first `*/` closes it; the second is a name of two pieces.
        assert_eq!(errors("/* a /* b */ x; */"), syntax_error(1, "/"));
    }

    #[test]
    fn comment_after_a_statement_is_trailing() {
        assert_eq!(
            items("x; # t\ny; /* u */\n// own line\n"),
            [
                param("x", Op::Bare, vec![]),
                comment("# t", true),
                param("y", Op::Bare, vec![]),
                comment("/* u */", true),
                comment("// own line", false),
            ]
        );
    }

    #[test]
    fn a_comment_ends_a_value_and_swallows_the_rest_of_the_line() {
        // Reference §1: `path=/a#c` gives `/a`; the `;` must come on a new line.
        assert_eq!(literal("/a#c\n"), "/a");
        assert_eq!(literal("/a/* c */"), "/a");
        assert_eq!(literal("/a// c\n"), "/a");
        assert_eq!(errors("path=/a#c;"), unexpected_eof());
    }

    #[test]
    fn an_unquoted_url_is_cut_at_the_double_slash() {
        assert_eq!(errors("url = http://h/;"), unexpected_eof());
        assert_eq!(literal("\"http://h/\""), "http://h/");
    }

    #[test]
    fn comments_inside_a_statement_are_kept_before_it() {
        assert_eq!(
            items("y; x = /* one */ a, # two\n b;"),
            [
                param("y", Op::Bare, vec![]),
                comment("/* one */", false),
                comment("# two", false),
                param("x", Op::Assign, vec![text("a"), text("b")]),
            ]
        );
        assert_eq!(
            items("a # three\n{ }"),
            [comment("# three", false), block("a", vec![])]
        );
    }

    #[test]
    fn comment_markers_inside_quotes_are_text() {
        assert_eq!(literal("\"#a//b/*c*/\""), "#a//b/*c*/");
        assert_eq!(literal("'#a//b/*c*/'"), "#a//b/*c*/");
    }

    #[test]
    fn unterminated_comment() {
        assert_eq!(
            errors("x;\n/* a\nb"),
            ["t.conf line 3: unterminated comment"]
        );
    }
}

mod words {
    use super::*;

    #[test]
    fn every_word_character_in_one_piece() {
        let word = "AZaz09_!%&()-.:<>?@[]^`|~";
        assert_eq!(literal(word), word);
    }

    #[test]
    fn single_character_pieces_join_words() {
        assert_eq!(literal("/var/jail/x"), "/var/jail/x");
        assert_eq!(literal("a+b*c/d"), "a+b*c/d");
    }

    #[test]
    fn a_dollar_that_starts_no_variable_is_literal() {
        assert_eq!(
            values("$1, a$, $-, $"),
            [text("$1"), text("a$"), text("$-"), text("$")]
        );
    }

    #[test]
    fn plus_equals_is_the_longest_match() {
        assert_eq!(items("x+=y;"), [param("x", Op::Append, vec![text("y")])]);
        assert_eq!(items("x=+y;"), [param("x", Op::Assign, vec![text("+y")])]);
        assert_eq!(literal("a+"), "a+");
    }

    #[test]
    fn white_space_and_punctuation_end_a_word() {
        // Reference §1: `exec.start = echo hello;` is two strings.
        assert_eq!(errors("exec.start = echo hello;"), syntax_error(1, "hello"));
        assert_eq!(errors("x = a=b;"), syntax_error(1, "="));
        assert_eq!(literal("\"x=y\""), "x=y");
    }

    #[test]
    fn non_ascii_must_be_quoted() {
        let src = "x = é;";
        let err = parse(src.as_bytes()).unwrap_err();
        assert_eq!(err.errors.len(), 1);
        assert!(matches!(
            err.errors[0].kind,
            SyntaxErrorKind::UnexpectedToken(_)
        ));
        assert_eq!(err.errors[0].span.start, 4);
        assert_eq!(literal("\"é 🦀\""), "é 🦀");
        assert_eq!(literal("'é'"), "é");
    }

    #[test]
    fn control_characters_must_be_quoted() {
        assert_eq!(errors("x = a\x01b;"), syntax_error(1, "\x01"));
        assert_eq!(literal("\"a\x01b\""), "a\x01b");
    }
}

mod escapes {
    use super::*;

    #[test]
    fn control_escapes_everywhere() {
        let decoded = "\x07\x08\x0c\n\r\t\x0b";
        assert_eq!(literal(r"\a\b\f\n\r\t\v"), decoded);
        assert_eq!(literal(r#""\a\b\f\n\r\t\v""#), decoded);
        assert_eq!(literal(r"'\a\b\f\n\r\t\v'"), decoded);
    }

    #[test]
    fn octal_takes_up_to_three_digits() {
        assert_eq!(literal(r"\101\1012\7"), "AA2\x07");
    }

    #[test]
    fn hex_takes_up_to_two_digits() {
        assert_eq!(literal(r#""\x41\x4a\x4;\x414""#), "AJ\x04;A4");
    }

    #[test]
    fn backslash_newline_continues_the_line() {
        assert_eq!(literal("a\\\nb"), "ab");
        assert_eq!(literal("\"a\\\nb\""), "ab");
        assert_eq!(literal("'a\\\nb'"), "ab");
    }

    #[test]
    fn any_other_escaped_character_is_itself() {
        assert_eq!(
            literal(r#"a\;b\#c\ d\"e\'f\\g\$h\{i\,j\=k"#),
            r#"a;b#c d"e'f\g$h{i,j=k"#
        );
    }

    #[test]
    fn reference_example() {
        // Reference §1: "tab\there\x41\101\qq\<newline>continued".
        assert_eq!(
            literal("\"tab\\there\\x41\\101\\qq\\\ncontinued\""),
            "tab\thereAAqqcontinued"
        );
    }

    #[test]
    fn a_nul_byte_ends_the_piece() {
        // jail(8) keeps each piece as a C string.
        assert_eq!(literal(r#""ab\0cd""#), "ab");
        assert_eq!(literal(r#""ab\0"cd"#), "abcd");
    }

    #[test]
    fn escapes_are_decoded_in_braced_variable_names() {
        assert_eq!(values(r"${a\x2eb\}c}"), [value(vec![v("a.b}c")])]);
    }
}

/// jail.conf is bytes (jaillex.l reads bytes and keeps each piece as a C
/// string): escapes and raw bytes that are not UTF-8 are passed on as they
/// are.
mod bytes {
    use super::*;

    /// The one literal value of `x = <src>;`, as bytes.
    fn literal_bytes(src: &[u8]) -> Vec<u8> {
        let statement = [&b"x = "[..], src, b";"].concat();
        match items(&statement).as_slice() {
            [item] => match &item.kind {
                ItemKind::Param(p) => match p.values.as_slice() {
                    [value] => match value.pieces.as_slice() {
                        [Piece::Text(t)] => t.to_vec(),
                        pieces => panic!("not literal: {pieces:?}"),
                    },
                    values => panic!("not one value: {values:?}"),
                },
                other => panic!("not a parameter: {other:?}"),
            },
            other => panic!("not one statement: {other:?}"),
        }
    }

    #[test]
    fn octal_and_hex_escapes_give_any_byte() {
        assert_eq!(literal_bytes(br#""caf\351""#), b"caf\xe9");
        // \777 is 511, kept in a char: 0xff.
        assert_eq!(literal_bytes(br#""\777""#), b"\xff");
        assert_eq!(literal_bytes(br"\xe4\xfc"), b"\xe4\xfc");
        assert_eq!(literal_bytes(br"'\344'"), b"\xe4");
    }

    #[test]
    fn raw_bytes_inside_quotes_are_text() {
        assert_eq!(literal_bytes(b"\"Gef\xe4ngnis\""), b"Gef\xe4ngnis");
        assert_eq!(literal_bytes(b"'f\xfcr'"), b"f\xfcr");
        assert_eq!(literal_bytes(b"\"\xff\xfe\x80\""), b"\xff\xfe\x80");
        // A backslash escapes one byte, whatever it is.
        assert_eq!(literal_bytes(b"\"\\\xe4\""), b"\xe4");
        assert_eq!(literal_bytes(b"\\\xe4"), b"\xe4");
    }

    #[test]
    fn names_may_be_any_bytes_when_quoted() {
        assert_eq!(
            items(b"\"caf\xe9\" { ${\xe4} = 1; }"),
            [block(
                "caf\u{e9}",
                vec![var_param("\u{e4}", Op::Assign, vec![text("1")])]
            )]
            .map(|b| latin1_items(vec![b]).remove(0))
        );
    }

    #[test]
    fn raw_bytes_in_comments_are_kept() {
        assert_eq!(
            items(b"# Gef\xe4ngnis\nx; /* f\xfcr */"),
            latin1_items(vec![
                comment("# Gef\u{e4}ngnis", false),
                param("x", Op::Bare, vec![]),
                comment("/* f\u{fc}r */", true),
            ])
        );
    }

    /// Outside quotes a byte from 0x80 is a token of its own, which yacc
    /// cannot use (jail(8) on amd64 even takes it for the end of the file).
    #[test]
    fn raw_bytes_outside_quotes_are_errors() {
        assert_eq!(errors(b"x = caf\xe9;"), syntax_error(1, "\\xe9"));
        // `\é` in UTF-8: the backslash escapes the first byte only.
        assert_eq!(errors("x = \\é;"), syntax_error(1, "\\xa9"));
    }

    #[test]
    fn a_byte_order_mark_is_refused() {
        let err = parse(b"\xef\xbb\xbfwww { path = /jails/www; }\n").unwrap_err();
        assert_eq!(err.errors.len(), 1);
        assert_eq!(err.errors[0].kind, SyntaxErrorKind::ByteOrderMark);
        assert_eq!(err.errors[0].span, Span::new(0, 3));
        let message = err.errors[0].jail_message("t.conf");
        assert!(message.starts_with("t.conf: the file starts with a UTF-8 byte order mark, which jail(8) reads as an empty file"), "{message}");
        assert!(message.contains("remove the mark"), "{message}");
        // Elsewhere the same bytes are text like any other.
        assert_eq!(literal_bytes(b"\"\xef\xbb\xbf\""), b"\xef\xbb\xbf");
    }
}

mod quotes {
    use super::*;

    #[test]
    fn double_quotes_substitute_variables() {
        assert_eq!(
            values("\"a $name b\""),
            [value(vec![t("a "), v("name"), t(" b")])]
        );
    }

    #[test]
    fn single_quotes_substitute_nothing() {
        assert_eq!(literal("'a $name ${b} b'"), "a $name ${b} b");
        assert_eq!(literal(r"'it\'s'"), "it's");
        assert_eq!(literal("'${never closed'"), "${never closed");
    }

    #[test]
    fn quoted_strings_span_lines() {
        assert_eq!(values("'a\nb', \"c\nd\""), [text("a\nb"), text("c\nd")]);
    }

    #[test]
    fn punctuation_inside_quotes_is_text() {
        assert_eq!(
            values(r#"";{}=,#", ';{}=,#'"#),
            [text(";{}=,#"), text(";{}=,#")]
        );
    }

    #[test]
    fn empty_strings() {
        assert_eq!(values(r#""", ''"#), [text(""), text("")]);
        assert_eq!(values(r#""""#)[0].pieces.as_slice(), []);
    }

    #[test]
    fn a_dotted_parameter_needs_braces() {
        // Reference §1: "$host.hostname" is $host and the text ".hostname".
        assert_eq!(
            values("\"$host.hostname\""),
            [value(vec![v("host"), t(".hostname")])]
        );
        assert_eq!(
            values("\"${host.hostname}\""),
            [value(vec![v("host.hostname")])]
        );
    }

    #[test]
    fn a_dollar_that_starts_no_variable_is_literal_in_double_quotes() {
        assert_eq!(
            values(r#""a$ b$", "$1", "\$name", "$(date)""#),
            [text("a$ b$"), text("$1"), text("$name"), text("$(date)")]
        );
    }

    #[test]
    fn unterminated_strings() {
        let expected = [
            "t.conf line 1: unterminated string",
            "t.conf: unexpected EOF",
        ];
        assert_eq!(errors("x = \"abc;\n"), expected);
        assert_eq!(errors("x = 'abc;\n"), expected);
    }
}

mod concatenation {
    use super::*;

    #[test]
    fn adjacent_pieces_form_one_string() {
        // Reference §1: `foo"bar"$name'baz'` gives foobar<name>baz.
        assert_eq!(
            values("foo\"bar\"$name'baz'"),
            [value(vec![t("foobar"), v("name"), t("baz")])]
        );
        assert_eq!(
            values("/var/jail/$name"),
            [value(vec![t("/var/jail/"), v("name")])]
        );
        assert_eq!(values("$a$b"), [value(vec![v("a"), v("b")])]);
        assert_eq!(literal(r#"a"b"'c'\d"#), "abcd");
    }

    #[test]
    fn a_comment_between_pieces_separates_them() {
        assert_eq!(errors("x = a/**/b;"), syntax_error(1, "b"));
    }
}

mod variables {
    use super::*;

    #[test]
    fn a_plain_variable_name_is_an_identifier() {
        assert_eq!(values("$a_1.b"), [value(vec![v("a_1"), t(".b")])]);
        assert_eq!(values("${a.b}c"), [value(vec![v("a.b"), t("c")])]);
    }

    #[test]
    fn a_variable_name_defines_a_variable() {
        assert_eq!(
            items("$v = 1; ${v.w} += 2; $u 3; $t;"),
            [
                var_param("v", Op::Assign, vec![text("1")]),
                var_param("v.w", Op::Append, vec![text("2")]),
                var_param("u", Op::NameValue, vec![text("3")]),
                var_param("t", Op::Bare, vec![]),
            ]
        );
    }

    #[test]
    fn a_variable_cannot_name_a_block() {
        assert_eq!(errors("$v { }"), syntax_error(1, "{"));
    }

    #[test]
    fn a_variable_inside_a_quoted_name_is_a_second_piece() {
        assert_eq!(errors("\"a$v\" = 1;"), syntax_error(1, "$v"));
    }

    #[test]
    fn unterminated_variable() {
        assert_eq!(
            errors("x = ${abc;\n"),
            [
                "t.conf line 1: unterminated variable",
                "t.conf: unexpected EOF"
            ]
        );
        // Inside double quotes the string still ends at its quote: only the
        // variable is reported, on each line it occurs.
        assert_eq!(
            errors("x = \"${a\";\ny = \"${b\";"),
            [
                "t.conf line 1: unterminated variable",
                "t.conf line 2: unterminated variable"
            ]
        );
        // Still reported when a syntax error follows.
        assert_eq!(
            errors("x = \"${a\";\ny = ;"),
            [
                "t.conf line 1: unterminated variable",
                "t.conf line 2: ;: syntax error"
            ]
        );
    }
}

mod statements {
    use super::*;

    #[test]
    fn the_four_forms() {
        assert_eq!(
            items("a = 1; b += 2; c 3; d;"),
            [
                param("a", Op::Assign, vec![text("1")]),
                param("b", Op::Append, vec![text("2")]),
                param("c", Op::NameValue, vec![text("3")]),
                param("d", Op::Bare, vec![]),
            ]
        );
    }

    #[test]
    fn name_value_form_takes_a_list() {
        // Reference §4: `a { path "/a"; host.hostname foo; }` is accepted.
        assert_eq!(
            items("path \"/a\"; host.hostname foo, bar;"),
            [
                param("path", Op::NameValue, vec![text("/a")]),
                param(
                    "host.hostname",
                    Op::NameValue,
                    vec![text("foo"), text("bar")]
                ),
            ]
        );
    }

    #[test]
    fn comma_separated_lists() {
        assert_eq!(
            values("a, \"b\", 'c', $d"),
            [text("a"), text("b"), text("c"), value(vec![v("d")])]
        );
    }

    #[test]
    fn a_list_needs_a_value_after_each_operator_and_comma() {
        // Reference §4: `x = ;` is a syntax error; write `x = "";`.
        assert_eq!(errors("x = ;"), syntax_error(1, ";"));
        assert_eq!(errors("x += ;"), syntax_error(1, ";"));
        assert_eq!(errors("x = a,;"), syntax_error(1, ";"));
        assert_eq!(errors("x = a b;"), syntax_error(1, "b"));
    }

    #[test]
    fn every_statement_ends_with_a_semicolon() {
        // Reference §4: `a { path = /a }` fails at `}`.
        assert_eq!(errors("a { path = /a }"), syntax_error(1, "}"));
        assert_eq!(errors("x = 1"), unexpected_eof());
    }

    #[test]
    fn stray_semicolons_are_allowed() {
        assert_eq!(
            items(";;; a { ; x; ;; } ;;"),
            [block("a", vec![param("x", Op::Bare, vec![])])]
        );
    }

    #[test]
    fn a_statement_may_span_lines() {
        assert_eq!(
            items("x\n=\n1\n,\n2\n;"),
            [param("x", Op::Assign, vec![text("1"), text("2")])]
        );
    }

    #[test]
    fn a_parameter_name_is_one_piece() {
        assert_eq!(
            items("\"exec.start\" = 1; 'a b'; * = 2;"),
            [
                param("exec.start", Op::Assign, vec![text("1")]),
                param("a b", Op::Bare, vec![]),
                param("*", Op::Assign, vec![text("2")]),
            ]
        );
        assert_eq!(errors("a\"b\";"), syntax_error(1, "\"b\""));
    }
}

mod blocks {
    use super::*;

    #[test]
    fn blocks_nest() {
        assert_eq!(
            items("a { b { c { x; } } y; }"),
            [block(
                "a",
                vec![
                    block("b", vec![block("c", vec![param("x", Op::Bare, vec![])])]),
                    param("y", Op::Bare, vec![]),
                ]
            )]
        );
    }

    #[test]
    fn quoted_names() {
        assert_eq!(
            items("\"web.*\" { } 'x y' { } \"a\\tb\" { } * { } 5 { }"),
            [
                block("web.*", vec![]),
                block("x y", vec![]),
                block("a\tb", vec![]),
                block("*", vec![]),
                block("5", vec![]),
            ]
        );
    }

    #[test]
    fn an_unquoted_wildcard_name_is_two_pieces() {
        // Reference §2: `foo.* {` is a syntax error at `*`.
        assert_eq!(errors("foo.* { }"), syntax_error(1, "*"));
        assert_eq!(errors("a\"b\" { }"), syntax_error(1, "\"b\""));
        assert_eq!(errors("a {\n  b'c' {\n  }\n}"), syntax_error(2, "'c'"));
    }

    #[test]
    fn unbalanced_braces() {
        assert_eq!(errors("}"), syntax_error(1, "}"));
        assert_eq!(errors("a {\n x;\n"), unexpected_eof());
        assert_eq!(errors("a { } }\n"), syntax_error(1, "}"));
    }

    #[test]
    fn a_semicolon_after_a_block_is_a_stray_one() {
        assert_eq!(items("a { };"), [block("a", vec![])]);
    }

    #[test]
    fn only_the_first_syntax_error_is_reported() {
        // yacc's error recovery then runs an action on an undefined value:
        // nothing after the first syntax error is defined.
        assert_eq!(errors("} }"), syntax_error(1, "}"));
        assert_eq!(errors("x = ;\ny = ;\n"), syntax_error(1, ";"));
    }
}

mod includes {
    use super::*;

    #[test]
    fn include_forms() {
        assert_eq!(
            items(".include \"a.conf\"; .include 'b/*.conf', c.conf;"),
            [
                include(vec![text("a.conf")]),
                include(vec![text("b/*.conf"), text("c.conf")]),
            ]
        );
    }

    #[test]
    fn an_include_inside_a_block_stays_there() {
        assert_eq!(
            items("a { .include \"b.conf\"; }"),
            [block("a", vec![include(vec![text("b.conf")])])]
        );
    }

    #[test]
    fn only_the_name_value_form_includes() {
        // Reference §2: `.include = "f";` is an ordinary parameter.
        assert_eq!(
            items(".include = \"f\"; .include += g; .include; ${.include} \"h\";"),
            [
                param(".include", Op::Assign, vec![text("f")]),
                param(".include", Op::Append, vec![text("g")]),
                param(".include", Op::Bare, vec![]),
                var_param(".include", Op::NameValue, vec![text("h")]),
            ]
        );
    }

    #[test]
    fn variables_are_not_permitted_in_patterns() {
        let message = "variables not permitted in '.include' filename";
        assert_eq!(
            errors(".include \"$d/x.conf\";"),
            [format!("t.conf line 1: {message}")]
        );
        // Reported when the statement ends, as jail(8) does at its `;`.
        assert_eq!(
            errors(".include\n\"${d}\"\n;\n"),
            [format!("t.conf line 3: {message}")]
        );
    }

    #[test]
    fn an_unquoted_glob_opens_a_comment() {
        assert_eq!(
            errors(".include /etc/jail.conf.d/*.conf;\n"),
            [
                "t.conf line 2: unterminated comment",
                "t.conf: unexpected EOF"
            ]
        );
    }
}

mod positions {
    use super::*;

    #[test]
    fn a_syntax_error_points_at_its_token() {
        let src = "a {\n\tpath = /a\n}\n";
        let err = parse(src.as_bytes()).unwrap_err();
        assert_eq!(err.errors.len(), 1);
        let e = &err.errors[0];
        assert_eq!(e.kind, SyntaxErrorKind::UnexpectedToken("}".into()));
        assert_eq!(e.span, Span::new(15, 16));
        assert_eq!(e.jail_line, 3);
        assert_eq!(e.jail_message("t.conf"), "t.conf line 3: }: syntax error");
        assert_eq!(err.to_string(), "syntax error: unexpected `}`");
    }

    #[test]
    fn a_token_over_several_lines_is_reported_on_its_last() {
        // flex's line counter has passed the newlines inside the token.
        assert_eq!(errors("x = a \"b\nc\";"), syntax_error(2, "\"b\nc\""));
    }

    #[test]
    fn end_of_file() {
        let err = parse(b"a {").unwrap_err();
        assert_eq!(err.errors[0].kind, SyntaxErrorKind::UnexpectedEof);
        assert_eq!(err.errors[0].span, Span::new(3, 3));
    }

    #[test]
    fn nodes_carry_their_spans() {
        let config = parse(b"a { x = 1, \"$b\"; }\n\ny;").unwrap();
        let a = &config.items[0];
        assert_eq!(a.span, Span::new(0, 18));
        let ItemKind::Block(block) = &a.kind else {
            panic!("{a:?}")
        };
        assert_eq!(block.name.span, Span::new(0, 1));
        let x = &block.items[0];
        assert_eq!(x.span, Span::new(4, 16));
        let ItemKind::Param(p) = &x.kind else {
            panic!("{x:?}")
        };
        assert_eq!(p.name.span, Span::new(4, 5));
        assert_eq!(p.values[0].span, Span::new(8, 9));
        assert_eq!(p.values[1].span, Span::new(11, 15));
        assert_eq!(
            p.values[1].pieces.as_slice(),
            [Piece::Var {
                name: "b".into(),
                span: Span::new(12, 14)
            }]
        );
        assert!(!a.blank_before);
        assert!(config.items[1].blank_before, "an empty line before y");
    }

    #[test]
    fn an_empty_file_and_comments_only() {
        assert_eq!(items(""), []);
        assert_eq!(
            without_spans(parse(b"# c\n").unwrap()),
            config(vec![comment("# c", false)])
        );
    }
}
