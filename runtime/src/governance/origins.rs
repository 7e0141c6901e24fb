//! The governance pallet of this runtime: the origins that referenda dispatch with, besides
//! root, and the pace at which referenda run.
//!
//! It has no calls. Its origins are what the tracks of `pallet-referenda` other than root
//! dispatch with: [`Origin::ContractDecision`] is the only origin the registry accepts to approve
//! or revoke a contract; [`Origin::ReferendumCanceller`] and [`Origin::ReferendumKiller`] may,
//! besides root, cancel and kill referenda, so that a junk referendum holding a track is ended
//! in hours, not after its decision period. Its [`GovernancePace`] is chosen at genesis:
//! [`Pace::Fast`] for dev chains (a referendum completes in about a minute), [`Pace::Standard`]
//! otherwise.

pub use pallet::*;

#[frame_support::pallet]
pub mod pallet {
	use frame_support::pallet_prelude::*;

	#[pallet::config]
	pub trait Config: frame_system::Config {}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Origins that only a referendum on their own track can produce.
	#[derive(
		PartialEq, Eq, Clone, MaxEncodedLen, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug,
	)]
	#[pallet::origin]
	pub enum Origin {
		/// Approves and revokes registry contracts (apps, data sets, worker pools).
		ContractDecision,
		/// Cancels a referendum: its deposits are returned.
		ReferendumCanceller,
		/// Kills a referendum: its deposits are slashed.
		ReferendumKiller,
	}

	/// How long the periods of referenda and vote locks last.
	#[derive(
		Clone,
		Copy,
		Default,
		PartialEq,
		Eq,
		Encode,
		Decode,
		DecodeWithMemTracking,
		MaxEncodedLen,
		TypeInfo,
		Debug,
		serde::Serialize,
		serde::Deserialize,
	)]
	pub enum Pace {
		/// Days to decide, hours to confirm: for chains whose referenda matter.
		#[default]
		Standard,
		/// Blocks instead of days, so that a referendum completes in about a minute: dev chains
		/// and tests only.
		Fast,
	}

	/// The pace of this chain's referenda, set at genesis.
	#[pallet::storage]
	pub type GovernancePace<T> = StorageValue<_, Pace, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The pace of referenda.
		pub pace: Pace,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			GovernancePace::<T>::put(self.pace);
		}
	}
}

/// Declares an `EnsureOrigin` that succeeds only for one variant of [`Origin`].
macro_rules! ensure_governance_origin {
	($(#[$doc:meta])* $name:ident => $variant:ident) => {
		$(#[$doc])*
		pub struct $name;

		impl<O> frame_support::traits::EnsureOrigin<O> for $name
		where
			O: Into<Result<Origin, O>> + From<Origin>,
		{
			type Success = ();

			fn try_origin(o: O) -> Result<Self::Success, O> {
				match o.into() {
					Ok(Origin::$variant) => Ok(()),
					Ok(other) => Err(O::from(other)),
					Err(o) => Err(o),
				}
			}

			#[cfg(feature = "runtime-benchmarks")]
			fn try_successful_origin() -> Result<O, ()> {
				Ok(O::from(Origin::$variant))
			}
		}
	};
}

ensure_governance_origin!(
	/// Succeeds only for [`Origin::ContractDecision`].
	EnsureContractDecision => ContractDecision
);
ensure_governance_origin!(
	/// Succeeds only for [`Origin::ReferendumCanceller`].
	EnsureReferendumCanceller => ReferendumCanceller
);
ensure_governance_origin!(
	/// Succeeds only for [`Origin::ReferendumKiller`].
	EnsureReferendumKiller => ReferendumKiller
);
