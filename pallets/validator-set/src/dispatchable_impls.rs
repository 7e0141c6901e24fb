//! Bodies of the calls declared in `lib.rs`.

use super::*;
use frame_support::{
	ensure,
	traits::{Get, ValidatorRegistration},
};
use sp_runtime::DispatchResult;

impl<T: Config> Pallet<T> {
	pub(crate) fn do_add_validator(who: T::AccountId) -> DispatchResult {
		ensure!(T::KeysRegistration::is_registered(&who), Error::<T>::NoSessionKeys);
		Validators::<T>::try_mutate(|set| -> DispatchResult {
			// Kept sorted, so membership is a binary search and the order is canonical.
			let at = match set.binary_search(&who) {
				Ok(_) => return Err(Error::<T>::AlreadyValidator.into()),
				Err(at) => at,
			};
			set.try_insert(at, who.clone()).map_err(|_| Error::<T>::TooManyValidators)?;
			Ok(())
		})?;
		SetChanged::<T>::put(true);
		// Re-admission forgives: a former offender still in the active set is not disabled
		// again, and offences from before now no longer remove it.
		Offenders::<T>::mutate(|offenders| offenders.retain(|o| *o != who));
		AdmittedIn::<T>::insert(&who, T::Queue::current_index());
		Self::deposit_event(Event::ValidatorAdded { who });
		Ok(())
	}

	/// Takes `who` out of the set, if enough validators that can author stay.
	pub(crate) fn do_remove_validator(who: &T::AccountId) -> DispatchResult {
		Validators::<T>::try_mutate(|set| -> DispatchResult {
			let at = set.binary_search(who).map_err(|_| Error::<T>::NotValidator)?;
			// Validators without keys are in the set but not in the session: they do not
			// count towards the minimum.
			let minimum = T::MinValidators::get();
			let staying = set
				.iter()
				.filter(|v| *v != who && T::KeysRegistration::is_registered(v))
				.take(minimum as usize)
				.count() as u32;
			ensure!(staying >= minimum, Error::<T>::TooFewValidators);
			set.remove(at);
			Ok(())
		})?;
		AdmittedIn::<T>::remove(who);
		SetChanged::<T>::put(true);
		Ok(())
	}

	/// The invariants the pallet keeps: a sorted set without duplicates, within bounds.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let set = Validators::<T>::get();
		ensure!(set.windows(2).all(|w| w[0] < w[1]), "validators not sorted or duplicated");
		ensure!(set.len() as u32 >= T::MinValidators::get(), "fewer validators than the minimum");
		ensure!(SessionLength::<T>::get() > 0, "session length is zero");
		let offenders = Offenders::<T>::get();
		ensure!(offenders.windows(2).all(|w| w[0] < w[1]), "offenders not sorted or duplicated");
		ensure!(
			offenders.iter().all(|o| set.binary_search(o).is_err()),
			"an offender kept for disabling is back in the set"
		);
		// What the session queued came from this set at the last rotation; unless the set
		// changed since, it holds no one else.
		if !SetChanged::<T>::get() {
			let queued = T::Queue::queued();
			ensure!(
				queued.iter().all(|(v, _)| set.binary_search(v).is_ok()),
				"the session queued a validator that is not in the set"
			);
		}
		Ok(())
	}
}
