//! The block hook: requests whose time is up expire, with bounded work per block.

use super::*;
use frame_support::weights::Weight;
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// Expires the requests due at `now` (at most `MaxExpiriesPerBlock`, the bound of the
	/// list): each one's deposit and unspent payment go back.
	pub(crate) fn expire_requests(now: BlockNumberFor<T>) -> Weight {
		let due = Expiries::<T>::take(now);
		let count = due.len() as u32;
		for id in due {
			// Cancelled or used-up requests are gone already; nothing to do for them.
			let Some(order) = Orders::<T>::get(id) else { continue };
			if order.kind() != OrderKind::Request {
				continue;
			}
			// Cannot fail (the books hold what the request has left, and its deposit is held);
			// if it ever did, nothing of the attempt is kept.
			let ended = frame_support::storage::with_storage_layer(|| Self::end_order(id, &order));
			if let Ok((deposit_refunded, payment_refunded)) = ended {
				Self::deposit_event(Event::RequestExpired {
					id,
					deposit_refunded,
					payment_refunded,
				});
			}
		}
		T::WeightInfo::expire_requests(count)
	}
}
