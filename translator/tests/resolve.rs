//! One or more tests per merge rule of jail(8)'s `load_config()` and
//! `add_param()` (docs/jailconf-reference.md §3, §4, §7). Each jail is
//! checked through the line `jail -e '|'` prints for it, and its errors
//! through the messages jail(8) prints as `jail: NAME: MESSAGE`.

use runj_grammar::{LoadError, load_text};
use runj_translator::conf::{ResolvedJail, resolve, show_line};

fn jails(src: &str) -> Vec<ResolvedJail> {
    let loaded = load_text("t.conf", src.into(), false, runj_grammar::Parallelism::One)
        .unwrap_or_else(|e| panic!("{src:?} does not load: {e}"));
    resolve(&loaded, runj_grammar::Parallelism::One)
}

/// The `jail -e '|'` output for `src`, one line per jail.
fn lines(src: &str) -> Vec<String> {
    jails(src)
        .iter()
        .map(|j| show_line(j, "|").trim_end_matches('\n').to_string())
        .collect()
}

/// The messages jail(8) prints on standard error, without `jail: `.
fn errors(src: &str) -> Vec<String> {
    jails(src)
        .iter()
        .flat_map(|j| {
            j.errors
                .iter()
                .map(move |e| format!("{}: {}", j.name, e.message))
        })
        .collect()
}

/// Resolves without errors to exactly these lines.
fn resolves_to(src: &str, expected: &[&str]) {
    assert_eq!(errors(src), Vec::<String>::new(), "{src:?}");
    assert_eq!(lines(src), expected, "{src:?}");
}

mod global {
    use super::*;

    #[test]
    fn one_global_jail_placed_at_the_first_top_level_parameter() {
        // Reference §3.1: a trailing global joins the seq-1 pseudo-jail,
        // so the jail's own value, applied later, wins.
        resolves_to(
            "persist; a { path = /a; } path = /global;",
            &["name=a|persist|path=/a"],
        );
    }

    #[test]
    fn a_global_after_every_jail_overrides_them() {
        resolves_to("a { path = /a; } path = /global;", &["name=a|path=/global"]);
    }

    #[test]
    fn explicit_star_blocks_keep_their_own_positions() {
        resolves_to("a { path = /a; } * { path = /w; }", &["name=a|path=/w"]);
        resolves_to("* { path = /w; } a { path = /a; }", &["name=a|path=/a"]);
        // The global section and a later `*` block are two wildcards.
        resolves_to("x = g; a { x = a; } * { x += w; }", &["name=a|x=a,w"]);
    }

    #[test]
    fn global_parameters_reach_every_jail_but_no_wildcard_is_printed() {
        resolves_to(
            "exec.clean; \"w.*\" { } a { } b { c { } }",
            &[
                "name=a|exec.clean",
                "name=b|exec.clean",
                "name=b.c|exec.clean",
            ],
        );
    }
}

mod wildcards {
    use super::*;

    #[test]
    fn a_wildcard_before_a_jail_yields_to_it() {
        resolves_to(
            "\"web.*\" { securelevel = 1; } web { blog { securelevel = 3; } }",
            &["name=web", "name=web.blog|securelevel=3"],
        );
    }

    #[test]
    fn a_wildcard_after_a_jail_overrides_it() {
        resolves_to(
            "web { blog { securelevel = 3; } } \"web.*\" { securelevel = 1; }",
            &["name=web", "name=web.blog|securelevel=1"],
        );
    }

    #[test]
    fn wildcards_apply_in_file_order_around_the_jail() {
        resolves_to(
            "\"*\" { x = 1; x += before; } a { x += own; } \"a\" { } \"*\" { x += after; }",
            &["name=a|x=1,before,own,after", "name=a|x=1,before,after"],
        );
    }

    #[test]
    fn a_final_star_matches_one_or_more_components() {
        resolves_to(
            "\"a.*\" { w; } a { } \"a.b\" { } \"a.b.c\" { } \"ab.c\" { }",
            &["name=a", "name=a.b|w", "name=a.b.c|w", "name=ab.c"],
        );
    }

    #[test]
    fn an_inner_star_matches_exactly_one_component() {
        resolves_to(
            "\"*.b\" { y; } \"a.*.c\" { z; } \"x.b\" { } \"x.y.b\" { } \"a.x.c\" { } \"a.x.y.c\" { }",
            &["name=x.b|y", "name=x.y.b", "name=a.x.c|z", "name=a.x.y.c"],
        );
    }

    #[test]
    fn only_a_whole_component_star_makes_a_wildcard() {
        // `a*` and `*a` are jail names, printed like any other.
        resolves_to(
            "\"a*\" { p = 1; } \"*a.b\" { p = 2; } \"*\" { q; }",
            &["name=a*|p=1|q", "name=*a.b|p=2|q"],
        );
    }

    #[test]
    fn append_in_a_wildcard_extends_what_the_jail_holds_then() {
        resolves_to(
            "x += a; a { x += b; } \"*\" { x += c; }",
            &["name=a|x=a,b,c"],
        );
    }
}

mod no_prefix {
    use super::*;

    #[test]
    fn the_last_spelling_wins() {
        // Reference §4: `allow.mount; allow.nomount; persist = false; nopersist;`.
        resolves_to(
            "a { allow.mount; allow.nomount; persist = false; nopersist; }",
            &["name=a|allow.nomount|nopersist"],
        );
    }

    #[test]
    fn the_parameter_keeps_its_first_position() {
        resolves_to(
            "a { persist; path = /a; nopersist; }",
            &["name=a|nopersist|path=/a"],
        );
        resolves_to("nopersist; a { persist; }", &["name=a|persist"]);
    }

    #[test]
    fn a_no_on_any_name_or_last_component() {
        resolves_to(
            "a { path; nopath; allow.mount.nullfs; allow.mount.nonullfs; }",
            &["name=a|nopath|allow.mount.nonullfs"],
        );
        // Not the same: a `no` in the middle, or a double `no`.
        resolves_to(
            "a { allow.mount.nullfs; allow.nomount; persist; nonopersist; }",
            &["name=a|allow.mount.nullfs|allow.nomount|persist|nonopersist"],
        );
    }
}

mod assignment {
    use super::*;

    #[test]
    fn assign_replaces_and_append_adds() {
        resolves_to("a { x = a; x += b, c; }", &["name=a|x=a,b,c"]);
        // Reference §3.2: `x += a; x = b; x += c;` gives [b, c].
        resolves_to("a { x += a; x = b; x += c; }", &["name=a|x=b,c"]);
        resolves_to("a { x = a; x b; }", &["name=a|x=b"]);
    }

    #[test]
    fn append_creates_a_missing_parameter() {
        resolves_to("a { x += a; }", &["name=a|x=a"]);
    }

    #[test]
    fn a_bare_name_clears_a_list() {
        resolves_to(
            "exec.start = \"/bin/sh /etc/rc\"; a { exec.start; } b { }",
            &["name=a|exec.start", "name=b|exec.start=\"/bin/sh /etc/rc\""],
        );
    }

    #[test]
    fn new_names_are_appended_in_merge_order() {
        resolves_to(
            "g1; \"*\" { w1; } a { own; g1 = x; w1 = y; } \"*\" { w2; }",
            &["name=a|g1=x|w1=y|own|w2"],
        );
    }

    #[test]
    fn duplicate_blocks_are_two_jails() {
        resolves_to("a { x = 1; } a { y = 2; }", &["name=a|x=1", "name=a|y=2"]);
    }
}

mod implicit_name {
    use super::*;

    #[test]
    fn the_name_comes_first() {
        resolves_to("path = /j; a { }", &["name=a|path=/j"]);
    }

    #[test]
    fn name_cannot_be_redefined_even_to_itself() {
        // Reference §4: `a { name = a; }` fails; the jail is still printed.
        let src = "a { name = a; persist; } b { }";
        assert_eq!(errors(src), ["a: cannot redefine parameter \"name\"."]);
        assert_eq!(lines(src), ["name=a|persist", "name=b"]);
        assert!(jails(src)[0].failed());
        assert!(!jails(src)[1].failed());
    }

    #[test]
    fn a_global_or_wildcard_name_fails_every_named_jail() {
        assert_eq!(
            errors("name = x; a { } b { }"),
            [
                "a: cannot redefine parameter \"name\".",
                "b: cannot redefine parameter \"name\"."
            ]
        );
        assert_eq!(
            errors("a { } \"*\" { noname; }"),
            ["a: cannot redefine parameter \"name\"."]
        );
    }

    #[test]
    fn a_numeric_jail_gets_jid_and_a_name_last() {
        // Reference §4: `5 { path = /five; }` is jid 5 (not printed), with
        // name back-filled after the other parameters.
        resolves_to("5 { path = /five; }", &["path=/five|name=5"]);
        let five = &jails("5 { }")[0];
        assert_eq!(five.params[0].name, "jid");
        assert_eq!(five.params[0].values, ["5"]);
    }

    #[test]
    fn only_a_whole_nonzero_number_is_a_jid() {
        resolves_to(
            "0 { } 007x { } \"+7\" { } 10 { }",
            &["name=0", "name=007x", "name=+7", "name=10"],
        );
        assert_eq!(jails("0 { }")[0].params[0].name, "name");
        assert_eq!(jails("\"+7\" { }")[0].params[0].name, "jid");
    }

    #[test]
    fn the_jid_cannot_be_redefined() {
        assert_eq!(
            errors("5 { jid = 6; }"),
            ["5: cannot redefine parameter \"jid\"."]
        );
    }

    #[test]
    fn a_numeric_jail_may_set_its_name() {
        // jail(8)'s jid_name_set test: `${name}` works in jid-named jails.
        resolves_to(
            "5 { host.hostname = \"${name}\"; } 6 { name = six; host.hostname = \"${name}\"; }",
            &["host.hostname=5|name=5", "name=six|host.hostname=six"],
        );
        resolves_to("name = x; 5 { }", &["name=x"]);
    }
}

mod variables {
    use super::*;

    #[test]
    fn upstream_expansion_test() {
        // 5BSD/5BSD usr.sbin/jail/tests/jail_config_test.sh, `expansion`.
        resolves_to(
            "$root = \"/srv\";\n$empty = \"\";\na {\n\tpath = \"$root/${name}\";\n\thost.hostname = \"pre${empty}post\";\n\texec.start = \"${empty}\";\n}\na.child {\n\tpath = \"$root/${name}\";\n\thost.hostname = \"${empty}child${empty}\";\n}\n",
            &[
                "name=a|path=/srv/a|host.hostname=prepost|exec.start=\"\"",
                "name=a.child|path=/srv/a.child|host.hostname=child",
            ],
        );
    }

    #[test]
    fn upstream_large_expansion_test() {
        // The same file's `large_expansion`: 8 KiB values.
        let long = "x".repeat(8192);
        resolves_to(
            &format!(
                "$long = \"{long}\";\ngrowth {{\n\tpath = \"prefix${{long}}middle${{long}}suffix\";\n}}\n"
            ),
            &[&format!("name=growth|path=prefix{long}middle{long}suffix")],
        );
    }

    #[test]
    fn variables_are_deleted() {
        resolves_to("$v = 1; a { $w = 2; p = \"$v$w\"; }", &["name=a|p=12"]);
    }

    #[test]
    fn parameters_are_variables_too() {
        resolves_to(
            "a { host.hostname = h; path = \"/j/${host.hostname}/$name\"; }",
            &["name=a|host.hostname=h|path=/j/h/a"],
        );
    }

    #[test]
    fn references_resolve_after_merging_whatever_the_order() {
        resolves_to("a { p = $v; $v = 1; }", &["name=a|p=1"]);
        resolves_to(
            "$v = g; p = $v; a { $v = own; } b { }",
            &["name=a|p=own", "name=b|p=g"],
        );
    }

    #[test]
    fn a_reference_to_an_unresolved_parameter_moves_it_first() {
        // q is resolved before p, and stays before it.
        resolves_to("a { p = \"$q\"; q = \"$r\"; $r = z; }", &["name=a|q=z|p=z"]);
    }

    #[test]
    fn lookup_is_by_exact_name() {
        let src = "a { nopersist = 1; p = \"$persist\"; }";
        assert_eq!(errors(src), ["a: p: variable \"persist\" not found"]);
    }

    #[test]
    fn a_single_value_is_substituted_inline() {
        resolves_to(
            "a { ip4.addr = 192.0.2.1; exec.start = \"ping -c1 ${ip4.addr}\"; }",
            &["name=a|ip4.addr=192.0.2.1|exec.start=\"ping -c1 192.0.2.1\""],
        );
    }

    #[test]
    fn a_whole_value_reference_to_a_list_expands_to_the_list() {
        // jail(8) dereferences NULL here (reference §3.3); runj expands.
        resolves_to(
            "a { ip4.addr = 1.1.1.1, 2.2.2.2; exec.start = ${ip4.addr}; }",
            &["name=a|ip4.addr=1.1.1.1,2.2.2.2|exec.start=1.1.1.1,2.2.2.2"],
        );
        resolves_to("a { $l = 1, 2; x = a, $l, b; }", &["name=a|x=a,1,2,b"]);
    }

    #[test]
    fn a_list_cannot_be_substituted_inline() {
        let src = "a { ip4.addr = 1.1.1.1, 2.2.2.2; exec.start = \"echo ${ip4.addr}\"; }";
        assert_eq!(
            errors(src),
            ["a: exec.start: array cannot be substituted inline"]
        );
        assert_eq!(
            lines(src),
            ["name=a|ip4.addr=1.1.1.1,2.2.2.2|exec.start=\"echo \""]
        );
        assert_eq!(
            errors("a { $l = 1, 2; x = $l$l; }"),
            ["a: x: array cannot be substituted inline"]
        );
    }

    #[test]
    fn an_unknown_variable_fails_only_its_jail() {
        let src = "a { p = \"/j/$nope\"; q = ok; } b { p = ok; }";
        assert_eq!(errors(src), ["a: p: variable \"nope\" not found"]);
        assert_eq!(lines(src), ["name=a|p=/j/|q=ok", "name=b|p=ok"]);
        let a = &jails(src)[0];
        assert!(a.failed());
        assert_eq!(a.errors[0].origin.unwrap().span.start, 12);
    }

    #[test]
    fn a_parameter_without_values_is_not_found() {
        assert_eq!(
            errors("a { persist; p = \"$persist\"; }"),
            ["a: p: variable \"persist\" not found"]
        );
    }

    #[test]
    fn a_loop_is_reported_once_at_the_variable_closing_it() {
        // Reference §3.3: `$x = "$y"; $y = "$x";`.
        let src = "a { $x = \"$y\"; $y = \"$x\"; p = $x; } b { }";
        assert_eq!(errors(src), ["a: x: variable loop"]);
        assert_eq!(lines(src), ["name=a|p=\"\"", "name=b"]);
    }

    #[test]
    fn a_variable_cannot_be_named_like_a_parameter() {
        // Reference §4: `$path = /x;`, a name jail(8) knows.
        assert_eq!(
            errors("a { $path = /x; }"),
            ["a: variable \"$path\" cannot have the same name as a parameter."]
        );
        assert_eq!(
            errors("a { $nopersist = 1; }"),
            ["a: variable \"$nopersist\" cannot have the same name as a parameter."]
        );
        // ... or like a parameter the jail already has.
        assert_eq!(
            errors("a { foo = 1; $foo = 2; }"),
            ["a: variable \"$foo\" cannot have the same name as a parameter."]
        );
        assert_eq!(lines("a { foo = 1; $foo = 2; }"), ["name=a|foo=1"]);
    }

    #[test]
    fn single_quotes_and_escaped_dollars_are_not_references() {
        resolves_to(
            "a { p = '$nope', \"\\$nope\", \\$nope; }",
            &["name=a|p=$nope,$nope,$nope"],
        );
    }
}

mod output {
    use super::*;

    #[test]
    fn separator_jid_and_empty_lists() {
        let jails = jails("7 { persist; exec.start; x = \"\", 'a b'; }");
        assert_eq!(
            show_line(&jails[0], " ; "),
            "persist ; exec.start ; x=\"\",\"a b\" ; name=7\n"
        );
    }

    #[test]
    fn values_are_quoted_as_jail8_quotes_them() {
        resolves_to(
            "a { p = \"it's\", 'say \"hi\"', \"both ' \\\"\", 'c:\\\\d', \"t\\tb\", \";#$=\"; }",
            &["name=a|p=\"it's\",'say \"hi\"',\"both ' \\\"\",c:\\\\d,\"t\tb\",;#$="],
        );
    }
}

mod includes {
    use super::*;

    /// Writes `files` (path, text) under a fresh directory.
    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn lines_of(dir: &tempfile::TempDir, main: &str) -> Vec<String> {
        let path = dir.path().join(main);
        let loaded =
            runj_grammar::load(path.to_str().unwrap(), runj_grammar::Parallelism::One).unwrap();
        resolve(&loaded, runj_grammar::Parallelism::One)
            .iter()
            .map(|j| show_line(j, "|").trim_end().to_string())
            .collect()
    }

    #[test]
    fn an_include_inside_a_block_nests_its_blocks_and_parameters() {
        // Reference §4: `a { .include "b.conf"; }` with `b {}` gives a.b.
        let dir = tree(&[
            ("main.conf", "a { .include \"b.conf\"; x = 1; }"),
            ("b.conf", "b { y = 2; }\nz = 3;\n"),
        ]);
        assert_eq!(
            lines_of(&dir, "main.conf"),
            ["name=a|z=3|x=1", "name=a.b|y=2"]
        );
    }

    #[test]
    fn top_level_parameters_of_an_included_file_are_global() {
        let dir = tree(&[
            ("main.conf", ".include \"defaults.conf\";\na { }\n"),
            ("defaults.conf", "persist;\n"),
        ]);
        assert_eq!(lines_of(&dir, "main.conf"), ["name=a|persist"]);
    }

    #[test]
    fn relative_paths_are_taken_from_the_including_file() {
        let dir = tree(&[
            ("etc/jail.conf", ".include \"jail.conf.d/*.conf\";"),
            (
                "etc/jail.conf.d/b.conf",
                "b { .include \"../common.inc\"; }",
            ),
            (
                "etc/jail.conf.d/a.conf",
                "a { .include \"../common.inc\"; }",
            ),
            ("etc/common.inc", "persist;"),
            ("etc/jail.conf.d/skipped.txt", "c { }"),
        ]);
        // A glob's matches are read in sorted order.
        assert_eq!(
            lines_of(&dir, "etc/jail.conf"),
            ["name=a|persist", "name=b|persist"]
        );
    }

    #[test]
    fn a_glob_may_match_nothing() {
        let dir = tree(&[("main.conf", ".include \"none/*.conf\";\na { }\n")]);
        assert_eq!(lines_of(&dir, "main.conf"), ["name=a"]);
    }

    #[test]
    fn a_missing_plain_file_is_an_error() {
        let dir = tree(&[("main.conf", ".include \"missing.conf\";\n")]);
        let path = dir.path().join("main.conf");
        let err =
            runj_grammar::load(path.to_str().unwrap(), runj_grammar::Parallelism::One).unwrap_err();
        let missing = dir.path().join("missing.conf");
        assert_eq!(
            err.jail_messages(),
            [format!("{}: No such file or directory", missing.display())]
        );
    }

    #[test]
    fn standard_input_includes_from_the_working_directory() {
        let err = load_text(
            "STDIN",
            ".include \"runj-missing.conf\";".into(),
            true,
            runj_grammar::Parallelism::One,
        )
        .unwrap_err();
        assert_eq!(
            err.jail_messages(),
            ["runj-missing.conf: No such file or directory"]
        );
    }

    #[test]
    fn include_depth_is_limited() {
        let dir = tree(&[("loop.conf", ".include \"loop.conf\";\n")]);
        let path = dir.path().join("loop.conf");
        let err =
            runj_grammar::load(path.to_str().unwrap(), runj_grammar::Parallelism::One).unwrap_err();
        assert!(matches!(err, LoadError::TooDeep), "{err:?}");
        assert_eq!(err.jail_messages(), ["maximum include depth exceeded"]);
    }

    #[test]
    fn a_syntax_error_names_the_included_file() {
        let dir = tree(&[
            ("main.conf", "a { }\n.include \"bad.conf\";\n"),
            ("bad.conf", "\nx = ;\n"),
        ]);
        let path = dir.path().join("main.conf");
        let err =
            runj_grammar::load(path.to_str().unwrap(), runj_grammar::Parallelism::One).unwrap_err();
        let bad = dir.path().join("bad.conf");
        assert_eq!(
            err.jail_messages(),
            [format!("{} line 2: ;: syntax error", bad.display())]
        );
    }
}
