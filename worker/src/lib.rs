//! # iexec-worker
//!
//! The off-chain half of the iEx.ec sidechain: the program a mining-rig or server owner runs
//! to earn RLC. This crate holds everything that does not need the chain:
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
//! - [`virtual_time`]: clocks that move only when a Wasm task sleeps, and sleeps that return at
//!   once.

pub mod capped_output;
pub mod config;
pub mod digest;
pub mod docker;
pub mod engine;
pub mod gpu;
pub mod machine;
pub mod task;
pub mod virtual_time;
pub mod wasm;
