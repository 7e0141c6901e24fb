//! # iexec-runtime
//!
//! The FRAME runtime of the iEx.ec sidechain. RLC is the native token (9 decimals); blocks are
//! authored by BABE in 6-second slots and finalised by GRANDPA; the validator set is kept by
//! `pallet-validator-set` and changed by referendum; apps, data sets and worker pools are
//! contracts in `pallet-registry`, approved or revoked by referendum; `pallet-market` keeps
//! standing orders and matches them into deals whose payments and stakes `pallet-escrow`
//! holds.
//!
//! - [`configs`]: the configuration of every pallet.
//! - [`apis`]: the runtime APIs the node and clients call.
//! - [`genesis_config_presets`]: the `development` and `local_testnet` genesis states.
//! - [`governance`]: referenda, conviction voting, their tracks and origins.
//! - [`token`]: RLC's units and the genesis distribution.
#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime!` does a lot of recursion and requires us to increase the limit.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

pub mod apis;
pub mod configs;
pub mod genesis_config_presets;
pub mod governance;
pub mod token;

use alloc::vec::Vec;
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use token::{Balance, EXISTENTIAL_DEPOSIT, MILLI_RLC, RLC, TOKEN_DECIMALS, TOKEN_SYMBOL};

/// Opaque types: what the node needs to know about blocks without knowing the runtime.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as sp_runtime::traits::Hash>::Output;
}

impl_opaque_keys! {
	/// The keys a validator registers with `session.setKeys`.
	pub struct SessionKeys {
		pub babe: Babe,
		pub grandpa: Grandpa,
	}
}

#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("iexec"),
	impl_name: alloc::borrow::Cow::Borrowed("iexec"),
	authoring_version: 1,
	// Bump on every change of runtime logic, so that nodes run the new Wasm.
	spec_version: 110,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	// Bump when the encoding of extrinsics changes (calls reordered, extensions changed).
	// 2: `market.submit_request` takes a request with its determinism.
	transaction_version: 2,
	system_version: 1,
};

/// Target time between blocks: one BABE slot.
pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
/// BABE's slot duration.
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;
/// Block numbers for common periods, at the target block time.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// BABE's leadership probability: on average one primary slot leader every four slots; the
/// secondary (round-robin) slots fill the rest, so every slot gets a block.
pub const PRIMARY_PROBABILITY: (u64, u64) = (1, 4);
/// BABE's epoch configuration at genesis.
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration {
		c: PRIMARY_PROBABILITY,
		allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots,
	};

/// Block number type.
pub type BlockNumber = u32;
/// Transaction signature type.
pub type Signature = MultiSignature;
/// An account on chain: a 32-byte public key.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Transaction index of an account.
pub type Nonce = u32;
/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;
/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A signed block.
pub type SignedBlock = generic::SignedBlock<Block>;
/// Block identifier.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions, all standard ones, so that polkadot.js signs transactions with
/// no custom type definitions.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// What a client needs from the chain to sign for it: its genesis and runtime versions.
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug)]
pub struct SigningContext {
	pub genesis: Hash,
	pub spec_version: u32,
	pub transaction_version: u32,
}

/// `call` as `signer` sends it with `nonce`: immortal, no tip, signed by `sign` over the
/// payload. Clients in Rust (the worker, the node's tests) build transactions with this.
#[cfg(feature = "std")]
pub fn signed_extrinsic(
	call: RuntimeCall,
	signer: AccountId,
	nonce: Nonce,
	context: SigningContext,
	sign: impl FnOnce(&[u8]) -> Signature,
) -> UncheckedExtrinsic {
	use codec::Encode;
	let extension: TxExtension = (
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(generic::Era::Immortal),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(0),
	);
	let SigningContext { genesis, spec_version, transaction_version } = context;
	let implicit = ((), spec_version, transaction_version, genesis, genesis, (), (), ());
	let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
	let signature = payload.using_encoded(sign);
	UncheckedExtrinsic::new_signed(call, signer.into(), signature, extension)
}

/// Storage migrations run at the next upgrade (each versioned: it runs once).
type Migrations = (
	pallet_validator_set::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_market::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_market::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_market::migrations::v3::MigrateV2ToV3<Runtime>,
);

/// Executive: dispatches calls to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	// BABE comes before the session pallet, so that epoch changes are seen first.
	#[runtime::pallet_index(2)]
	pub type Babe = pallet_babe;
	#[runtime::pallet_index(3)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(4)]
	pub type TransactionPayment = pallet_transaction_payment;
	// Before `Session`: its genesis gives the session pallet the first validator set.
	#[runtime::pallet_index(5)]
	pub type ValidatorSet = pallet_validator_set;
	#[runtime::pallet_index(6)]
	pub type Session = pallet_session;
	#[runtime::pallet_index(7)]
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(8)]
	pub type Utility = pallet_utility;
	#[runtime::pallet_index(9)]
	pub type Sudo = pallet_sudo;
	// Misbehaviour: who authored (the reporter of record), the provable past sessions, and
	// the offences reported against them.
	#[runtime::pallet_index(15)]
	pub type Authorship = pallet_authorship;
	#[runtime::pallet_index(16)]
	pub type Historical = pallet_session::historical;
	#[runtime::pallet_index(17)]
	pub type Offences = pallet_offences;

	// Governance.
	#[runtime::pallet_index(10)]
	pub type Preimage = pallet_preimage;
	#[runtime::pallet_index(11)]
	pub type Scheduler = pallet_scheduler;
	#[runtime::pallet_index(12)]
	pub type Referenda = pallet_referenda;
	#[runtime::pallet_index(13)]
	pub type ConvictionVoting = pallet_conviction_voting;
	#[runtime::pallet_index(14)]
	pub type Governance = governance::origins;

	// The market.
	#[runtime::pallet_index(20)]
	pub type Registry = pallet_registry;
	#[runtime::pallet_index(21)]
	pub type Escrow = pallet_escrow;
	#[runtime::pallet_index(22)]
	pub type Market = pallet_market;
	#[runtime::pallet_index(23)]
	pub type Poco = pallet_poco;
}
