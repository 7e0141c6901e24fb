//! A real four-validator `local` network on 127.0.0.1: it finalises; with one validator down
//! finality goes on; with two down blocks go on but finality stalls; when one comes back
//! finality resumes and the restarted node catches up.

use crate::common::{chain::four_local_validators, minutes, wait_for, Node};

fn finalized(node: &Node) -> u64 {
	node.finalized_number().unwrap_or(0)
}

#[test]
fn four_validators_tolerate_one_failure_and_stall_finality_at_two() {
	let dir = tempfile::tempdir().unwrap();
	// All four finalise together.
	let [mut alice, bob, mut charlie, mut dave] = four_local_validators(dir.path());

	// One down: 3 of 4 is still over two thirds.
	dave.kill();
	let before = finalized(&alice);
	wait_for("finality with three validators", minutes(3), || {
		(finalized(&alice) >= before + 3).then_some(())
	});

	// Two down: blocks go on (BABE's secondary slots), finality does not.
	charlie.kill();
	let best_then = alice.best_number().unwrap();
	wait_for("blocks with two validators", minutes(3), || {
		alice.assert_running();
		alice.best_number().filter(|b| *b >= best_then + 2)
	});
	// Rounds already under way when Charlie died have had time to end; from here on the
	// finalised head must not move while the chain grows.
	let stalled_at = finalized(&alice);
	let best_now = alice.best_number().unwrap();
	wait_for("more blocks with two validators", minutes(3), || {
		alice.best_number().filter(|b| *b >= best_now + 3)
	});
	assert_eq!(finalized(&alice), stalled_at, "finality went on with 2 of 4 validators");
	assert!(alice.best_number().unwrap() > stalled_at + 3);

	// Charlie comes back with its database: finality resumes, and Charlie catches up.
	charlie.restart();
	wait_for("finality to resume", minutes(4), || (finalized(&alice) > stalled_at).then_some(()));
	let target = alice.best_number().unwrap();
	wait_for("the restarted node to catch up", minutes(3), || {
		charlie.assert_running();
		charlie.best_number().filter(|b| *b >= target)
	});
	assert!(finalized(&charlie) > stalled_at);
	drop(bob);
}
