//! The daemon's figures, in Prometheus' text format: replicas by fate, RLC earned, execution
//! time, how far the chain's finality is behind its best block.

use std::{
	collections::BTreeMap,
	fmt::Write,
	sync::{
		atomic::{AtomicU64, Ordering::Relaxed},
		Mutex,
	},
};

/// Counters and gauges, shared by the daemon and the HTTP server.
#[derive(Default)]
pub struct Metrics {
	pub claimed: AtomicU64,
	pub running: AtomicU64,
	pub contributed: AtomicU64,
	pub won: AtomicU64,
	pub lost: AtomicU64,
	/// RLC earned, in its smallest unit (a replica's reward, stake refunds excluded).
	pub earned: AtomicU64,
	pub execution_millis: AtomicU64,
	pub finalized_block: AtomicU64,
	pub best_block: AtomicU64,
	/// Set once the daemon has read the chain since it started.
	pub synced: AtomicU64,
	failed: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
	/// One more replica that could not be run, by reason (`code_hash`, `timeout`, …).
	pub fn failed(&self, reason: &str) {
		*self.failed.lock().unwrap_or_else(|e| e.into_inner()).entry(reason.into()).or_default() +=
			1;
	}

	/// The Prometheus exposition of every figure.
	pub fn render(&self) -> String {
		let mut out = String::new();
		let mut one = |name: &str, kind: &str, help: &str, value: u64| {
			let _ = writeln!(out, "# HELP iexec_worker_{name} {help}");
			let _ = writeln!(out, "# TYPE iexec_worker_{name} {kind}");
			let _ = writeln!(out, "iexec_worker_{name} {value}");
		};
		one("replicas_claimed_total", "counter", "Replicas claimed.", self.claimed.load(Relaxed));
		one("replicas_running", "gauge", "Replicas running now.", self.running.load(Relaxed));
		one(
			"replicas_contributed_total",
			"counter",
			"Results committed.",
			self.contributed.load(Relaxed),
		);
		one(
			"replicas_won_total",
			"counter",
			"Replicas in a certified result.",
			self.won.load(Relaxed),
		);
		one(
			"replicas_lost_total",
			"counter",
			"Replicas whose result lost or was discarded.",
			self.lost.load(Relaxed),
		);
		one(
			"earned_planck_total",
			"counter",
			"RLC earned, in the smallest unit.",
			self.earned.load(Relaxed),
		);
		let seconds = self.execution_millis.load(Relaxed) / 1000;
		one("execution_seconds_total", "counter", "Time spent running tasks.", seconds);
		let (finalized, best) = (self.finalized_block.load(Relaxed), self.best_block.load(Relaxed));
		one("finalized_block", "gauge", "Last finalised block seen.", finalized);
		one(
			"node_lag_blocks",
			"gauge",
			"Best block minus finalised block.",
			best.saturating_sub(finalized),
		);
		let _ =
			writeln!(out, "# HELP iexec_worker_replicas_failed_total Replicas not run, by reason.");
		let _ = writeln!(out, "# TYPE iexec_worker_replicas_failed_total counter");
		for (reason, count) in self.failed.lock().unwrap_or_else(|e| e.into_inner()).iter() {
			let _ =
				writeln!(out, "iexec_worker_replicas_failed_total{{reason=\"{reason}\"}} {count}");
		}
		out
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn figures_render_with_their_labels() {
		let metrics = Metrics::default();
		metrics.claimed.fetch_add(3, Relaxed);
		metrics.finalized_block.store(10, Relaxed);
		metrics.best_block.store(12, Relaxed);
		metrics.failed("code_hash");
		metrics.failed("code_hash");
		let text = metrics.render();
		assert!(text.contains("iexec_worker_replicas_claimed_total 3\n"), "{text}");
		assert!(text.contains("iexec_worker_node_lag_blocks 2\n"), "{text}");
		assert!(
			text.contains("iexec_worker_replicas_failed_total{reason=\"code_hash\"} 2\n"),
			"{text}"
		);
	}
}
