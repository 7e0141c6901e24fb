//! Unit tests of `pallet-validator-set`.

use crate::{mock::*, Error, Event, SessionLength, SessionLengthOf, SetChanged, Validators};
use frame_support::{assert_noop, assert_ok, traits::Get};
use pallet_session::SessionManager;
use sp_runtime::DispatchError;

fn set() -> Vec<u64> {
	Validators::<Test>::get().into_inner()
}

#[test]
fn genesis_sorts_the_set_and_sets_the_session_length() {
	new_test_ext().execute_with(|| {
		assert_eq!(set(), vec![1, 2, 3]);
		assert_eq!(SessionLength::<Test>::get(), 10);
		assert_eq!(<SessionLengthOf<Test> as Get<u64>>::get(), 10);
		assert_eq!(ValidatorSet::new_session_genesis(0), Some(vec![1, 2, 3]));
		ValidatorSet::do_try_state().unwrap();
	});
}

#[test]
fn add_validator_needs_root_and_keys() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::signed(1), 7),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 7),
			Error::<Test>::NoSessionKeys
		);
		MockKeys::register(7);
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 7));
		assert_eq!(set(), vec![1, 2, 3, 7]);
		System::assert_last_event(Event::ValidatorAdded { who: 7 }.into());
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 7),
			Error::<Test>::AlreadyValidator
		);
		ValidatorSet::do_try_state().unwrap();
	});
}

#[test]
fn add_validator_keeps_the_set_sorted_and_bounded() {
	new_test_ext().execute_with(|| {
		for who in [9, 5, 4, 8, 6] {
			MockKeys::register(who);
			assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), who));
		}
		assert_eq!(set(), vec![1, 2, 3, 4, 5, 6, 8, 9]);
		MockKeys::register(7);
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 7),
			Error::<Test>::TooManyValidators
		);
		ValidatorSet::do_try_state().unwrap();
	});
}

#[test]
fn remove_validator_checks_membership_and_minimum() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::signed(1), 2),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), 9),
			Error::<Test>::NotValidator
		);
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 2));
		System::assert_last_event(Event::ValidatorRemoved { who: 2 }.into());
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 3));
		assert_eq!(set(), vec![1]);
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), 1),
			Error::<Test>::TooFewValidators
		);
		ValidatorSet::do_try_state().unwrap();
	});
}

#[test]
fn new_session_hands_over_the_set_only_after_a_change() {
	new_test_ext().execute_with(|| {
		assert_eq!(ValidatorSet::new_session(1), None);
		MockKeys::register(4);
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 4));
		assert!(SetChanged::<Test>::get());
		assert_eq!(ValidatorSet::new_session(2), Some(vec![1, 2, 3, 4]));
		System::assert_last_event(Event::ValidatorSetQueued { session: 2, count: 4 }.into());
		assert!(!SetChanged::<Test>::get());
		assert_eq!(ValidatorSet::new_session(3), None);
	});
}

#[test]
#[should_panic(expected = "duplicate genesis validator")]
fn genesis_refuses_duplicates() {
	use sp_runtime::BuildStorage;
	let _ =
		crate::GenesisConfig::<Test> { validators: vec![1, 1], session_length: 0 }.build_storage();
}
