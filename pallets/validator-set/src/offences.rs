//! What a proven offence does: `pallet-offences` hands over BABE and GRANDPA equivocations
//! once their proofs have been checked. The offender is disabled for the rest of the session
//! (its blocks are refused), removed from the set, and disabled again at each session start
//! until the removal has taken effect.

use super::*;
use alloc::vec::Vec;
use frame_support::{traits::Get, weights::Weight, BoundedVec};
use pallet_session::SessionInterface;
use sp_runtime::Perbill;
use sp_staking::{
	offence::{OffenceDetails, OffenceSeverity, OnOffenceHandler},
	SessionIndex,
};

impl<T: Config, FullIdentification>
	OnOffenceHandler<T::AccountId, (T::AccountId, FullIdentification), Weight> for Pallet<T>
{
	fn on_offence(
		offenders: &[OffenceDetails<T::AccountId, (T::AccountId, FullIdentification)>],
		slash_fraction: &[Perbill],
		session: SessionIndex,
	) -> Weight {
		for (details, fraction) in offenders.iter().zip(slash_fraction) {
			let offender = &details.offender.0;
			T::Session::report_offence(offender.clone(), OffenceSeverity(*fraction));
			// The list repeats earlier offenders of the same kind: one already out stays out.
			let removed = Self::do_remove_validator(offender).is_ok();
			if removed {
				Offenders::<T>::mutate(|kept| {
					if let Err(at) = kept.binary_search(offender) {
						// Bounded like the set it was just removed from: there is room.
						let _ = kept.try_insert(at, offender.clone());
					}
				});
			}
			Self::deposit_event(Event::OffenceReported {
				offender: offender.clone(),
				session,
				removed,
			});
		}
		// Per offender: the session's validators and disabled list, the set, the keys of at
		// most `MinValidators` others, the offenders; written: disabled list, set, change flag,
		// offenders, event.
		let reads = 4u64.saturating_add(u64::from(T::MinValidators::get()));
		T::DbWeight::get().reads_writes(reads, 5).saturating_mul(offenders.len() as u64)
	}
}

impl<T: Config> Pallet<T> {
	/// At a session start: offenders that are still active are disabled again (a change of the
	/// active set clears the session's disabled list), the others are forgotten; session roots
	/// older than [`Config::HistoryDepth`] are pruned.
	pub(crate) fn enforce_offences(start_index: SessionIndex) {
		let offenders = Offenders::<T>::get();
		if !offenders.is_empty() {
			let active = T::Session::validators();
			let still_active: Vec<T::AccountId> =
				offenders.into_iter().filter(|o| active.contains(o)).collect();
			for offender in &still_active {
				T::Session::report_offence(offender.clone(), OffenceSeverity(Perbill::one()));
			}
			// A subset of a bounded list: nothing is truncated.
			Offenders::<T>::put(BoundedVec::truncate_from(still_active));
		}
		if let Some(up_to) = start_index.checked_sub(T::HistoryDepth::get()) {
			T::Session::prune_up_to(up_to);
		}
	}
}
