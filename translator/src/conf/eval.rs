//! `jail -e SEP`: every jail of a configuration resolved and printed on a
//! line of its own (`runj conf eval -e`), a large configuration on as many
//! threads as its caller allows.

use runj_grammar::{Parallelism, escaped};

use super::gather::Gathered;
use super::parallel::in_runs;
use super::resolve::{JAILS_PER_THREAD, Resolver};

/// What `jail -e SEP` prints.
pub struct Evaluation {
    /// The lines (bytes, as jail(8) prints them), in configuration order,
    /// in parts to be written one after the other.
    pub lines: Vec<Vec<u8>>,
    /// jail(8)'s messages (`jail: NAME: …`, one a line) for the jails that
    /// failed to resolve, in configuration order.
    pub errors: String,
    /// For each jail asked for, whether the configuration defines it.
    pub found: Vec<bool>,
}

/// Resolves and prints every jail, or those named in `wanted` (all of them
/// when it is empty), separating parameters with `separator`.
///
/// Each jail resolves on its own from the gathered statements, so a large
/// configuration is split into runs of consecutive jails, one per thread
/// `parallelism` allows, and the runs' lines are kept in order.
pub fn evaluate(
    gathered: &Gathered<'_>,
    wanted: &[&[u8]],
    separator: &[u8],
    parallelism: Parallelism,
) -> Evaluation {
    let threads = parallelism.threads().min(gathered.len().max(1));
    // Room for the lines when few values need quotes.
    let room = gathered.text_len() * 5 / 4 / threads;
    let parts = in_runs(gathered.len(), parallelism, JAILS_PER_THREAD, |run| {
        let mut part = Part {
            lines: Vec::with_capacity(room),
            errors: String::new(),
            found: vec![false; wanted.len()],
        };
        let mut resolver = gathered.resolver();
        for i in run {
            part.add(&mut resolver, i, wanted, separator);
        }
        part
    });
    let mut all = Evaluation {
        lines: Vec::with_capacity(parts.len()),
        errors: String::new(),
        found: vec![false; wanted.len()],
    };
    for part in parts {
        all.lines.push(part.lines);
        all.errors.push_str(&part.errors);
        for (found, here) in all.found.iter_mut().zip(part.found) {
            *found |= here;
        }
    }
    all
}

/// What one run of consecutive jails prints.
struct Part {
    lines: Vec<u8>,
    errors: String,
    found: Vec<bool>,
}

impl Part {
    /// Resolves jail `i` and adds its line (if it is wanted) and its errors.
    fn add(&mut self, resolver: &mut Resolver<'_>, i: usize, wanted: &[&[u8]], separator: &[u8]) {
        let jail = resolver.resolve(i);
        for e in jail.errors() {
            self.errors.push_str(&e.jail_line(&escaped(jail.name())));
            self.errors.push('\n');
        }
        let mut selected = wanted.is_empty();
        for (name, found) in wanted.iter().zip(&mut self.found) {
            if *name == jail.name() {
                *found = true;
                selected = true;
            }
        }
        if selected {
            jail.write_line(&mut self.lines, separator);
        }
    }
}
