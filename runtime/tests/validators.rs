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

mod equivocation {
	use super::*;
	use frame_support::traits::{KeyOwnerProofSystem, UnfilteredDispatchable};
	use iexec_runtime::{Babe, Grandpa, Header, Historical, RuntimeEvent, System};
	use sp_consensus_babe::digests::{CompatibleDigestItem, PreDigest, SecondaryPlainPreDigest};
	use sp_core::{Pair, H256};
	use sp_keyring::Ed25519Keyring;
	use sp_runtime::{
		traits::Header as _,
		transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
		Digest, DigestItem,
	};

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

	fn session_index_of(who: Sr25519Keyring) -> u32 {
		Session::validators().iter().position(|v| *v == who.to_account_id()).unwrap() as u32
	}

	fn disabled(who: Sr25519Keyring) -> bool {
		pallet_session::Pallet::<Runtime>::disabled_validators().contains(&session_index_of(who))
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
		C: UnfilteredDispatchable<RuntimeOrigin = RuntimeOrigin>,
		C: Clone,
		iexec_runtime::RuntimeCall: From<C>,
	{
		let runtime_call = iexec_runtime::RuntimeCall::from(call.clone());
		let validity = match runtime_call {
			iexec_runtime::RuntimeCall::Babe(ref inner) => {
				Babe::validate_unsigned(TransactionSource::Local, inner)
			}
			iexec_runtime::RuntimeCall::Grandpa(ref inner) => {
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

	/// The effects every proven equivocation by Alice must have.
	fn assert_alice_punished() {
		assert_eq!(offence_events(), 1);
		assert!(disabled(Alice), "the offender is disabled at once");
		assert!(
			!pallet_validator_set::Validators::<Runtime>::get().contains(&Alice.to_account_id())
		);
		System::assert_has_event(
			pallet_validator_set::Event::OffenceReported {
				offender: Alice.to_account_id(),
				session: 0,
				removed: true,
			}
			.into(),
		);
		// Still in the active set for one more session, and disabled through it; then out.
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
			let index = Babe::authorities().iter().position(|(a, _)| *a == babe_id(Alice)).unwrap();
			let proof = sp_consensus_babe::EquivocationProof {
				offender: babe_id(Alice),
				slot: slot.into(),
				first_header: babe_header(Alice, index as u32, slot, 1),
				second_header: babe_header(Alice, index as u32, slot, 2),
			};
			let key_owner_proof =
				Historical::prove((sp_consensus_babe::KEY_TYPE, babe_id(Alice))).unwrap();
			let report = |proof: &sp_consensus_babe::EquivocationProof<Header>| {
				pallet_babe::Call::<Runtime>::report_equivocation_unsigned {
					equivocation_proof: Box::new(proof.clone()),
					key_owner_proof: key_owner_proof.clone(),
				}
			};

			// Headers that are not two different blocks, or not signed by the offender, prove
			// nothing.
			let invalid = Err(Refused::ByCall(
				pallet_babe::Error::<Runtime>::InvalidEquivocationProof.into(),
			));
			let mut same = proof.clone();
			same.second_header = same.first_header.clone();
			assert_eq!(submit_report(report(&same)), invalid);
			let mut forged = proof.clone();
			forged.second_header = babe_header(Bob, index as u32, slot, 2);
			assert_eq!(submit_report(report(&forged)), invalid);
			assert_eq!(offence_events(), 0);
			assert!(!disabled(Alice));

			assert_eq!(submit_report(report(&proof)), Ok(()));
			// The same offence again is stale in the pool.
			assert_eq!(
				submit_report(report(&proof)),
				Err(Refused::ByPool(InvalidTransaction::Stale.into()))
			);
			assert_alice_punished();
		});
	}

	#[test]
	fn a_grandpa_equivocation_disables_and_removes_the_voter() {
		local_state(|| {
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
			let equivocation = |first, second| {
				sp_consensus_grandpa::EquivocationProof::new(
					set_id,
					sp_consensus_grandpa::Equivocation::Prevote(finality_grandpa::Equivocation {
						round_number: round,
						identity: grandpa_id(Ed25519Keyring::Alice),
						first,
						second,
					}),
				)
			};
			let key_owner_proof = Historical::prove((
				sp_consensus_grandpa::KEY_TYPE,
				grandpa_id(Ed25519Keyring::Alice),
			))
			.unwrap();
			let report = |proof: sp_consensus_grandpa::EquivocationProof<H256, u32>| {
				pallet_grandpa::Call::<Runtime>::report_equivocation_unsigned {
					equivocation_proof: Box::new(proof),
					key_owner_proof: key_owner_proof.clone(),
				}
			};

			// Two votes for the same block are no equivocation.
			assert_eq!(
				submit_report(report(equivocation(signed(1), signed(1)))),
				Err(Refused::ByCall(
					pallet_grandpa::Error::<Runtime>::InvalidEquivocationProof.into()
				))
			);
			assert_eq!(offence_events(), 0);

			assert_eq!(submit_report(report(equivocation(signed(1), signed(2)))), Ok(()));
			assert_eq!(
				submit_report(report(equivocation(signed(1), signed(2)))),
				Err(Refused::ByPool(InvalidTransaction::Stale.into()))
			);
			assert_alice_punished();
		});
	}

	#[test]
	fn a_key_ownership_proof_of_a_key_outside_the_set_is_refused() {
		local_state(|| {
			// Whatever the trie returns for a key outside the set proves nothing.
			let eve = (sp_consensus_babe::KEY_TYPE, babe_id(Eve));
			if let Some(proof) = Historical::prove(eve.clone()) {
				assert!(Historical::check_proof(eve, proof).is_none());
			}
			let alice = (sp_consensus_babe::KEY_TYPE, babe_id(Alice));
			let alice_proof = Historical::prove(alice.clone()).unwrap();
			assert_eq!(
				Historical::check_proof(alice, alice_proof),
				Some((Alice.to_account_id(), ()))
			);
			// A proof for Bob does not prove Alice's key.
			let bob_proof = Historical::prove((sp_consensus_babe::KEY_TYPE, babe_id(Bob))).unwrap();
			assert!(Historical::check_proof(
				(sp_consensus_babe::KEY_TYPE, babe_id(Alice)),
				bob_proof
			)
			.is_none());
		});
	}
}
