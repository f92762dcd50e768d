//! One module per command; each parses nothing itself and calls the crates.

mod atomic;
pub mod conf;
pub mod diff;
pub mod migrate;
pub mod plan;
