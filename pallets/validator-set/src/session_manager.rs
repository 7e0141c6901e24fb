//! Hands the validator set to `pallet-session` at session boundaries.

use super::*;
use alloc::vec::Vec;
use frame_support::traits::{Get, ValidatorRegistration};
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
		// rotation: right only while the same members have keys. A validator that purged its
		// keys and set them again would otherwise stay out. (`Some` for an unchanged list
		// would make GRANDPA start a new authority set every session.)
		let with_keys: Vec<T::AccountId> =
			set.iter().filter(|v| T::KeysRegistration::is_registered(v)).cloned().collect();
		let mut queued = T::QueuedValidators::get();
		queued.sort();
		(with_keys != queued).then_some(set)
	}

	fn new_session_genesis(_new_index: SessionIndex) -> Option<Vec<T::AccountId>> {
		Some(Validators::<T>::get().into_inner())
	}

	fn end_session(_end_index: SessionIndex) {}

	fn start_session(_start_index: SessionIndex) {}
}
