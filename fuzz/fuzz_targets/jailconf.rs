//! jail.conf bytes → parse → canonical print, resolve, `jail -e` print.
//!
//! jail.conf is bytes, so every input is a text: nothing may panic; the
//! fast scanner must read the text to the tree the pest grammar gives (or
//! give up exactly where the grammar reports an error); and the canonical
//! printer must be idempotent and keep the meaning: once a file parses, its
//! printed form parses too, prints to the same bytes, and resolves to the
//! same `-e` lines. `.include` directives are left unexpanded (the fuzzer
//! must not read arbitrary files), so each input is resolved as a single
//! file.

#![no_main]

use libfuzzer_sys::fuzz_target;
use runj_grammar::{
    Config, Loaded, Parallelism, Source, escaped, parse, parse_with_pest, print, scan,
};
use runj_translator::conf::{gather, resolutions, to_config};

/// Each jail's `-e '|'` line and messages, for `config` read as one file.
fn lines(config: Config) -> Vec<(Vec<u8>, Vec<String>)> {
    let loaded = Loaded {
        sources: vec![Source {
            name: "fuzz.conf".to_string(),
            text: Vec::new(),
            config,
        }],
    };
    let gathered = gather(&loaded, Parallelism::One);
    let jails = resolutions(&gathered, Parallelism::One);
    let _ = print(&to_config(&jails));
    jails
        .iter()
        .map(|j| {
            let mut line = Vec::new();
            j.write_line(&mut line, b"|");
            (line, j.errors().iter().map(|e| e.message.clone()).collect())
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let parsed = parse_with_pest(data);
    let shown = escaped(data);
    assert_eq!(
        scan(data, Parallelism::One).as_ref(),
        parsed.as_ref().ok(),
        "the scanner and the grammar disagree\n--- input\n{shown}"
    );
    let Ok(config) = parsed else {
        return;
    };
    let printed = print(&config);
    let reparsed = parse(&printed).unwrap_or_else(|e| {
        panic!(
            "the canonical form does not parse: {e:?}\n--- input\n{shown}\n--- printed\n{}",
            escaped(&printed)
        )
    });
    assert_eq!(
        printed,
        print(&reparsed),
        "printing is not idempotent\n--- input\n{shown}"
    );
    assert_eq!(
        lines(config),
        lines(reparsed),
        "the canonical form resolves differently\n--- input\n{shown}"
    );
});
