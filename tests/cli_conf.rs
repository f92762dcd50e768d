//! `runj conf fmt|check|eval`: exit statuses, messages, and formatting
//! every example. (The corpus files are formatted in `corpus.rs`.)

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{conf_files, run_with_input, runj};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conf-examples")
}

/// Runs runj in `dir`.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    runj(args).current_dir(dir).output().expect("runj runs")
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("UTF-8 output")
}

/// A temporary directory holding `t.conf` with this text.
fn conf(contents: impl AsRef<[u8]>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.conf"), contents).unwrap();
    dir
}

mod fmt {
    use super::*;

    #[test]
    fn check_exits_1_on_unformatted_input_and_0_on_formatted() {
        let dir = conf("a{path=/a;}\n");
        let o = run_in(dir.path(), &["conf", "fmt", "--check", "t.conf"]);
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(text(&o.stderr), "t.conf: not in canonical form\n");
        assert!(o.stdout.is_empty());

        let formatted = run_in(dir.path(), &["conf", "fmt", "t.conf"]);
        assert_eq!(text(&formatted.stdout), "a {\n\tpath = /a;\n}\n");
        let o = run_with_input(
            &mut runj(["conf", "fmt", "--check", "-"]),
            &formatted.stdout,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert!(o.stdout.is_empty() && o.stderr.is_empty());
    }

    #[test]
    fn write_rewrites_the_file_in_place() {
        let dir = conf("a{path=/a;}\n");
        let o = run_in(dir.path(), &["conf", "fmt", "-w", "t.conf"]);
        assert_eq!(o.status.code(), Some(0));
        assert!(o.stdout.is_empty());
        let written = std::fs::read_to_string(dir.path().join("t.conf")).unwrap();
        assert_eq!(written, "a {\n\tpath = /a;\n}\n");
    }

    #[test]
    fn a_syntax_error_exits_2_with_its_place() {
        let o = run_with_input(&mut runj(["conf", "fmt", "-"]), b"x = ;\n");
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(
            text(&o.stderr),
            "-:1:5: syntax error: unexpected `;`\n1 | x = ;\n  |     ^\n"
        );
        assert!(o.stdout.is_empty());
    }

    /// `fmt` once more changes nothing, and the formatted text evaluates
    /// as the original (from standard input in the same directory, so
    /// relative includes resolve alike).
    fn idempotent_and_faithful(dir: &Path, file: &str) -> Option<String> {
        let once = run_in(dir, &["conf", "fmt", file]);
        if !once.status.success() {
            return Some(format!("{file}: fmt failed: {}", text(&once.stderr)));
        }
        let twice = run_with_input(runj(["conf", "fmt", "-"]).current_dir(dir), &once.stdout);
        let check = run_with_input(
            runj(["conf", "fmt", "--check", "-"]).current_dir(dir),
            &once.stdout,
        );
        let eval = |input: Option<&[u8]>| {
            let args = ["conf", "eval", "-f", input.map_or(file, |_| "-"), "-e", "|"];
            match input {
                Some(bytes) => run_with_input(runj(args).current_dir(dir), bytes),
                None => run_in(dir, &args),
            }
        };
        let (before, after) = (eval(None), eval(Some(&once.stdout)));
        if twice.stdout != once.stdout || !check.status.success() {
            Some(format!("{file}: fmt is not idempotent"))
        } else if (before.stdout, before.stderr) != (after.stdout, after.stderr) {
            Some(format!("{file}: fmt changes what eval prints"))
        } else {
            None
        }
    }

    #[test]
    fn idempotent_on_every_example() {
        let dir = examples();
        let files = conf_files(&dir);
        assert!(files.len() >= 6, "{files:?}");
        let failures: Vec<_> = files
            .iter()
            .filter_map(|f| idempotent_and_faithful(&dir, f))
            .collect();
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn comments_are_kept() {
        let src = "# head\nx = a, # first\n\tb; // second\n/* tail */\n";
        let o = run_with_input(&mut runj(["conf", "fmt", "-"]), src.as_bytes());
        assert_eq!(
            text(&o.stdout),
            "# head\n# first\nx = a, b; // second\n/* tail */\n"
        );
    }
}

mod check {
    use super::*;

    #[test]
    fn a_syntax_error_exits_2_with_file_line_column_and_a_caret() {
        let dir = conf("a {\n\tpath = /a\n}\n");
        let o = run_in(dir.path(), &["conf", "check", "t.conf"]);
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(
            text(&o.stderr),
            "t.conf:3:1: syntax error: unexpected `}`\n3 | }\n  | ^\n"
        );
    }

    #[test]
    fn an_unknown_variable_exits_2_pointing_at_the_reference() {
        let dir = conf("a {\n\tpath = \"/j/$nope\";\n}\nb { path = /j/b; }\n");
        let o = run_in(dir.path(), &["conf", "check", "t.conf"]);
        assert_eq!(o.status.code(), Some(2));
        // The tab shows as four spaces; the caret stands under `$nope`.
        assert_eq!(
            text(&o.stderr),
            "t.conf:2:13: jail a: path: variable \"nope\" not found\n\
             2 |     path = \"/j/$nope\";\n  \
             |                ^^^^^\n"
        );
    }

    #[test]
    fn an_error_in_an_included_file_names_that_file() {
        let dir = conf(".include \"sub/x.conf\";\n");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/x.conf"), "a {\n\tname = b;\n}\n").unwrap();
        let o = run_in(dir.path(), &["conf", "check", "t.conf"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            text(&o.stderr).starts_with(
                "sub/x.conf:2:2: jail a: cannot redefine parameter \"name\".\n2 |     name = b;\n"
            ),
            "{}",
            text(&o.stderr)
        );
    }

    #[test]
    fn every_example_checks_clean() {
        let dir = examples();
        for file in conf_files(&dir) {
            let o = run_in(&dir, &["conf", "check", &file]);
            assert_eq!(o.status.code(), Some(0), "{file}: {}", text(&o.stderr));
        }
    }
}

mod eval {
    use super::*;

    const TWO_JAILS: &str = "path = \"/j/$name\";\na { x = \"$nope\"; }\nb { }\n";

    #[test]
    fn a_resolution_error_is_reported_and_the_jail_still_printed() {
        let dir = conf(TWO_JAILS);
        let o = run_in(dir.path(), &["conf", "eval", "-f", "t.conf", "-e", "|"]);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(text(&o.stderr), "jail: a: x: variable \"nope\" not found\n");
        assert_eq!(
            text(&o.stdout),
            "name=a|path=/j/a|x=\"\"\nname=b|path=/j/b\n"
        );
    }

    #[test]
    fn jail_arguments_select_jails_in_file_order() {
        let dir = conf("a { } b { } c { }\n");
        let o = run_in(
            dir.path(),
            &["conf", "eval", "-f", "t.conf", "-e", "|", "b"],
        );
        assert_eq!(text(&o.stdout), "name=b\n");
        let o = run_in(
            dir.path(),
            &["conf", "eval", "-f", "t.conf", "-e", "|", "c", "a"],
        );
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(text(&o.stdout), "name=a\nname=c\n");
    }

    #[test]
    fn an_unknown_jail_exits_1() {
        let dir = conf(TWO_JAILS);
        let o = run_in(dir.path(), &["conf", "eval", "-f", "t.conf", "nosuch"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            text(&o.stderr).ends_with("jail: \"nosuch\" not found\n"),
            "{}",
            text(&o.stderr)
        );
        assert!(o.stdout.is_empty());
    }

    #[test]
    fn a_missing_include_exits_1() {
        let dir = conf(".include \"missing.conf\";\na { }\n");
        let o = run_in(dir.path(), &["conf", "eval", "-f", "t.conf", "-e", "|"]);
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(
            text(&o.stderr),
            "jail: missing.conf: No such file or directory\n"
        );
        assert!(o.stdout.is_empty());
    }

    #[test]
    fn a_missing_file_exits_1() {
        let dir = tempfile::tempdir().unwrap();
        let o = run_in(dir.path(), &["conf", "eval", "-f", "none.conf", "-e", "|"]);
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(
            text(&o.stderr),
            "jail: none.conf: No such file or directory\n"
        );
    }

    #[test]
    fn a_syntax_error_exits_1_with_jail8_message() {
        let o = run_with_input(
            &mut runj(["conf", "eval", "-f", "-", "-e", "|"]),
            b"a {\n\tpath = /a\n}\n",
        );
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(text(&o.stderr), "jail: STDIN line 3: }: syntax error\n");
        assert!(o.stdout.is_empty());
    }

    #[test]
    fn without_a_separator_the_jails_print_as_jail_conf() {
        let dir = conf(TWO_JAILS);
        let o = run_in(dir.path(), &["conf", "eval", "-f", "t.conf", "b"]);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(text(&o.stdout), "b {\n\tpath = /j/b;\n}\n");
    }
}

/// jail.conf is bytes. The expected outputs are what FreeBSD's jail(8)
/// front end prints for the same files (`jail -f t.conf -e '|'`, checked
/// byte for byte).
mod bytes {
    use super::*;

    /// ISO 8859-1 comments, escapes that decode to any byte, raw bytes in
    /// quoted values and names.
    const LATIN1: &[u8] = b"# Gef\xe4ngnis f\xfcr den Webserver\n\
        www { path = /jails/www; }\n\
        a { x = \"caf\\351\"; y = \"\\777\"; z = \"\xe4\xfc\"; w = 'a b\xe9'; }\n\
        \"caf\xe9\" { path = \"/j/$name\"; ${v\xe4} = \"\xe4\"; host.hostname = \"${v\xe4}x\"; }\n";

    #[test]
    fn eval_passes_the_bytes_on_as_jail8_does() {
        let dir = conf(LATIN1);
        let o = run_in(dir.path(), &["conf", "eval", "-f", "t.conf", "-e", "|"]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            o.stdout,
            b"name=www|path=/jails/www\n\
              name=a|x=caf\xe9|y=\xff|z=\xe4\xfc|w=\"a b\xe9\"\n\
              name=caf\xe9|path=/j/caf\xe9|host.hostname=\xe4x\n"
        );
        assert!(o.stderr.is_empty());
    }

    #[test]
    fn fmt_keeps_every_byte_of_comments_and_values() {
        let dir = conf(LATIN1);
        let o = run_in(dir.path(), &["conf", "fmt", "t.conf"]);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(
            o.stdout,
            b"# Gef\xe4ngnis f\xfcr den Webserver\n\
              www {\n\tpath = /jails/www;\n}\n\n\
              a {\n\tx = \"caf\xe9\";\n\ty = \"\xff\";\n\tz = \"\xe4\xfc\";\n\tw = \"a b\xe9\";\n}\n\n\
              \"caf\xe9\" {\n\tpath = /j/$name;\n\t${v\xe4} = \"\xe4\";\n\thost.hostname = ${v\xe4}x;\n}\n"
        );
        let again = run_with_input(&mut runj(["conf", "fmt", "--check", "-"]), &o.stdout);
        assert_eq!(again.status.code(), Some(0), "fmt is idempotent");
    }

    /// `check` passes what jail(8) accepts, and warns that a plan cannot
    /// hold it, naming the jail and the parameter; bytes shown escaped.
    #[test]
    fn check_warns_about_values_a_plan_cannot_hold() {
        let dir = conf(b"a {\n\tpath = /j;\n\thost.hostname = \"caf\\351\";\n}\n");
        let o = run_in(dir.path(), &["conf", "check", "t.conf"]);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(
            text(&o.stderr),
            "t.conf:3:2: jail a: warning: parameter host.hostname's value: \"caf\\xe9\" is not \
             UTF-8 text, which a jail plan and an OCI bundle hold\n\
             3 |     host.hostname = \"caf\\351\";\n  \
             |     ^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        );
    }

    #[test]
    fn a_syntax_error_shows_the_bytes_escaped() {
        let dir = conf(b"a { x = caf\xe9; }\n");
        let o = run_in(dir.path(), &["conf", "check", "t.conf"]);
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(
            text(&o.stderr),
            "t.conf:1:12: syntax error: unexpected `\\xe9`: a byte from 0x80 must be quoted \
             (jail(8) on amd64 stops reading the file here)\n1 | a { x = caf\\xe9; }\n  |            ^^^^\n"
        );
    }

    #[test]
    fn migrate_names_the_jail_and_parameter_that_are_not_text() {
        let dir = conf(b"a { path = /j; exec.start = \"echo \xe4\"; }\n");
        let o = run_in(dir.path(), &["migrate", "-f", "t.conf", "-o", "out"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            text(&o.stderr)
                .contains("a: parameter exec.start's value: \"echo \\xe4\" is not UTF-8 text"),
            "{}",
            text(&o.stderr)
        );
        assert!(!dir.path().join("out/a/config.json").exists());
    }

    /// jail(8) on amd64 reads a file that starts with a byte order mark as
    /// empty: runj refuses it and says how to fix it, everywhere.
    #[test]
    fn a_byte_order_mark_is_refused() {
        let dir = conf(b"\xef\xbb\xbfwww { path = /jails/www; }\n");
        let eval = run_in(dir.path(), &["conf", "eval", "-f", "t.conf", "-e", "|"]);
        assert_eq!(eval.status.code(), Some(1));
        assert!(eval.stdout.is_empty());
        assert_eq!(
            text(&eval.stderr),
            "jail: t.conf: the file starts with a UTF-8 byte order mark, which jail(8) reads as \
             an empty file (it would start no jail); remove the mark (its first three bytes)\n"
        );
        let fmt = run_in(dir.path(), &["conf", "fmt", "t.conf"]);
        assert_eq!(fmt.status.code(), Some(2));
        assert!(text(&fmt.stderr).contains("byte order mark"));
        assert!(fmt.stdout.is_empty());
    }
}
