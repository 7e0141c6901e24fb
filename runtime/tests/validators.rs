//! The validator set in the runtime as built: what `pallet-validator-set` intends and what
//! `pallet-session` uses stay the same across key changes, a validator can leave, and a proven
//! BABE or GRANDPA equivocation disables the offender and removes it.

mod common;

use codec::Encode;
use frame_support::{assert_noop, assert_ok};
use iexec_runtime::{AccountId, Runtime, RuntimeOrigin, Session, SessionKeys, ValidatorSet};
use sp_keyring::Sr25519Keyring::{self, *};

type SessionPallet = pallet_session::Pallet<Runtime>;

fn local_state(test: impl FnOnce()) {
	preset_state("local_testnet", test)
}

fn preset_state(preset: &str, test: impl FnOnce()) {
	let mut ext = common::preset_ext(preset);
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| {
		frame_system::Pallet::<Runtime>::set_block_number(1);
		test();
		common::check_all_pallets();
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

mod equivocation {
	use super::*;
	use frame_support::traits::{KeyOwnerProofSystem, UnfilteredDispatchable};
	use iexec_runtime::{Babe, Grandpa, Header, Historical, RuntimeCall, RuntimeEvent, System};
	use sp_consensus_babe::digests::{CompatibleDigestItem, PreDigest, SecondaryPlainPreDigest};
	use sp_core::{Pair, H256};
	use sp_keyring::Ed25519Keyring;
	use sp_runtime::{
		traits::Header as _,
		transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
		Digest, DigestItem,
	};

	type GrandpaProof = sp_consensus_grandpa::EquivocationProof<H256, u32>;

	/// A header of block 1 at `slot`, claimed by BABE authority `index` and sealed by `who`;
	/// `fork` makes its state root differ, so that two of them are two blocks.
	fn babe_header(who: Sr25519Keyring, index: u32, slot: u64, fork: u8) -> Header {
		let pre_digest = PreDigest::SecondaryPlain(SecondaryPlainPreDigest {
			authority_index: index,
			slot: slot.into(),
		});
		let digest = Digest {
			logs: vec![DigestItem::PreRuntime(
				sp_consensus_babe::BABE_ENGINE_ID,
				pre_digest.encode(),
			)],
		};
		let mut header =
			Header::new(1, H256::zero(), H256::repeat_byte(fork), System::parent_hash(), digest);
		let seal = who.pair().sign(header.hash().as_ref());
		header.digest_mut().push(DigestItem::babe_seal(seal.into()));
		header
	}

	fn babe_id(who: Sr25519Keyring) -> sp_consensus_babe::AuthorityId {
		who.public().into()
	}

	fn grandpa_id(who: Ed25519Keyring) -> sp_consensus_grandpa::AuthorityId {
		who.public().into()
	}

	/// Alice's two prevotes in round 3 of the current GRANDPA set, for blocks `first` and
	/// `second` (the same block twice is no equivocation).
	fn alice_prevotes(first: u8, second: u8) -> GrandpaProof {
		type Prevote = finality_grandpa::Prevote<H256, u32>;
		let (round, set_id) = (3, Grandpa::current_set_id());
		let signed = |target: u8| {
			let prevote = Prevote { target_hash: H256::repeat_byte(target), target_number: 1 };
			let payload = sp_consensus_grandpa::localized_payload(
				round,
				set_id,
				&finality_grandpa::Message::<H256, u32>::Prevote(prevote.clone()),
			);
			(prevote, Ed25519Keyring::Alice.pair().sign(&payload).into())
		};
		GrandpaProof::new(
			set_id,
			sp_consensus_grandpa::Equivocation::Prevote(finality_grandpa::Equivocation {
				round_number: round,
				identity: grandpa_id(Ed25519Keyring::Alice),
				first: signed(first),
				second: signed(second),
			}),
		)
	}

	/// Alice's GRANDPA key ownership proof, for the current session.
	fn alice_grandpa_membership() -> sp_session::MembershipProof {
		Historical::prove((sp_consensus_grandpa::KEY_TYPE, grandpa_id(Ed25519Keyring::Alice)))
			.unwrap()
	}

	fn grandpa_report(
		proof: GrandpaProof,
		key_owner_proof: sp_session::MembershipProof,
	) -> pallet_grandpa::Call<Runtime> {
		pallet_grandpa::Call::report_equivocation_unsigned {
			equivocation_proof: Box::new(proof),
			key_owner_proof,
		}
	}

	fn disabled(who: Sr25519Keyring) -> bool {
		let Some(index) = Session::validators().iter().position(|v| *v == who.to_account_id())
		else {
			return false;
		};
		pallet_session::Pallet::<Runtime>::disabled_validators().contains(&(index as u32))
	}

	fn in_set(who: Sr25519Keyring) -> bool {
		pallet_validator_set::Validators::<Runtime>::get().contains(&who.to_account_id())
	}

	#[derive(Debug, PartialEq)]
	enum Refused {
		/// The transaction pool would not take it.
		ByPool(TransactionValidityError),
		/// It was included and failed.
		ByCall(sp_runtime::DispatchError),
	}

	/// Checks `call` as the transaction pool does for a report the node made, then includes it.
	fn submit_report<C>(call: C) -> Result<(), Refused>
	where
		C: UnfilteredDispatchable<RuntimeOrigin = RuntimeOrigin> + Clone,
		RuntimeCall: From<C>,
	{
		let validity = match RuntimeCall::from(call.clone()) {
			RuntimeCall::Babe(ref inner) => {
				Babe::validate_unsigned(TransactionSource::Local, inner)
			}
			RuntimeCall::Grandpa(ref inner) => {
				Grandpa::validate_unsigned(TransactionSource::Local, inner)
			}
			_ => panic!("not a report"),
		};
		validity.map_err(Refused::ByPool)?;
		call.dispatch_bypass_filter(RuntimeOrigin::none()).map_err(|e| Refused::ByCall(e.error))?;
		Ok(())
	}

	fn offence_events() -> usize {
		System::events()
			.iter()
			.filter(|r| {
				matches!(r.event, RuntimeEvent::Offences(pallet_offences::Event::Offence { .. }))
			})
			.count()
	}

	fn assert_reported(session: u32, removed: bool) {
		assert_eq!(offence_events(), 1);
		System::assert_has_event(
			pallet_validator_set::Event::OffenceReported {
				offender: Alice.to_account_id(),
				session,
				removed,
			}
			.into(),
		);
	}

	/// Alice, disabled and out of the set, leaves the session at the second rotation.
	fn assert_alice_leaves_disabled() {
		assert!(disabled(Alice), "the offender is disabled at once");
		assert!(!in_set(Alice));
		rotate();
		assert!(in_session(Alice) && disabled(Alice));
		rotate();
		assert!(!in_session(Alice));
		assert!(pallet_session::Pallet::<Runtime>::disabled_validators().is_empty());
		assert_eq!(Session::validators().len(), 3);
	}

	#[test]
	fn a_babe_equivocation_disables_and_removes_the_author() {
		local_state(|| {
			let slot = u64::from(Babe::current_slot()) + 1;
			let index =
				Babe::authorities().iter().position(|(a, _)| *a == babe_id(Alice)).unwrap() as u32;
			let proof = sp_consensus_babe::EquivocationProof {
				offender: babe_id(Alice),
				slot: slot.into(),
				first_header: babe_header(Alice, index, slot, 1),
				second_header: babe_header(Alice, index, slot, 2),
			};
			let key_owner_proof =
				Historical::prove((sp_consensus_babe::KEY_TYPE, babe_id(Alice))).unwrap();
			let report = |proof: &sp_consensus_babe::EquivocationProof<Header>| {
				pallet_babe::Call::<Runtime>::report_equivocation_unsigned {
					equivocation_proof: Box::new(proof.clone()),
					key_owner_proof: key_owner_proof.clone(),
				}
			};

			// Headers that are not two different blocks, or not both signed by the offender,
			// prove nothing.
			let invalid = Err(Refused::ByCall(
				pallet_babe::Error::<Runtime>::InvalidEquivocationProof.into(),
			));
			let mut same = proof.clone();
			same.second_header = same.first_header.clone();
			assert_eq!(submit_report(report(&same)), invalid);
			let mut forged = proof.clone();
			forged.second_header = babe_header(Bob, index, slot, 2);
			assert_eq!(submit_report(report(&forged)), invalid);
			assert_eq!(offence_events(), 0);
			assert!(!disabled(Alice));

			assert_eq!(submit_report(report(&proof)), Ok(()));
			// The same offence again is stale in the pool.
			assert_eq!(
				submit_report(report(&proof)),
				Err(Refused::ByPool(InvalidTransaction::Stale.into()))
			);
			assert_reported(0, true);
			assert_alice_leaves_disabled();
		});
	}

	#[test]
	fn a_grandpa_equivocation_disables_and_removes_the_voter() {
		local_state(|| {
			assert_eq!(
				submit_report(grandpa_report(alice_prevotes(1, 1), alice_grandpa_membership())),
				Err(Refused::ByCall(
					pallet_grandpa::Error::<Runtime>::InvalidEquivocationProof.into()
				))
			);
			assert_eq!(offence_events(), 0);

			let report = || grandpa_report(alice_prevotes(1, 2), alice_grandpa_membership());
			assert_eq!(submit_report(report()), Ok(()));
			assert_eq!(
				submit_report(report()),
				Err(Refused::ByPool(InvalidTransaction::Stale.into()))
			);
			assert_reported(0, true);
			assert_alice_leaves_disabled();
		});
	}

	#[test]
	fn an_offender_is_disabled_again_when_a_new_set_clears_the_disabled_list() {
		local_state(|| {
			// Eve is admitted, and the rotation queues a set with her: the next rotation
			// changes the active set, which clears the session's disabled list.
			set_new_keys(Eve);
			assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), Eve.to_account_id()));
			rotate();
			assert_eq!(
				submit_report(grandpa_report(alice_prevotes(1, 2), alice_grandpa_membership())),
				Ok(())
			);
			assert_reported(1, true);
			assert!(disabled(Alice));
			rotate();
			assert!(in_session(Eve) && in_session(Alice), "the set queued before the report");
			assert!(disabled(Alice), "disabled again after the active set changed");
			rotate();
			assert!(!in_session(Alice));
		});
	}

	#[test]
	fn a_report_is_checked_against_the_root_of_a_past_session() {
		local_state(|| {
			// Dave drops his keys but stays in the set: the session has three validators,
			// and the root recorded for it must count three.
			assert_ok!(SessionPallet::purge_keys(signed(Dave)));
			rotate_twice();
			assert!(!in_session(Dave) && in_set(Dave));
			// The offence and its proof in this session; the report lands in the next one.
			let key_owner_proof = alice_grandpa_membership();
			assert_eq!(key_owner_proof.validator_count, 3);
			let offence = alice_prevotes(1, 2);
			let session = Session::current_index();
			rotate();
			assert_eq!(submit_report(grandpa_report(offence, key_owner_proof)), Ok(()));
			assert_reported(session, true);
			assert!(!in_set(Alice));
		});
	}

	#[test]
	fn a_single_validator_chain_neither_disables_nor_removes_its_validator() {
		preset_state("development", || {
			assert_eq!(
				submit_report(grandpa_report(alice_prevotes(1, 2), alice_grandpa_membership())),
				Ok(())
			);
			// Disabling the only author would stop the chain; removing it would leave none.
			assert_reported(0, false);
			assert!(!disabled(Alice));
			assert!(in_set(Alice));
		});
	}

	#[test]
	fn a_key_ownership_proof_proves_only_its_own_key() {
		local_state(|| {
			let key = |who: Sr25519Keyring| (sp_consensus_babe::KEY_TYPE, babe_id(who));
			// What the trie returns for a key outside the set proves nothing.
			let eve_proof = Historical::prove(key(Eve)).unwrap();
			assert!(Historical::check_proof(key(Eve), eve_proof).is_none());
			let alice_proof = Historical::prove(key(Alice)).unwrap();
			assert_eq!(
				Historical::check_proof(key(Alice), alice_proof),
				Some((Alice.to_account_id(), ()))
			);
			// A proof for Bob does not prove Alice's key.
			let bob_proof = Historical::prove(key(Bob)).unwrap();
			assert!(Historical::check_proof(key(Alice), bob_proof).is_none());
		});
	}
}
