//! Builds signed extrinsics and reads balances the way any client would: from the runtime's
//! types and the node's RPC, nothing else.

use super::rpc::{hex_bytes, to_hex, Rpc};
use codec::{Decode, Encode};
use iexec_runtime::{
	AccountId, Balance, Nonce, Runtime, RuntimeCall, SignedPayload, TxExtension, UncheckedExtrinsic,
};
use serde_json::json;
use sp_core::{Pair, H256};
use sp_keyring::Sr25519Keyring;
use sp_runtime::generic::Era;

type AccountInfo = frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>>;

/// The account record of `who` at the best block.
pub fn account(rpc: &Rpc, who: &AccountId) -> AccountInfo {
	let key = frame_system::Account::<Runtime>::hashed_key_for(who);
	let value = rpc.call("state_getStorage", json!([to_hex(&key)])).unwrap();
	match value.as_str() {
		Some(hex) => AccountInfo::decode(&mut &hex_bytes(hex)[..]).unwrap(),
		None => AccountInfo::default(),
	}
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
	let spec_version = version["specVersion"].as_u64().unwrap() as u32;
	let tx_version = version["transactionVersion"].as_u64().unwrap() as u32;

	let extension: TxExtension = (
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(Era::Immortal),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(0),
	);
	let implicit = ((), spec_version, tx_version, genesis, genesis, (), (), ());
	let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
	let signature = payload.using_encoded(|bytes| signer.pair().sign(bytes));
	UncheckedExtrinsic::new_signed(call, signer.to_account_id().into(), signature.into(), extension)
		.encode()
}
