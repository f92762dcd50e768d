//! The jail.conf front end in process: generated configurations of 10, 1,000
//! and 10,000 jails (`support/generate.rs`, about 265 bytes a jail), timed
//!
//! - `parse`: text → syntax tree (`runj_grammar::parse`);
//! - `resolve`: loaded tree → resolved jails (`runj_translator::conf::resolve`,
//!   what `runj conf check`, `plan`, `diff`, `migrate` and `apply` use);
//! - `eval`: what `runj conf eval -f FILE -e '|'` does between reading its
//!   arguments and writing its output: load the file (read, parse, expand
//!   includes), then resolve each jail and print it as `jail -e '|'` does.
//!
//! Each runs on as many threads as the machine has, as the `runj` binary
//! does ([`Parallelism::available`]). Throughput is the size of the configuration text. The samples are few
//! and flat (a 10,000-jail run takes tens of milliseconds), so
//! `cargo bench --bench jailconf` finishes in a couple of minutes on two
//! cores.

#[path = "support/generate.rs"]
mod generate;

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main, measurement::WallTime,
};
use runj_grammar::{Parallelism, load, load_text, parse_in};
use runj_translator::conf::{evaluate, gather, resolve};

/// Jails per generated configuration.
const SIZES: [usize; 3] = [10, 1_000, 10_000];

/// The generated configurations, each with its size.
fn configs() -> Vec<(usize, String)> {
    SIZES
        .iter()
        .map(|&jails| (jails, generate::jailconf(jails)))
        .collect()
}

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group
}

fn bench_parse(c: &mut Criterion) {
    let mut group = group(c, "parse");
    for (jails, text) in configs() {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(jails), &text, |b, text| {
            b.iter(|| {
                parse_in(black_box(text.as_bytes()), Parallelism::available())
                    .expect("the generated configuration parses")
            })
        });
    }
    group.finish();
}

fn bench_resolve(c: &mut Criterion) {
    let mut group = group(c, "resolve");
    for (jails, text) in configs() {
        group.throughput(Throughput::Bytes(text.len() as u64));
        let loaded = load_text("bench.conf", text.into(), false, Parallelism::available())
            .expect("the configuration loads");
        let resolved = resolve(&loaded, Parallelism::available());
        assert_eq!(resolved.len(), jails);
        assert!(resolved.iter().all(|j| !j.failed()), "no resolution errors");
        group.bench_with_input(BenchmarkId::from_parameter(jails), &loaded, |b, loaded| {
            b.iter(|| resolve(black_box(loaded), Parallelism::available()))
        });
    }
    group.finish();
}

/// `runj conf eval -e SEP` without its argument parsing and output: the
/// same library calls, in the same order.
fn eval(path: &str, separator: &str) -> Vec<u8> {
    let parallelism = Parallelism::available();
    let loaded = load(path, parallelism).expect("the configuration loads");
    let gathered = gather(&loaded, parallelism);
    evaluate(&gathered, &[], separator.as_bytes(), parallelism)
        .lines
        .concat()
}

fn bench_eval(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut group = group(c, "eval");
    for (jails, text) in configs() {
        group.throughput(Throughput::Bytes(text.len() as u64));
        let path = dir.path().join(format!("{jails}.conf"));
        std::fs::write(&path, &text).expect("writing the configuration");
        let path = path.to_str().expect("a UTF-8 temporary path").to_string();
        let lines = eval(&path, "|").iter().filter(|&&b| b == b'\n').count();
        assert_eq!(lines, jails);
        group.bench_with_input(BenchmarkId::from_parameter(jails), &path, |b, path| {
            b.iter(|| eval(black_box(path), "|"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_parse, bench_resolve, bench_eval);
criterion_main!(benches);
