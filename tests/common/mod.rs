//! Helpers shared by the integration tests.
//!
//! A test whose prerequisite is missing (the shared corpus, root, a
//! containerd) prints `SKIPPED: ...` on standard error and passes, unless the
//! environment says `CI=true`: there a missing prerequisite fails the test.

// Each test binary uses only some of these helpers.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub mod lab;
mod prerequisite;
pub use prerequisite::prerequisite;

/// `../shared/corpus/jailconf` beside the workspace, if it is there.
pub fn jailconf_corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/jailconf"
    ));
    let found = dir.join("expected").is_dir();
    prerequisite(
        found,
        &format!("jail.conf corpus {} not found", dir.display()),
    )
    .then_some(dir)
}

/// The `*.conf` files directly in `dir`, by name.
pub fn conf_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".conf"))
        .collect();
    names.sort();
    names
}

/// A `runj` command with these arguments.
pub fn runj<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(args: I) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_runj"));
    command.args(args);
    command
}

/// Runs `command` (runj with `args`), which must succeed; its output.
pub fn succeeds(mut command: Command, args: &[&str]) -> Output {
    let out = command.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "runj {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `command` (runj with `args`), which must fail; its standard error.
pub fn fails(mut command: Command, args: &[&str]) -> String {
    let out = command.stdin(Stdio::null()).output().unwrap();
    assert!(
        !out.status.success(),
        "runj {args:?} succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `command` with `input` on its standard input.
pub fn run_with_input(command: &mut Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runj starts");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input)
        .expect("stdin written");
    child.wait_with_output().expect("runj finishes")
}

/// A 64-bit ELF executable without a `PT_INTERP` program header: it runs
/// in a root file system that has no dynamic loader.
pub fn is_static(path: &Path) -> bool {
    let Ok(elf) = std::fs::read(path) else {
        return false;
    };
    let number = |at: usize, len: usize| -> usize {
        elf.get(at..at + len).map_or(0, |b| {
            b.iter()
                .rev()
                .fold(0, |n, byte| n << 8 | usize::from(*byte))
        })
    };
    if elf.get(..5) != Some(b"\x7fELF\x02") {
        return false;
    }
    let (offset, size, count) = (number(32, 8), number(54, 2), number(56, 2));
    const PT_INTERP: usize = 3;
    (0..count).all(|i| number(offset + i * size, 4) != PT_INTERP)
}

/// Kills (SIGKILL) a process `start` starts at `rounds` points spread over
/// the time a whole run takes (and a little beyond), calling `after` with
/// the round and the delay after each kill; a whole run first, which must
/// succeed, and `after` once for it. Fails unless more than a quarter of
/// the runs were killed before they ended.
pub fn kill_at_spread_points(
    rounds: u32,
    start: impl Fn() -> std::process::Child,
    mut after: impl FnMut(u32, std::time::Duration),
) {
    let started = std::time::Instant::now();
    assert!(start().wait().unwrap().success(), "a whole run");
    let whole = started.elapsed();
    after(0, whole);
    let mut killed = 0;
    for round in 0..rounds {
        let delay = whole.mul_f64(f64::from(round) / f64::from(rounds) * 1.2);
        let mut child = start();
        std::thread::sleep(delay);
        let _ = child.kill();
        if !child.wait().unwrap().success() {
            killed += 1;
        }
        after(round, delay);
    }
    assert!(
        killed > rounds / 4,
        "only {killed} of {rounds} runs were killed"
    );
}
