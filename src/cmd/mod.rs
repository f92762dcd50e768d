//! One module per command; each parses nothing itself and calls the crates.

pub mod conf;
pub mod diff;
