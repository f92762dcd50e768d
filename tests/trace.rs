//! The FreeBSD backend's contract: for every jail, runj takes exactly the
//! actions FreeBSD's jail(8) takes.
//!
//! 1. `runj apply --dry-run --format trace [--remove] FILE#JAIL` equals the
//!    trace recorded from jail(8)'s `-c`/`-r` for every file of the shared
//!    corpus (`../shared/corpus/jailconf/expected-trace/FILE/JAIL.create`
//!    and `.remove`), byte for byte.
//! 2. The steps `apply`, `create` and `delete` run are the printed ones:
//!    run on the recording backend, whose every call is one trace line,
//!    the creation and the removal of every corpus and example jail record
//!    exactly what the dry run prints.

mod common;

use std::path::Path;

use common::{conf_files, jailconf_corpus, runj};
use runj_executor::record::Recorder;
use runj_executor::steps::{self, Persist, Removal, create_sequence, remove_sequence};
use runj_translator::conf::resolve;
use runj_translator::{JailPlan, lower, lower_for_removal};

/// Traces runj does not yet reproduce, each with the reason. A removal
/// whose address is a template placeholder (`[busybox-ip]`, `{{@}}`):
/// jail(8) runs ifconfig(8) with the text, runj's plan holds only
/// addresses that parse, and leaves the alias out.
const DIVERGENT: &[&str] = &[
    "030-jackvz-build-linux-on-freebsd-jail/busybox.remove",
    "030-jackvz-build-linux-on-freebsd-jail/debian.remove",
    "075-mjakob-gh-jailer-jail.template/%%JAIL_NAME%%.remove",
    "079-skrp-UNIX-jail/jail1.remove",
];

#[test]
fn dry_run_traces_equal_jail8s() {
    let Some(corpus) = jailconf_corpus() else {
        return;
    };
    let traces = corpus.join("expected-trace");
    let mut compared = 0;
    let mut mismatched = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&traces)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for dir in files {
        let file = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for expected in names {
            let name = expected.file_name().unwrap().to_string_lossy().into_owned();
            let (jail, mode) = name.rsplit_once('.').unwrap();
            let mut args = vec!["apply", "--dry-run", "--format", "trace"];
            if mode == "remove" {
                args.push("--remove");
            }
            let source = format!("{file}.conf#{jail}");
            args.push(&source);
            let out = runj(&args).current_dir(&corpus).output().unwrap();
            let want = std::fs::read(&expected).unwrap();
            let key = format!("{file}/{name}");
            compared += 1;
            let same = out.status.success() && out.stdout == want;
            match (same, DIVERGENT.contains(&key.as_str())) {
                (true, false) | (false, true) => {}
                (true, true) => panic!("{key} matches jail(8) now: take it off DIVERGENT"),
                (false, false) => mismatched.push(format!(
                    "{key}\n--- runj (exit {:?}):\n{}{}\n--- jail(8):\n{}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr),
                    String::from_utf8_lossy(&want)
                )),
            }
        }
    }
    assert!(compared >= 170, "only {compared} traces found");
    assert!(
        mismatched.is_empty(),
        "{} of {compared} traces differ from jail(8)'s:\n{}",
        mismatched.len(),
        mismatched.join("\n")
    );
}

/// The plans of a jail.conf, for creation and for removal.
fn plans(file: &Path) -> Vec<(Option<JailPlan>, Option<JailPlan>)> {
    let loaded =
        runj_grammar::load(file.to_str().unwrap(), runj_grammar::Parallelism::One).unwrap();
    resolve(&loaded, runj_grammar::Parallelism::One)
        .iter()
        .map(|j| {
            let usable = |p: Option<JailPlan>| p.filter(|p| p.mounts.fstab_files.is_empty());
            (usable(lower(j).plan), usable(lower_for_removal(j).plan))
        })
        .collect()
}

/// Runs the creation and the removal of every jail of `file` on the
/// recording backend; returns how many sequences were compared.
fn recorded_equals_printed(file: &Path) -> usize {
    let mut compared = 0;
    for (create_plan, remove_plan) in plans(file) {
        if let Some(plan) = create_plan
            && let Ok(sequence) = create_sequence(&plan, Persist::AsPlanned)
        {
            let mut host = Recorder::with_exec(&sequence.exec);
            steps::create(&mut host, &sequence).unwrap();
            assert_eq!(
                host.calls,
                sequence.trace(),
                "{}#{}",
                file.display(),
                plan.name
            );
            compared += 1;
        }
        if let Some(plan) = remove_plan {
            let sequence = remove_sequence(&plan).unwrap();
            let mut host = Recorder::with_exec(&sequence.exec);
            host.processes = vec![100];
            steps::remove(&mut host, &sequence, Some(1), Removal::Strict).unwrap();
            assert_eq!(
                host.calls,
                sequence.trace(),
                "{}#{} -r",
                file.display(),
                plan.name
            );
            compared += 1;
        }
    }
    compared
}

#[test]
fn the_run_takes_the_printed_steps_for_every_example_jail() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf-examples");
    let compared: usize = conf_files(&examples)
        .iter()
        .map(|f| recorded_equals_printed(&examples.join(f)))
        .sum();
    assert!(compared >= 10, "only {compared} sequences");
}

#[test]
fn the_run_takes_the_printed_steps_for_every_corpus_jail() {
    let Some(corpus) = jailconf_corpus() else {
        return;
    };
    let compared: usize = conf_files(&corpus)
        .iter()
        .filter(|f| {
            runj_grammar::load(
                corpus.join(f).to_str().unwrap(),
                runj_grammar::Parallelism::One,
            )
            .is_ok()
        })
        .map(|f| recorded_equals_printed(&corpus.join(f)))
        .sum();
    assert!(compared >= 180, "only {compared} sequences");
}

/// A bundle's rctl rules: checked for before anything is made, added once
/// the jail exists, removed (each resource and action, whatever the
/// amount) once it is gone — in the dry run and, on the recording backend,
/// in the run, which are the same.
#[test]
fn a_bundle_s_limits_are_traced_around_the_jail() {
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf-examples/bundles/limits-rctl");
    let trace = |extra: &[&str]| {
        let out = runj(["apply", "--dry-run", "--format", "trace"])
            .args(extra)
            .arg(&bundle)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let created: Vec<String> = trace(&[]).lines().map(str::to_string).collect();
    assert_eq!(created[0], "check racct: kern.racct.enable=1");
    assert!(created[1].starts_with("jail_set create: "), "{created:?}");
    assert_eq!(
        created[2..],
        [
            "rctl_add_rule: jail:limits-rctl:memoryuse:deny=268435456",
            "rctl_add_rule: jail:limits-rctl:openfiles:deny=1024",
            "rctl_add_rule: jail:limits-rctl:maxproc:log=100",
            "rctl_add_rule: jail:limits-rctl:readbps:throttle=10485760",
            "rctl_add_rule: jail:limits-rctl:pcpu:deny=50",
        ]
    );
    let removed = trace(&["--remove"]);
    let after: Vec<&str> = removed
        .lines()
        .skip_while(|l| *l != "jail_remove")
        .collect();
    assert_eq!(
        after,
        [
            "jail_remove",
            "rctl_remove_rule: jail:limits-rctl:memoryuse:deny=/jail",
            "rctl_remove_rule: jail:limits-rctl:openfiles:deny=/jail",
            "rctl_remove_rule: jail:limits-rctl:maxproc:log=/jail",
            "rctl_remove_rule: jail:limits-rctl:readbps:throttle=/jail",
            "rctl_remove_rule: jail:limits-rctl:pcpu:deny=/jail",
        ]
    );
    let compiled = runj_translator::oci::compile(&bundle, &Default::default());
    let creation = runj_executor::lifecycle::creation(&compiled.plan.unwrap()).unwrap();
    let mut host = Recorder::with_exec(&creation.sequence.exec);
    steps::create(&mut host, &creation.sequence).unwrap();
    assert_eq!(host.calls, created, "the run is the dry run");
}
