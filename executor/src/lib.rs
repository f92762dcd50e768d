//! Executes jail plans: the steps jail(8) performs to create and remove a
//! jail, in its order and with its rollback ([`steps`]), on a system behind
//! the [`host::Host`] trait, whose backends are the real FreeBSD system
//! calls ([`freebsd`]), an emulation on Linux for development and CI
//! ([`linux`]) and a recording test double ([`record`]).

pub mod child;
pub mod command;
pub mod error;
pub mod freebsd;
pub mod hooks;
pub mod host;
pub mod journal;
pub mod leases;
pub mod lifecycle;
pub mod limits;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod network;
pub mod params;
pub mod passwd;
pub mod pid;
pub mod process;
pub mod record;
pub mod state;
pub mod steps;
pub mod trace;
pub mod usage;

pub use error::{Error, Result};
