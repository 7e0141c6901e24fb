//! The block hook: requests whose time is up expire, with bounded work per block.

use super::*;
use frame_support::weights::Weight;
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// Expires the requests due by `now`, oldest due first, with the work of a block
	/// bounded (see [`crate::expiry`]): each one's deposit and unspent payment go back.
	pub(crate) fn expire_requests(now: BlockNumberFor<T>) -> Weight {
		let done = expiry::walk::<T>(now, |id| Self::expire_request(id, now));
		T::WeightInfo::expire_requests(done.expired, done.looked.saturating_sub(done.expired))
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
