//! # iexec-worker
//!
//! The off-chain half of the iEx.ec sidechain: the program a mining-rig or server owner runs
//! to earn RLC. This crate holds the execution engine and the daemon around it:
//!
//! - [`engine::TaskEngine`] runs a [`task::Task`] (a Wasm module or a Docker image, arguments,
//!   an input data set, limits) and returns an [`task::Outcome`]: a result digest and the
//!   resources used, or a [`task::Failure`] a person can read.
//! - [`wasm`]: deterministic, sandboxed WASI execution with wasmtime.
//! - [`docker`]: sandboxed containers through the Docker Engine API.
//! - [`digest`]: the result digest, identical on every host.
//! - [`machine`]: the host's ClassAd (CPUs, memory, disk, GPUs through NVML, runtimes).
//! - [`config`]: configuration from a file, the environment and flags.
//! - [`capped_output`]: a task's stdout and stderr, capped without failing its writes.
//! - [`chain`]: the chain through the runtime's own types over JSON-RPC, with node failover.
//! - [`daemon`]: `iexec-worker run`: claims, runs, commits, reveals, gets paid.
//! - [`keys`], [`journal`], [`fetch`], [`metrics`], [`serve`]: the worker key, what survives a
//!   restart, fetching apps and data sets, Prometheus figures, the HTTP endpoints.
//! - [`virtual_time`]: clocks that move only when a Wasm task sleeps, and sleeps that return at
//!   once.
//! - [`instrument`]: the rewrite of a module before it is compiled: a stack limit in Wasm
//!   terms and NaN canonicalisation where NaN bits can be seen.
//! - [`fuel_meter`]: a Wasm task's fuel counter as the host sees it, and the watchdog that ends
//!   it at its wall-time limit.
//! - [`output_quota`]: the bytes a Wasm task may write, from the deal (`ENOSPC` past them).
//! - [`deterministic_fs`]: file metadata and directory listings that are the same on every
//!   host (zero times, inode numbers by first sight, sorted listings).

pub mod capped_output;
pub mod chain;
pub mod config;
pub mod daemon;
pub mod deterministic_fs;
pub mod digest;
pub mod docker;
pub mod engine;
pub mod fetch;
pub mod fuel_meter;
pub mod gpu;
pub mod gpu_leases;
pub mod instrument;
pub mod journal;
pub mod keys;
pub mod machine;
pub mod metrics;
pub mod output_quota;
pub mod serve;
pub mod task;
pub mod virtual_time;
pub mod wasm;
