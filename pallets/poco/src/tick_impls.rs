//! Deadlines: indexed by block when they are set, handled by `on_idle` within the block's
//! spare weight, oldest first; and the pallet's `try_state` checks.

use super::*;
use frame_support::{pallet_prelude::*, weights::WeightMeter};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{One, Saturating};

/// Blocks after the due one that a deadline may be indexed at when that block is full.
pub(crate) const SPILL_BLOCKS: u32 = 4;

impl<T: Config> Pallet<T> {
	/// Indexes `due` at block `at`, or at one of the next [`SPILL_BLOCKS`] blocks when `at`
	/// is full. When all are full it is not indexed: `finalize` and `claim_failed` still
	/// settle the task, by anyone's call.
	pub(crate) fn schedule(due: Due, at: BlockNumberFor<T>) {
		let mut block = at;
		for _ in 0..SPILL_BLOCKS {
			let pushed = DueAt::<T>::mutate(block, |list| list.try_push(due).is_ok());
			if pushed {
				return;
			}
			block = block.saturating_add(One::one());
		}
	}

	/// The most one due deadline can cost to handle.
	pub(crate) fn due_weight() -> Weight {
		let most = T::MaxContributors::get();
		<T as Config>::WeightInfo::finalize(most)
			.max(<T as Config>::WeightInfo::reopen(most))
			.max(<T as Config>::WeightInfo::claim_failed(most))
	}

	/// Handles the deadlines of blocks up to `now`, as far as `limit` goes. Each is checked
	/// against the task as it is now: one already settled, or not due after all, is dropped.
	pub(crate) fn handle_due(now: BlockNumberFor<T>, limit: Weight) -> Weight {
		let mut meter = WeightMeter::with_limit(limit);
		let per_block = T::DbWeight::get().reads_writes(2, 2);
		if meter.try_consume(T::DbWeight::get().reads_writes(1, 1)).is_err() {
			return meter.consumed();
		}
		let mut cursor = DueCursor::<T>::get().unwrap_or(now);
		while cursor <= now {
			if meter.try_consume(per_block).is_err() {
				break;
			}
			let mut list = DueAt::<T>::take(cursor);
			let mut handled = 0;
			for due in list.iter() {
				if meter.try_consume(Self::due_weight()).is_err() {
					break;
				}
				// A deadline that cannot be settled now changes nothing and is dropped.
				let _ = frame_support::storage::with_storage_layer(|| Self::settle_due(*due, now));
				handled += 1;
			}
			if handled < list.len() {
				list = BoundedVec::truncate_from(list.into_inner().split_off(handled));
				DueAt::<T>::insert(cursor, list);
				break;
			}
			cursor = cursor.saturating_add(One::one());
		}
		DueCursor::<T>::put(cursor);
		meter.consumed()
	}

	fn settle_due(due: Due, now: BlockNumberFor<T>) -> DispatchResult {
		match due {
			Due::Reveal(id) => Self::do_finalize(id).map(|_| ()),
			Due::Close(id) => {
				let task = Self::started(id)?;
				match task.status {
					TaskStatus::Open if now >= task.contribution_deadline => {
						Self::do_claim_failed(id).map(|_| ())
					}
					_ => Ok(()),
				}
			}
		}
	}

	/// Checks, for every deal, that escrow holds exactly its open obligations (the price of
	/// each task not settled, the pool stake's shares of those tasks, and the stake of each
	/// contribution of an open task), that each group's weight and each task's total are what
	/// its replicas make, that workers' replica counts are what tasks hold, and that pools'
	/// records count their workers.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use crate::dispatchable_impls::EscrowOf;
		use alloc::collections::btree_map::BTreeMap;
		use pallet_escrow::{Escrow, HoldReason as Escrowed, Ledger};
		use pallet_market::Deals;
		use sp_core::H256;
		use sp_runtime::traits::Zero;

		let mut expected: BTreeMap<(u64, T::AccountId, u8), BalanceOf<T>> = BTreeMap::new();
		let mut add = |deal: u64, who: &T::AccountId, reason: u8, amount: BalanceOf<T>| {
			let entry = expected.entry((deal, who.clone(), reason)).or_default();
			*entry = entry.saturating_add(amount);
		};
		let mut held_replicas: BTreeMap<T::AccountId, u32> = BTreeMap::new();
		for (id, deal) in Deals::<T>::iter() {
			let price = Self::price_per_task(&deal).map_err(|_| "price overflows")?;
			let stake = Self::worker_stake(&deal);
			let progress = Progress::<T>::get(id).unwrap_or_default();
			ensure!(progress.next <= deal.volume, "a deal started more tasks than it has");
			let unstarted = deal.volume - progress.next;
			add(id, &deal.requester, 0, price.saturating_mul(unstarted.into()));
			add(
				id,
				&deal.pool_owner,
				1,
				rules::shares_from(deal.pool_stake, deal.volume, progress.next),
			);
			let mut started = 0u32;
			for (index, task) in Tasks::<T>::iter_prefix(id) {
				started += 1;
				ensure!(index < progress.next, "a task started out of order");
				if task.is_settled() {
					ensure!(task.replicas.is_empty(), "a settled task holds replicas");
					continue;
				}
				add(id, &deal.requester, 0, price);
				add(
					id,
					&deal.pool_owner,
					1,
					rules::task_share(deal.pool_stake, deal.volume, index),
				);
				let mut groups: BTreeMap<H256, u64> = BTreeMap::new();
				for replica in task.replicas.iter() {
					let hash = match replica.state {
						ReplicaState::Contributed { result_hash, .. } => Some(result_hash),
						ReplicaState::Revealed { result_hash, staked } => {
							ensure!(staked, "an open task holds an unstaked reveal");
							Some(result_hash)
						}
						ReplicaState::Claimed { .. }
						| ReplicaState::Discarded
						| ReplicaState::Released => None,
					};
					if TaskOf::<T>::holds(&replica.state) {
						*held_replicas.entry(replica.worker.clone()).or_default() += 1;
					}
					if let Some(hash) = hash {
						add(id, &replica.worker, 2, stake);
						let group = groups.entry(hash).or_default();
						*group = rules::joined(*group, replica.weight);
					}
				}
				let mut total = 1u128;
				for group in task.groups.iter() {
					ensure!(
						groups.get(&group.result_hash) == Some(&group.weight),
						"a group's weight is not its members' product"
					);
					total += u128::from(group.weight);
				}
				ensure!(groups.len() == task.groups.len(), "a contribution has no group");
				ensure!(task.total == total, "a task's total is not 1 + its groups");
				let best = task.groups.iter().map(|g| g.weight).max().unwrap_or(0);
				ensure!(task.best == best, "a task's best group is not its heaviest");
			}
			ensure!(started <= progress.next, "more tasks stored than started");
		}
		expected.retain(|_, amount| !amount.is_zero());
		let reasons = [Escrowed::RequesterPayment, Escrowed::PoolStake, Escrowed::WorkerStake];
		for ((deal, who, reason), amount) in expected.iter() {
			let locked = EscrowOf::<T>::locked(Ledger::Deal(*deal), who, reasons[*reason as usize]);
			ensure!(locked == *amount, "escrow holds for a deal are not its open obligations");
		}
		let entries = pallet_escrow::Books::<T>::iter_keys()
			.filter(|(ledger, _, _)| matches!(ledger, Ledger::Deal(_)))
			.count();
		ensure!(entries == expected.len(), "escrow holds for a deal what it does not owe");

		let mut members: BTreeMap<pallet_registry::ContractId, (u32, u64)> = BTreeMap::new();
		for (who, worker) in Workers::<T>::iter() {
			let held = held_replicas.remove(&who).unwrap_or(0);
			ensure!(worker.replicas == held, "a worker's replica count is not what tasks hold");
			let entry = members.entry(worker.pool).or_default();
			entry.0 += 1;
			entry.1 += u64::from(Scores::<T>::get(&who));
		}
		ensure!(held_replicas.is_empty(), "a replica is held by an account that is no worker");
		for (pool, record) in PoolRecords::<T>::iter() {
			let (count, scores) = members.remove(&pool).unwrap_or_default();
			ensure!(
				record.members == count && record.score_sum == scores,
				"a pool's record does not count its workers"
			);
		}
		ensure!(members.is_empty(), "a pool with workers has no record");
		Ok(())
	}
}
