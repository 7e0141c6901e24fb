//! Bad configuration is refused with a clear message, not a panic or a silent default.

mod common;

use common::run_to_exit;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn unknown_chain_is_refused_by_name() {
	let (status, _, output) = run_to_exit(&["--chain", "no-such-chain", "--tmp"], LIMIT);
	assert!(!status.success());
	assert!(output.contains("unknown chain `no-such-chain`"), "output: {output}");
	assert!(!output.contains("panicked"), "output: {output}");
}

#[test]
fn malformed_chain_spec_file_is_refused() {
	let dir = tempfile::tempdir().unwrap();
	let spec = dir.path().join("broken.json");
	std::fs::write(&spec, "{ \"name\": \"broken\", ").unwrap();
	let (status, _, output) = run_to_exit(&["--chain", spec.to_str().unwrap(), "--tmp"], LIMIT);
	assert!(!status.success());
	assert!(output.contains("invalid chain-spec file"), "output: {output}");
	assert!(!output.contains("panicked"), "output: {output}");
}

#[test]
fn build_spec_carries_the_token_properties_and_presets() {
	let (status, spec, log) = run_to_exit(&["build-spec", "--chain", "local"], LIMIT);
	assert!(status.success(), "log: {log}");
	let spec: serde_json::Value = serde_json::from_str(&spec).unwrap();
	assert_eq!(spec["id"], "iexec_local_testnet");
	assert_eq!(spec["properties"]["tokenSymbol"], "RLC");
	assert_eq!(spec["properties"]["tokenDecimals"], 9);
	assert_eq!(
		spec["genesis"]["runtimeGenesis"]["patch"]["validatorSet"]["validators"]
			.as_array()
			.map(|v| v.len()),
		Some(4)
	);
}

#[test]
fn validator_without_network_key_is_refused() {
	let dir = tempfile::tempdir().unwrap();
	let (status, _, output) = run_to_exit(
		&["--chain", "local", "--validator", "--base-path", dir.path().to_str().unwrap()],
		LIMIT,
	);
	assert!(!status.success());
	assert!(output.contains("NetworkKeyNotFound"), "output: {output}");
}

#[test]
fn a_grandpa_vote_lag_out_of_range_is_refused() {
	let (status, _, output) = run_to_exit(&["--dev", "--tmp", "--grandpa-vote-lag", "257"], LIMIT);
	assert!(!status.success());
	assert!(
		output.contains("invalid value '257' for '--grandpa-vote-lag <BLOCKS>'"),
		"output: {output}"
	);
	assert!(output.contains("0..=256"), "output: {output}");
}
