//! Hands the validator set to `pallet-session` at session boundaries.

use super::*;
use alloc::vec::Vec;
use sp_staking::SessionIndex;

impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(new_index: SessionIndex) -> Option<Vec<T::AccountId>> {
		// `None` tells the session pallet to keep the current set, which saves it the work of
		// rotating keys for an unchanged set.
		if !SetChanged::<T>::take() {
			return None;
		}
		let set = Validators::<T>::get().into_inner();
		Self::deposit_event(Event::ValidatorSetQueued {
			session: new_index,
			count: set.len() as u32,
		});
		Some(set)
	}

	fn new_session_genesis(_new_index: SessionIndex) -> Option<Vec<T::AccountId>> {
		Some(Validators::<T>::get().into_inner())
	}

	fn end_session(_end_index: SessionIndex) {}

	fn start_session(_start_index: SessionIndex) {}
}
