//! Bytes as a bundle's config.json → `oci::compile`: every input must end
//! in a plan or in diagnostics, never in a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use runj_translator::oci::{BundleOptions, CONFIG_FILE_NAME, compile};

fuzz_target!(|data: &[u8]| {
    // A fresh bundle directory per input, removed afterwards.
    let dir = tempfile::Builder::new()
        .prefix("runj-fuzz-bundle")
        .tempdir()
        .expect("a temporary bundle directory");
    std::fs::write(dir.path().join(CONFIG_FILE_NAME), data).expect("writing config.json");
    let options = BundleOptions {
        id: Some("fuzz".to_string()),
        ..BundleOptions::default()
    };
    let compiled = compile(dir.path(), &options);
    assert!(
        compiled.plan.is_some() || compiled.diagnostics.has_errors(),
        "no plan and no error"
    );
});
