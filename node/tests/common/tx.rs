//! Builds signed extrinsics and reads balances the way any client would: from the runtime's
//! types and the node's RPC, nothing else.

use super::rpc::{hex_bytes, to_hex, Rpc};
use codec::{Decode, Encode};
use iexec_runtime::{AccountId, Balance, Nonce, Runtime, RuntimeCall};
use serde_json::json;
use sp_core::{Pair, H256};
use sp_keyring::Sr25519Keyring;

type AccountInfo = frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>>;

/// The value under storage `key` at block `at` (the best block if `None`), decoded as `T`.
pub fn storage_at<T: Decode>(rpc: &Rpc, key: &[u8], at: Option<&str>) -> Option<T> {
	let value = rpc.call("state_getStorage", json!([to_hex(key), at])).unwrap();
	value.as_str().map(|hex| {
		T::decode(&mut &hex_bytes(hex)[..])
			.unwrap_or_else(|e| panic!("storage {} does not decode: {e}", to_hex(key)))
	})
}

/// The value under storage `key` at the best block.
pub fn storage<T: Decode>(rpc: &Rpc, key: &[u8]) -> Option<T> {
	storage_at(rpc, key, None)
}

/// The account record of `who` at the best block.
pub fn account(rpc: &Rpc, who: &AccountId) -> AccountInfo {
	storage(rpc, &frame_system::Account::<Runtime>::hashed_key_for(who)).unwrap_or_default()
}

/// Signs `call` as `signer` and hands it to the node's transaction pool.
pub fn submit(rpc: &Rpc, signer: Sr25519Keyring, call: RuntimeCall) {
	let xt = signed(rpc, signer, call.clone());
	rpc.call("author_submitExtrinsic", json!([to_hex(&xt)]))
		.unwrap_or_else(|e| panic!("{call:?} refused by the pool: {e:?}"));
}

/// Like [`submit`], then waits until the transaction is in a block (the signer's nonce
/// moved), so that later transactions can rely on its effect.
pub fn submit_and_wait(rpc: &Rpc, signer: Sr25519Keyring, call: RuntimeCall) {
	let before = account(rpc, &signer.to_account_id()).nonce;
	submit(rpc, signer, call.clone());
	super::wait_for(
		&format!("{call:?} to be included"),
		std::time::Duration::from_secs(60),
		|| (account(rpc, &signer.to_account_id()).nonce > before).then_some(()),
	);
}

/// Free balance of `who` at the best block.
pub fn free_balance(rpc: &Rpc, who: &AccountId) -> Balance {
	account(rpc, who).data.free
}

/// `call`, signed by `signer` with its next nonce, immortal, no tip, SCALE-encoded.
pub fn signed(rpc: &Rpc, signer: Sr25519Keyring, call: RuntimeCall) -> Vec<u8> {
	let genesis = rpc.call("chain_getBlockHash", json!([0])).unwrap();
	let genesis = H256::from_slice(&hex_bytes(genesis.as_str().unwrap()));
	let nonce = rpc
		.call("system_accountNextIndex", json!([signer.to_account_id().to_string()]))
		.unwrap()
		.as_u64()
		.unwrap() as Nonce;
	let version = rpc.call("state_getRuntimeVersion", json!([])).unwrap();
	let context = iexec_runtime::SigningContext {
		genesis,
		spec_version: version["specVersion"].as_u64().unwrap() as u32,
		transaction_version: version["transactionVersion"].as_u64().unwrap() as u32,
	};
	iexec_runtime::signed_extrinsic(call, signer.to_account_id(), nonce, context, |bytes| {
		signer.pair().sign(bytes).into()
	})
	.encode()
}
