//! Governance end to end, on real nodes: RLC holders' referenda approve and revoke an app in
//! the registry, and admit a second validator, which then authors blocks.

use crate::common::{
	chain::{babe_author, random_node_key},
	rpc::hex_bytes,
	rpc::to_hex,
	tx, wait_for, Node, Rpc,
};
use codec::{Decode, Encode};
use frame_support::traits::{schedule::DispatchTime, Bounded};
use iexec_runtime::{
	governance::origins::Origin, AccountId, Balance, OriginCaller, Runtime, RuntimeCall,
	SessionKeys, RLC,
};
use pallet_conviction_voting::{AccountVote, Conviction, Vote};
use pallet_referenda::ReferendumInfo;
use pallet_registry::{AppRuntime, ContractId, ContractOf, Rfc, Status, Terms};
use serde_json::json;
use sp_keyring::Sr25519Keyring::{self, *};
use sp_runtime::traits::BlakeTwo256;
use std::time::Duration;

/// Each voter puts this much behind its vote; the six dev accounts together hold 62 % of the
/// supply, enough for the root track's 50 % support at once.
const VOTE: Balance = 9_000_000 * RLC;
/// A fast-paced referendum takes about ten blocks; allow three times that.
const REFERENDUM_LIMIT: Duration = Duration::from_secs(180);

fn bounded<S: frame_support::traits::Get<u32>>(text: &str) -> frame_support::BoundedVec<u8, S> {
	text.as_bytes().to_vec().try_into().unwrap()
}

fn contract(rpc: &Rpc, id: ContractId) -> Option<ContractOf<Runtime>> {
	tx::storage(rpc, &pallet_registry::Contracts::<Runtime>::hashed_key_for(id))
}

fn referendum_info(
	rpc: &Rpc,
	index: u32,
) -> Option<pallet_referenda::ReferendumInfoOf<Runtime, ()>> {
	tx::storage(rpc, &pallet_referenda::ReferendumInfoFor::<Runtime>::hashed_key_for(index))
}

/// Puts `call` to a referendum dispatching as `origin`: Alice notes the call's preimage
/// (as polkadot.js Apps does), submits, and places the decision deposit; every voter votes
/// aye with conviction 1x. Returns the referendum's index.
fn referendum(
	rpc: &Rpc,
	origin: OriginCaller,
	call: RuntimeCall,
	voters: &[Sr25519Keyring],
) -> u32 {
	let encoded = call.encode();
	let hash = sp_io::hashing::blake2_256(&encoded).into();
	let len = encoded.len() as u32;
	tx::submit(
		rpc,
		Alice,
		RuntimeCall::Preimage(pallet_preimage::Call::note_preimage { bytes: encoded }),
	);
	let index: u32 =
		tx::storage(rpc, &pallet_referenda::ReferendumCount::<Runtime>::hashed_key()).unwrap_or(0);
	let proposal: Bounded<RuntimeCall, BlakeTwo256> = Bounded::Lookup { hash, len };
	tx::submit_and_wait(
		rpc,
		Alice,
		RuntimeCall::Referenda(pallet_referenda::Call::submit {
			proposal_origin: Box::new(origin),
			proposal,
			enactment_moment: DispatchTime::After(1),
		}),
	);
	assert!(
		matches!(referendum_info(rpc, index), Some(ReferendumInfo::Ongoing(_))),
		"referendum {index} not submitted"
	);
	tx::submit(
		rpc,
		Alice,
		RuntimeCall::Referenda(pallet_referenda::Call::place_decision_deposit { index }),
	);
	for voter in voters {
		let vote = Vote { aye: true, conviction: Conviction::Locked1x };
		tx::submit(
			rpc,
			*voter,
			RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::vote {
				poll_index: index,
				vote: AccountVote::Standard { vote, balance: VOTE },
			}),
		);
	}
	index
}

fn wait_for_status(node: &mut Node, id: ContractId, wanted: Status) {
	wait_for(&format!("contract {id} to be {wanted:?}"), REFERENDUM_LIMIT, || {
		node.assert_running();
		(contract(&node.rpc, id)?.status == wanted).then_some(())
	});
}

#[test]
fn referenda_approve_then_revoke_an_app() {
	let logs = tempfile::tempdir().unwrap();
	let mut node = Node::start("governance-dev", &["--dev", "--tmp"], logs.path());
	let rpc = node.rpc.clone();

	// Bob proposes an app; it holds his deposit and is not usable yet.
	let id: ContractId =
		tx::storage(&rpc, &pallet_registry::NextContractId::<Runtime>::hashed_key()).unwrap_or(0);
	tx::submit_and_wait(
		&rpc,
		Bob,
		RuntimeCall::Registry(pallet_registry::Call::propose {
			rfc: Rfc { document_hash: [5; 32], uri: bounded("ipfs://rfc/blender") },
			terms: Terms::App {
				runtime: AppRuntime::Docker,
				code_uri: bounded("docker://iexec/blender:4.2"),
				code_hash: [6; 32],
				requirements: bounded("TARGET.GPUs >= 1 && TARGET.Memory >= 8192"),
			},
		}),
	);
	let proposed = contract(&rpc, id).expect("the app is stored");
	assert_eq!(proposed.status, Status::Proposed);
	assert_eq!(proposed.owner, Bob.to_account_id());
	assert!(proposed.deposit > RLC);

	// A referendum on the contracts track approves it.
	let decision = OriginCaller::Governance(Origin::ContractDecision);
	let approve = RuntimeCall::Registry(pallet_registry::Call::approve { id });
	let first = referendum(&rpc, decision.clone(), approve, &[Alice]);
	wait_for_status(&mut node, id, Status::Approved);
	assert!(matches!(referendum_info(&rpc, first), Some(ReferendumInfo::Approved(..))));

	// A second referendum revokes it.
	let revoke = RuntimeCall::Registry(pallet_registry::Call::revoke { id });
	let second = referendum(&rpc, decision, revoke, &[Alice]);
	assert_eq!(second, first + 1);
	wait_for_status(&mut node, id, Status::Revoked);

	// Bob removes it and gets his deposit back.
	let free_before = tx::free_balance(&rpc, &Bob.to_account_id());
	tx::submit_and_wait(&rpc, Bob, RuntimeCall::Registry(pallet_registry::Call::remove { id }));
	assert!(contract(&rpc, id).is_none());
	let free_after = tx::free_balance(&rpc, &Bob.to_account_id());
	assert!(free_after + RLC > free_before + proposed.deposit, "deposit back, less a fee");
}

#[test]
fn a_root_referendum_admits_a_second_validator_that_authors_then_leaves() {
	let logs = tempfile::tempdir().unwrap();
	let mut alice = Node::start("alice", &["--dev", "--tmp"], logs.path());
	let bootnode = alice.multiaddr();
	// Outside `--dev` a validator needs its own network key.
	let node_key = random_node_key();
	let mut bob = Node::start(
		"bob",
		&[
			"--chain",
			"dev",
			"--bob",
			"--validator",
			"--tmp",
			"--node-key",
			&node_key,
			"--allow-private-ip",
			"--bootnodes",
			&bootnode,
		],
		logs.path(),
	);
	let rpc = alice.rpc.clone();
	wait_for("Bob's node to sync", Duration::from_secs(120), || {
		bob.assert_running();
		let (a, b) = (alice.best_number()?, bob.best_number()?);
		(a >= 2 && b + 1 >= a).then_some(())
	});

	// Bob's node makes his session keys and proves he owns them; he registers them on chain.
	let bob_account: AccountId = Bob.to_account_id();
	let generated =
		bob.rpc.call("author_rotateKeysWithOwner", json!([to_hex(&bob_account.encode())])).unwrap();
	let keys = SessionKeys::decode(&mut &hex_bytes(generated["keys"].as_str().unwrap())[..])
		.expect("the node's keys decode as this runtime's session keys");
	let proof = hex_bytes(generated["proof"].as_str().expect("the runtime makes a proof"));
	tx::submit_and_wait(
		&rpc,
		Bob,
		RuntimeCall::Session(pallet_session::Call::set_keys { keys: keys.clone(), proof }),
	);
	let registered: Option<SessionKeys> =
		tx::storage(&rpc, &pallet_session::NextKeys::<Runtime>::hashed_key_for(&bob_account));
	assert_eq!(registered, Some(keys.clone()));

	// The root track decides: more than half the supply votes for him.
	let add = RuntimeCall::ValidatorSet(pallet_validator_set::Call::add_validator {
		who: bob_account.clone(),
	});
	let root = OriginCaller::system(frame_system::RawOrigin::Root);
	referendum(&rpc, root, add, &[Alice, Bob, Charlie, Dave, Eve, Ferdie]);
	wait_for("Bob in the validator set", REFERENDUM_LIMIT, || {
		alice.assert_running();
		let set: Vec<AccountId> =
			tx::storage(&rpc, &pallet_validator_set::Validators::<Runtime>::hashed_key())?;
		set.contains(&bob_account).then_some(())
	});

	// Two sessions later (a dev session is ten blocks) he authors blocks with his new key.
	let from = alice.best_number().unwrap();
	let authored = wait_for("a block authored by Bob", Duration::from_secs(240), || {
		alice.assert_running();
		bob.assert_running();
		let best = alice.best_number()?;
		(from..=best).find(|n| babe_author(&rpc, *n).as_ref() == Some(&keys.babe))
	});

	// Finality, which now needs Bob's GRANDPA vote too, goes past his block.
	wait_for("finality past Bob's block", Duration::from_secs(120), || {
		alice.finalized_number().filter(|n| *n >= authored)
	});

	// Bob leaves by himself. Two session changes later he is out of the session: from then
	// on no block is his, and finality goes on without his vote.
	tx::submit_and_wait(&rpc, Bob, RuntimeCall::ValidatorSet(pallet_validator_set::Call::leave {}));
	let set: Vec<AccountId> =
		tx::storage(&rpc, &pallet_validator_set::Validators::<Runtime>::hashed_key()).unwrap();
	assert!(!set.contains(&bob_account), "Bob left the validator set");
	let out = wait_for("Bob out of the session", Duration::from_secs(240), || {
		alice.assert_running();
		let session: Vec<AccountId> =
			tx::storage(&rpc, &pallet_session::Validators::<Runtime>::hashed_key())?;
		(!session.contains(&bob_account)).then(|| alice.best_number()).flatten()
	});
	// A whole session (ten blocks) and more, all Alice's, and finalised.
	let until = out + 12;
	wait_for("finality past a session without Bob", Duration::from_secs(180), || {
		alice.assert_running();
		alice.finalized_number().filter(|n| *n >= until)
	});
	for n in out + 1..=until {
		let author = babe_author(&rpc, n).unwrap_or_else(|| panic!("no author for #{n}"));
		assert_ne!(author, keys.babe, "block {n} is Bob's");
	}
}
