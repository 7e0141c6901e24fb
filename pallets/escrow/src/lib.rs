//! # Escrow pallet
//!
//! Every RLC that the market and Proof-of-Contribution put aside lives here: the requester's
//! payment, the pool owner's stake and the workers' stakes are fungible holds, each under its
//! own [`HoldReason`], and the pallet keeps its own books of who holds what for which order or
//! deal ([`Books`]). Other pallets move these funds only through the [`Escrow`] trait:
//!
//! - `lock`: put part of an account's free balance on hold for a ledger;
//! - `release` / `refund`: give part / all of it back to the account;
//! - `pay`: hand held funds to another account (an app owner, a worker);
//! - `seize`: move held funds into the **kitty**, an account of this pallet;
//! - `rebook`: move a lock from one ledger to another (an order's payment to its deal);
//! - `pay_kitty_bonus`: on a success, the kitty pays a pool owner `max(share, minimum)` of
//!   itself, never more than it has (share and minimum are governance's parameters).
//!
//! The pallet has no calls: what it does is decided by the pallets that own orders, deals and
//! tasks. Every operation checks the books before it touches a balance, so a refused operation
//! changes nothing. `try_state` checks that each account's holds equal its books and that the
//! kitty's balance is what entered it minus what left.
//!
//! The kitty account must hold the existential deposit, so that seized stakes of any size can
//! enter it; that reserve never leaves it. A runtime's genesis should endow it (the iEx.ec
//! runtime takes it from the contingency reserve, keeping the supply exact); when nothing did,
//! the genesis build and the first runtime upgrade mint it.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;

mod escrow_impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_conservation;
pub mod types;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
		PalletId,
	};
	use frame_system::pallet_prelude::BlockNumberFor;

	/// Balance of the escrowed currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency held in escrow: RLC.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// Derives the kitty's account.
		#[pallet::constant]
		type PalletId: Get<PalletId>;
	}

	/// Why funds are held: one reason per kind of obligation.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// What a requester pays for tasks not yet certified.
		#[codec(index = 0)]
		RequesterPayment,
		/// What a pool owner stakes on the tasks of its deals.
		#[codec(index = 1)]
		PoolStake,
		/// What a worker stakes on a contribution.
		#[codec(index = 2)]
		WorkerStake,
	}

	/// The books: what an account has locked for a ledger under a reason. An entry exists only
	/// while it is not zero.
	#[pallet::storage]
	pub type Books<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Twox64Concat, Ledger>,
			NMapKey<Blake2_128Concat, T::AccountId>,
			NMapKey<Twox64Concat, HoldReason>,
		),
		BalanceOf<T>,
	>;

	/// Everything that has entered the kitty (seized stakes).
	#[pallet::storage]
	pub type KittyIn<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Everything that has left the kitty (bonuses paid).
	#[pallet::storage]
	pub type KittyOut<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			Pallet::<T>::create_kitty();
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Funds of `who` were put on hold for `ledger`.
		Locked { ledger: Ledger, who: T::AccountId, reason: HoldReason, amount: BalanceOf<T> },
		/// Held funds went back to `who`.
		Released { ledger: Ledger, who: T::AccountId, reason: HoldReason, amount: BalanceOf<T> },
		/// Held funds of `from` were paid to `to`.
		Paid {
			ledger: Ledger,
			from: T::AccountId,
			to: T::AccountId,
			reason: HoldReason,
			amount: BalanceOf<T>,
		},
		/// Held funds of `from` were seized into the kitty.
		Seized { ledger: Ledger, from: T::AccountId, reason: HoldReason, amount: BalanceOf<T> },
		/// A lock moved from one ledger to another.
		Rebooked {
			from: Ledger,
			to: Ledger,
			who: T::AccountId,
			reason: HoldReason,
			amount: BalanceOf<T>,
		},
		/// The kitty paid a bonus.
		KittyPaid { to: T::AccountId, amount: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account cannot put that much on hold (free balance too low, or frozen).
		InsufficientFreeBalance,
		/// The books hold less than that for this account, ledger and reason.
		NotEnoughLocked,
		/// The recipient cannot receive the payment (it would stay below the existential
		/// deposit).
		CannotPay,
		/// A sum overflowed.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// A chain that gains this pallet by an upgrade has no genesis for it: the kitty is
		/// created then (once; afterwards this only reads its balance).
		fn on_runtime_upgrade() -> Weight {
			Pallet::<T>::create_kitty();
			T::DbWeight::get().reads_writes(1, 1)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}
}
