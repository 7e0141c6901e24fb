//! What the registry stores.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;

/// A contract's identifier, in proposal order.
pub type ContractId = u64;

/// How an app runs.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum AppRuntime {
	/// A WASI module; the code hash is blake2-256 of the module.
	Wasm,
	/// A Docker image; the code hash is the 32 bytes of its image ID (`sha256:…`).
	Docker,
}

/// The RFC-style description every contract comes with: a document and where to read it.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxUri))]
pub struct Rfc<MaxUri: Get<u32>> {
	/// blake2-256 of the document.
	pub document_hash: [u8; 32],
	pub uri: BoundedVec<u8, MaxUri>,
}

/// The terms of a contract, by kind.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxUri, MaxText))]
pub enum Terms<MaxUri: Get<u32>, MaxText: Get<u32>> {
	App {
		runtime: AppRuntime,
		code_uri: BoundedVec<u8, MaxUri>,
		code_hash: [u8; 32],
		/// Default host requirements, as ClassAd text (checked when proposed).
		requirements: BoundedVec<u8, MaxText>,
	},
	Dataset {
		location: BoundedVec<u8, MaxUri>,
		checksum: [u8; 32],
		/// Optional restrictions on who may use it, as ClassAd text.
		restrictions: Option<BoundedVec<u8, MaxText>>,
	},
	WorkerPool {
		description: BoundedVec<u8, MaxText>,
		/// Percent of the pool price a worker stakes per task (at most 100).
		worker_stake_ratio: u8,
		/// Percent of the reward the pool owner keeps (at most 100).
		scheduler_reward_ratio: u8,
		/// The ClassAd `Requirements` a worker's machine ad must satisfy to join.
		admission: BoundedVec<u8, MaxText>,
	},
}

/// The three kinds, for other pallets' questions.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum ContractKind {
	App,
	Dataset,
	WorkerPool,
}

impl<U: Get<u32>, T: Get<u32>> Terms<U, T> {
	pub fn kind(&self) -> ContractKind {
		match self {
			Terms::App { .. } => ContractKind::App,
			Terms::Dataset { .. } => ContractKind::Dataset,
			Terms::WorkerPool { .. } => ContractKind::WorkerPool,
		}
	}

	/// Bytes of ClassAd text the terms carry: what proposing them parses.
	pub fn classad_len(&self) -> u32 {
		let len = match self {
			Terms::App { requirements, .. } => requirements.len(),
			Terms::Dataset { restrictions, .. } => restrictions.as_ref().map_or(0, |r| r.len()),
			Terms::WorkerPool { admission, .. } => admission.len(),
		};
		// Bounded by `MaxText`, a `u32`.
		len as u32
	}
}

/// Where a contract stands. A withdrawn contract is removed, not kept.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Status {
	/// Waiting for governance.
	Proposed,
	/// Usable.
	Approved,
	/// No longer usable; its owner may remove it and recover the deposit.
	Revoked,
}

/// A registered contract.
#[derive(
	CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxUri, MaxText))]
pub struct Contract<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxUri: Get<u32>,
	MaxText: Get<u32>,
> {
	pub owner: AccountId,
	/// Who paid the deposit (the first owner); it comes back to them.
	pub depositor: AccountId,
	pub deposit: Balance,
	pub status: Status,
	pub rfc: Rfc<MaxUri>,
	pub terms: Terms<MaxUri, MaxText>,
}

/// What the market copies into a deal from a contract's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContractDetails {
	/// `requirements` is the host requirements the app was proposed with (ClassAd text,
	/// checked then): what a pool's machine ad, and each worker's ad, must make true.
	App { runtime: AppRuntime, code_hash: [u8; 32], requirements: alloc::vec::Vec<u8> },
	/// `restrictions`, when given, is ClassAd text (checked when proposed) that a pool's
	/// machine ad, and each worker's ad, must make true: where the data may go.
	Dataset {
		checksum: [u8; 32],
		location: alloc::vec::Vec<u8>,
		restrictions: Option<alloc::vec::Vec<u8>>,
	},
	/// `admission` is the pool's admission rule as proposed (ClassAd text, checked then).
	WorkerPool {
		worker_stake_ratio: u8,
		scheduler_reward_ratio: u8,
		admission: alloc::vec::Vec<u8>,
	},
}

/// A contract as other pallets see it: one storage read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractInfo<AccountId> {
	pub owner: AccountId,
	/// Approved and not revoked.
	pub usable: bool,
	pub details: ContractDetails,
}

impl ContractDetails {
	pub fn kind(&self) -> ContractKind {
		match self {
			ContractDetails::App { .. } => ContractKind::App,
			ContractDetails::Dataset { .. } => ContractKind::Dataset,
			ContractDetails::WorkerPool { .. } => ContractKind::WorkerPool,
		}
	}
}

/// What other pallets ask the registry.
pub trait ContractRegistry<AccountId> {
	/// Approved and not revoked.
	fn is_usable(id: ContractId) -> bool;
	/// The current owner.
	fn owner(id: ContractId) -> Option<AccountId>;
	/// The kind of contract `id`.
	fn kind(id: ContractId) -> Option<ContractKind>;
	/// Owner, status and the terms a deal needs.
	fn info(id: ContractId) -> Option<ContractInfo<AccountId>>;
}

/// What uses a contract outside the registry: the market's open offers of it (app, data set
/// and worker-pool orders). A contract is retired only when nothing uses it, so that no order
/// offers what no longer exists. (Deals copy what they need of a contract: they do not count.)
pub trait ContractUsers {
	/// How many open orders offer contract `id`.
	fn open_offers(id: ContractId) -> u32;
}

/// Nothing uses contracts (a registry without a market).
impl ContractUsers for () {
	fn open_offers(_: ContractId) -> u32 {
		0
	}
}

/// Approved contracts made at once, for other pallets' benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkContracts<AccountId> {
	/// A contract of `kind` owned by `owner` (who must be able to hold its deposit), approved.
	/// An app's or a data set's rule is the densest the text bound allows.
	fn approved(owner: &AccountId, kind: ContractKind) -> ContractId {
		Self::approved_with_rule_len(owner, kind, u32::MAX)
	}

	/// The same, with an app's or a data set's rule of at most `rule_len` bytes (or the shortest
	/// form of the same rule: it is as slow to evaluate, only shorter to parse).
	fn approved_with_rule_len(owner: &AccountId, kind: ContractKind, rule_len: u32) -> ContractId;
}
