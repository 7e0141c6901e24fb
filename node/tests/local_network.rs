//! A real four-validator `local` network on 127.0.0.1: it finalises; with one validator down
//! finality goes on; with two down blocks go on but finality stalls; when one comes back
//! finality resumes and the restarted node catches up.

mod common;

use common::{chain::local_validator, wait_for, Node};
use std::time::Duration;

const MINUTES: fn(u64) -> Duration = |m| Duration::from_secs(60 * m);

/// Validator `name` of the `local` chain, with its own key.
fn validator(name: &str, index: u8, base: &std::path::Path, bootnode: Option<&str>) -> Node {
	local_validator(name, name, index, base, bootnode)
}

fn finalized(node: &Node) -> u64 {
	node.finalized_number().unwrap_or(0)
}

#[test]
fn four_validators_tolerate_one_failure_and_stall_finality_at_two() {
	let dir = tempfile::tempdir().unwrap();
	let mut alice = validator("alice", 0, dir.path(), None);
	let boot = alice.multiaddr();
	let bob = validator("bob", 1, dir.path(), Some(&boot));
	let mut charlie = validator("charlie", 2, dir.path(), Some(&boot));
	let mut dave = validator("dave", 3, dir.path(), Some(&boot));

	// All four finalise together.
	wait_for("finality with four validators", MINUTES(3), || {
		alice.assert_running();
		[&alice, &bob, &charlie, &dave].iter().all(|n| finalized(n) >= 3).then_some(())
	});

	// One down: 3 of 4 is still over two thirds.
	dave.kill();
	let before = finalized(&alice);
	wait_for("finality with three validators", MINUTES(3), || {
		(finalized(&alice) >= before + 3).then_some(())
	});

	// Two down: blocks go on (BABE's secondary slots), finality does not.
	charlie.kill();
	let best_then = alice.best_number().unwrap();
	wait_for("blocks with two validators", MINUTES(3), || {
		alice.assert_running();
		alice.best_number().filter(|b| *b >= best_then + 2)
	});
	// Rounds already under way when Charlie died have had time to end; from here on the
	// finalised head must not move while the chain grows.
	let stalled_at = finalized(&alice);
	let best_now = alice.best_number().unwrap();
	wait_for("more blocks with two validators", MINUTES(3), || {
		alice.best_number().filter(|b| *b >= best_now + 3)
	});
	assert_eq!(finalized(&alice), stalled_at, "finality went on with 2 of 4 validators");
	assert!(alice.best_number().unwrap() > stalled_at + 3);

	// Charlie comes back with its database: finality resumes, and Charlie catches up.
	charlie.restart();
	wait_for("finality to resume", MINUTES(4), || (finalized(&alice) > stalled_at).then_some(()));
	let target = alice.best_number().unwrap();
	wait_for("the restarted node to catch up", MINUTES(3), || {
		charlie.assert_running();
		charlie.best_number().filter(|b| *b >= target)
	});
	assert!(finalized(&charlie) > stalled_at);
	drop(bob);
}
