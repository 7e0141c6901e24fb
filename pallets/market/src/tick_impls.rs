//! The block hook: requests whose time is up expire, with bounded work per block.

use super::*;
use frame_support::{traits::Get, weights::Weight};
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// Expires the requests due by `now`, oldest due first, with the work of a block
	/// bounded (see [`crate::expiry`]): each one's deposit and unspent payment go back.
	pub(crate) fn expire_requests(now: BlockNumberFor<T>) -> Weight {
		Self::walk_expiries(now, expiry::Bounds::of_a_block::<T>())
	}

	/// Goes on expiring with what the block left unused, so that quiet blocks clear a
	/// backlog the bounded hook could not.
	pub(crate) fn expire_when_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let base = Self::expiry_weight(expiry::Walk::default());
		let one = |done: expiry::Walk| Self::expiry_weight(done).saturating_sub(base);
		let each = [
			one(expiry::Walk { expired: 1, ..Default::default() }),
			one(expiry::Walk { looked: 1, ..Default::default() }),
			one(expiry::Walk { pages: 1, ..Default::default() }),
		];
		let checks = T::MaxExpiryChecksPerBlock::get();
		// An idle block may do as much as the hook may look at.
		let most = expiry::Bounds { expired: checks, looked: checks, pages: checks };
		let bounds = expiry::Bounds::within(remaining, base, each, most);
		let cursor_read = T::DbWeight::get().reads(1);
		if !bounds.can_progress() || ExpiryCursor::<T>::get().0 > now {
			// Nothing fits, or the walk is done up to now: only the cursor's read.
			return cursor_read;
		}
		Self::walk_expiries(now, bounds)
	}

	fn walk_expiries(now: BlockNumberFor<T>, bounds: expiry::Bounds) -> Weight {
		Self::expiry_weight(expiry::walk::<T>(now, bounds, |id| Self::expire_request(id, now)))
	}

	/// What a walk weighs: the benchmarks of the requests it expired and of the entries (or
	/// page counts) it passed over, each with its own base, and a read and a write for each
	/// page operation, which those benchmarks, with every entry in one block, leave out.
	pub(crate) fn expiry_weight(done: expiry::Walk) -> Weight {
		let passed = done.looked.saturating_sub(done.expired);
		T::WeightInfo::expire_requests(done.expired)
			.saturating_add(T::WeightInfo::pass_over_ended(passed))
			.saturating_add(T::DbWeight::get().reads_writes(done.pages.into(), done.pages.into()))
	}

	/// Expires request `id` if it is still open and due by `now`. Says whether it tried.
	fn expire_request(id: OrderId, now: BlockNumberFor<T>) -> bool {
		// Matched or cancelled requests are gone already; nothing to do for them.
		let Some(order) = Orders::<T>::get(id) else { return false };
		match dispatchable_impls::request_terms::<T>(&order) {
			Some(request) if request.expires_at <= now => {}
			_ => return false,
		}
		// Cannot fail (the books hold what the request has left, and its deposit is held);
		// if it ever did, nothing of the attempt is kept.
		let ended = frame_support::storage::with_storage_layer(|| Self::end_order(id, &order));
		if let Ok((deposit_refunded, payment_refunded)) = ended {
			Self::deposit_event(Event::RequestExpired { id, deposit_refunded, payment_refunded });
		}
		true
	}
}
