//! [`Parallelism`]: how many threads the caller lets a large configuration
//! be read and resolved on.

use std::num::NonZeroUsize;

/// How many threads reading and resolving may use. The library never
/// decides this on its own: its caller does (the `runj` binary passes
/// [`Parallelism::available`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parallelism {
    /// Everything on the calling thread.
    #[default]
    One,
    /// Up to this many threads, the calling one included.
    Threads(NonZeroUsize),
}

impl Parallelism {
    /// As many threads as the machine has cores for this process.
    pub fn available() -> Self {
        match std::thread::available_parallelism() {
            Ok(n) if n.get() > 1 => Parallelism::Threads(n),
            _ => Parallelism::One,
        }
    }

    /// The number of threads.
    pub fn threads(self) -> usize {
        match self {
            Parallelism::One => 1,
            Parallelism::Threads(n) => n.get(),
        }
    }
}
