//! Hands the validator set to `pallet-session` at session boundaries, directly or through
//! `pallet-session`'s historical module (which keeps each session's validators provable for
//! equivocation reports; validators carry no further identification here).

use super::*;
use alloc::vec::Vec;
use frame_support::traits::ValidatorRegistration;
use sp_staking::SessionIndex;

impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(new_index: SessionIndex) -> Option<Vec<T::AccountId>> {
		let set = Validators::<T>::get().into_inner();
		if SetChanged::<T>::take() {
			Self::deposit_event(Event::ValidatorSetQueued {
				session: new_index,
				count: set.len() as u32,
			});
			return Some(set);
		}
		// `None` has the session pallet keep its own list, filtered by keys at an earlier
		// rotation, and keep those keys' proofs root (historical): right only while the same
		// members have the same keys. A validator that purged its keys and set them again
		// would otherwise stay out, and one that changed keys could not be proven against.
		// (`Some` for an unchanged list would make GRANDPA start a new authority set every
		// session; with changed keys, the session pallet starts one anyway.)
		let with_keys: Vec<(T::AccountId, Vec<u8>)> =
			set.iter().filter_map(|v| T::Queue::next_keys(v).map(|k| (v.clone(), k))).collect();
		let mut queued = T::Queue::queued();
		queued.sort();
		(with_keys != queued).then_some(set)
	}

	fn new_session_genesis(_new_index: SessionIndex) -> Option<Vec<T::AccountId>> {
		Some(Validators::<T>::get().into_inner())
	}

	fn end_session(_end_index: SessionIndex) {}

	fn start_session(start_index: SessionIndex) {
		Self::enforce_offences(start_index)
	}
}

/// Only the validators with keys, as the session will have them: the historical root counts
/// and indexes exactly the session's validators, or proofs against it fail.
fn keyed<T: Config>(set: Vec<T::AccountId>) -> Vec<(T::AccountId, ())> {
	set.into_iter().filter(|v| T::KeysRegistration::is_registered(v)).map(|v| (v, ())).collect()
}

impl<T: Config> pallet_session::historical::SessionManager<T::AccountId, ()> for Pallet<T> {
	fn new_session(new_index: SessionIndex) -> Option<Vec<(T::AccountId, ())>> {
		<Self as pallet_session::SessionManager<_>>::new_session(new_index).map(keyed::<T>)
	}

	fn new_session_genesis(new_index: SessionIndex) -> Option<Vec<(T::AccountId, ())>> {
		<Self as pallet_session::SessionManager<_>>::new_session_genesis(new_index).map(keyed::<T>)
	}

	fn start_session(start_index: SessionIndex) {
		<Self as pallet_session::SessionManager<_>>::start_session(start_index)
	}

	fn end_session(end_index: SessionIndex) {
		<Self as pallet_session::SessionManager<_>>::end_session(end_index)
	}
}

/// The identification `pallet-session`'s historical module records for each validator: none
/// beyond the account, since validators hold no stake here.
pub struct NoFullIdentification;

impl<AccountId> sp_runtime::traits::Convert<AccountId, Option<()>> for NoFullIdentification {
	fn convert(_: AccountId) -> Option<()> {
		Some(())
	}
}
