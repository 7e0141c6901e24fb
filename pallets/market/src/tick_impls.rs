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
		let base = Self::expiry_weight(0, 0);
		let checks = T::MaxExpiryChecksPerBlock::get();
		let bounds = expiry::Bounds::within(
			remaining,
			base,
			Self::expiry_weight(1, 0).saturating_sub(base),
			Self::expiry_weight(0, 1).saturating_sub(base),
			// An idle block may expire as many as the hook may look at.
			expiry::Bounds { expired: checks, looked: checks },
		);
		if bounds.looked == 0 || ExpiryCursor::<T>::get().0 > now {
			// Nothing fits, or the walk is done up to now: only the cursor's read.
			return T::DbWeight::get().reads(1);
		}
		Self::walk_expiries(now, bounds)
	}

	fn walk_expiries(now: BlockNumberFor<T>, bounds: expiry::Bounds) -> Weight {
		let done = expiry::walk::<T>(now, bounds, |id| Self::expire_request(id, now));
		Self::expiry_weight(done.expired, done.looked.saturating_sub(done.expired))
	}

	/// What a walk that expired `expired` requests and passed over `passed` entries (or
	/// empty blocks) weighs: the two benchmarks added (each with its own base).
	pub(crate) fn expiry_weight(expired: u32, passed: u32) -> Weight {
		T::WeightInfo::expire_requests(expired).saturating_add(T::WeightInfo::pass_over_ended(passed))
	}

	/// Expires request `id` if it is still open and due by `now`. Says whether it tried.
	fn expire_request(id: OrderId, now: BlockNumberFor<T>) -> bool {
		// Matched or cancelled requests are gone already; nothing to do for them.
		let Some(order) = Orders::<T>::get(id) else { return false };
		match dispatchable_impls::request_terms::<T>(&order) {
			Some(request) if request.expires_at <= now => {},
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
