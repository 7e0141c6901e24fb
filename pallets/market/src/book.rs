//! The indices arrival matching reads: the cheapest pool orders of each category, the
//! cheapest orders of each app or data set, the oldest waiting requests of each category,
//! and requests by expiry block. Each is bounded; an order that does not fit is still open,
//! and can be matched by proposal.

use super::*;
use frame_support::traits::Get;
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_registry::ContractId;
use sp_runtime::{traits::Saturating, DispatchError};

/// How many blocks after its due block a request's expiry may be put when that block is full.
const EXPIRY_SPREAD: u32 = 16;

/// Inserts `(price, id)` in price order, cheapest first. When full, it displaces the dearest
/// entry if it is cheaper, and is left out otherwise.
fn insert_sorted<T: Config>(book: &mut BookOf<T>, price: BalanceOf<T>, id: OrderId) {
	let at = book.partition_point(|entry| *entry <= (price, id));
	if book.is_full() {
		if at == book.len() {
			return;
		}
		book.pop();
	}
	// Room was made above, so this cannot fail.
	let _ = book.try_insert(at, (price, id));
}

/// Indexes pool order `id` of `pool`. A pool that holds `MaxIndexedPerPool` entries of the
/// category already makes room only by its own dearest entry, and only for a cheaper order.
pub(crate) fn insert_pool<T: Config>(
	category: Category,
	price: BalanceOf<T>,
	id: OrderId,
	pool: ContractId,
) {
	PoolBook::<T>::mutate(category, |book| {
		let pool_of = |entry: OrderId| {
			Orders::<T>::get(entry)
				.and_then(|order| dispatchable_impls::pool_terms::<T>(&order).map(|o| o.pool))
		};
		let own: alloc::vec::Vec<usize> = book
			.iter()
			.enumerate()
			.filter(|(_, (_, entry))| pool_of(*entry) == Some(pool))
			.map(|(at, _)| at)
			.collect();
		if own.len() as u32 >= T::MaxIndexedPerPool::get() {
			// Entries are cheapest first: the pool's last is its dearest.
			let Some(&at) = own.last() else { return };
			if book[at] <= (price, id) {
				return;
			}
			book.remove(at);
		}
		insert_sorted::<T>(book, price, id);
	});
}

pub(crate) fn remove_pool<T: Config>(category: Category, id: OrderId) {
	PoolBook::<T>::mutate(category, |book| book.retain(|(_, entry)| *entry != id));
}

pub(crate) fn insert_resource<T: Config>(resource: ContractId, price: BalanceOf<T>, id: OrderId) {
	ResourceBook::<T>::mutate(resource, |book| insert_sorted::<T>(book, price, id));
}

pub(crate) fn remove_resource<T: Config>(resource: ContractId, id: OrderId) {
	ResourceBook::<T>::mutate_exists(resource, |book| {
		if let Some(entries) = book {
			entries.retain(|(_, entry)| *entry != id);
			if entries.is_empty() {
				*book = None;
			}
		}
	});
}

/// Adds a request to its category's waiting list. A full list lets its oldest request go
/// (which stays open: matchable by proposal until it expires), so that requests no pool
/// serves cannot keep new ones out.
pub(crate) fn push_waiting<T: Config>(category: Category, id: OrderId) {
	Waiting::<T>::mutate(category, |waiting| {
		if waiting.is_full() && !waiting.is_empty() {
			waiting.remove(0);
		}
		let _ = waiting.try_push(id);
	});
}

pub(crate) fn remove_waiting<T: Config>(category: Category, id: OrderId) {
	Waiting::<T>::mutate(category, |waiting| waiting.retain(|entry| *entry != id));
}

/// The first block from `due` on (within [`EXPIRY_SPREAD`]) with room for one more expiry.
pub(crate) fn free_expiry_slot<T: Config>(
	due: BlockNumberFor<T>,
) -> Result<BlockNumberFor<T>, DispatchError> {
	let mut at = due;
	for _ in 0..EXPIRY_SPREAD {
		if !Expiries::<T>::decode_len(at)
			.is_some_and(|len| len >= T::MaxExpiriesPerBlock::get() as usize)
		{
			return Ok(at);
		}
		at = at.saturating_add(1u32.into());
	}
	Err(Error::<T>::ExpiryQueueFull.into())
}

/// Schedules request `id` to expire at `at`, a slot [`free_expiry_slot`] found.
pub(crate) fn schedule_expiry<T: Config>(
	at: BlockNumberFor<T>,
	id: OrderId,
) -> Result<(), DispatchError> {
	Expiries::<T>::try_mutate(at, |due| due.try_push(id))
		.map_err(|_| Error::<T>::ExpiryQueueFull.into())
}

/// Takes request `id` off the expiry list of block `at`.
pub(crate) fn unschedule_expiry<T: Config>(at: BlockNumberFor<T>, id: OrderId) {
	Expiries::<T>::mutate_exists(at, |due| {
		if let Some(entries) = due {
			entries.retain(|entry| *entry != id);
			if entries.is_empty() {
				*due = None;
			}
		}
	});
}

/// The indices point only at open orders of the right kind, in order.
#[cfg(any(feature = "try-runtime", feature = "std", test))]
pub(crate) fn try_state<T: Config>() -> Result<(), sp_runtime::TryRuntimeError> {
	use frame_support::ensure;
	for (category, book) in PoolBook::<T>::iter() {
		ensure!(book.windows(2).all(|w| w[0] < w[1]), "a pool book is out of order");
		let mut per_pool = alloc::collections::btree_map::BTreeMap::<ContractId, u32>::new();
		for (price, id) in book.iter() {
			let order = Orders::<T>::get(id).ok_or("a pool book names a closed order")?;
			let offer = dispatchable_impls::pool_terms::<T>(&order).ok_or("not a pool order")?;
			ensure!(
				offer.category == category && offer.price == *price,
				"a pool book entry is stale"
			);
			*per_pool.entry(offer.pool).or_default() += 1;
		}
		ensure!(
			per_pool.values().all(|n| *n <= T::MaxIndexedPerPool::get()),
			"a pool holds more entries of a pool book than it may"
		);
	}
	for (resource, book) in ResourceBook::<T>::iter() {
		ensure!(book.windows(2).all(|w| w[0] < w[1]), "a resource book is out of order");
		for (price, id) in book.iter() {
			let order = Orders::<T>::get(id).ok_or("a resource book names a closed order")?;
			let offer = dispatchable_impls::resource_terms::<T>(&order, order.kind())
				.ok_or("not an app or data set order")?;
			ensure!(
				offer.resource == resource && offer.price == *price,
				"a resource entry is stale"
			);
		}
	}
	let mut scheduled = 0usize;
	for (at, due) in Expiries::<T>::iter() {
		for id in due.iter() {
			let order = Orders::<T>::get(id).ok_or("an expiry names a closed order")?;
			let request = dispatchable_impls::request_terms::<T>(&order).ok_or("not a request")?;
			ensure!(request.expires_at == at, "a request is listed to expire at another block");
			scheduled += 1;
		}
	}
	let requests = Orders::<T>::iter_values().filter(|o| o.kind() == OrderKind::Request).count();
	ensure!(scheduled == requests, "an open request is not scheduled to expire");
	for (category, waiting) in Waiting::<T>::iter() {
		for id in waiting.iter() {
			let order = Orders::<T>::get(id).ok_or("a waiting list names a closed order")?;
			let request = dispatchable_impls::request_terms::<T>(&order).ok_or("not a request")?;
			ensure!(request.category == category, "a request waits in another category");
		}
	}
	Ok(())
}
