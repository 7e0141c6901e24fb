//! The load generator (`load-gen`, in the worker package) against a real dev node: full task
//! lives at trust 3 with replicated results, and the transfers baseline, each with RLC
//! conserved; bad arguments and an absent node get clear errors.

mod common;

use common::Node;
use serde_json::Value;
use std::{
	path::PathBuf,
	process::{Command, Output},
};

/// `load-gen`, built beside the node (`cargo build -p iexec-worker`, as scripts/build.sh does;
/// `cargo test --workspace` builds it too).
fn load_gen() -> PathBuf {
	let path = common::node_binary().with_file_name("load-gen");
	assert!(path.exists(), "{} not built: run `cargo build -p iexec-worker`", path.display());
	path
}

fn run(args: &[&str]) -> Output {
	Command::new(load_gen()).args(args).output().expect("load-gen runs")
}

/// Runs `load-gen --json ARGS` against `node` and returns its report, failing with its
/// output when it did not succeed.
fn report(node: &Node, args: &[&str]) -> Value {
	let url = format!("ws://127.0.0.1:{}", node.rpc_port);
	let output = run(&[&["--url", &url, "--json"], args].concat());
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(output.status.success(), "load-gen {args:?} failed:\n{stderr}\n{}", node.log_tail());
	serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("report: {e}\n{stderr}"))
}

#[test]
fn tasks_at_trust_3_and_transfers_complete_with_rlc_conserved() {
	let logs = tempfile::tempdir().unwrap();
	let node = Node::start("dev", &["--dev", "--tmp"], logs.path());

	// Six workers, requests of 4 tasks: new workers (weight 2) need two agreeing replicas at
	// trust 3, and keep needing them until a worker has 12 points (three lanes each).
	let tasks = report(
		&node,
		&[
			"--workers",
			"6",
			"--trust",
			"3",
			"--batch",
			"4",
			"--requesters",
			"2",
			"--lanes",
			"3",
			"--warmup",
			"0",
			"--blocks",
			"2",
		],
	);
	assert_eq!(tasks["mode"], "tasks");
	let certified = tasks["done"].as_u64().unwrap();
	assert!(certified >= 4, "certified {certified} tasks in the window: {tasks:#}");
	assert_eq!(certified % 4, 0, "tasks certify a whole request at a time: {tasks:#}");
	let replicas = tasks["replicas_per_task"].as_f64().unwrap();
	assert_eq!(replicas, 2.0, "trust 3 with new workers takes two agreeing replicas: {tasks:#}");
	assert_eq!(tasks["lanes_failed"], 0, "{tasks:#}");
	// Request, first claim, second claim, contributions, reveals: a block each at best.
	let fastest = tasks["latency_blocks"]["min"].as_u64().unwrap();
	assert!(fastest >= 4, "a trust-3 lane certified {fastest} blocks after its request: {tasks:#}");
	assert!(tasks["latency_blocks"]["median"].as_u64().unwrap() <= 20, "{tasks:#}");
	assert_eq!(tasks["failed_calls"], 0, "{tasks:#}");
	// Two 6-second blocks measured, from the block before the window.
	let seconds = tasks["seconds"].as_f64().unwrap();
	assert!((6.0..=30.0).contains(&seconds), "window of {seconds} s: {tasks:#}");
	let rate = tasks["per_second"].as_f64().unwrap();
	assert!((rate - certified as f64 / seconds).abs() < 1e-6, "{tasks:#}");
	assert!(tasks["weight_micros_each"].as_f64().unwrap() > 0.0);
	assert_eq!(tasks["conserved"], true, "{tasks:#}");
	// Fees were paid, and the supply fell by exactly them.
	let before = tasks["issuance_before"].as_u64().unwrap();
	let after = tasks["issuance_after"].as_u64().unwrap();
	assert!(tasks["burnt"].as_u64().unwrap() > 0);
	assert_eq!(before - after, tasks["burnt"].as_u64().unwrap());

	// The baseline, on the same chain with other accounts.
	let transfers = report(
		&node,
		&[
			"--mode",
			"transfers",
			"--namespace",
			"baseline",
			"--senders",
			"20",
			"--warmup",
			"0",
			"--blocks",
			"2",
		],
	);
	assert_eq!(transfers["mode"], "transfers");
	// Each sender has one transfer in flight: two blocks hold most of them.
	assert!(transfers["done"].as_u64().unwrap() >= 10, "{transfers:#}");
	assert_eq!(transfers["failed_calls"], 0, "{transfers:#}");
	assert_eq!(transfers["conserved"], true, "{transfers:#}");

	// The accounts of a namespace are used once: a second run says what to do.
	let url = format!("ws://127.0.0.1:{}", node.rpc_port);
	let again =
		run(&["--url", &url, "--mode", "transfers", "--namespace", "baseline", "--senders", "20"]);
	assert_eq!(again.status.code(), Some(1));
	let stderr = String::from_utf8_lossy(&again.stderr);
	assert!(
		stderr.contains("used on this chain before") && stderr.contains("--namespace"),
		"{stderr}"
	);
}

#[test]
fn bad_arguments_and_an_absent_node_get_clear_errors() {
	let bad = run(&["--batch", "33"]);
	assert_eq!(bad.status.code(), Some(2));
	assert!(String::from_utf8_lossy(&bad.stderr).contains("--batch"));
	let bad = run(&["--mode", "sideways"]);
	assert_eq!(bad.status.code(), Some(2));

	let port = common::free_port();
	let absent = run(&["--url", &format!("ws://127.0.0.1:{port}")]);
	assert_eq!(absent.status.code(), Some(1));
	let stderr = String::from_utf8_lossy(&absent.stderr);
	assert!(
		stderr.contains("connecting to the node") && stderr.contains(&port.to_string()),
		"{stderr}"
	);
}
