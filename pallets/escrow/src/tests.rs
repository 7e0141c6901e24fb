//! Each operation, its errors, and the kitty's bonus rule.

use crate::{mock::*, Books, Error, Escrow as _, Event, HoldReason, KittyIn, KittyOut, Ledger};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};

type E = crate::Pallet<Test>;
const PAY: HoldReason = HoldReason::RequesterPayment;
const POOL: HoldReason = HoldReason::PoolStake;
const D1: Ledger = Ledger::Deal(1);

fn held(who: u64, reason: HoldReason) -> u64 {
	Balances::balance_on_hold(&reason.into(), &who)
}

fn free(who: u64) -> u64 {
	Balances::balance(&who)
}

fn check() {
	E::do_try_state().expect("try_state");
}

#[test]
fn lock_holds_and_books() {
	new_test_ext().execute_with(|| {
		assert_ok!(E::lock(D1, &1, PAY, 300));
		assert_ok!(E::lock(D1, &1, PAY, 200));
		assert_ok!(E::lock(Ledger::Order(7), &1, PAY, 100));
		assert_eq!((free(1), held(1, PAY)), (400, 600));
		assert_eq!(E::locked(D1, &1, PAY), 500);
		assert_eq!(E::locked(Ledger::Order(7), &1, PAY), 100);
		assert_eq!(E::locked(D1, &1, POOL), 0);
		System::assert_last_event(
			Event::Locked { ledger: Ledger::Order(7), who: 1, reason: PAY, amount: 100 }.into(),
		);
		check();
	});
}

#[test]
fn lock_refuses_more_than_free_balance() {
	new_test_ext().execute_with(|| {
		assert_noop!(E::lock(D1, &1, PAY, START + 1), Error::<Test>::InsufficientFreeBalance);
		assert_noop!(E::lock(D1, &9, PAY, 1), Error::<Test>::InsufficientFreeBalance);
		assert_eq!(Books::<Test>::iter().count(), 0);
	});
}

#[test]
fn release_and_refund_give_back_exactly() {
	new_test_ext().execute_with(|| {
		assert_ok!(E::lock(D1, &1, PAY, 500));
		assert_ok!(E::release(D1, &1, PAY, 120));
		assert_eq!((free(1), held(1, PAY), E::locked(D1, &1, PAY)), (620, 380, 380));
		assert_eq!(E::refund(D1, &1, PAY), Ok(380));
		assert_eq!((free(1), held(1, PAY)), (START, 0));
		assert!(Books::<Test>::get((D1, 1, PAY)).is_none(), "empty entries are removed");
		assert_eq!(E::refund(D1, &1, PAY), Ok(0));
		check();
	});
}

#[test]
fn nothing_moves_beyond_the_books() {
	new_test_ext().execute_with(|| {
		assert_ok!(E::lock(D1, &1, PAY, 100));
		assert_ok!(E::lock(Ledger::Deal(2), &1, PAY, 100));
		// Account 1 holds 200 under PAY, but only 100 for deal 1.
		assert_noop!(E::release(D1, &1, PAY, 101), Error::<Test>::NotEnoughLocked);
		assert_noop!(E::pay(D1, &1, PAY, &2, 101), Error::<Test>::NotEnoughLocked);
		assert_noop!(E::seize(D1, &1, PAY, 101), Error::<Test>::NotEnoughLocked);
		assert_noop!(E::rebook(D1, Ledger::Order(1), &1, PAY, 101), Error::<Test>::NotEnoughLocked);
		// Nor under another reason or another account.
		assert_noop!(E::release(D1, &1, POOL, 1), Error::<Test>::NotEnoughLocked);
		assert_noop!(E::pay(D1, &2, PAY, &1, 1), Error::<Test>::NotEnoughLocked);
		check();
	});
}

#[test]
fn pay_moves_held_funds_to_the_recipient() {
	new_test_ext().execute_with(|| {
		assert_ok!(E::lock(D1, &1, PAY, 500));
		assert_ok!(E::pay(D1, &1, PAY, &2, 200));
		assert_eq!((free(1), held(1, PAY), free(2)), (500, 300, START + 200));
		assert_eq!(E::locked(D1, &1, PAY), 300);
		System::assert_last_event(
			Event::Paid { ledger: D1, from: 1, to: 2, reason: PAY, amount: 200 }.into(),
		);
		// A new account cannot be created below the existential deposit: refused, untouched.
		assert_noop!(E::pay(D1, &1, PAY, &9, 1), Error::<Test>::CannotPay);
		assert_ok!(E::pay(D1, &1, PAY, &9, 2));
		assert_eq!(free(9), 2);
		check();
	});
}

#[test]
fn seize_fills_the_kitty_and_rebook_moves_books_only() {
	new_test_ext().execute_with(|| {
		let kitty = E::kitty_account();
		let reserve = free(kitty);
		assert_eq!(reserve, ExistentialDeposit::get(), "the kitty exists from genesis");
		assert_ok!(E::lock(Ledger::Order(3), &2, POOL, 90));
		assert_ok!(E::rebook(Ledger::Order(3), D1, &2, POOL, 60));
		assert_eq!((E::locked(Ledger::Order(3), &2, POOL), E::locked(D1, &2, POOL)), (30, 60));
		assert_eq!(held(2, POOL), 90, "rebooking moves no funds");
		// Even one unit, below the existential deposit, can be seized.
		assert_ok!(E::seize(D1, &2, POOL, 1));
		assert_ok!(E::seize(D1, &2, POOL, 59));
		assert_eq!((free(kitty), KittyIn::<Test>::get(), held(2, POOL)), (reserve + 60, 60, 30));
		System::assert_last_event(
			Event::Seized { ledger: D1, from: 2, reason: POOL, amount: 59 }.into(),
		);
		check();
	});
}

#[test]
fn rebooking_onto_the_same_ledger_changes_nothing() {
	new_test_ext().execute_with(|| {
		assert_ok!(E::lock(D1, &1, PAY, 100));
		assert_ok!(E::rebook(D1, D1, &1, PAY, 60));
		assert_eq!(E::locked(D1, &1, PAY), 100);
		assert_noop!(E::rebook(D1, D1, &1, PAY, 101), Error::<Test>::NotEnoughLocked);
		check();
	});
}

#[test]
fn kitty_pays_ten_percent_at_least_the_minimum_never_more_than_it_has() {
	new_test_ext().execute_with(|| {
		// Empty: nothing.
		assert_eq!(E::pay_kitty_bonus(&3, KittyShare::get(), KittyMinimum::get(), u64::MAX), 0);
		// 3 in the kitty, minimum 5: all of it.
		assert_ok!(E::lock(D1, &1, POOL, 900));
		assert_ok!(E::seize(D1, &1, POOL, 3));
		assert_eq!(E::pay_kitty_bonus(&3, KittyShare::get(), KittyMinimum::get(), u64::MAX), 3);
		assert_eq!(free(3), START + 3);
		// 40: the minimum of 5 beats 10 % (4).
		assert_ok!(E::seize(D1, &1, POOL, 40));
		assert_eq!(E::pay_kitty_bonus(&3, KittyShare::get(), KittyMinimum::get(), u64::MAX), 5);
		// 35 + 500 = 535: 10 % is 53.
		assert_ok!(E::seize(D1, &1, POOL, 500));
		assert_eq!(E::pay_kitty_bonus(&3, KittyShare::get(), KittyMinimum::get(), u64::MAX), 53);
		System::assert_last_event(Event::KittyPaid { to: 3, amount: 53 }.into());
		// Never more than the cap: the stake the success risked.
		assert_eq!(E::pay_kitty_bonus(&3, KittyShare::get(), KittyMinimum::get(), 2), 2);
		assert_eq!(E::pay_kitty_bonus(&3, KittyShare::get(), KittyMinimum::get(), 0), 0);
		assert_eq!(KittyIn::<Test>::get() - KittyOut::<Test>::get(), 480);
		assert_eq!(free(E::kitty_account()), ExistentialDeposit::get() + 480);
		check();
	});
}

#[test]
fn try_state_sees_a_hold_without_books_and_books_without_a_hold() {
	use frame_support::traits::fungible::MutateHold;
	new_test_ext().execute_with(|| {
		assert_ok!(Balances::hold(&PAY.into(), &1, 10));
		assert!(E::do_try_state().is_err());
	});
	new_test_ext().execute_with(|| {
		Books::<Test>::insert((D1, 1u64, PAY), 10);
		assert!(E::do_try_state().is_err());
	});
}
