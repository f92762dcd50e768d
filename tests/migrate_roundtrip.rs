//! `runj migrate` is lossless: every migrated bundle plans back to the jail
//! it came from, over the whole real-world corpus and over generated
//! configurations.

mod common;

use std::path::Path;

use proptest::prelude::*;
use runj_grammar::{load, load_text};
use runj_translator::conf::{ResolvedJail, resolve};
use runj_translator::diff::changes;
use runj_translator::oci::{BundleOptions, compile};
use runj_translator::{JailPlan, expand_fstab_files, lower, migrate_all};

/// Corpus jails that cannot be migrated, and why: each is also an error
/// for jail(8) when it starts the jail, or ambiguous to it.
const NOT_MIGRATABLE: &[(&str, &[&str], &str)] = &[
    (
        "021-NikolayDachev-jails-jail.conf",
        &["t1"],
        "cannot redefine parameter \"name\"",
    ),
    (
        "030-jackvz-build-linux-on-freebsd-jail.conf",
        &["busybox", "debian"],
        "placeholder addresses",
    ),
    (
        "039-freebsd-freebsd-src-jail_basic_test-snippets.conf",
        &["basejail"],
        "duplicate jails",
    ),
    (
        "045-paulc-freebsd-ipv6-jail-jail.conf",
        &["base"],
        "duplicate jails",
    ),
    (
        "055-BawdyAnarchist-quBSD-jail.conf",
        &[
            "disp1",
            "disp2",
            "disp3",
            "0control",
            "net-firewall",
            "net-vpn",
            "0gui",
            "0net",
            "0serv",
        ],
        "placeholder devfs_ruleset",
    ),
    (
        "074-mjakob-gh-jailer-jail-vnet.template.conf",
        &["%%JAIL_NAME%%"],
        "template placeholders",
    ),
    (
        "075-mjakob-gh-jailer-jail.template.conf",
        &["%%JAIL_NAME%%"],
        "template placeholders",
    ),
    (
        "079-skrp-UNIX-jail.conf",
        &["jail1"],
        "template placeholder address",
    ),
];

/// The jail as jail.conf defines it (fstab files expanded as migrate does).
fn original(jail: &ResolvedJail) -> JailPlan {
    let mut plan = lower(jail).plan.expect("a migrated jail lowers");
    expand_fstab_files(&mut plan).expect("a migrated jail's fstab files expand");
    plan
}

/// Migrates every jail, plans each bundle back, and returns the names of
/// the jails that did not migrate. Panics on any difference.
fn round_trip(jails: &[ResolvedJail], what: &str) -> Vec<String> {
    let out = tempfile::tempdir().unwrap();
    let mut failed = Vec::new();
    for (m, jail) in migrate_all(jails, &Default::default(), runj_grammar::Parallelism::One)
        .iter()
        .zip(jails)
    {
        let Some(config) = &m.config else {
            failed.push(m.jail.clone());
            continue;
        };
        let dir = out.path().join(&m.jail);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in config.texts() {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let compiled = compile(&dir, &BundleOptions::default());
        let errors: Vec<String> = compiled
            .diagnostics
            .errors()
            .map(ToString::to_string)
            .collect();
        let planned = compiled
            .plan
            .unwrap_or_else(|| panic!("{what}#{}: {errors:?}", m.jail));
        let diff = changes(&original(jail), &planned);
        assert!(
            diff.is_empty(),
            "{what}#{} changed on the way through a bundle: {diff:#?}",
            m.jail
        );
    }
    failed
}

#[test]
fn every_corpus_jail_plans_back_to_itself() {
    let Some(corpus) = common::jailconf_corpus() else {
        return;
    };
    let mut migrated = 0;
    for name in common::conf_files(&corpus) {
        let stem = name.trim_end_matches(".conf");
        if corpus.join("expected").join(format!("{stem}.err")).exists() {
            continue;
        }
        let loaded = load(
            corpus.join(&name).to_str().unwrap(),
            runj_grammar::Parallelism::One,
        )
        .unwrap();
        let jails = resolve(&loaded, runj_grammar::Parallelism::One);
        let failed = round_trip(&jails, &name);
        migrated += jails.len() - failed.len();
        let expected: Vec<&str> = NOT_MIGRATABLE
            .iter()
            .find(|(f, ..)| *f == name)
            .map_or(&[][..], |(_, j, _)| *j)
            .to_vec();
        let mut failed_unique = failed.clone();
        failed_unique.dedup();
        assert_eq!(
            failed_unique, expected,
            "{name}: jails that did not migrate"
        );
    }
    // 114 jails in the files jail(8) accepts, less the 18 listed above.
    assert_eq!(migrated, 96, "corpus jails migrated");
}

#[test]
fn conf_examples_plan_back_to_themselves() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf-examples");
    for name in common::conf_files(&examples) {
        let loaded = load(
            examples.join(&name).to_str().unwrap(),
            runj_grammar::Parallelism::One,
        )
        .unwrap();
        assert!(
            round_trip(&resolve(&loaded, runj_grammar::Parallelism::One), &name).is_empty(),
            "{name}"
        );
    }
}

/// Generated jails: random parameters of every kind jail.conf and the plan
/// know, with values that need quoting.
fn statement() -> impl Strategy<Value = String> {
    let text = "[a-zA-Z0-9 ,;#$'\"\\\\{}=/._-]{0,12}";
    prop_oneof![
        text.prop_map(|v| format!("host.hostname = {};", quoted(&v))),
        (0..3i32).prop_map(|v| format!("securelevel = {v};")),
        (0..3i32).prop_map(|v| format!("enforce_statfs = {v};")),
        any::<bool>().prop_map(|b| format!("{}persist;", if b { "" } else { "no" })),
        any::<bool>().prop_map(|b| format!("allow.{}raw_sockets;", if b { "" } else { "no" })),
        prop_oneof![Just("nullfs"), Just("tmpfs")]
            .prop_map(|fs| format!("allow.mount; allow.mount.{fs};")),
        (1..250u8).prop_map(|n| format!("ip4.addr += \"em0|192.0.2.{n}/24\";")),
        text.prop_map(|v| format!("exec.prestart += {};", quoted(&v))),
        text.prop_map(|v| format!("exec.start += {};", quoted(&v))),
        text.prop_map(|v| format!("exec.poststop += {};", quoted(&v))),
        "[a-z]{1,8}".prop_map(|d| format!("mount += \"tmpfs /j/$name/{d} tmpfs rw,size=1m\";")),
        Just("mount.devfs; devfs_ruleset = 4;".to_string()),
        "[a-z]{1,6}".prop_map(|v| format!("vnet.interface += epair{v};")),
        Just("exec.clean;".to_string()),
        (1..600u32).prop_map(|t| format!("stop.timeout = {t};")),
        text.prop_map(|v| format!("meta.note = {};", quoted(&v))),
        text.prop_map(|v| format!("x.unknown = {};", quoted(&v))),
    ]
}

fn quoted(v: &str) -> String {
    let mut out = String::from("\"");
    for c in v.chars() {
        if matches!(c, '"' | '\\' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn generated_jails_plan_back_to_themselves(
        jails in prop::collection::vec(("[a-z][a-z0-9]{0,7}", prop::collection::vec(statement(), 0..12)), 1..4)
    ) {
        let mut text = String::from("path = \"/j/$name\";\n");
        let mut names = Vec::new();
        for (name, statements) in &jails {
            if names.contains(name) {
                continue;
            }
            names.push(name.clone());
            text.push_str(&format!("{name} {{\n\t{}\n}}\n", statements.join("\n\t")));
        }
        let loaded = load_text("generated.conf", text.clone().into(), false, runj_grammar::Parallelism::One).unwrap();
        let jails = resolve(&loaded, runj_grammar::Parallelism::One);
        let usable: Vec<ResolvedJail> = jails.into_iter().filter(|j| lower(j).plan.is_some()).collect();
        let failed = round_trip(&usable, &text);
        prop_assert!(failed.is_empty(), "{text}: {failed:?}");
    }
}
