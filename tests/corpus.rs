//! `runj conf eval -e '|'` against what FreeBSD's jail(8) printed for every
//! file of the shared corpus (`../shared/corpus/jailconf/expected/`), and
//! `runj conf fmt` keeping that output, idempotently.

mod common;

use std::path::Path;
use std::process::Output;

use common::{conf_files, jailconf_corpus, run_with_input, runj};

/// What jail(8) did with one corpus file.
struct Expected {
    stdout: Vec<u8>,
    /// The exit status and standard error when jail(8) failed.
    failure: Option<(i32, String)>,
}

fn expected(dir: &Path, conf: &str) -> Expected {
    let stem = conf.strip_suffix(".conf").expect("a .conf file");
    let out = dir.join("expected").join(format!("{stem}.out"));
    let stdout = std::fs::read(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    let failure = std::fs::read_to_string(dir.join("expected").join(format!("{stem}.err")))
        .ok()
        .map(|err| {
            let (status, stderr) = err.split_once('\n').unwrap_or((&err, ""));
            let status: i32 = status
                .strip_prefix("exit ")
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("{stem}.err: first line is not `exit N`"));
            // A status above 128 is jail(8) killed by a signal (061: an
            // upstream crash after the message); runj reports and exits 1.
            (if status > 128 { 1 } else { status }, stderr.to_string())
        });
    Expected { stdout, failure }
}

fn eval(dir: &Path, conf: &str) -> Output {
    runj(["conf", "eval", "-f", conf, "-e", "|"])
        .current_dir(dir)
        .output()
        .expect("runj runs")
}

/// The differences between `out` and what jail(8) did, if any.
fn compare(conf: &str, out: &Output, want: &Expected) -> Option<String> {
    let mut problems = Vec::new();
    if out.stdout != want.stdout {
        problems.push(format!(
            "stdout differs:\n--- jail(8)\n{}--- runj\n{}",
            String::from_utf8_lossy(&want.stdout),
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    match &want.failure {
        None if !out.status.success() => {
            problems.push(format!("exit status {} (want 0): {stderr}", out.status));
        }
        Some((status, message)) => {
            if out.status.code() != Some(*status) {
                problems.push(format!("exit status {} (want {status})", out.status));
            }
            if stderr != *message {
                problems.push(format!(
                    "stderr differs:\n--- jail(8)\n{message}--- runj\n{stderr}"
                ));
            }
        }
        None => {}
    }
    (!problems.is_empty()).then(|| format!("{conf}: {}", problems.join("\n")))
}

#[test]
fn eval_matches_jail8_on_every_corpus_file() {
    let Some(dir) = jailconf_corpus() else {
        return;
    };
    let files = conf_files(&dir);
    assert!(!files.is_empty(), "no .conf files in {}", dir.display());
    let failures: Vec<String> = files
        .iter()
        .filter_map(|conf| compare(conf, &eval(&dir, conf), &expected(&dir, conf)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} files differ from jail(8):\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

/// The corpus file `text` in ISO 8859-1: a variable with a Latin-1 value
/// set on its first line (variables are not printed), and Latin-1 text at
/// the end of every comment line; jail(8) prints the same for it.
fn latin1_variant(text: &[u8]) -> Vec<u8> {
    let mut out = b"$runj_latin1 = \"Gef\xe4ngnis f\xfcr caf\xe9 \\351\"; ".to_vec();
    for line in text.split_inclusive(|&b| b == b'\n') {
        let (body, end) = match line.strip_suffix(b"\n") {
            Some(body) => (body, &b"\n"[..]),
            None => (line, &b""[..]),
        };
        out.extend_from_slice(body);
        if body.trim_ascii_start().starts_with(b"#") {
            out.extend_from_slice(b" Gef\xe4ngnis f\xfcr den Webserver \xff");
        }
        out.extend_from_slice(end);
    }
    out
}

/// Every corpus file in ISO 8859-1 ([`latin1_variant`], its includes too,
/// in a copy of the corpus) evaluates as jail(8) evaluated the file.
#[test]
fn eval_matches_jail8_on_the_latin1_variant_of_every_corpus_file() {
    let Some(dir) = jailconf_corpus() else {
        return;
    };
    let copy = tempfile::tempdir().expect("a temporary directory");
    let files = conf_files(&dir);
    for conf in &files {
        let text = std::fs::read(dir.join(conf)).expect("read the file");
        let variant = latin1_variant(&text);
        assert_ne!(variant, text);
        std::fs::write(copy.path().join(conf), variant).expect("write the variant");
    }
    let failures: Vec<String> = files
        .iter()
        .filter_map(|conf| compare(conf, &eval(copy.path(), conf), &expected(&dir, conf)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} Latin-1 variants differ from jail(8):\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

/// Formatting a corpus file and evaluating the result (from standard input,
/// in the same directory, so relative includes resolve alike) prints what
/// evaluating the file itself prints, and formatting again changes nothing;
/// only files jail(8) rejects may fail to format.
#[test]
fn fmt_preserves_eval_on_every_corpus_file() {
    let Some(dir) = jailconf_corpus() else {
        return;
    };
    let mut failures = Vec::new();
    for conf in conf_files(&dir) {
        let original = eval(&dir, &conf);
        let fmt = runj(["conf", "fmt", &conf])
            .current_dir(&dir)
            .output()
            .expect("runj runs");
        if !fmt.status.success() {
            if original.status.success() {
                failures.push(format!(
                    "{conf}: fmt fails but eval does not: {}",
                    String::from_utf8_lossy(&fmt.stderr)
                ));
            }
            continue;
        }
        let twice = run_with_input(runj(["conf", "fmt", "-"]).current_dir(&dir), &fmt.stdout);
        if twice.stdout != fmt.stdout {
            failures.push(format!("{conf}: fmt is not idempotent"));
        }
        let again = run_with_input(
            runj(["conf", "eval", "-f", "-", "-e", "|"]).current_dir(&dir),
            &fmt.stdout,
        );
        if (again.status.code(), &again.stdout, &again.stderr)
            != (original.status.code(), &original.stdout, &original.stderr)
        {
            failures.push(format!(
                "{conf}: after fmt, eval gives\n{}{}instead of\n{}{}",
                String::from_utf8_lossy(&again.stdout),
                String::from_utf8_lossy(&again.stderr),
                String::from_utf8_lossy(&original.stdout),
                String::from_utf8_lossy(&original.stderr),
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The fast scanner reads every corpus file and example to the tree the pest
/// grammar gives, and gives up exactly on the files the grammar rejects.
#[test]
fn scanner_agrees_with_the_grammar_on_every_corpus_file() {
    let Some(dir) = jailconf_corpus() else {
        return;
    };
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf-examples");
    let mut checked = 0;
    for dir in [dir, examples.clone(), examples.join("jail.conf.d")] {
        for conf in conf_files(&dir) {
            let text = std::fs::read(dir.join(&conf)).expect("read the file");
            let scanned = runj_grammar::scan(&text, runj_grammar::Parallelism::One);
            let parsed = runj_grammar::parse_with_pest(&text);
            assert_eq!(scanned.as_ref(), parsed.as_ref().ok(), "{conf}: {parsed:?}");
            checked += 1;
        }
    }
    assert!(checked > 82, "only {checked} files");
}
