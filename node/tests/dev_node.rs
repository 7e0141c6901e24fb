//! A real `iexec-node --dev --tmp`: it authors and finalises blocks, includes a signed
//! transfer, refuses an invalid extrinsic without falling over, and stops cleanly.

mod common;

use common::{rpc::RpcError, tx, wait_for, Node};
use iexec_runtime::{RuntimeCall, RLC};
use serde_json::json;
use sp_keyring::Sr25519Keyring::{Alice, Ferdie};
use std::time::Duration;

#[test]
fn dev_node_produces_finalises_transfers_and_stops_cleanly() {
	let logs = tempfile::tempdir().unwrap();
	let mut node = Node::start("dev", &["--dev", "--tmp"], logs.path());

	// Chain properties, as polkadot.js reads them.
	let properties = node.rpc.call("system_properties", json!([])).unwrap();
	assert_eq!(properties["tokenSymbol"], "RLC");
	assert_eq!(properties["tokenDecimals"], 9);
	assert_eq!(properties["ss58Format"], 42);

	// Blocks are authored and finalised.
	wait_for("3 blocks", Duration::from_secs(90), || {
		node.assert_running();
		node.best_number().filter(|n| *n >= 3)
	});
	wait_for("a finalised block", Duration::from_secs(90), || {
		node.finalized_number().filter(|n| *n >= 1)
	});
	// Validators vote on their best block (`--grandpa-vote-lag 0`): the finalised head
	// reaches the best block between two slots. Substrate's default lag of 2 never lets it.
	wait_for("the finalised head to reach the best block", Duration::from_secs(30), || {
		let (best, finalized) = (node.best_number()?, node.finalized_number()?);
		(best >= 3 && finalized == best).then_some(())
	});

	// A transfer signed by Alice moves exactly the amount to Ferdie, and Alice pays a fee.
	let (alice, ferdie) = (Alice.to_account_id(), Ferdie.to_account_id());
	let alice_before = tx::free_balance(&node.rpc, &alice);
	let ferdie_before = tx::free_balance(&node.rpc, &ferdie);
	let amount = 1_234 * RLC;
	let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
		dest: ferdie.clone().into(),
		value: amount,
	});
	let xt = tx::signed(&node.rpc, Alice, call);
	node.rpc.call("author_submitExtrinsic", json!([common::rpc::to_hex(&xt)])).unwrap();
	let ferdie_after = wait_for("the transfer to be included", Duration::from_secs(60), || {
		let now = tx::free_balance(&node.rpc, &ferdie);
		(now != ferdie_before).then_some(now)
	});
	assert_eq!(ferdie_after, ferdie_before + amount);
	let alice_after = tx::free_balance(&node.rpc, &alice);
	let fee = alice_before - amount - alice_after;
	assert!(fee > 0 && fee < RLC, "fee of {fee} base units is out of range");
	assert_eq!(tx::account(&node.rpc, &alice).nonce, 1);

	// The node stops on SIGINT, with success, promptly.
	let status = node.stop(Duration::from_secs(30));
	assert!(status.success(), "exit status {status}");
}

#[test]
fn invalid_extrinsics_get_an_rpc_error_and_the_node_keeps_running() {
	let logs = tempfile::tempdir().unwrap();
	let mut node = Node::start("dev-bad-input", &["--dev", "--tmp"], logs.path());

	for garbage in ["0x", "0x1234", "0xdeadbeefdeadbeefdeadbeef", "not hex"] {
		match node.rpc.call("author_submitExtrinsic", json!([garbage])) {
			Err(RpcError::Rpc { code, message }) => {
				assert!(code != 0 && !message.is_empty(), "{garbage}: {code} {message}")
			}
			other => panic!("{garbage}: expected an RPC error, got {other:?}"),
		}
	}

	// A well-formed transaction with a bad signature (signed for another chain) is refused.
	let call = RuntimeCall::System(frame_system::Call::remark { remark: vec![1, 2, 3] });
	let mut xt = tx::signed(&node.rpc, Alice, call);
	let last = xt.len() - 1;
	xt[last] ^= 0xff; // corrupts the call, so the signature no longer matches
	let refused = node.rpc.call("author_submitExtrinsic", json!([common::rpc::to_hex(&xt)]));
	assert!(matches!(refused, Err(RpcError::Rpc { .. })), "got {refused:?}");

	// Still alive, still producing blocks.
	let now = node.best_number().unwrap();
	wait_for("a block after the bad input", Duration::from_secs(60), || {
		node.assert_running();
		node.best_number().filter(|n| *n > now)
	});
}
