//! Storage migrations of `pallet-market`.

use super::*;
use codec::{Decode, DecodeAll, Encode};
use frame_support::{
	storage::unhashed,
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
};

/// Version 0 to 1: requests and deals gained a last field, [`Determinism`]. A stored value
/// from before ends one field early, so it is migrated by appending `Portable`, which is what
/// every replica did before the field existed. Values that already decode (app, data set and
/// pool orders, whose layout did not change) are left as they are.
///
/// It runs in one block, two reads and at most a write per order and deal: about 30,000 of
/// them fit a block at ParityDB's weights (no chain of ours holds more; a chain with more must
/// step it over blocks). `try-runtime` refuses the upgrade when it would not fit.
pub mod v1 {
	use super::*;

	pub struct AppendDeterminism<T>(core::marker::PhantomData<T>);

	/// Appends `Portable` to the raw value at `key` when it does not decode as `V` and does
	/// with it. Returns whether it wrote.
	fn append_if_short<V: Decode>(key: &[u8]) -> bool {
		let Some(mut raw) = unhashed::get_raw(key) else { return false };
		if V::decode_all(&mut &raw[..]).is_ok() {
			return false;
		}
		Determinism::Portable.encode_to(&mut raw);
		if V::decode_all(&mut &raw[..]).is_err() {
			log::warn!(
				target: "runtime::market",
				"migration v1: a value at {key:?} decodes neither way; left as it is"
			);
			return false;
		}
		unhashed::put_raw(key, &raw);
		true
	}

	impl<T: Config> UncheckedOnRuntimeUpgrade for AppendDeterminism<T> {
		fn on_runtime_upgrade() -> Weight {
			let (mut reads, mut writes) = (0u64, 0u64);
			for id in Orders::<T>::iter_keys() {
				reads += 1;
				writes +=
					u64::from(append_if_short::<OrderOf<T>>(&Orders::<T>::hashed_key_for(id)));
			}
			for id in Deals::<T>::iter_keys() {
				reads += 1;
				writes += u64::from(append_if_short::<DealOf<T>>(&Deals::<T>::hashed_key_for(id)));
			}
			log::info!(
				target: "runtime::market",
				"migration v1: {writes} of {reads} orders and deals given a determinism"
			);
			T::DbWeight::get().reads_writes(reads.saturating_mul(2), writes)
		}

		/// Refuses an upgrade whose migration would not fit one block.
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
			let entries =
				(Orders::<T>::iter_keys().count() + Deals::<T>::iter_keys().count()) as u64;
			let most = T::DbWeight::get().reads_writes(entries.saturating_mul(2), entries);
			let block = <T as frame_system::Config>::BlockWeights::get().max_block;
			frame_support::ensure!(
				most.all_lte(block),
				"market migration v1: too many orders and deals for one block"
			);
			Ok(alloc::vec::Vec::new())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(_: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let orders = Orders::<T>::iter_keys().all(|id| Orders::<T>::try_get(id).is_ok());
			let deals = Deals::<T>::iter_keys().all(|id| Deals::<T>::try_get(id).is_ok());
			frame_support::ensure!(orders && deals, "an order or a deal does not decode after v1");
			Ok(())
		}
	}

	/// Runs once, when the pallet's storage version is 0.
	pub type MigrateV0ToV1<T> = frame_support::migrations::VersionedMigration<
		0,
		1,
		AppendDeterminism<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// Version 1 to 2: one pool holds at most `MaxIndexedPerPool` entries of a category's pool
/// index. Each index keeps the cheapest entries of each pool up to that share; the others
/// leave the index (their orders stay open, matchable by proposal). One read per indexed
/// order: a few hundred at most.
pub mod v2 {
	use super::*;
	use alloc::collections::btree_map::BTreeMap;

	pub struct ShareThePoolIndex<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for ShareThePoolIndex<T> {
		fn on_runtime_upgrade() -> Weight {
			let (mut reads, mut writes, mut dropped) = (0u64, 0u64, 0u32);
			let books: alloc::vec::Vec<_> = PoolBook::<T>::iter().collect();
			for (category, mut book) in books {
				reads += 1;
				let mut held = BTreeMap::<pallet_registry::ContractId, u32>::new();
				let before = book.len();
				book.retain(|(_, id)| {
					reads += 1;
					let pool = Orders::<T>::get(id).and_then(|order| match order.terms {
						OrderTerms::Pool(offer) => Some(offer.pool),
						_ => None,
					});
					let Some(pool) = pool else { return false };
					let count = held.entry(pool).or_default();
					*count += 1;
					*count <= T::MaxIndexedPerPool::get()
				});
				if book.len() != before {
					dropped += (before - book.len()) as u32;
					PoolBook::<T>::insert(category, book);
					writes += 1;
				}
			}
			log::info!(
				target: "runtime::market",
				"migration v2: {dropped} pool index entries beyond their pool's share left it"
			);
			T::DbWeight::get().reads_writes(reads, writes)
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(_: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			crate::book::try_state::<T>()
		}
	}

	/// Runs once, when the pallet's storage version is 1.
	pub type MigrateV1ToV2<T> = frame_support::migrations::VersionedMigration<
		1,
		2,
		ShareThePoolIndex<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// Version 2 to 3: the per-block expiry lists (`Expiries`, at most `MaxExpiriesPerBlock`
/// requests a block, which capped how many requests a block could admit) become the paged
/// expiry queue walked by a cursor. Each old list moves to the pages of its block; the
/// cursor starts at the oldest block listed (or the present one). It runs in one block: a
/// read and a write per block listed, and two reads and two writes per request listed, so
/// about 11,000 requests fit a block at ParityDB's weights; `try-runtime` refuses the
/// upgrade when the chain lists more.
pub mod v3 {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{storage_alias, Twox64Concat};
	use frame_system::pallet_prelude::BlockNumberFor;

	/// The lists of version 2: requests due at a block.
	#[storage_alias]
	pub(crate) type Expiries<T: Config> =
		StorageMap<Pallet<T>, Twox64Concat, BlockNumberFor<T>, Vec<OrderId>>;

	pub struct PageTheExpiryQueue<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for PageTheExpiryQueue<T> {
		fn on_runtime_upgrade() -> Weight {
			let lists: Vec<_> = Expiries::<T>::drain().collect();
			// Each list: read and removed. Each request: a page count and a page read, the
			// page and (for a new page) the count written.
			let (mut reads, mut writes, mut moved) = (lists.len() as u64, lists.len() as u64, 0u32);
			let mut start = frame_system::Pallet::<T>::block_number();
			for (at, ids) in lists {
				start = start.min(at);
				for id in ids {
					reads += 2;
					writes += 2;
					match crate::expiry::schedule::<T>(at, id) {
						Ok(()) => moved += 1,
						Err(_) => log::warn!(
							target: "runtime::market",
							"migration v3: request {id} could not be listed at {at:?}"
						),
					}
				}
			}
			ExpiryCursor::<T>::put((start, 0));
			log::info!(
				target: "runtime::market",
				"migration v3: {moved} expiries moved to the paged queue"
			);
			// And the cursor.
			T::DbWeight::get().reads_writes(reads, writes.saturating_add(1))
		}

		/// Refuses an upgrade whose migration would not fit one block.
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			let (lists, ids) = Expiries::<T>::iter_values()
				.fold((0u64, 0u64), |(lists, ids), list| (lists + 1, ids + list.len() as u64));
			let (reads, writes) = (lists + 2 * ids, lists + 2 * ids + 1);
			let most = T::DbWeight::get().reads_writes(reads, writes);
			let block = <T as frame_system::Config>::BlockWeights::get().max_block;
			frame_support::ensure!(
				most.all_lte(block),
				"market migration v3: too many requests listed to expire for one block"
			);
			Ok(Vec::new())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(_: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			crate::expiry::try_state::<T>().map_err(Into::into)
		}
	}

	/// Runs once, when the pallet's storage version is 2.
	pub type MigrateV2ToV3<T> = frame_support::migrations::VersionedMigration<
		2,
		3,
		PageTheExpiryQueue<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
