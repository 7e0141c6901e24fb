//! Test harness: real `iexec-node` processes on free local ports, and a small JSON-RPC
//! client over HTTP.
#![allow(dead_code)]

pub mod chain;
pub mod rpc;
pub mod tx;

use std::{
	fs::File,
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, ExitStatus, Stdio},
	time::{Duration, Instant},
};

pub use rpc::Rpc;

/// The binary under test, built by cargo for this test run.
pub fn node_binary() -> PathBuf {
	PathBuf::from(env!("CARGO_BIN_EXE_iexec-node"))
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `probe` every half second until it returns `Some`, or gives `None` after `limit`.
pub fn poll<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
	let start = Instant::now();
	loop {
		if let Some(value) = probe() {
			return Some(value);
		}
		if start.elapsed() >= limit {
			return None;
		}
		std::thread::sleep(Duration::from_millis(500));
	}
}

/// `m` minutes, for the waits of network tests.
pub fn minutes(m: u64) -> Duration {
	Duration::from_secs(60 * m)
}

/// Like [`poll`], but panics with `what` after `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, probe: impl FnMut() -> Option<T>) -> T {
	poll(limit, probe).unwrap_or_else(|| panic!("timed out after {limit:?} waiting for {what}"))
}

/// A running node; killed when dropped, so no test leaves a process behind.
pub struct Node {
	pub name: String,
	pub rpc: Rpc,
	pub rpc_port: u16,
	pub p2p_port: u16,
	pub log: PathBuf,
	args: Vec<String>,
	child: Option<Child>,
}

impl Node {
	/// Starts `iexec-node ARGS` with RPC and p2p on fresh ports and no telemetry, logging to
	/// `log_dir/NAME.log`. Waits until the RPC server answers.
	pub fn start(name: &str, args: &[&str], log_dir: &Path) -> Node {
		let (rpc_port, p2p_port) = (free_port(), free_port());
		let mut node = Node {
			name: name.into(),
			rpc: Rpc::new(rpc_port),
			rpc_port,
			p2p_port,
			log: log_dir.join(format!("{name}.log")),
			args: args.iter().map(|a| a.to_string()).collect(),
			child: None,
		};
		node.spawn();
		node
	}

	fn spawn(&mut self) {
		let log = File::options().create(true).append(true).open(&self.log).unwrap();
		let child = Command::new(node_binary())
			.args(&self.args)
			.args(["--rpc-port", &self.rpc_port.to_string()])
			// Loopback only: tests never listen on the machine's other interfaces.
			.args(["--listen-addr", &format!("/ip4/127.0.0.1/tcp/{}", self.p2p_port)])
			.args(["--no-telemetry", "--no-prometheus", "--no-mdns"])
			.stdin(Stdio::null())
			.stdout(log.try_clone().unwrap())
			.stderr(log)
			.spawn()
			.expect("iexec-node starts");
		self.child = Some(child);
		let rpc = self.rpc.clone();
		let up = poll(Duration::from_secs(120), || {
			self.assert_running();
			rpc.call("system_health", serde_json::json!([])).ok()
		});
		if up.is_none() {
			panic!("{}'s RPC server did not answer in 120 s:\n{}", self.name, self.log_tail());
		}
	}

	/// Panics, with the end of the log, if the process has exited.
	pub fn assert_running(&mut self) {
		if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
			panic!("{} exited with {status}:\n{}", self.name, self.log_tail());
		}
	}

	pub fn log_tail(&self) -> String {
		let text = std::fs::read_to_string(&self.log).unwrap_or_default();
		let lines: Vec<&str> = text.lines().collect();
		lines[lines.len().saturating_sub(40)..].join("\n")
	}

	/// Kills the process at once, as a crash would (SIGKILL).
	pub fn kill(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}

	/// Starts the node again with the same arguments and ports (and so the same database).
	pub fn restart(&mut self) {
		assert!(self.child.is_none(), "{} is still running", self.name);
		self.spawn();
	}

	/// Asks the node to stop (SIGINT, as Ctrl-C) and returns its exit status, or panics if
	/// it has not stopped within `limit`.
	pub fn stop(&mut self, limit: Duration) -> ExitStatus {
		let mut child = self.child.take().expect("node is running");
		let pid = child.id().to_string();
		let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
		assert!(sent.success());
		let start = Instant::now();
		loop {
			if let Some(status) = child.try_wait().unwrap() {
				return status;
			}
			if start.elapsed() > limit {
				let _ = child.kill();
				panic!("{} did not stop within {limit:?}:\n{}", self.name, self.log_tail());
			}
			std::thread::sleep(Duration::from_millis(200));
		}
	}

	/// The best block number.
	pub fn best_number(&self) -> Option<u64> {
		let header = self.rpc.call("chain_getHeader", serde_json::json!([])).ok()?;
		rpc::hex_number(&header["number"])
	}

	/// The finalised block number.
	pub fn finalized_number(&self) -> Option<u64> {
		let hash = self.rpc.call("chain_getFinalizedHead", serde_json::json!([])).ok()?;
		let header = self.rpc.call("chain_getHeader", serde_json::json!([hash])).ok()?;
		rpc::hex_number(&header["number"])
	}

	/// This node's libp2p address, for other nodes' `--bootnodes`.
	pub fn multiaddr(&self) -> String {
		let peer_id = self.rpc.call("system_localPeerId", serde_json::json!([])).unwrap();
		format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", self.p2p_port, peer_id.as_str().unwrap())
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		self.kill();
	}
}

/// Runs `iexec-node ARGS` to completion (for subcommands and refused configurations), with
/// a time limit; returns the exit status, stdout and stderr. Output goes through files: a
/// chain spec is megabytes, more than a pipe holds while we wait.
pub fn run_to_exit(args: &[&str], limit: Duration) -> (ExitStatus, String, String) {
	let dir = tempfile::tempdir().unwrap();
	let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
	let mut child = Command::new(node_binary())
		.args(args)
		.stdin(Stdio::null())
		.stdout(File::create(&out_path).unwrap())
		.stderr(File::create(&err_path).unwrap())
		.spawn()
		.unwrap();
	let start = Instant::now();
	let status = loop {
		if let Some(status) = child.try_wait().unwrap() {
			break status;
		}
		if start.elapsed() > limit {
			let _ = child.kill();
			panic!("iexec-node {args:?} still running after {limit:?}");
		}
		std::thread::sleep(Duration::from_millis(100));
	};
	let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
	let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
	(status, stdout, stderr)
}
