//! The expiry queue: requests by due block, in pages of `ExpiryPageSize`, walked by the block
//! hook from a cursor.
//!
//! A request is appended to the last page of its due block when it is submitted. Matching or
//! cancelling it leaves its entry: the hook passes over an entry whose request is gone with a
//! read, where removing it at once would cost a write to every match. The hook does bounded
//! work in a block and goes on where it stopped in the next, so any number of requests may
//! fall due at one block; those it has not reached yet cannot be matched
//! ([`crate::matching::Mismatch::RequestExpired`]).

use super::*;
use frame_support::{ensure, traits::Get, weights::Weight, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{traits::Saturating, DispatchError};

/// Lists request `id` to expire at `at`: on the last page of that block, or a new one.
pub(crate) fn schedule<T: Config>(at: BlockNumberFor<T>, id: OrderId) -> Result<(), DispatchError> {
	let pages = ExpiryPages::<T>::get(at);
	if let Some(last) = pages.checked_sub(1) {
		if ExpiryQueue::<T>::try_append(at, last, id).is_ok() {
			return Ok(());
		}
	}
	let more = pages.checked_add(1).ok_or(Error::<T>::ExpiryQueueFull)?;
	// A new page has room: `ExpiryPageSize` is at least 1 (`integrity_test`).
	ExpiryQueue::<T>::try_append(at, pages, id).map_err(|()| Error::<T>::ExpiryQueueFull)?;
	ExpiryPages::<T>::insert(at, more);
	Ok(())
}

/// What one walk of the queue did: entries looked at (and empty blocks passed, each a read)
/// and requests expired.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct Walk {
	pub looked: u32,
	pub expired: u32,
}

/// How far one walk may go: requests expired, entries looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bounds {
	pub expired: u32,
	pub looked: u32,
}

impl Bounds {
	/// The block hook's: `MaxExpiriesPerBlock` and `MaxExpiryChecksPerBlock`.
	pub fn of_a_block<T: Config>() -> Self {
		Bounds { expired: T::MaxExpiriesPerBlock::get(), looked: T::MaxExpiryChecksPerBlock::get() }
	}

	/// What fits in `budget` of weight left at the end of a block, where a walk costs
	/// `base`, each expiry `per_expiry` and each look `per_look`: half the rest for each,
	/// and never more than a block's bounds (an expiry is a look too, so it is counted in
	/// both halves). Zero when not even the base fits.
	pub fn within(budget: Weight, base: Weight, per_expiry: Weight, per_look: Weight, most: Bounds) -> Self {
		let Some(rest) = budget.checked_sub(&base) else { return Bounds { expired: 0, looked: 0 } };
		let half = rest / 2;
		let fit = |each: Weight, most: u32| -> u32 {
			let by_time = half.ref_time().checked_div(each.ref_time()).unwrap_or(u64::MAX);
			let by_proof = half.proof_size().checked_div(each.proof_size()).unwrap_or(u64::MAX);
			u32::try_from(by_time.min(by_proof)).unwrap_or(u32::MAX).min(most)
		};
		Bounds { expired: fit(per_expiry, most.expired), looked: fit(per_look, most.looked) }
	}
}

/// Walks the queue from the cursor up to `now`, calling `expire` on each entry until
/// `bounds.expired` calls returned `true` or `bounds.looked` entries were looked at; the rest
/// of a page stays for the next walk. `expire` says whether it expired a request.
pub(crate) fn walk<T: Config>(
	now: BlockNumberFor<T>,
	bounds: Bounds,
	mut expire: impl FnMut(OrderId) -> bool,
) -> Walk {
	let (most_expired, most_looked) = (bounds.expired, bounds.looked);
	let (mut at, mut page) = ExpiryCursor::<T>::get();
	let mut done = Walk::default();
	let spent = |done: &Walk| done.looked >= most_looked || done.expired >= most_expired;
	while at <= now && !spent(&done) {
		// Reading a block's page count is a look too: it bounds the walk over empty blocks.
		done.looked = done.looked.saturating_add(1);
		let pages = ExpiryPages::<T>::get(at);
		if page >= pages {
			if pages > 0 {
				ExpiryPages::<T>::remove(at);
			}
			at = at.saturating_add(1u32.into());
			page = 0;
			continue;
		}
		if spent(&done) {
			break;
		}
		let mut entries = ExpiryQueue::<T>::take(at, page).into_inner().into_iter();
		while !spent(&done) {
			let Some(id) = entries.next() else { break };
			done.looked = done.looked.saturating_add(1);
			if expire(id) {
				done.expired = done.expired.saturating_add(1);
			}
		}
		let rest: alloc::vec::Vec<_> = entries.collect();
		if !rest.is_empty() {
			// A part of a page fits the page's bound: nothing is cut.
			let rest = BoundedVec::<_, T::ExpiryPageSize>::truncate_from(rest);
			ExpiryQueue::<T>::insert(at, page, rest);
			break;
		}
		page = page.saturating_add(1);
	}
	ExpiryCursor::<T>::put((at, page));
	done
}

/// Checks the queue against the orders: every open request is listed at its due block, on a
/// page the cursor has not passed, and an entry whose order is open names a request due there.
pub(crate) fn try_state<T: Config>() -> Result<(), &'static str> {
	let cursor = ExpiryCursor::<T>::get();
	let mut listed = alloc::collections::BTreeSet::new();
	for (at, page, entries) in ExpiryQueue::<T>::iter() {
		ensure!(page < ExpiryPages::<T>::get(at), "an expiry page beyond its block's count");
		ensure!((at, page) >= cursor, "an expiry page the cursor has passed");
		for id in entries.iter() {
			let Some(order) = Orders::<T>::get(id) else { continue };
			let request = dispatchable_impls::request_terms::<T>(&order)
				.ok_or("an expiry entry names an open order that is not a request")?;
			ensure!(request.expires_at == at, "a request is listed to expire at another block");
			listed.insert(*id);
		}
	}
	for (id, order) in Orders::<T>::iter() {
		if order.kind() == OrderKind::Request {
			ensure!(listed.contains(&id), "an open request is not in the expiry queue");
		}
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	const MOST: Bounds = Bounds { expired: 64, looked: 8192 };

	fn ms(ms: u64) -> Weight {
		Weight::from_parts(ms * 1_000_000_000, 0)
	}

	#[test]
	fn nothing_fits_below_the_base() {
		let none = Bounds { expired: 0, looked: 0 };
		assert_eq!(Bounds::within(ms(1), ms(2), ms(1), ms(1), MOST), none);
	}

	#[test]
	fn each_half_of_the_rest_bounds_one_kind_of_work() {
		// 10 ms left after the base: 5 ms of expiries at 1 ms, 5 ms of looks at 0.5 ms.
		let per_look = Weight::from_parts(500_000_000, 0);
		let bounds = Bounds::within(ms(12), ms(2), ms(1), per_look, MOST);
		assert_eq!(bounds, Bounds { expired: 5, looked: 10 });
		// What the walk may then cost stays within the budget.
		let most = ms(2) + ms(1) * 5 + per_look * 10;
		assert!(most.all_lte(ms(12)), "{most} above the budget");
	}

	#[test]
	fn the_bounds_given_cap_what_fits_and_free_work_is_capped_too() {
		assert_eq!(Bounds::within(ms(1_000), ms(1), ms(1), ms(1), MOST).expired, 64);
		let free = Bounds::within(ms(5), ms(1), Weight::zero(), Weight::zero(), MOST);
		assert_eq!(free, MOST);
	}

	#[test]
	fn proof_size_bounds_too() {
		let per = Weight::from_parts(1, 1_000);
		let bounds = Bounds::within(Weight::from_parts(u64::MAX, 10_000), Weight::zero(), per, per, MOST);
		assert_eq!(bounds, Bounds { expired: 5, looked: 5 });
	}
}
