//! From sources to jail plans: jail.conf semantics ([`conf`]), the parameter
//! [`catalog`], the [`plan`] itself, and lowering resolved jails to plans.

#![forbid(unsafe_code)]

pub mod bridge;
pub mod bundle;
pub mod catalog;
pub mod conf;
mod diagnostic;
pub mod diff;
pub mod emit;
pub mod fstab;
pub mod invocation;
mod lower;
mod migrate;
pub mod oci;
pub mod plan;
pub mod rctl;
pub mod rctl_conf;
pub mod source;
pub mod trust;
mod typing;
mod validate;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use lower::{Lowered, expand_fstab_files, inside, lower, lower_for_removal};
pub use migrate::{Migration, migrate, migrate_all, report};
pub use plan::JailPlan;
