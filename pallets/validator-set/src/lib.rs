//! # Validator set pallet
//!
//! Keeps the list of accounts that author blocks (BABE) and vote on finality (GRANDPA), and
//! hands it to `pallet-session` at session boundaries.
//!
//! ## Overview
//!
//! - A privileged origin ([`Config::ManageOrigin`]: root today, a governance track later) adds
//!   and removes validators with [`Pallet::add_validator`] and [`Pallet::remove_validator`].
//! - A candidate must have registered session keys first (`session.setKeys`), so that a newly
//!   admitted validator can author as soon as its session starts.
//! - Changes are applied by `pallet-session`: a change made during session `n` is queued at the
//!   end of session `n` and takes effect at the start of session `n + 2`, like every Substrate
//!   validator-set change.
//! - A validator may leave by itself ([`Pallet::leave`]), on the same terms as a removal.
//! - The set never exceeds [`Config::MaxValidators`], and no removal leaves fewer than
//!   [`Config::MinValidators`] validators *with session keys* (only those author).
//! - A rotation hands the whole set to `pallet-session`, which keeps those with keys, whenever
//!   the set changed or which of its members have keys differs from what the session queued:
//!   a validator that purged its keys and set them again is back at the next rotation. An
//!   unchanged set is not handed over again, which spares GRANDPA a new authority set.
//! - A proven offence (a BABE or GRANDPA equivocation, reported through `pallet-offences`)
//!   disables the offender at once (within the session pallet's disabling limit) and removes
//!   it from the set, unless that would leave fewer than [`Config::MinValidators`]; it is
//!   disabled again at each session start until it is out of the active set. Coming back
//!   takes a referendum (`add_validator`), which forgives earlier offences. See
//!   `docs/validator.md`, "Misbehaviour".
//! - The session length (in slots) is fixed at genesis and exposed as [`SessionLength`], so
//!   that BABE's epoch length can differ between a dev chain and a production chain without a
//!   different runtime.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;
use alloc::vec::Vec;

pub use pallet::*;
pub use session_manager::NoFullIdentification;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod dispatchable_impls;
pub mod migrations;
#[cfg(test)]
mod mock;
mod offences;
mod session_manager;
#[cfg(test)]
mod tests;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{pallet_prelude::*, traits::ValidatorRegistration};
	use frame_system::pallet_prelude::*;

	/// Version 1: session roots are kept for equivocation proofs (see [`migrations`]).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The origin allowed to add and remove validators.
		type ManageOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Tells whether an account has registered session keys (`pallet-session`).
		type KeysRegistration: ValidatorRegistration<Self::AccountId>;
		/// What `pallet-session` has queued for the next session, and the keys it would queue.
		type Queue: SessionQueue<Self::AccountId>;
		/// The largest validator set. Keep it at or below BABE's and GRANDPA's
		/// `MaxAuthorities`.
		#[pallet::constant]
		type MaxValidators: Get<u32>;
		/// The smallest validator set; removals that would go below it are refused.
		#[pallet::constant]
		type MinValidators: Get<u32>;
		/// The session pallet as offence handling needs it: its active validators, disabling,
		/// and pruning of the session roots that key-ownership proofs are checked against.
		type Session: pallet_session::SessionInterface<ValidatorId = Self::AccountId>;
		/// How many past sessions keep their validators' root, so that an equivocation in one
		/// of them can still be proven. Keep GRANDPA's `MaxSetIdSessionEntries` at least as
		/// large.
		#[pallet::constant]
		type HistoryDepth: Get<u32>;
		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
		/// Registers session keys for benchmark accounts.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// The validators that the next session rotation will hand to `pallet-session`.
	#[pallet::storage]
	pub type Validators<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	/// Whether [`Validators`] changed since the last rotation.
	#[pallet::storage]
	pub type SetChanged<T: Config> = StorageValue<_, bool, ValueQuery>;

	/// Offenders removed from [`Validators`] that may still be in the session's active set
	/// (a removal takes two sessions): disabled again at each session start until they are out.
	#[pallet::storage]
	pub type Offenders<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	/// The session in which each validator was last admitted: offences from before it are
	/// forgiven (a late report of an old offence does not remove a readmitted validator).
	#[pallet::storage]
	pub type AdmittedIn<T: Config> = StorageMap<_, Twox64Concat, T::AccountId, u32>;

	/// Length of a session (and of a BABE epoch) in slots, fixed at genesis.
	#[pallet::storage]
	pub type SessionLength<T: Config> = StorageValue<_, u32, ValueQuery, DefaultSessionLength>;

	/// Ten minutes of six-second slots.
	#[pallet::type_value]
	pub fn DefaultSessionLength() -> u32 {
		100
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The validators of the first sessions.
		pub validators: Vec<T::AccountId>,
		/// Session (BABE epoch) length in slots; 0 keeps the default of 100.
		pub session_length: u32,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let mut unique = self.validators.clone();
			unique.sort();
			unique.dedup();
			// A chain spec is checked once, when the chain starts: a bad one must not start.
			// (An empty set is allowed so that test genesis configs build; such a chain simply
			// produces no blocks, and `try_state` flags it.)
			assert_eq!(unique.len(), self.validators.len(), "duplicate genesis validator");
			let bounded = BoundedVec::<T::AccountId, T::MaxValidators>::try_from(unique)
				.expect("more genesis validators than MaxValidators");
			Validators::<T>::put(bounded);
			if self.session_length > 0 {
				SessionLength::<T>::put(self.session_length);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` was admitted; it starts validating two sessions from now.
		ValidatorAdded { who: T::AccountId },
		/// `who` was removed; it stops validating two sessions from now.
		ValidatorRemoved { who: T::AccountId },
		/// `who` left the set; it stops validating two sessions from now.
		ValidatorLeft { who: T::AccountId },
		/// A new validator set was handed to the session pallet for session `session`.
		ValidatorSetQueued { session: u32, count: u32 },
		/// `offender` was proven to misbehave in session `session` and was disabled.
		/// `removed`: it was taken out of the set too (false when it had left the set already,
		/// or when removing it would leave fewer than `MinValidators`: then governance decides).
		OffenceReported { offender: T::AccountId, session: u32, removed: bool },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already in the validator set.
		AlreadyValidator,
		/// The account is not in the validator set.
		NotValidator,
		/// The set already holds `MaxValidators` validators.
		TooManyValidators,
		/// Removing the account would leave fewer than `MinValidators` validators with
		/// session keys.
		TooFewValidators,
		/// The account has not registered session keys (`session.setKeys`) yet.
		NoSessionKeys,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MinValidators::get() >= 1, "MinValidators must be at least 1");
			assert!(
				T::MinValidators::get() <= T::MaxValidators::get(),
				"MinValidators must not exceed MaxValidators"
			);
			assert!(T::HistoryDepth::get() >= 1, "HistoryDepth must keep at least one session");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Admit `who` as a validator.
		///
		/// - Origin: [`Config::ManageOrigin`].
		/// - `who` must have registered session keys and must not be a validator yet.
		/// - Takes effect two sessions later.
		///
		/// Errors: [`Error::AlreadyValidator`], [`Error::TooManyValidators`],
		/// [`Error::NoSessionKeys`]. Event: [`Event::ValidatorAdded`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::add_validator(T::MaxValidators::get()))]
		pub fn add_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::ManageOrigin::ensure_origin(origin)?;
			Self::do_add_validator(who)
		}

		/// Remove `who` from the validators.
		///
		/// - Origin: [`Config::ManageOrigin`].
		/// - Takes effect two sessions later; at least `MinValidators` validators with session
		///   keys remain.
		///
		/// Errors: [`Error::NotValidator`], [`Error::TooFewValidators`].
		/// Event: [`Event::ValidatorRemoved`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::remove_validator(T::MaxValidators::get()))]
		pub fn remove_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::ManageOrigin::ensure_origin(origin)?;
			Self::do_remove_validator(&who)?;
			Self::deposit_event(Event::ValidatorRemoved { who });
			Ok(())
		}

		/// Leave the validator set.
		///
		/// - Origin: signed, by a validator.
		/// - Takes effect two sessions later, as a removal does: keep the node running, with
		///   its keys, until then. At least `MinValidators` validators with session keys remain.
		///
		/// Errors: [`Error::NotValidator`], [`Error::TooFewValidators`].
		/// Event: [`Event::ValidatorLeft`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::leave(T::MaxValidators::get()))]
		pub fn leave(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_remove_validator(&who)?;
			Self::deposit_event(Event::ValidatorLeft { who });
			Ok(())
		}
	}
}

/// What the benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Makes `who` pass [`Config::KeysRegistration`].
	fn register_session_keys(who: &AccountId);
}

/// What the pallet reads from `pallet-session`. Keys are compared in their encoding.
pub trait SessionQueue<AccountId> {
	/// The validators queued for the next session, with their queued keys, in the session's
	/// order.
	fn queued() -> Vec<(AccountId, Vec<u8>)>;
	/// The keys `who` registered, which a rotation would queue; none without keys.
	fn next_keys(who: &AccountId) -> Option<Vec<u8>>;
	/// The current session.
	fn current_index() -> u32;
}

/// BABE's epoch length, read from [`SessionLength`].
pub struct SessionLengthOf<T>(core::marker::PhantomData<T>);

impl<T: Config> frame_support::traits::Get<u64> for SessionLengthOf<T> {
	fn get() -> u64 {
		u64::from(SessionLength::<T>::get())
	}
}
