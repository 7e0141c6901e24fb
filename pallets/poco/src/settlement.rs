//! Settling a task through escrow: completion (payments, stakes, scores, the pool's record),
//! reopening (the silent winners' stakes seized), failure and the refund of tasks never
//! started. Every amount comes out of a hold booked for the deal, so nothing is created or
//! lost; a payee that cannot receive (it would stay below the existential deposit) does not
//! block the settlement: its payment goes to the kitty.

use super::*;
use crate::dispatchable_impls::EscrowOf;
use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_escrow::{Escrow, HoldReason as Escrowed, Ledger};
use pallet_market::DealOf;
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchError, SaturatedConversion,
};

impl<T: Config> Pallet<T> {
	/// Pays `amount` held by `from` for the deal to `to`, or into the kitty when `to` cannot
	/// receive it.
	fn pay_or_seize(
		deal: u64,
		from: &T::AccountId,
		reason: Escrowed,
		to: &T::AccountId,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		let ledger = Ledger::Deal(deal);
		if from == to {
			return EscrowOf::<T>::release(ledger, from, reason, amount);
		}
		EscrowOf::<T>::pay(ledger, from, reason, to, amount)
			.or_else(|_| EscrowOf::<T>::seize(ledger, from, reason, amount))
	}

	/// What the requester pays per task: the app, data set and pool prices.
	pub(crate) fn price_per_task(deal: &DealOf<T>) -> Result<BalanceOf<T>, DispatchError> {
		let dataset = deal.dataset.as_ref().map_or(Zero::zero(), |d| d.price);
		deal.app_price
			.checked_add(&dataset)
			.and_then(|p| p.checked_add(&deal.pool_price))
			.ok_or_else(|| Error::<T>::Overflow.into())
	}

	/// Moves `worker`'s score by `rule`; reads it once, and writes only a change.
	pub(crate) fn move_score(
		worker: &T::AccountId,
		pool: pallet_registry::ContractId,
		rule: impl FnOnce(u32) -> u32,
	) {
		let old = Scores::<T>::get(worker);
		let score = rule(old);
		if old == score {
			return;
		}
		Scores::<T>::insert(worker, score);
		if Workers::<T>::get(worker).is_some_and(|w| w.pool == pool) {
			PoolRecords::<T>::mutate(pool, |r| {
				r.score_sum = r.score_sum.saturating_sub(old.into()).saturating_add(score.into());
			});
		}
		Self::deposit_event(Event::ScoreChanged { worker: worker.clone(), score });
	}

	/// Marks a task settled: its replicas are no longer held, the record shrinks.
	fn close(id: TaskId, mut task: TaskOf<T>, status: TaskStatus<BlockNumberFor<T>>) {
		for replica in task.replicas.iter() {
			if TaskOf::<T>::holds(&replica.state) {
				Self::count_replica(&replica.worker, -1);
			}
		}
		task.status = status;
		task.replicas = Default::default();
		task.groups = Default::default();
		Tasks::<T>::insert(id.deal, id.index, task);
	}

	/// Certifies the task on the revealed result and pays everyone.
	pub(crate) fn complete(id: TaskId, deal: &DealOf<T>, task: TaskOf<T>) -> DispatchResult {
		ensure!(matches!(task.status, TaskStatus::Revealing { .. }), Error::<T>::NotRevealing);
		let now = Self::now();
		let stake = Self::worker_stake(deal);
		let replicated = task.live_contributions() > 1;
		let mut winners: Vec<(T::AccountId, u64)> = Vec::new();
		let mut sources: Vec<(T::AccountId, Escrowed, BalanceOf<T>)> = Vec::new();
		for replica in task.replicas.iter() {
			match replica.state {
				ReplicaState::Revealed { .. } => {
					winners.push((replica.worker.clone(), replica.weight))
				}
				// Losers, and winners that did not reveal: their stakes join the pot.
				ReplicaState::Contributed { .. } => {
					sources.push((replica.worker.clone(), Escrowed::WorkerStake, stake));
				}
				ReplicaState::Claimed { .. } | ReplicaState::Discarded | ReplicaState::Released => {
				}
			}
		}
		sources.push((deal.requester.clone(), Escrowed::RequesterPayment, deal.pool_price));
		let pot = sources.iter().fold(BalanceOf::<T>::zero(), |sum, s| sum.saturating_add(s.2));
		let logs: Vec<u32> = winners.iter().map(|(_, w)| rules::log_weight(*w)).collect();
		let (rewards, owner_part) = rules::share_pot(pot, deal.scheduler_reward_ratio, &logs);
		let mut payees: Vec<(T::AccountId, BalanceOf<T>)> =
			winners.iter().map(|(w, _)| w.clone()).zip(rewards).collect();
		payees.push((deal.pool_owner.clone(), owner_part));
		let moves = rules::transfers(
			&sources.iter().map(|s| s.2).collect::<Vec<_>>(),
			&payees.iter().map(|p| p.1).collect::<Vec<_>>(),
		);
		for (s, p, amount) in moves {
			let (from, reason, _) = &sources[s];
			Self::pay_or_seize(id.deal, from, *reason, &payees[p].0, amount)?;
		}
		// The providers' prices, the stakes that come back, the kitty's bonus.
		Self::pay_or_seize(
			id.deal,
			&deal.requester,
			Escrowed::RequesterPayment,
			&deal.app_owner,
			deal.app_price,
		)?;
		if let Some(dataset) = &deal.dataset {
			Self::pay_or_seize(
				id.deal,
				&deal.requester,
				Escrowed::RequesterPayment,
				&dataset.owner,
				dataset.price,
			)?;
		}
		let ledger = Ledger::Deal(id.deal);
		for replica in task.replicas.iter() {
			if matches!(replica.state, ReplicaState::Revealed { staked: true, .. }) {
				EscrowOf::<T>::release(ledger, &replica.worker, Escrowed::WorkerStake, stake)?;
			}
		}
		let pool_share = rules::task_share(deal.pool_stake, deal.volume, id.index);
		EscrowOf::<T>::release(ledger, &deal.pool_owner, Escrowed::PoolStake, pool_share)?;
		EscrowOf::<T>::pay_kitty_bonus(
			&deal.pool_owner,
			deal.terms.kitty_share,
			deal.terms.kitty_minimum,
			pool_share,
		);

		// Scores: winners +1 when another contribution checked them, the others lose a third.
		for replica in task.replicas.iter() {
			match replica.state {
				ReplicaState::Revealed { .. } => {
					Self::move_score(&replica.worker, deal.pool, |s| {
						rules::winner_score(s, replicated)
					})
				}
				ReplicaState::Contributed { .. } => {
					Self::move_score(&replica.worker, deal.pool, rules::loser_score)
				}
				_ => {}
			}
		}
		let seconds = now
			.saturating_sub(task.started_at)
			.saturated_into::<u64>()
			.saturating_mul(T::MillisecsPerBlock::get())
			/ 1_000;
		PoolRecords::<T>::mutate(deal.pool, |r| {
			r.done = r.done.saturating_add(1);
			r.total_seconds = r.total_seconds.saturating_add(seconds);
		});
		let mut digest = [0u8; 32];
		Results::<T>::mutate(id.deal, id.index, |result| {
			if let Some(result) = result {
				result.completed_at = Some(now);
				digest = result.digest;
			}
		});
		Self::close(id, task, TaskStatus::Completed);
		Self::deposit_event(Event::TaskCompleted {
			task: id,
			digest,
			winners: winners.len() as u32,
			pot,
		});
		Ok(())
	}

	/// No winner revealed: their group is discarded, their stakes seized into the kitty, and
	/// the task takes contributions again (or fails, when they have closed).
	pub(crate) fn reopen(id: TaskId, deal: &DealOf<T>, mut task: TaskOf<T>) -> DispatchResult {
		let TaskStatus::Revealing { result_hash: winning, .. } = task.status else {
			return Err(Error::<T>::NotRevealing.into());
		};
		let stake = Self::worker_stake(deal);
		let ledger = Ledger::Deal(id.deal);
		let (mut discarded, mut seized) = (0u32, BalanceOf::<T>::zero());
		for replica in task.replicas.iter_mut() {
			if matches!(replica.state, ReplicaState::Contributed { result_hash, .. } if result_hash == winning)
			{
				EscrowOf::<T>::seize(ledger, &replica.worker, Escrowed::WorkerStake, stake)?;
				replica.state = ReplicaState::Discarded;
				Self::count_replica(&replica.worker, -1);
				Self::move_score(&replica.worker, deal.pool, rules::loser_score);
				discarded += 1;
				seized = seized.saturating_add(stake);
			}
		}
		if let Some(at) = task.groups.iter().position(|g| g.result_hash == winning) {
			let group = task.groups.remove(at);
			task.total -= u128::from(group.weight);
		}
		task.best = task.groups.iter().map(|g| g.weight).max().unwrap_or(0);
		task.status = TaskStatus::Open;
		Self::deposit_event(Event::TaskReopened { task: id, discarded, seized });
		// The heaviest group left may have consensus on its own: it reveals next.
		let now = Self::now();
		let heaviest = task.groups.iter().find(|g| g.weight == task.best).copied();
		if let Some(group) = heaviest.filter(|g| rules::consensus(g.weight, task.total, deal.trust))
		{
			let deadline = Self::after(now, deal, deal.terms.reveal_ratio);
			task.status = TaskStatus::Revealing { result_hash: group.result_hash, deadline };
			Self::schedule(Due::Reveal(id), deadline);
			Self::deposit_event(Event::ConsensusReached {
				task: id,
				result_hash: group.result_hash,
				deadline,
			});
		} else if now >= task.contribution_deadline {
			return Self::fail(id, deal, task);
		}
		Tasks::<T>::insert(id.deal, id.index, task);
		Ok(())
	}

	/// Fails a task: the requester is refunded in full, the pool owner's stake for it goes to
	/// the kitty, workers' stakes come back.
	pub(crate) fn fail(id: TaskId, deal: &DealOf<T>, task: TaskOf<T>) -> DispatchResult {
		let ledger = Ledger::Deal(id.deal);
		let refunded = Self::price_per_task(deal)?;
		EscrowOf::<T>::release(ledger, &deal.requester, Escrowed::RequesterPayment, refunded)?;
		let pool_share = rules::task_share(deal.pool_stake, deal.volume, id.index);
		EscrowOf::<T>::seize(ledger, &deal.pool_owner, Escrowed::PoolStake, pool_share)?;
		let stake = Self::worker_stake(deal);
		for replica in task.replicas.iter() {
			if matches!(
				replica.state,
				ReplicaState::Contributed { .. } | ReplicaState::Revealed { staked: true, .. }
			) {
				EscrowOf::<T>::release(ledger, &replica.worker, Escrowed::WorkerStake, stake)?;
			}
		}
		PoolRecords::<T>::mutate(deal.pool, |r| r.failed = r.failed.saturating_add(1));
		Results::<T>::remove(id.deal, id.index);
		Self::close(id, task, TaskStatus::Failed);
		Self::deposit_event(Event::TaskFailed { task: id, refunded });
		Ok(())
	}

	/// Refunds the tasks `progress.next..volume` that never started.
	pub(crate) fn refund_unstarted(
		id: pallet_market::DealId,
		deal: &DealOf<T>,
		mut progress: DealProgress<BlockNumberFor<T>>,
	) -> DispatchResult {
		let ledger = Ledger::Deal(id);
		let tasks = deal.volume - progress.next;
		let refunded =
			Self::price_per_task(deal)?.checked_mul(&tasks.into()).ok_or(Error::<T>::Overflow)?;
		EscrowOf::<T>::release(ledger, &deal.requester, Escrowed::RequesterPayment, refunded)?;
		let pool_share = rules::shares_from(deal.pool_stake, deal.volume, progress.next);
		EscrowOf::<T>::seize(ledger, &deal.pool_owner, Escrowed::PoolStake, pool_share)?;
		let from = progress.next;
		progress.next = deal.volume;
		Progress::<T>::insert(id, progress);
		Self::deposit_event(Event::UnstartedRefunded { deal: id, from, tasks, refunded });
		Ok(())
	}
}
