//! The indices arrival matching reads: the cheapest pool orders of each category, the
//! cheapest orders of each app or data set, and the oldest waiting requests of each
//! category. Each is bounded; an order that does not fit is still open,
//! and can be matched by proposal.

use super::*;
use frame_support::traits::Get;
use pallet_registry::ContractId;

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
	for (category, waiting) in Waiting::<T>::iter() {
		for id in waiting.iter() {
			let order = Orders::<T>::get(id).ok_or("a waiting list names a closed order")?;
			let request = dispatchable_impls::request_terms::<T>(&order).ok_or("not a request")?;
			ensure!(request.category == category, "a request waits in another category");
		}
	}
	Ok(())
}
