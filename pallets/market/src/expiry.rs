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

/// Page operations (a page taken, a finished block's page count removed) one block's walk
/// may make: each is a read and a write that the entry benchmarks do not cover.
pub const PAGE_OPS_PER_BLOCK: u32 = 64;

/// What one walk of the queue did: entries looked at (and page counts read, each a read),
/// requests expired, and page operations (a page taken, a block's page count removed).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct Walk {
	pub looked: u32,
	pub expired: u32,
	pub pages: u32,
}

/// How far one walk may go: requests expired, entries looked at, page operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bounds {
	pub expired: u32,
	pub looked: u32,
	pub pages: u32,
}

impl Bounds {
	pub const NONE: Bounds = Bounds { expired: 0, looked: 0, pages: 0 };

	/// The block hook's: `MaxExpiriesPerBlock`, `MaxExpiryChecksPerBlock` and
	/// [`PAGE_OPS_PER_BLOCK`].
	pub fn of_a_block<T: Config>() -> Self {
		Bounds {
			expired: T::MaxExpiriesPerBlock::get(),
			looked: T::MaxExpiryChecksPerBlock::get(),
			pages: PAGE_OPS_PER_BLOCK,
		}
	}

	/// Whether a walk with these bounds can make progress: it needs an expiry, a page
	/// operation, and two looks (a page count and an entry).
	pub fn can_progress(&self) -> bool {
		self.expired >= 1 && self.pages >= 1 && self.looked >= 2
	}

	/// What fits in `budget` of weight left at the end of a block, where a walk costs
	/// `base` and each expiry, look and page operation what `each` gives: a third of the rest
	/// for each kind, and never more than `most`. (An expiry is a look too, counted in both
	/// thirds, so the walk's cost stays within the budget.) [`Bounds::NONE`] when not even the
	/// base fits.
	pub fn within(budget: Weight, base: Weight, each: [Weight; 3], most: Bounds) -> Self {
		let Some(rest) = budget.checked_sub(&base) else { return Bounds::NONE };
		let third = rest / 3;
		let fit = |each: Weight, most: u32| -> u32 {
			let by_time = third.ref_time().checked_div(each.ref_time()).unwrap_or(u64::MAX);
			let by_proof = third.proof_size().checked_div(each.proof_size()).unwrap_or(u64::MAX);
			u32::try_from(by_time.min(by_proof)).unwrap_or(u32::MAX).min(most)
		};
		let [per_expiry, per_look, per_page] = each;
		Bounds {
			expired: fit(per_expiry, most.expired),
			looked: fit(per_look, most.looked),
			pages: fit(per_page, most.pages),
		}
	}
}

/// Walks the queue from the cursor up to `now`, calling `expire` on each entry, until one of
/// `bounds` is reached; the rest of a page stays for the next walk. `expire` says whether it
/// expired a request.
pub(crate) fn walk<T: Config>(
	now: BlockNumberFor<T>,
	bounds: Bounds,
	mut expire: impl FnMut(OrderId) -> bool,
) -> Walk {
	let (mut at, mut page) = ExpiryCursor::<T>::get();
	let mut done = Walk::default();
	let spent = |done: &Walk| {
		done.looked >= bounds.looked || done.expired >= bounds.expired || done.pages >= bounds.pages
	};
	while at <= now && !spent(&done) {
		// Reading a block's page count is a look too: it bounds the walk over empty blocks.
		done.looked = done.looked.saturating_add(1);
		let pages = ExpiryPages::<T>::get(at);
		if page >= pages {
			if pages > 0 {
				ExpiryPages::<T>::remove(at);
				done.pages = done.pages.saturating_add(1);
			}
			at = at.saturating_add(1u32.into());
			page = 0;
			continue;
		}
		if spent(&done) {
			break;
		}
		done.pages = done.pages.saturating_add(1);
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
	let next = frame_system::Pallet::<T>::block_number().saturating_add(1u32.into());
	ensure!(cursor.0 <= next, "the expiry cursor is past the next block");
	for (at, pages) in ExpiryPages::<T>::iter() {
		ensure!(at >= cursor.0, "a page count of a block the cursor has passed");
		ensure!(pages > 0, "a page count of zero is kept");
		// Every page the walk has not taken is there: from the cursor's page in its block.
		let first = if at == cursor.0 { cursor.1 } else { 0 };
		for page in first..pages {
			ensure!(ExpiryQueue::<T>::contains_key(at, page), "an expiry page is missing");
		}
	}
	let mut listed = alloc::collections::BTreeSet::new();
	for (at, page, entries) in ExpiryQueue::<T>::iter() {
		ensure!(page < ExpiryPages::<T>::get(at), "an expiry page beyond its block's count");
		ensure!((at, page) >= cursor, "an expiry page the cursor has passed");
		ensure!(!entries.is_empty(), "an empty expiry page is kept");
		for id in entries.iter() {
			ensure!(listed.insert(*id), "a request is listed twice in the expiry queue");
			let Some(order) = Orders::<T>::get(id) else { continue };
			let request = dispatchable_impls::request_terms::<T>(&order)
				.ok_or("an expiry entry names an open order that is not a request")?;
			ensure!(request.expires_at == at, "a request is listed to expire at another block");
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

	const MOST: Bounds = Bounds { expired: 64, looked: 8192, pages: 64 };

	fn ms(ms: u64) -> Weight {
		Weight::from_parts(ms * 1_000_000_000, 0)
	}

	#[test]
	fn nothing_fits_below_the_base() {
		assert_eq!(Bounds::within(ms(1), ms(2), [ms(1); 3], MOST), Bounds::NONE);
		assert!(!Bounds::NONE.can_progress());
	}

	#[test]
	fn each_third_of_the_rest_bounds_one_kind_of_work() {
		// 30 ms left after the base: 10 ms each, of expiries at 2 ms, looks at 0.5 ms and
		// page operations at 1 ms.
		let half = Weight::from_parts(500_000_000, 0);
		let bounds = Bounds::within(ms(32), ms(2), [ms(2), half, ms(1)], MOST);
		assert_eq!(bounds, Bounds { expired: 5, looked: 20, pages: 10 });
		// What the walk may then cost stays within the budget.
		let most = ms(2) + ms(2) * 5 + half * 20 + ms(1) * 10;
		assert!(most.all_lte(ms(32)), "{most} above the budget");
	}

	#[test]
	fn the_bounds_given_cap_what_fits_and_free_work_is_capped_too() {
		assert_eq!(Bounds::within(ms(1_000), ms(1), [ms(1); 3], MOST).expired, 64);
		let free = Bounds::within(ms(5), ms(1), [Weight::zero(); 3], MOST);
		assert_eq!(free, MOST);
	}

	#[test]
	fn proof_size_bounds_too() {
		let per = Weight::from_parts(1, 1_000);
		let budget = Weight::from_parts(u64::MAX, 15_000);
		let bounds = Bounds::within(budget, Weight::zero(), [per; 3], MOST);
		assert_eq!(bounds, Bounds { expired: 5, looked: 5, pages: 5 });
	}

	#[test]
	fn a_walk_needs_two_looks_an_expiry_and_a_page_operation() {
		assert!(MOST.can_progress());
		assert!(!Bounds { looked: 1, ..MOST }.can_progress());
		assert!(!Bounds { expired: 0, ..MOST }.can_progress());
		assert!(!Bounds { pages: 0, ..MOST }.can_progress());
	}
}
