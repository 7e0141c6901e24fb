//! The [`Escrow`] operations, the kitty and the books' checks.

use super::*;
use frame_support::traits::{
	fungible::{Inspect, Mutate, MutateHold},
	tokens::{Fortitude, Precision, Preservation, Restriction},
	Get,
};
use sp_runtime::{
	traits::{AccountIdConversion, CheckedAdd, CheckedSub, Saturating, Zero},
	DispatchError, DispatchResult, Perbill,
};

impl<T: Config> Pallet<T> {
	/// The kitty's account.
	pub fn kitty_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// What the kitty can pay: what entered it minus what left it.
	pub fn kitty_available() -> BalanceOf<T> {
		KittyIn::<T>::get().saturating_sub(KittyOut::<T>::get())
	}

	/// Gives the kitty its existential deposit, so that stakes of any size can be seized into
	/// it. Done once, at genesis.
	pub(crate) fn create_kitty() {
		let kitty = Self::kitty_account();
		let minimum = T::Currency::minimum_balance();
		if T::Currency::balance(&kitty) < minimum {
			let _ = T::Currency::set_balance(&kitty, minimum);
		}
	}

	/// The books' entry, after checking that it covers `amount`.
	fn covered(
		ledger: Ledger,
		who: &T::AccountId,
		reason: HoldReason,
		amount: BalanceOf<T>,
	) -> Result<BalanceOf<T>, DispatchError> {
		let locked = Books::<T>::get((ledger, who, reason)).unwrap_or_default();
		let left = locked.checked_sub(&amount).ok_or(Error::<T>::NotEnoughLocked)?;
		Ok(left)
	}

	fn set_books(ledger: Ledger, who: &T::AccountId, reason: HoldReason, value: BalanceOf<T>) {
		if value.is_zero() {
			Books::<T>::remove((ledger, who, reason));
		} else {
			Books::<T>::insert((ledger, who, reason), value);
		}
	}

	/// Moves held funds of `from` to `to`'s free balance, exactly.
	fn transfer_held(
		reason: HoldReason,
		from: &T::AccountId,
		to: &T::AccountId,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		T::Currency::transfer_on_hold(
			&reason.into(),
			from,
			to,
			amount,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Force,
		)
		.map_err(|_| Error::<T>::CannotPay)?;
		Ok(())
	}

	/// Holds equal the books for every account and reason, and the kitty holds its reserve
	/// plus what entered minus what left.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::{ensure, traits::fungible::InspectHold};
		let reasons =
			[HoldReason::RequesterPayment, HoldReason::PoolStake, HoldReason::WorkerStake];
		// Per reason (in the order of `reasons`): what each account has in the books.
		let mut books: [BTreeMap<T::AccountId, BalanceOf<T>>; 3] = Default::default();
		for ((_, who, reason), amount) in Books::<T>::iter() {
			ensure!(!amount.is_zero(), "a zero entry is kept in the books");
			let slot = reasons.iter().position(|r| *r == reason).ok_or("unknown reason")?;
			let entry = books[slot].entry(who).or_insert_with(Zero::zero);
			*entry = entry.checked_add(&amount).ok_or("books overflow")?;
		}
		for who in frame_system::Account::<T>::iter_keys() {
			for (slot, reason) in reasons.iter().enumerate() {
				let held = T::Currency::balance_on_hold(&(*reason).into(), &who);
				let booked = books[slot].remove(&who).unwrap_or_default();
				ensure!(held == booked, "an account's escrow hold differs from its books");
			}
		}
		ensure!(books.iter().all(|b| b.is_empty()), "the books name an account that holds nothing");
		let expected = T::Currency::minimum_balance().saturating_add(Self::kitty_available());
		ensure!(
			T::Currency::balance(&Self::kitty_account()) >= expected,
			"the kitty holds less than what entered it minus what left"
		);
		ensure!(KittyOut::<T>::get() <= KittyIn::<T>::get(), "more left the kitty than entered");
		Ok(())
	}
}

impl<T: Config> Escrow<T::AccountId, BalanceOf<T>, HoldReason> for Pallet<T> {
	fn lock(
		ledger: Ledger,
		who: &T::AccountId,
		reason: HoldReason,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		let locked = Books::<T>::get((ledger, who, reason)).unwrap_or_default();
		let total = locked.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::hold(&reason.into(), who, amount)
			.map_err(|_| Error::<T>::InsufficientFreeBalance)?;
		Self::set_books(ledger, who, reason, total);
		Self::deposit_event(Event::Locked { ledger, who: who.clone(), reason, amount });
		Ok(())
	}

	fn release(
		ledger: Ledger,
		who: &T::AccountId,
		reason: HoldReason,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		let left = Self::covered(ledger, who, reason, amount)?;
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::release(&reason.into(), who, amount, Precision::Exact)?;
		Self::set_books(ledger, who, reason, left);
		Self::deposit_event(Event::Released { ledger, who: who.clone(), reason, amount });
		Ok(())
	}

	fn refund(
		ledger: Ledger,
		who: &T::AccountId,
		reason: HoldReason,
	) -> Result<BalanceOf<T>, DispatchError> {
		let amount = Self::locked(ledger, who, reason);
		Self::release(ledger, who, reason, amount)?;
		Ok(amount)
	}

	fn pay(
		ledger: Ledger,
		from: &T::AccountId,
		reason: HoldReason,
		to: &T::AccountId,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		let left = Self::covered(ledger, from, reason, amount)?;
		if amount.is_zero() {
			return Ok(());
		}
		Self::transfer_held(reason, from, to, amount)?;
		Self::set_books(ledger, from, reason, left);
		Self::deposit_event(Event::Paid {
			ledger,
			from: from.clone(),
			to: to.clone(),
			reason,
			amount,
		});
		Ok(())
	}

	fn seize(
		ledger: Ledger,
		from: &T::AccountId,
		reason: HoldReason,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		let left = Self::covered(ledger, from, reason, amount)?;
		let entered = KittyIn::<T>::get().checked_add(&amount).ok_or(Error::<T>::Overflow)?;
		if amount.is_zero() {
			return Ok(());
		}
		Self::transfer_held(reason, from, &Self::kitty_account(), amount)?;
		Self::set_books(ledger, from, reason, left);
		KittyIn::<T>::put(entered);
		Self::deposit_event(Event::Seized { ledger, from: from.clone(), reason, amount });
		Ok(())
	}

	fn rebook(
		from: Ledger,
		to: Ledger,
		who: &T::AccountId,
		reason: HoldReason,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		let left = Self::covered(from, who, reason, amount)?;
		let target = Books::<T>::get((to, who, reason)).unwrap_or_default();
		let target = target.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
		if amount.is_zero() || from == to {
			return Ok(());
		}
		Self::set_books(from, who, reason, left);
		Self::set_books(to, who, reason, target);
		Self::deposit_event(Event::Rebooked { from, to, who: who.clone(), reason, amount });
		Ok(())
	}

	fn locked(ledger: Ledger, who: &T::AccountId, reason: HoldReason) -> BalanceOf<T> {
		Books::<T>::get((ledger, who, reason)).unwrap_or_default()
	}

	fn pay_kitty_bonus(
		to: &T::AccountId,
		share: Perbill,
		minimum: BalanceOf<T>,
		cap: BalanceOf<T>,
	) -> BalanceOf<T> {
		let available = Self::kitty_available();
		let bonus = share.mul_floor(available).max(minimum).min(available).min(cap);
		if bonus.is_zero() {
			return bonus;
		}
		let paid = T::Currency::transfer(&Self::kitty_account(), to, bonus, Preservation::Preserve);
		if paid.is_err() {
			return Zero::zero();
		}
		KittyOut::<T>::mutate(|out| *out = out.saturating_add(bonus));
		Self::deposit_event(Event::KittyPaid { to: to.clone(), amount: bonus });
		bonus
	}
}
