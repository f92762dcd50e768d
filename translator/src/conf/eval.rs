//! `jail -e SEP`: every jail of a configuration resolved and printed on a
//! line of its own (`runj conf eval -e`), a large configuration on every
//! core.

use std::ops::Range;

use super::resolve::{Gathered, Resolver};

/// What `jail -e SEP` prints.
pub struct Evaluation {
    /// The lines, in configuration order, in parts to be written one after
    /// the other.
    pub lines: Vec<String>,
    /// jail(8)'s messages (`jail: NAME: …`, one a line) for the jails that
    /// failed to resolve, in configuration order.
    pub errors: String,
    /// For each jail asked for, whether the configuration defines it.
    pub found: Vec<bool>,
}

/// Below this many jails a second thread costs more than it saves.
const JAILS_PER_THREAD: usize = 1024;

/// Resolves and prints every jail, or those named in `wanted` (all of them
/// when it is empty), separating parameters with `separator`.
///
/// Each jail resolves on its own from the gathered statements, so a large
/// configuration is split into runs of consecutive jails, one per
/// available core, and the runs' lines are kept in order.
pub fn evaluate(gathered: &Gathered<'_>, wanted: &[String], separator: &str) -> Evaluation {
    let jails = gathered.len();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = (jails / JAILS_PER_THREAD).clamp(1, cores);
    let per_thread = jails.div_ceil(threads);
    let runs: Vec<Range<usize>> = (0..threads)
        .map(|t| t * per_thread..((t + 1) * per_thread).min(jails))
        .collect();
    // Room for the lines when few values need quotes.
    let room = gathered.text_len() * 5 / 4 / threads;
    let evaluate_run = |run: &Range<usize>| {
        let mut part = Part {
            lines: String::with_capacity(room),
            errors: String::new(),
            found: vec![false; wanted.len()],
        };
        let mut resolver = gathered.resolver();
        for i in run.clone() {
            part.add(&mut resolver, i, wanted, separator);
        }
        part
    };
    let parts = std::thread::scope(|scope| {
        let (first, rest) = runs.split_first().expect("at least one run");
        let others: Vec<_> = rest
            .iter()
            .map(|run| scope.spawn(|| evaluate_run(run)))
            .collect();
        let mut parts = vec![evaluate_run(first)];
        parts.extend(
            others
                .into_iter()
                .map(|h| h.join().expect("resolution does not panic")),
        );
        parts
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
    lines: String,
    errors: String,
    found: Vec<bool>,
}

impl Part {
    /// Resolves jail `i` and adds its line (if it is wanted) and its errors.
    fn add(&mut self, resolver: &mut Resolver<'_>, i: usize, wanted: &[String], separator: &str) {
        let jail = resolver.resolve(i);
        for e in jail.errors() {
            self.errors.push_str(&e.jail_line(jail.name()));
            self.errors.push('\n');
        }
        let mut selected = wanted.is_empty();
        for (name, found) in wanted.iter().zip(&mut self.found) {
            if name == jail.name() {
                *found = true;
                selected = true;
            }
        }
        if selected {
            jail.write_line(&mut self.lines, separator);
        }
    }
}
