//! The validator set in the runtime as built: what `pallet-validator-set` intends and what
//! `pallet-session` uses stay the same across key changes, and a validator can leave.

mod common;

use codec::Encode;
use frame_support::{assert_noop, assert_ok};
use iexec_runtime::{AccountId, Runtime, RuntimeOrigin, Session, SessionKeys, ValidatorSet};
use sp_keyring::Sr25519Keyring::{self, *};

type SessionPallet = pallet_session::Pallet<Runtime>;

fn local_state(test: impl FnOnce()) {
	let mut ext = common::preset_ext("local_testnet");
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| {
		frame_system::Pallet::<Runtime>::set_block_number(1);
		test();
		common::check_our_pallets();
	});
}

fn signed(who: Sr25519Keyring) -> RuntimeOrigin {
	RuntimeOrigin::signed(who.to_account_id())
}

/// Rotates the session as the first block of a new epoch would. BABE, told of the new
/// session, expects its block initialisation to have run: its `Initialized` is set as that
/// would leave it (no pre-digest).
fn rotate() {
	let key =
		[sp_io::hashing::twox_128(b"Babe"), sp_io::hashing::twox_128(b"Initialized")].concat();
	sp_io::storage::set(&key, &[0]);
	SessionPallet::rotate_session();
}

/// Two rotations: a change queued in one takes effect at the next.
fn rotate_twice() {
	rotate();
	rotate();
}

fn in_session(who: Sr25519Keyring) -> bool {
	Session::validators().contains(&who.to_account_id())
}

fn set_new_keys(who: Sr25519Keyring) {
	let account: AccountId = who.to_account_id();
	let generated = SessionKeys::generate(&account.encode(), None);
	assert_ok!(SessionPallet::set_keys(signed(who), generated.keys, generated.proof.encode()));
}

fn grandpa_set() -> u64 {
	pallet_grandpa::CurrentSetId::<Runtime>::get()
}

#[test]
fn a_validator_that_sets_its_keys_again_is_back_after_two_rotations() {
	local_state(|| {
		// Quiet sessions keep GRANDPA's authority set.
		let set_id = grandpa_set();
		rotate_twice();
		assert_eq!(grandpa_set(), set_id);
		assert!(in_session(Dave));
		assert_ok!(SessionPallet::purge_keys(signed(Dave)));
		rotate_twice();
		assert!(!in_session(Dave), "without keys, Dave does not author");
		assert!(pallet_validator_set::Validators::<Runtime>::get().contains(&Dave.to_account_id()));

		set_new_keys(Dave);
		rotate_twice();
		assert!(in_session(Dave), "with keys again, Dave is back in the session");
		assert_eq!(
			Session::validators(),
			pallet_validator_set::Validators::<Runtime>::get().into_inner()
		);
	});
}

#[test]
fn a_validator_leaves_and_is_out_after_two_rotations() {
	local_state(|| {
		assert_ok!(ValidatorSet::leave(signed(Charlie)));
		rotate();
		assert!(in_session(Charlie), "a change takes effect two sessions later");
		rotate();
		assert!(!in_session(Charlie));
		assert_eq!(Session::validators().len(), 3);
		// An account outside the set cannot leave it.
		assert_noop!(
			ValidatorSet::leave(signed(Eve)),
			pallet_validator_set::Error::<Runtime>::NotValidator
		);
	});
}
