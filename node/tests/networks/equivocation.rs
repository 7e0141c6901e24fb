//! Misbehaviour on a real four-validator `local` network: Alice's key runs on a second node
//! too, so both author in her slots. The other validators see two blocks for one slot, report
//! the equivocation through the transaction pool, and the chain disables Alice and takes her
//! out of the validator set; blocks and finality go on without her.

use crate::common::{
	chain::{babe_author, four_local_validators, local_validator},
	minutes, poll, tx, wait_for, Node,
};
use iexec_runtime::{AccountId, Runtime};
use sp_keyring::Sr25519Keyring::{self, *};

fn session_index(node: &Node, who: Sr25519Keyring) -> Option<u32> {
	let session: Vec<AccountId> =
		tx::storage(&node.rpc, &pallet_session::Validators::<Runtime>::hashed_key())?;
	session.iter().position(|v| *v == who.to_account_id()).map(|i| i as u32)
}

fn disabled(node: &Node) -> Vec<u32> {
	let list: Option<Vec<(u32, sp_staking::offence::OffenceSeverity)>> =
		tx::storage(&node.rpc, &pallet_session::DisabledValidators::<Runtime>::hashed_key());
	list.unwrap_or_default().into_iter().map(|(i, _)| i).collect()
}

#[test]
fn a_validator_key_run_twice_is_reported_and_disabled_and_the_chain_goes_on() {
	let dir = tempfile::tempdir().unwrap();
	let [alice, mut bob, charlie, dave] = four_local_validators(dir.path());
	let alice_index = session_index(&bob, Alice).expect("Alice validates");
	assert!(disabled(&bob).is_empty());

	// An operator starts a second node with the same key, say a standby left running.
	let mut twin = local_validator("alice-twin", "alice", dir.path(), Some(&alice.multiaddr()));

	// The twin must first sync and meet one of Alice's slots (a quarter of them): on a loaded
	// 2-core machine that once took five minutes before the first equivocation, then the
	// report needs its blocks. Ten minutes bound a failure, not a measure.
	let disabled_at = poll(minutes(10), || {
		bob.assert_running();
		twin.assert_running();
		disabled(&bob).contains(&alice_index).then(|| bob.best_number()).flatten()
	})
	.unwrap_or_else(|| {
		// What the nodes said about slots, equivocations and reports, for whoever reads this.
		let said: Vec<String> = [&alice, &twin, &bob]
			.iter()
			.map(|n| {
				let log = std::fs::read_to_string(&n.log).unwrap_or_default();
				let lines: Vec<&str> = log
					.lines()
					.filter(|l| {
						l.contains("quivocat") || l.contains("eport") || l.contains("Prepared")
					})
					.collect();
				format!("--- {}:\n{}", n.name, lines[lines.len().saturating_sub(15)..].join("\n"))
			})
			.collect();
		panic!("Alice was not reported and disabled in 10 minutes:\n{}", said.join("\n"))
	});
	let set: Vec<AccountId> =
		tx::storage(&bob.rpc, &pallet_validator_set::Validators::<Runtime>::hashed_key()).unwrap();
	assert!(!set.contains(&Alice.to_account_id()), "Alice is out of the validator set");
	assert_eq!(set.len(), 3);

	// The chain goes on: ten more blocks, none of them Alice's (a quarter of the slots were
	// hers), and finality past them.
	let until = disabled_at + 10;
	wait_for("finality past ten blocks without Alice", minutes(4), || {
		bob.assert_running();
		bob.finalized_number().filter(|n| *n >= until)
	});
	let alice_key: sp_consensus_babe::AuthorityId = Alice.public().into();
	for n in disabled_at + 1..=until {
		let author = babe_author(&bob.rpc, n).unwrap_or_else(|| panic!("no author for #{n}"));
		assert_ne!(author, alice_key, "block {n} is Alice's");
	}
	drop((alice, charlie, dave));
}
