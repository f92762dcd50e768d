//! `evaluate`, which resolves and prints a large configuration a run of
//! jails per core, against resolving it jail by jail in order: the same
//! lines, the same messages in the same order, the same jails found.

use runj_grammar::{Parallelism, load_text};
use runj_translator::conf::{evaluate, gather, resolve, show_line};

/// `jails` jails under global and wildcard statements; every 997th fails to
/// resolve (an unknown variable), so that failures fall in every run.
fn config(jails: usize) -> String {
    let mut text = String::from("$base = \"/j\";\npath = \"$base/$name\";\n* { exec.clean; }\n");
    for i in 0..jails {
        let host = if i % 997 == 0 { "$missing" } else { "h$i" };
        text.push_str(&format!(
            "j{i} {{\n\t$i = {i};\n\thost.hostname = \"{host}\";\n\tip4.addr += 10.0.0.{};\n}}\n",
            i % 250
        ));
    }
    text.push_str("\"*.x\" { persist; }\n");
    text
}

#[test]
fn evaluate_matches_resolving_each_jail_in_order() {
    let jails = 5000;
    let Ok(loaded) = load_text(
        "big.conf",
        config(jails).into(),
        false,
        runj_grammar::Parallelism::One,
    ) else {
        panic!("the configuration does not load");
    };
    let resolved = resolve(&loaded, runj_grammar::Parallelism::One);
    assert_eq!(resolved.len(), jails);
    let lines: String = resolved.iter().map(|j| show_line(j, "|")).collect();
    let errors: String = resolved
        .iter()
        .flat_map(|j| {
            j.errors
                .iter()
                .map(move |e| format!("jail: {}: {}\n", j.name, e.message))
        })
        .collect();
    assert_eq!(errors.lines().count(), jails.div_ceil(997));

    let wanted: [&[u8]; 3] = [b"j1", b"j4999", b"j5000"];
    let two = Parallelism::Threads(2.try_into().expect("2 is not 0"));
    let gathered = gather(&loaded, two);
    let all = evaluate(&gathered, &[], b"|", two);
    assert_eq!(all.lines.len(), 2, "two runs");
    assert_eq!(all.lines.concat(), lines.as_bytes());
    assert_eq!(all.errors, errors);

    let some = evaluate(&gathered, &wanted, b"|", two);
    assert_eq!(some.found, [true, true, false]);
    let wanted_lines: String = ["j1", "j4999"]
        .iter()
        .map(|name| show_line(resolved.iter().find(|j| j.name == *name).unwrap(), "|"))
        .collect();
    assert_eq!(some.lines.concat(), wanted_lines.as_bytes());
    assert_eq!(
        some.errors, errors,
        "every jail is resolved, and reports its errors"
    );
}
