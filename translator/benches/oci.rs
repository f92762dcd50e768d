//! The OCI translator in-process: `oci::compile` on example bundles (read
//! config.json, merge, translate, validate), without process start-up.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use runj_translator::oci::{BundleOptions, compile};

fn bundles(c: &mut Criterion) {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../conf-examples/bundles");
    let options = BundleOptions::default();
    for name in [
        "minimal",
        "host-inherit",
        "mounts",
        "ext-merge",
        "ocijail-annotations",
    ] {
        let bundle = examples.join(name);
        assert!(compile(&bundle, &options).plan.is_some(), "{name} plans");
        c.bench_function(&format!("oci::compile {name}"), |b| {
            b.iter(|| compile(black_box(&bundle), &options))
        });
    }
}

criterion_group!(benches, bundles);
criterion_main!(benches);
