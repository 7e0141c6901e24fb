//! What a task is, and what running it gives: the types shared by both executors.

use serde::Serialize;
use std::{path::PathBuf, time::Duration};

/// The name a single-file input has inside the task's input directory (`/input/input`).
pub const INPUT_FILE_NAME: &str = "input";

/// A 32-byte hash (blake2-256).
pub type Hash = [u8; 32];

/// The application to run.
#[derive(Clone, Debug)]
pub enum App {
	/// A WASI (preview 1) module; its code hash is blake2-256 of these bytes.
	Wasm { module: Vec<u8>, code_hash: Hash },
	/// A Docker image, pinned by its image ID (`sha256:…`), which is its code hash.
	Docker { image_id: String },
}

/// An input data set, checked against its checksum before the task sees it.
#[derive(Clone, Debug)]
pub struct Input {
	/// A file or a directory.
	pub path: PathBuf,
	/// blake2-256 of the file, or the [`crate::digest`] of the directory.
	pub checksum: Hash,
}

/// How a Wasm task's float results are kept bit-identical between replicas: the deal's
/// choice (`pallet_market::Determinism`). The one thing in Wasm whose bits differ between
/// processors is the sign and payload of a NaN that arithmetic makes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Determinism {
	/// NaNs are canonicalised wherever the task can see their bits: the same bytes on any
	/// processor.
	#[default]
	Portable,
	/// NaN bits are left as this processor makes them: the same bytes only between workers
	/// of one architecture, which the deal pins (the chain lets no other claim).
	SameArchitecture,
}

/// Resource limits of one task.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Limits {
	/// Wasm fuel (about one unit per instruction).
	pub fuel: u64,
	/// Memory, in bytes.
	pub memory_bytes: u64,
	/// Wall-clock time.
	#[serde(with = "duration_secs")]
	pub wall_time: Duration,
	/// Bytes of stdout and of stderr kept.
	pub output_cap: usize,
	/// Bytes the task may write to its output (the deal's); see [`crate::output_quota`].
	pub output_bytes: u64,
	/// CPUs (Docker).
	pub cpus: f64,
	/// Processes (Docker).
	pub pids: i64,
	/// Whether the task gets the host's GPUs (Docker).
	pub gpus: bool,
	/// Which of them, by device index ([`crate::gpu_leases`]); empty: all of them.
	pub gpu_devices: Vec<String>,
	/// How NaN bits are treated (Wasm). Like fuel and memory, it decides the result, so it
	/// comes from the deal.
	pub determinism: Determinism,
}

impl Limits {
	/// The first limit that `self` (a task's) asks beyond `offer` (a worker's), in words.
	pub fn beyond(&self, offer: &Limits) -> Option<String> {
		let mib = |b: u64| b >> 20;
		if self.fuel > offer.fuel {
			return Some(format!("{} units of fuel (at most {})", self.fuel, offer.fuel));
		}
		if self.memory_bytes > offer.memory_bytes {
			let (asked, most) = (mib(self.memory_bytes), mib(offer.memory_bytes));
			return Some(format!("{asked} MiB of memory (at most {most} MiB)"));
		}
		if self.wall_time > offer.wall_time {
			let (asked, most) = (self.wall_time.as_secs(), offer.wall_time.as_secs());
			return Some(format!("{asked} s of wall time (at most {most} s)"));
		}
		if self.output_bytes > offer.output_bytes {
			let (asked, most) = (mib(self.output_bytes), mib(offer.output_bytes));
			return Some(format!("{asked} MiB of output (at most {most} MiB)"));
		}
		if self.output_cap > offer.output_cap {
			return Some(format!(
				"{} bytes of log (at most {})",
				self.output_cap, offer.output_cap
			));
		}
		if self.cpus > offer.cpus {
			return Some(format!("{} CPUs (at most {})", self.cpus, offer.cpus));
		}
		if self.pids > offer.pids {
			return Some(format!("{} processes (at most {})", self.pids, offer.pids));
		}
		if self.gpus && !offer.gpus {
			return Some("GPUs (this worker offers none)".into());
		}
		None
	}
}

impl Default for Limits {
	fn default() -> Self {
		Limits {
			fuel: 50_000_000_000,
			memory_bytes: 1 << 30,
			wall_time: Duration::from_secs(300),
			output_cap: 64 * 1024,
			// The largest category's output.
			output_bytes: 4 << 30,
			cpus: 1.0,
			pids: 64,
			gpus: false,
			gpu_devices: Vec::new(),
			determinism: Determinism::Portable,
		}
	}
}

/// A task: an app, its arguments and input, and limits.
#[derive(Clone, Debug)]
pub struct Task {
	pub app: App,
	pub args: Vec<String>,
	pub stdin: Vec<u8>,
	pub input: Option<Input>,
	pub limits: Limits,
}

/// What a task used.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Resources {
	/// Wasm fuel consumed (0 for Docker).
	pub fuel: u64,
	/// Wall-clock time of the run itself.
	#[serde(with = "duration_secs")]
	pub wall_time: Duration,
	/// Largest linear memory reached, in bytes (Wasm), or the container's memory peak when
	/// the engine reports it.
	pub peak_memory_bytes: u64,
}

/// A task that ran to completion.
#[derive(Clone, Debug, Serialize)]
pub struct Success {
	/// The result digest of the output directory (see [`crate::digest`]).
	#[serde(with = "hex_hash")]
	pub digest: Hash,
	/// The whole result when it is a single file of at most [`SMALL_RESULT_MAX`] bytes, for
	/// on-chain use.
	pub small_result: Option<Vec<u8>>,
	/// The output's directory encoding, whose blake2-256 is the digest, when it is at most
	/// [`SMALL_RESULT_MAX`] bytes: what an on-chain reveal carries.
	#[serde(skip)]
	pub encoded_result: Option<Vec<u8>>,
	pub resources: Resources,
	/// Where the output directory is.
	pub output_dir: PathBuf,
	pub stdout: String,
	pub stderr: String,
}

/// Largest result kept whole.
pub const SMALL_RESULT_MAX: usize = 4096;

/// Why a task failed, in terms a person can act on. A failure never takes the worker down.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error)]
pub enum Failure {
	#[error("code hash mismatch: expected {expected}, got {actual}")]
	CodeHashMismatch { expected: String, actual: String },
	#[error("input checksum mismatch: expected {expected}, got {actual}")]
	InputChecksumMismatch { expected: String, actual: String },
	#[error("input unreadable: {0}")]
	InputUnreadable(String),
	#[error("invalid Wasm module: {0}")]
	InvalidModule(String),
	#[error("the module needs an import the sandbox does not give: {0}")]
	ForbiddenImport(String),
	#[error("out of fuel after {fuel} units")]
	OutOfFuel { fuel: u64 },
	#[error("out of memory: the task asked for more than {limit_bytes} bytes")]
	OutOfMemory { limit_bytes: u64 },
	#[error("timed out after {seconds:.1} s")]
	Timeout { seconds: f64 },
	#[error("the task trapped: {0}")]
	Trap(String),
	#[error("stack overflow: the task went deeper than {limit} stack units")]
	StackOverflow { limit: u32 },
	#[error("the task exited with code {code}{}", stderr_tail(.stderr))]
	NonZeroExit { code: i64, stderr: String },
	#[error("the container could not start: {0}")]
	CannotStart(String),
	#[error("image {0} not found in the local Docker engine")]
	ImageNotFound(String),
	#[error("execution engine unavailable: {0}")]
	EngineUnavailable(String),
	#[error("output not usable: {0}")]
	BadOutput(String),
	#[error("the output holds {bytes} bytes, more than the {limit_bytes} the task may write")]
	OutputTooLarge { bytes: u64, limit_bytes: u64 },
	#[error("worker I/O error: {0}")]
	Io(String),
	#[error("the task asks for more than this worker offers: {0}")]
	AboveOffer(String),
}

fn stderr_tail(stderr: &str) -> String {
	let tail: String =
		stderr.trim_end().lines().last().unwrap_or_default().chars().take(200).collect();
	if tail.is_empty() {
		String::new()
	} else {
		format!(": {tail}")
	}
}

/// The outcome of a task.
pub type Outcome = Result<Success, Failure>;

mod duration_secs {
	pub fn serialize<S: serde::Serializer>(
		d: &std::time::Duration,
		s: S,
	) -> Result<S::Ok, S::Error> {
		s.serialize_f64(d.as_secs_f64())
	}
}

mod hex_hash {
	pub fn serialize<S: serde::Serializer>(h: &super::Hash, s: S) -> Result<S::Ok, S::Error> {
		s.serialize_str(&format!("0x{}", hex::encode(h)))
	}
}

/// `0x`-prefixed hex of a hash.
pub fn hash_hex(hash: &Hash) -> String {
	format!("0x{}", hex::encode(hash))
}
