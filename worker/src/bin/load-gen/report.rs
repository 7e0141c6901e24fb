//! The figures of a run: what the blocks of the measured window held, what the node's process
//! spent meanwhile, and whether the supply moved only by the fees burnt.

use crate::feed::BlockFigures;
use frame_support::dispatch::DispatchClass;
use iexec_runtime::{token::RLC, Balance, Runtime};
use serde::Serialize;
use std::time::Instant;

/// The sum of the window's blocks, and the block before it (whose timestamp starts the window).
#[derive(Default)]
pub struct Window {
	pub before: Option<BlockFigures>,
	pub blocks: Vec<BlockFigures>,
}

/// A process's CPU time and memory, from `/proc`.
#[derive(Clone, Copy, Debug)]
pub struct ProcessSample {
	at: Instant,
	cpu_seconds: f64,
	pub rss_mib: f64,
	pub peak_rss_mib: f64,
}

impl ProcessSample {
	/// `pid`'s figures now, or `None` when it cannot be read (no such process, not Linux).
	pub fn take(pid: &str) -> Option<ProcessSample> {
		let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
		// Fields after the command name (which may hold spaces): utime and stime are the 12th
		// and 13th from there.
		let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
		let ticks: f64 =
			fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
		// SAFETY: sysconf only reads a configuration value.
		let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
		let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
		let kib = |name: &str| -> Option<f64> {
			let line = status.lines().find(|l| l.starts_with(name))?;
			line.split_whitespace().nth(1)?.parse().ok()
		};
		Some(ProcessSample {
			at: Instant::now(),
			cpu_seconds: ticks / per_second.max(1.0),
			rss_mib: kib("VmRSS:")? / 1024.0,
			peak_rss_mib: kib("VmHWM:")? / 1024.0,
		})
	}

	/// Cores used on average between `earlier` and this sample (1.0: one core all the time).
	pub fn cores_since(&self, earlier: &ProcessSample) -> f64 {
		let wall = self.at.duration_since(earlier.at).as_secs_f64();
		if wall > 0.0 {
			(self.cpu_seconds - earlier.cpu_seconds) / wall
		} else {
			0.0
		}
	}
}

/// What a run reports (also as JSON with `--json`).
#[derive(Serialize, Debug)]
pub struct Report {
	pub mode: String,
	/// Worker accounts (tasks mode) or sender accounts (transfers mode).
	pub accounts: usize,
	pub trust: u32,
	pub batch: u32,
	pub first_block: u32,
	pub last_block: u32,
	pub blocks: usize,
	pub seconds: f64,
	/// Certified tasks (tasks mode) or balance transfers (transfers mode) in the window.
	pub done: u64,
	pub per_second: f64,
	pub per_block: f64,
	pub extrinsics_per_block: f64,
	pub failed_calls: u64,
	/// Normal-class weight and proof size used, and body length, as shares of their limits.
	pub weight_fullness: f64,
	pub proof_fullness: f64,
	pub length_fullness: f64,
	/// Per task (or transfer): weight in microseconds, proof bytes, block bytes, extrinsics.
	pub weight_micros_each: f64,
	pub proof_bytes_each: f64,
	pub block_bytes_each: f64,
	pub extrinsics_each: f64,
	/// Replicas per task certified in the window (its winners; every replica agrees here).
	pub replicas_per_task: Option<f64>,
	/// Blocks from a request's block to the block certifying its tasks, over the lanes
	/// certified in the whole run (simulated workers act on each best block at once).
	pub latency_blocks: Option<Latency>,
	pub lanes_certified: u64,
	pub lanes_failed: u64,
	pub failures: Vec<(String, u64)>,
	pub node_cores: Option<f64>,
	pub node_rss_mib: Option<f64>,
	pub node_peak_rss_mib: Option<f64>,
	pub generator_cores: Option<f64>,
	/// Total issuance before the run and after it, and the fees and dust burnt between.
	pub issuance_before: Balance,
	pub issuance_after: Balance,
	pub burnt: Balance,
	pub conserved: bool,
}

/// A distribution of lane latencies, in blocks.
#[derive(Serialize, Debug, Clone, Copy)]
pub struct Latency {
	pub min: u32,
	pub median: u32,
	pub p90: u32,
	pub max: u32,
}

impl Latency {
	pub fn of(mut blocks: Vec<u32>) -> Option<Latency> {
		if blocks.is_empty() {
			return None;
		}
		blocks.sort_unstable();
		let at = |q: usize| blocks[(blocks.len() - 1) * q / 100];
		Some(Latency { min: blocks[0], median: at(50), p90: at(90), max: blocks[blocks.len() - 1] })
	}
}

/// The normal class's limits: weight, proof size, length.
fn limits() -> (u64, u64, u64) {
	let weights = <Runtime as frame_system::Config>::BlockWeights::get();
	let normal = weights.get(DispatchClass::Normal).max_total.unwrap_or(weights.max_block);
	let length = <Runtime as frame_system::Config>::BlockLength::get();
	(normal.ref_time(), normal.proof_size(), u64::from(*length.max.get(DispatchClass::Normal)))
}

impl Window {
	/// The window's sums: `done` picks what counts (certified tasks, or transfers).
	pub fn sums(&self, done: impl Fn(&BlockFigures) -> u32) -> WindowSums {
		let n = self.blocks.len().max(1) as f64;
		let start = self.before.as_ref().map(|b| b.moment).unwrap_or_default();
		let end = self.blocks.last().map(|b| b.moment).unwrap_or(start);
		let (max_ref, max_proof, max_len) = limits();
		let sum = |f: &dyn Fn(&BlockFigures) -> f64| self.blocks.iter().map(f).sum::<f64>();
		WindowSums {
			first: self.blocks.first().map_or(0, |b| b.number),
			last: self.blocks.last().map_or(0, |b| b.number),
			blocks: self.blocks.len(),
			seconds: end.saturating_sub(start) as f64 / 1000.0,
			done: self.blocks.iter().map(|b| u64::from(done(b))).sum(),
			extrinsics: sum(&|b| f64::from(b.extrinsics)),
			failed: self.blocks.iter().map(|b| u64::from(b.failed_calls)).sum(),
			winners: self.blocks.iter().map(|b| u64::from(b.winners)).sum(),
			weight_fullness: sum(&|b| b.normal_weight.ref_time() as f64) / n / max_ref as f64,
			proof_fullness: sum(&|b| b.normal_weight.proof_size() as f64) / n / max_proof as f64,
			length_fullness: sum(&|b| b.bytes as f64) / n / max_len as f64,
			weight_micros: sum(&|b| b.normal_weight.ref_time() as f64) / 1e6,
			proof_bytes: sum(&|b| b.normal_weight.proof_size() as f64),
			bytes: sum(&|b| b.bytes as f64),
		}
	}
}

/// Totals over a window.
pub struct WindowSums {
	pub first: u32,
	pub last: u32,
	pub blocks: usize,
	pub seconds: f64,
	pub done: u64,
	pub extrinsics: f64,
	pub failed: u64,
	pub winners: u64,
	pub weight_fullness: f64,
	pub proof_fullness: f64,
	pub length_fullness: f64,
	pub weight_micros: f64,
	pub proof_bytes: f64,
	pub bytes: f64,
}

/// `1234567.8` as `1,234,568`.
pub fn grouped(value: f64) -> String {
	let digits = format!("{:.0}", value.max(0.0));
	let mut out = String::new();
	for (i, c) in digits.chars().enumerate() {
		if i > 0 && (digits.len() - i) % 3 == 0 {
			out.push(',');
		}
		out.push(c);
	}
	out
}

/// Planck as RLC with 6 decimals.
pub fn rlc(amount: Balance) -> String {
	format!("{}.{:06}", amount / RLC, (amount % RLC) / (RLC / 1_000_000))
}

impl Report {
	/// The report as people read it.
	pub fn text(&self) -> String {
		let what = if self.mode == "tasks" { "certified tasks" } else { "balance transfers" };
		let mut out = String::new();
		let mut line = |s: String| {
			out.push_str(&s);
			out.push('\n');
		};
		if self.mode == "tasks" {
			line(format!(
				"load: {} workers in one pool, trust {}, requests of {} tasks",
				grouped(self.accounts as f64),
				self.trust,
				self.batch
			));
		} else {
			line(format!(
				"load: signed balance transfers between {} accounts (the chain's own ceiling)",
				grouped(self.accounts as f64)
			));
		}
		line(format!(
			"window: blocks #{}–#{} ({} blocks, {:.1} s)",
			self.first_block, self.last_block, self.blocks, self.seconds
		));
		line(format!(
			"{what}: {} → {:.1} per second ({:.0} per block)",
			grouped(self.done as f64),
			self.per_second,
			self.per_block
		));
		if let Some(replicas) = self.replicas_per_task {
			line(format!(
				"replicas per task: {replicas:.2}; lanes certified {}, failed {}",
				grouped(self.lanes_certified as f64),
				self.lanes_failed
			));
		}
		if let Some(l) = self.latency_blocks {
			line(format!(
				"request's block to certifying block: median {} blocks (min {}, 90 % {}, max {})",
				l.median, l.min, l.p90, l.max
			));
		}
		for (reason, n) in &self.failures {
			line(format!("  failed lanes: {n} × {reason}"));
		}
		line(format!(
			"extrinsics per block: {:.1} ({} failed in the window); block fullness (normal class): \
			 weight {:.1} %, proof size {:.1} %, length {:.1} %",
			self.extrinsics_per_block,
			self.failed_calls,
			self.weight_fullness * 100.0,
			self.proof_fullness * 100.0,
			self.length_fullness * 100.0
		));
		line(format!(
			"cost per {}: {:.1} µs of weight, {:.0} bytes of proof, {:.0} bytes of block, {:.3} \
			 extrinsics",
			if self.mode == "tasks" { "certified task" } else { "transfer" },
			self.weight_micros_each,
			self.proof_bytes_each,
			self.block_bytes_each,
			self.extrinsics_each
		));
		match (self.node_cores, self.node_rss_mib, self.node_peak_rss_mib) {
			(Some(cores), Some(rss), Some(peak)) => line(format!(
				"node: {:.0} % of a core over the window; memory {rss:.0} MiB (peak {peak:.0} MiB)",
				cores * 100.0
			)),
			_ => line("node: give --node-pid to measure its CPU and memory".into()),
		}
		if let Some(cores) = self.generator_cores {
			line(format!("generator: {:.0} % of a core over the window", cores * 100.0));
		}
		line(format!(
			"RLC supply: {} before, {} after; fees and dust burnt {}: {}",
			rlc(self.issuance_before),
			rlc(self.issuance_after),
			rlc(self.burnt),
			if self.conserved { "conserved" } else { "NOT CONSERVED" }
		));
		out
	}
}
