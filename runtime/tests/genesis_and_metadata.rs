//! Runtime tests: the genesis presets build, hold exactly the white paper's supply and name
//! the expected validators; the metadata lists every runtime API.

use iexec_runtime::{
	genesis_config_presets as presets,
	governance::{origins::GovernancePace, Pace},
	token::{allocation, TOTAL_SUPPLY},
	AccountId, Babe, Balances, Runtime, Session, RLC,
};
use sp_keyring::Sr25519Keyring;

mod common;
use common::with_preset;

fn accounts(keys: &[Sr25519Keyring]) -> Vec<AccountId> {
	keys.iter().map(|k| k.to_account_id()).collect()
}

#[test]
fn presets_are_listed() {
	let names: Vec<String> = presets::preset_names().into_iter().map(|id| id.to_string()).collect();
	assert_eq!(names, vec!["development", "local_testnet"]);
	assert!(presets::get_preset(&"mainnet".into()).is_none());
}

#[test]
fn development_preset_builds_with_one_validator_and_the_full_supply() {
	with_preset("development", || {
		assert_eq!(Balances::total_issuance(), 87_000_000 * RLC);
		assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY);
		let alice = Sr25519Keyring::Alice.to_account_id();
		assert_eq!(Session::validators(), vec![alice.clone()]);
		assert_eq!(pallet_validator_set::Validators::<Runtime>::get().into_inner(), vec![alice]);
		assert_eq!(Babe::authorities().len(), 1);
		assert_eq!(pallet_grandpa::Pallet::<Runtime>::grandpa_authorities().len(), 1);
		assert_eq!(
			pallet_validator_set::SessionLength::<Runtime>::get(),
			presets::DEVELOPMENT_SESSION_LENGTH
		);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(Sr25519Keyring::Alice.to_account_id()));
		assert_eq!(GovernancePace::<Runtime>::get(), Pace::Fast);
	});
}

#[test]
fn local_testnet_preset_builds_with_four_validators_and_the_full_supply() {
	use Sr25519Keyring::*;
	with_preset("local_testnet", || {
		assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY);
		// The validator-set pallet keeps its set sorted, and hands it to the session pallet so.
		let mut expected = accounts(&[Alice, Bob, Charlie, Dave]);
		expected.sort();
		assert_eq!(pallet_validator_set::Validators::<Runtime>::get().into_inner(), expected);
		assert_eq!(Session::validators(), expected);
		assert_eq!(Babe::authorities().len(), 4);
		assert_eq!(pallet_grandpa::Pallet::<Runtime>::grandpa_authorities().len(), 4);
		// Outside the dev chain, only referenda are privileged, at their standard pace.
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
		assert_eq!(GovernancePace::<Runtime>::get(), Pace::Standard);
	});
}

#[test]
fn genesis_split_follows_the_white_paper() {
	use Sr25519Keyring::*;
	let endowed = presets::endowments();
	let balance_of = |who: Sr25519Keyring| {
		endowed.iter().find(|(a, _)| *a == who.to_account_id()).map(|(_, b)| *b).unwrap()
	};
	let crowdsale: u128 =
		[Alice, Bob, Charlie, Dave, Eve, Ferdie].into_iter().map(balance_of).sum();
	let founders: u128 = [AliceStash, BobStash, CharlieStash].into_iter().map(balance_of).sum();
	assert_eq!(crowdsale, allocation::CROWDSALE);
	assert_eq!(founders, allocation::FOUNDERS_AND_TEAM);
	assert_eq!(balance_of(DaveStash), allocation::BOUNTIES);
	// The reserve endows the escrow's kitty with the existential deposit.
	let kitty = pallet_escrow::Pallet::<Runtime>::kitty_account();
	let kitty_endowment = endowed.iter().find(|(a, _)| *a == kitty).map(|(_, b)| *b);
	assert_eq!(kitty_endowment, Some(iexec_runtime::EXISTENTIAL_DEPOSIT));
	assert_eq!(balance_of(EveStash) + iexec_runtime::EXISTENTIAL_DEPOSIT, allocation::RESERVE);
	assert_eq!(presets::genesis_supply(), TOTAL_SUPPLY);
	// Every account is endowed once.
	let mut who: Vec<_> = endowed.iter().map(|(a, _)| a.clone()).collect();
	who.sort();
	who.dedup();
	assert_eq!(who.len(), endowed.len());
}

#[test]
fn metadata_lists_every_runtime_api() {
	use codec::Decode;
	use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};

	let (versions, opaque) = sp_io::TestExternalities::default()
		.execute_with(|| (Runtime::metadata_versions(), Runtime::metadata_at_version(15)));
	assert!(versions.contains(&15), "metadata versions: {versions:?}");
	let opaque = opaque.expect("V15 metadata");
	let prefixed = RuntimeMetadataPrefixed::decode(&mut &opaque[..]).unwrap();
	let RuntimeMetadata::V15(metadata) = prefixed.1 else { panic!("not V15") };
	let apis: Vec<&str> = metadata.apis.iter().map(|api| api.name.as_str()).collect();
	for expected in [
		"Core",
		"Metadata",
		"BlockBuilder",
		"TaggedTransactionQueue",
		"OffchainWorkerApi",
		"SessionKeys",
		"BabeApi",
		"GrandpaApi",
		"AccountNonceApi",
		"TransactionPaymentApi",
		"TransactionPaymentCallApi",
		"GenesisBuilder",
	] {
		assert!(apis.contains(&expected), "{expected} missing from {apis:?}");
	}
	let extensions: Vec<&str> =
		metadata.extrinsic.signed_extensions.iter().map(|e| e.identifier.as_str()).collect();
	assert_eq!(
		extensions,
		vec![
			"CheckNonZeroSender",
			"CheckSpecVersion",
			"CheckTxVersion",
			"CheckGenesis",
			"CheckMortality",
			"CheckNonce",
			"CheckWeight",
			"ChargeTransactionPayment"
		]
	);
}
