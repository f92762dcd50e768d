//! jail.conf text → parse → canonical print, resolve, `jail -e` print.
//!
//! Nothing may panic; the fast scanner must read the text to the tree the
//! pest grammar gives (or give up exactly where the grammar reports an
//! error); and the canonical printer must be idempotent: once a file parses,
//! its printed form parses too and prints to the same text.
//! `.include` directives are left unexpanded (the fuzzer must not read
//! arbitrary files), so each input is resolved as a single file.

#![no_main]

use libfuzzer_sys::fuzz_target;
use runj_grammar::{Loaded, Source, parse, parse_with_pest, print, scan};
use runj_translator::conf::{resolve, show_line, to_config};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = parse_with_pest(text);
    assert_eq!(
        scan(text).as_ref(),
        parsed.as_ref().ok(),
        "the scanner and the grammar disagree\n--- input\n{text}"
    );
    let Ok(config) = parsed else {
        return;
    };
    let printed = print(&config);
    let reparsed = parse(&printed).unwrap_or_else(|e| {
        panic!(
            "the canonical form does not parse: {e:?}\n--- input\n{text}\n--- printed\n{printed}"
        )
    });
    let reprinted = print(&reparsed);
    assert_eq!(
        printed, reprinted,
        "printing is not idempotent\n--- input\n{text}"
    );

    let loaded = Loaded {
        sources: vec![Source {
            name: "fuzz.conf".to_string(),
            text: text.to_string(),
            config,
        }],
    };
    let jails = resolve(&loaded);
    for jail in &jails {
        let _ = show_line(jail, "|");
    }
    let _ = print(&to_config(&jails));
});
