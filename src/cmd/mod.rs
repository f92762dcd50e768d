//! One module per command; each parses nothing itself and calls the crates.

pub mod apply;
mod atomic;
pub mod conf;
pub mod diff;
pub mod features;
pub mod lifecycle;
pub mod limits;
pub mod migrate;
pub mod network;
pub mod plan;
pub mod runtime;
