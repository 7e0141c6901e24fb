//! Genesis presets: `development` (one validator, sudo, fast referenda) and `local_testnet`
//! (four validators, no sudo, referenda at their standard pace).
//!
//! Both hold exactly the 87,000,000 RLC of the white paper (section 9), spread over the
//! well-known development accounts as docs/chain.md lists.

use crate::{
	governance::Pace,
	token::{allocation, RLC},
	AccountId, BalancesConfig, GovernanceConfig, RuntimeGenesisConfig, SessionConfig, SessionKeys,
	SudoConfig, ValidatorSetConfig, BABE_GENESIS_EPOCH_CONFIG,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// One validator (Alice), one-minute sessions: a dev chain where validator changes show fast.
pub const DEVELOPMENT_SESSION_LENGTH: u32 = 10;
/// Four validators, ten-minute sessions.
pub const LOCAL_TESTNET_SESSION_LENGTH: u32 = 100;

/// Who holds what at genesis. Each allocation of the white paper goes to dev accounts whose
/// keys everybody knows, so only dev and test chains may use these presets.
pub fn endowments() -> Vec<(AccountId, u128)> {
	use Sr25519Keyring::*;
	let crowdsale_buyers = [Alice, Bob, Charlie, Dave, Eve, Ferdie];
	let founders = [AliceStash, BobStash, CharlieStash];
	let share = |total: u128, n: usize| total / n as u128;
	let mut out = Vec::new();
	for who in crowdsale_buyers {
		out.push((who.to_account_id(), share(allocation::CROWDSALE, crowdsale_buyers.len())));
	}
	for who in founders {
		out.push((who.to_account_id(), share(allocation::FOUNDERS_AND_TEAM, founders.len())));
	}
	out.push((DaveStash.to_account_id(), allocation::BOUNTIES));
	// The escrow's kitty must exist before it can collect seized stakes of any size: the
	// contingency reserve gives it the existential deposit, so the supply stays exact.
	out.push((EveStash.to_account_id(), allocation::RESERVE - crate::EXISTENTIAL_DEPOSIT));
	out.push((
		pallet_escrow::Pallet::<crate::Runtime>::kitty_account(),
		crate::EXISTENTIAL_DEPOSIT,
	));
	out
}

/// The session keys a dev validator uses: BABE (sr25519) and GRANDPA (ed25519) keys from the
/// validator's well-known seed, so `--alice` and friends find them in their keystore.
fn dev_session_keys(sr: Sr25519Keyring, ed: Ed25519Keyring) -> SessionKeys {
	SessionKeys { babe: sr.public().into(), grandpa: ed.public().into() }
}

/// What differs between the presets besides their validators.
struct ChainKind {
	session_length: u32,
	/// The dev chain keeps a sudo key for quick experiments; elsewhere only referenda are
	/// privileged.
	sudo: Option<AccountId>,
	pace: Pace,
}

fn genesis(validators: &[(Sr25519Keyring, Ed25519Keyring)], kind: ChainKind) -> Value {
	let session_keys: Vec<_> = validators
		.iter()
		.map(|(sr, ed)| (sr.to_account_id(), sr.to_account_id(), dev_session_keys(*sr, *ed)))
		.collect();
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances: endowments() },
		babe: pallet_babe::GenesisConfig { epoch_config: BABE_GENESIS_EPOCH_CONFIG },
		validator_set: ValidatorSetConfig {
			validators: validators.iter().map(|(sr, _)| sr.to_account_id()).collect::<Vec<_>>(),
			session_length: kind.session_length,
		},
		session: SessionConfig { keys: session_keys },
		sudo: SudoConfig { key: kind.sudo },
		governance: GovernanceConfig { pace: kind.pace },
	})
}

/// The `development` preset.
pub fn development_config_genesis() -> Value {
	genesis(
		&[(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		ChainKind {
			session_length: DEVELOPMENT_SESSION_LENGTH,
			sudo: Some(Sr25519Keyring::Alice.to_account_id()),
			pace: Pace::Fast,
		},
	)
}

/// The `local_testnet` preset.
pub fn local_testnet_genesis() -> Value {
	genesis(
		&[
			(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		],
		ChainKind {
			session_length: LOCAL_TESTNET_SESSION_LENGTH,
			sudo: None,
			pace: Pace::Standard,
		},
	)
}

/// The preset called `id`, as JSON bytes.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// The names of the presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}

/// The sum of all genesis balances; tests check it is the white paper's total supply.
pub fn genesis_supply() -> u128 {
	endowments().iter().map(|(_, b)| b).sum()
}

const _: () = assert!(
	allocation::CROWDSALE % (6 * RLC) == 0 && allocation::FOUNDERS_AND_TEAM % (3 * RLC) == 0
);
