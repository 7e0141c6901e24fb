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
		let active = T::Session::validators();
		for (details, fraction) in offenders.iter().zip(slash_fraction) {
			let offender = &details.offender.0;
			// Readmitted since: the offence was forgiven with the referendum.
			if AdmittedIn::<T>::get(offender).is_some_and(|admitted| session < admitted) {
				continue;
			}
			T::Session::report_offence(offender.clone(), OffenceSeverity(*fraction));
			// The list repeats earlier offenders of the same kind: one already out stays out.
			let removed = Self::do_remove_validator(offender).is_ok();
			// Out of the set (now, or earlier by a removal or by leaving) but still active:
			// disabled again at each session start until it is out of the session too.
			let out = Validators::<T>::get().binary_search(offender).is_err();
			if out && active.contains(offender) {
				Offenders::<T>::mutate(|kept| {
					if let Err(at) = kept.binary_search(offender) {
						if kept.try_insert(at, offender.clone()).is_err() {
							log::warn!(
								target: "runtime::validator-set",
								"more offenders to keep disabled than MaxValidators"
							);
						}
					}
				});
			}
			Self::deposit_event(Event::OffenceReported {
				offender: offender.clone(),
				session,
				removed,
			});
		}
		// `pallet-offences` does not use this figure: the report's own weight (BABE's and
		// GRANDPA's `report_equivocation`) covers the handling. Per offender: its admission,
		// the session's validators and disabled list, the set, the keys of at most
		// `MinValidators` others, the offenders; written: disabled list, set, change flag,
		// offenders, event.
		let reads = 5u64.saturating_add(u64::from(T::MinValidators::get()));
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
