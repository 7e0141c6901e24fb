//! # Registry pallet
//!
//! Apps, data sets and worker pools are contracts with terms of use and an RFC-style
//! description (white paper 7.2, Governance; 6.3). Anyone proposes one, holding a deposit in
//! proportion to what it stores; governance approves or revokes it; only approved contracts
//! are usable by the market ([`ContractRegistry::is_usable`]).
//!
//! - [`Pallet::propose`]: stores a contract as `Proposed` and holds its deposit.
//! - [`Pallet::withdraw`]: the owner takes back a contract still `Proposed`; the deposit is
//!   released.
//! - [`Pallet::approve`] / [`Pallet::revoke`]: [`Config::GovernanceOrigin`] decides.
//! - [`Pallet::remove`]: the owner removes a revoked contract; the deposit is released.
//! - [`Pallet::retire`]: the owner removes an approved contract once no open order offers it
//!   ([`Config::Users`]); the deposit is released. So no deposit stays held with no way out:
//!   proposed, approved and revoked contracts each have one.
//! - [`Pallet::transfer`]: the owner hands the contract to another account (the deposit stays
//!   with whoever paid it, and goes back to them).
//!
//! ClassAd fields (an app's default requirements, a data set's restrictions, a pool's
//! admission rule) are parsed when proposed, with the chain's bounds; a malformed one, or one
//! that calls an unknown function, is refused then rather than failing at match time.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod dispatchable_impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_conservation;
pub mod types;
pub mod validation;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, MutateHold},
	};
	use frame_system::pallet_prelude::*;

	/// Balance of the deposit currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A contract as stored.
	pub type ContractOf<T> = Contract<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		<T as Config>::MaxUriLen,
		<T as Config>::MaxTextLen,
	>;
	/// Terms as passed to [`Pallet::propose`].
	pub type TermsOf<T> = Terms<<T as Config>::MaxUriLen, <T as Config>::MaxTextLen>;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency deposits are held in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// Who approves and revokes contracts: the contracts governance track.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Deposit for any contract.
		#[pallet::constant]
		type DepositBase: Get<BalanceOf<Self>>;
		/// Deposit per byte the contract stores.
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;
		/// Longest URI.
		#[pallet::constant]
		type MaxUriLen: Get<u32>;
		/// Longest text field (ClassAd or description).
		#[pallet::constant]
		type MaxTextLen: Get<u32>;
		/// What else uses contracts (the market's open offers): a contract in use cannot be
		/// retired.
		type Users: ContractUsers;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
	}

	/// Why funds are held.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The storage deposit of a contract.
		#[codec(index = 0)]
		ContractDeposit,
	}

	/// The next contract's identifier.
	#[pallet::storage]
	pub type NextContractId<T> = StorageValue<_, ContractId, ValueQuery>;

	/// Contracts by identifier.
	#[pallet::storage]
	pub type Contracts<T: Config> = StorageMap<_, Blake2_128Concat, ContractId, ContractOf<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A contract was proposed and its deposit held.
		ContractProposed {
			id: ContractId,
			owner: T::AccountId,
			kind: ContractKind,
			deposit: BalanceOf<T>,
		},
		/// Governance approved a contract; it is usable.
		ContractApproved { id: ContractId },
		/// Governance revoked a contract; it is no longer usable.
		ContractRevoked { id: ContractId },
		/// The owner withdrew a proposed contract; the deposit went back.
		ContractWithdrawn { id: ContractId, refunded: BalanceOf<T> },
		/// The owner removed a revoked contract; the deposit went back.
		ContractRemoved { id: ContractId, refunded: BalanceOf<T> },
		/// The owner retired an approved contract that nothing used; the deposit went back.
		ContractRetired { id: ContractId, refunded: BalanceOf<T> },
		/// A contract changed hands.
		OwnershipTransferred { id: ContractId, from: T::AccountId, to: T::AccountId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No contract has this identifier.
		UnknownContract,
		/// Only the contract's owner may do this.
		NotOwner,
		/// The contract is not `Proposed`.
		NotProposed,
		/// The contract is not `Approved`.
		NotApproved,
		/// The contract is not `Revoked`.
		NotRevoked,
		/// A ratio is above 100 percent.
		RatioAbove100,
		/// A ClassAd field does not parse, exceeds the chain's bounds, or calls an unknown
		/// function.
		InvalidClassAd,
		/// A URI or text field is empty.
		EmptyField,
		/// The proposer cannot hold the deposit.
		CannotHoldDeposit,
		/// No identifiers left.
		IdsExhausted,
		/// Open orders still offer the contract: cancel them first (its owner may cancel any
		/// order that offers it).
		ContractInUse,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			let limits = iexec_classad::Limits::default();
			assert!(
				T::MaxTextLen::get() <= limits.max_source_len,
				"MaxTextLen must not exceed the ClassAd parser's source bound"
			);
			assert!(T::MaxTextLen::get() >= 1, "MaxTextLen must be at least 1");
			assert!(T::MaxUriLen::get() >= 1, "MaxUriLen must be at least 1");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Propose a contract.
		///
		/// - Origin: signed; the signer owns the contract and pays the deposit
		///   (`DepositBase + DepositPerByte × stored bytes`), held until it is withdrawn or
		///   removed.
		///
		/// The weight is that of the dearest ClassAd text of the longest length (the densest
		/// shapes are benchmarked; the dearest sets it), whatever the terms carry: parsing
		/// cost follows nodes and literals, not length alone, so nothing is refunded.
		///
		/// Errors: [`Error::InvalidClassAd`], [`Error::RatioAbove100`], [`Error::EmptyField`],
		/// [`Error::CannotHoldDeposit`]. Event: [`Event::ContractProposed`].
		#[pallet::call_index(0)]
		#[pallet::weight(Pallet::<T>::propose_weight())]
		pub fn propose(
			origin: OriginFor<T>,
			rfc: Rfc<T::MaxUriLen>,
			terms: TermsOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_propose(who, rfc, terms)
		}

		/// Withdraw a contract that is still `Proposed`.
		///
		/// - Origin: the owner. The deposit goes back to whoever paid it.
		///
		/// Errors: [`Error::UnknownContract`], [`Error::NotOwner`], [`Error::NotProposed`].
		/// Event: [`Event::ContractWithdrawn`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::withdraw())]
		pub fn withdraw(origin: OriginFor<T>, id: ContractId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_release(who, id, Status::Proposed)
		}

		/// Approve a proposed contract.
		///
		/// - Origin: [`Config::GovernanceOrigin`].
		///
		/// Errors: [`Error::UnknownContract`], [`Error::NotProposed`].
		/// Event: [`Event::ContractApproved`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::approve())]
		pub fn approve(origin: OriginFor<T>, id: ContractId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_status(id, Status::Proposed, Status::Approved)
		}

		/// Revoke an approved contract.
		///
		/// - Origin: [`Config::GovernanceOrigin`].
		///
		/// Errors: [`Error::UnknownContract`], [`Error::NotApproved`].
		/// Event: [`Event::ContractRevoked`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::revoke())]
		pub fn revoke(origin: OriginFor<T>, id: ContractId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_status(id, Status::Approved, Status::Revoked)
		}

		/// Remove a revoked contract.
		///
		/// - Origin: the owner. The deposit goes back to whoever paid it.
		///
		/// Errors: [`Error::UnknownContract`], [`Error::NotOwner`], [`Error::NotRevoked`].
		/// Event: [`Event::ContractRemoved`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::remove())]
		pub fn remove(origin: OriginFor<T>, id: ContractId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_release(who, id, Status::Revoked)
		}

		/// Retire an approved contract that no open order offers.
		///
		/// - Origin: the owner. The deposit goes back to whoever paid it, and the contract is
		///   deleted. Deals already made go on: they carry what they need.
		/// - Cancel the orders that offer it first (`market.cancel`, which the contract's owner
		///   may call for any of them).
		///
		/// Errors: [`Error::UnknownContract`], [`Error::NotOwner`], [`Error::NotApproved`],
		/// [`Error::ContractInUse`]. Event: [`Event::ContractRetired`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::retire())]
		pub fn retire(origin: OriginFor<T>, id: ContractId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_release(who, id, Status::Approved)
		}

		/// Hand a contract to `new_owner`.
		///
		/// - Origin: the owner.
		///
		/// Errors: [`Error::UnknownContract`], [`Error::NotOwner`].
		/// Event: [`Event::OwnershipTransferred`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::transfer())]
		pub fn transfer(
			origin: OriginFor<T>,
			id: ContractId,
			new_owner: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_transfer(who, id, new_owner)
		}
	}
}

impl<T: Config> ContractRegistry<T::AccountId> for Pallet<T> {
	fn is_usable(id: ContractId) -> bool {
		Contracts::<T>::get(id).is_some_and(|c| c.status == Status::Approved)
	}

	fn owner(id: ContractId) -> Option<T::AccountId> {
		Contracts::<T>::get(id).map(|c| c.owner)
	}

	fn kind(id: ContractId) -> Option<ContractKind> {
		Contracts::<T>::get(id).map(|c| c.terms.kind())
	}

	fn info(id: ContractId) -> Option<ContractInfo<T::AccountId>> {
		let contract = Contracts::<T>::get(id)?;
		let details = match contract.terms {
			Terms::App { runtime, code_hash, requirements, .. } => {
				ContractDetails::App { runtime, code_hash, requirements: requirements.into_inner() }
			}
			Terms::Dataset { checksum, location, restrictions } => ContractDetails::Dataset {
				checksum,
				location: location.into_inner(),
				restrictions: restrictions.map(|r| r.into_inner()),
			},
			Terms::WorkerPool { worker_stake_ratio, scheduler_reward_ratio, admission, .. } => {
				ContractDetails::WorkerPool {
					worker_stake_ratio,
					scheduler_reward_ratio,
					admission: admission.into_inner(),
				}
			}
		};
		Some(ContractInfo {
			owner: contract.owner,
			usable: contract.status == Status::Approved,
			details,
		})
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl<T: Config> BenchmarkContracts<T::AccountId> for Pallet<T> {
	fn approved_with_rule_len(
		owner: &T::AccountId,
		kind: ContractKind,
		rule_len: u32,
	) -> ContractId {
		use frame_support::{traits::Get, BoundedVec};
		let rule_len = rule_len.min(T::MaxTextLen::get()) as usize;
		fn text<S: Get<u32>>(s: &[u8]) -> BoundedVec<u8, S> {
			BoundedVec::truncate_from(s.to_vec())
		}
		let terms = match kind {
			ContractKind::App => Terms::App {
				runtime: AppRuntime::Wasm,
				code_uri: text(b"https://example.org/app.wasm"),
				code_hash: [1; 32],
				requirements: text(&benchmark_rule(rule_len)),
			},
			ContractKind::Dataset => Terms::Dataset {
				// The longest location a deal copies.
				location: BoundedVec::truncate_from(
					alloc::vec![b'l'; T::MaxUriLen::get() as usize],
				),
				checksum: [2; 32],
				restrictions: Some(text(&benchmark_rule(rule_len))),
			},
			ContractKind::WorkerPool => Terms::WorkerPool {
				description: text(b"pool"),
				worker_stake_ratio: 30,
				scheduler_reward_ratio: 1,
				// Admits every ad, after evaluating `W10` of a dense one (the worst case of
				// other pallets' benchmarks): `undefined || true` is true.
				admission: text(b"TARGET.W10 > 0 || true"),
			},
		};
		let id = NextContractId::<T>::get();
		let rfc = Rfc { document_hash: [0; 32], uri: text(b"https://example.org/rfc") };
		Self::do_propose(owner.clone(), rfc, terms).expect("the owner can hold the deposit");
		Self::do_set_status(id, Status::Proposed, Status::Approved).expect("just proposed");
		id
	}
}

/// A host rule at the worst case the other pallets' benchmarks meet, within `max_len` bytes:
/// it evaluates the dense attribute of their pool ad (`P11`) or of their worker ad (`W10`)
/// before it comes out true, and carries as many clauses as the parser's bounds allow, never
/// evaluated, so that parsing it costs the most too.
#[cfg(feature = "runtime-benchmarks")]
fn benchmark_rule(max_len: usize) -> alloc::vec::Vec<u8> {
	use alloc::{format, string::String};
	const HEAD: &str = "isInteger(TARGET.P11) || isInteger(TARGET.W10) || true";
	const LEAF: &str = "TARGET.Memory >= 0";
	fn tree(leaves: usize) -> String {
		if leaves <= 1 {
			return String::from(LEAF);
		}
		format!("({} && {})", tree(leaves / 2), tree(leaves - leaves / 2))
	}
	// Each leaf is at most four nodes and each `&&` one: 90 leaves stay within the 512
	// nodes an expression may have, the head included.
	let mut leaves = 0;
	while leaves < 90 && HEAD.len() + 4 + tree(leaves + 1).len() <= max_len {
		leaves += 1;
	}
	if leaves == 0 {
		return HEAD.as_bytes().to_vec();
	}
	format!("{HEAD} || {}", tree(leaves)).into_bytes()
}
