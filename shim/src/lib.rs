//! `containerd-shim-runj-v1`: a containerd shim (task API v3, on the
//! `containerd-shim` crate with tokio) that runs containers with runj.
//!
//! containerd starts one shim per container and sends it task requests;
//! the shim mounts the rootfs, connects the stdio and console, and drives the
//! `runj` binary through the OCI runtime command line ([`runtime`] says why),
//! reaping the container's processes and publishing their events.
//!
//! Layers, bottom up: [`runtime`] (the command line), [`reaper`] (exit
//! statuses), [`options`], [`rootfs`], [`console`] and [`stdio`] (what a
//! container needs around the runtime), [`process`] and [`container`] (the
//! lifecycle), [`task`] (the requests) and [`service`] (the binary's entry
//! points).

pub mod console;
pub mod container;
pub mod error;
pub mod events;
pub mod options;
pub mod process;
pub mod reaper;
pub mod resources;
pub mod rootfs;
pub mod runtime;
pub mod service;
pub mod stdio;
pub mod task;
