//! Parallel runs: a sequence of independent pieces of work (top-level
//! items to gather, jails to resolve) split into runs of consecutive
//! pieces, one per thread, whose results are put back in order.

use std::ops::Range;

use runj_grammar::Parallelism;

/// `f` over `0..len` in runs of consecutive indexes, at most one per
/// thread `parallelism` allows and each of at least `min_run` indexes
/// (below that a thread costs more than it saves); the runs' results in
/// order. The calling thread takes the first run.
pub(crate) fn in_runs<T: Send>(
    len: usize,
    parallelism: Parallelism,
    min_run: usize,
    f: impl Fn(Range<usize>) -> T + Sync,
) -> Vec<T> {
    let threads = (len / min_run.max(1)).clamp(1, parallelism.threads());
    let per_run = len.div_ceil(threads);
    let mut runs = (0..threads).map(|t| t * per_run..((t + 1) * per_run).min(len));
    let first = runs.next().expect("at least one run");
    if threads == 1 {
        return vec![f(first)];
    }
    std::thread::scope(|scope| {
        let f = &f;
        let others: Vec<_> = runs.map(|run| scope.spawn(move || f(run))).collect();
        let mut results = vec![f(first)];
        results.extend(
            others
                .into_iter()
                .map(|h| h.join().expect("a run does not panic")),
        );
        results
    })
}

/// `f` of each of `items`, in runs of at least `min_run` ([`in_runs`]), in
/// order.
pub(crate) fn each_in_runs<T: Sync, R: Send>(
    items: &[T],
    parallelism: Parallelism,
    min_run: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    in_runs(items.len(), parallelism, min_run, |run| {
        items[run].iter().map(&f).collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use super::*;

    #[test]
    fn runs_cover_every_index_once_in_order() {
        let three = Parallelism::Threads(NonZeroUsize::new(3).unwrap());
        for (len, parallelism, min_run, runs) in [
            (10, three, 2, 3),
            (10, three, 4, 2),
            (10, Parallelism::One, 1, 1),
            (0, three, 1, 1),
            (2, three, 1, 2),
        ] {
            let got = in_runs(len, parallelism, min_run, |run| run.collect::<Vec<_>>());
            assert_eq!(got.len(), runs, "{len} {parallelism:?} {min_run}");
            assert_eq!(got.concat(), (0..len).collect::<Vec<_>>());
        }
    }
}
