//! The bodies of the calls: workers, claims, contributions, reveals. Settling a task (paying,
//! refunding) is in `settlement`.

use super::*;
use crate::commitments::{attestation_hash, result_hash, result_seal, signed_bytes};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision},
};
use frame_system::pallet_prelude::BlockNumberFor;
use iexec_classad::matching::requirements_met;
use pallet_escrow::{Escrow, HoldReason as Escrowed, Ledger};
use pallet_market::{ads, matching::Mismatch, DealOf, DealRules, Deals};
use pallet_registry::{ContractDetails, ContractId, ContractRegistry};
use sp_core::H256;
use sp_io::hashing::blake2_256;
use sp_runtime::{
	traits::{Saturating, Verify, Zero},
	DispatchError, SaturatedConversion,
};

/// The escrow of the market.
pub(crate) type EscrowOf<T> = <T as pallet_market::Config>::Escrow;

impl<T: Config> Pallet<T> {
	pub(crate) fn now() -> BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number()
	}

	/// `ratio × T` of a deal, in blocks, after `from`.
	pub(crate) fn after(
		from: BlockNumberFor<T>,
		deal: &DealOf<T>,
		ratio: u32,
	) -> BlockNumberFor<T> {
		let blocks = rules::blocks_for(deal.terms.task_seconds, ratio, T::MillisecsPerBlock::get());
		from.saturating_add(blocks.saturated_into())
	}

	/// A batch of claims at its worst: each starting its task and each handing back
	/// `MaxContributors - 1` overdue replicas of distinct workers.
	pub(crate) fn claim_weight(n: u32) -> Weight {
		let workers = T::MaxContributors::get().saturating_sub(1).saturating_mul(n);
		<T as Config>::WeightInfo::claim(n)
			.saturating_add(<T as Config>::WeightInfo::claim_start(n))
			.saturating_add(T::DbWeight::get().reads_writes(1, 1).saturating_mul(workers.into()))
	}

	/// A batch of submissions, each settling a task whose other claimed replicas belong to
	/// distinct workers (the benchmark's tasks share theirs).
	pub(crate) fn submit_weight(n: u32) -> Weight {
		let workers = T::MaxContributors::get().saturating_sub(1).saturating_mul(n);
		<T as Config>::WeightInfo::submit(n)
			.saturating_add(T::DbWeight::get().reads_writes(1, 1).saturating_mul(workers.into()))
	}

	/// A batch of reveals, each of which may complete its task with the most replicas, alone
	/// or in a batch of its deal ([`CompletionBatches`]).
	pub(crate) fn reveal_weight(n: u32) -> Weight {
		let each = <T as Config>::WeightInfo::finalize(T::MaxContributors::get())
			.max(<T as Config>::WeightInfo::reveal_complete(1));
		<T as Config>::WeightInfo::reveal(n).saturating_add(each.saturating_mul(n.into()))
	}

	/// What a batch of `n` reveals with these completions took; never above what was charged
	/// before dispatch.
	pub(crate) fn revealed_weight(n: u32, completions: &CompletionBatches<T::AccountId>) -> Weight {
		completions
			.weight(
				n,
				<T as Config>::WeightInfo::reveal,
				<T as Config>::WeightInfo::reveal_complete,
				<T as Config>::WeightInfo::finalize,
			)
			.min(Self::reveal_weight(n))
	}

	pub(crate) fn deal(id: pallet_market::DealId) -> Result<DealOf<T>, Error<T>> {
		Deals::<T>::get(id).ok_or(Error::<T>::UnknownDeal)
	}

	pub(crate) fn started(task: TaskId) -> Result<TaskOf<T>, Error<T>> {
		Tasks::<T>::get(task.deal, task.index).ok_or(Error::<T>::TaskNotStarted)
	}

	/// What a worker stakes per contribution to `deal`.
	pub(crate) fn worker_stake(deal: &DealOf<T>) -> BalanceOf<T> {
		rules::worker_stake(deal.pool_price, deal.worker_stake_ratio)
	}

	/// The storage deposit of a worker whose stored ad is `len` bytes.
	fn worker_deposit(len: usize) -> BalanceOf<T> {
		let bytes: BalanceOf<T> = (len as u32).into();
		T::WorkerDepositBase::get()
			.saturating_add(T::WorkerDepositPerByte::get().saturating_mul(bytes))
	}

	/// Parses a machine ad and checks it against `pool`'s admission rule.
	fn admitted_ad(
		pool: ContractId,
		text: &[u8],
	) -> Result<BoundedVec<u8, <T as pallet_market::Config>::MaxAdBytes>, DispatchError> {
		let info =
			<T as pallet_market::Config>::Registry::info(pool).ok_or(Error::<T>::UnknownPool)?;
		let ContractDetails::WorkerPool { admission, .. } = info.details else {
			return Err(Error::<T>::NotAPool.into());
		};
		ensure!(info.usable, Error::<T>::PoolNotApproved);
		let ad = ads::parse_order_ad(text).map_err(|_| Error::<T>::InvalidClassAd)?;
		let stored = ads::store(&ad).ok_or(Error::<T>::AdTooLarge)?;
		let pool_ad = ads::rule_ad(&admission);
		ensure!(requirements_met(&pool_ad, &ad, &ads::limits()).0, Error::<T>::AdmissionRuleNotMet);
		Ok(stored)
	}

	pub(crate) fn do_join(who: T::AccountId, pool: ContractId, text: &[u8]) -> DispatchResult {
		ensure!(!Workers::<T>::contains_key(&who), Error::<T>::AlreadyAWorker);
		let ad = Self::admitted_ad(pool, text)?;
		let deposit = Self::worker_deposit(ad.len());
		T::DepositCurrency::hold(&HoldReason::WorkerDeposit.into(), &who, deposit)
			.map_err(|_| Error::<T>::CannotHoldDeposit)?;
		let score = Scores::<T>::get(&who);
		PoolRecords::<T>::mutate(pool, |r| {
			r.members = r.members.saturating_add(1);
			r.score_sum = r.score_sum.saturating_add(score.into());
		});
		Workers::<T>::insert(&who, Worker { pool, ad, deposit, replicas: 0 });
		Self::deposit_event(Event::WorkerJoined { worker: who, pool, deposit });
		Ok(())
	}

	pub(crate) fn do_update_ad(who: T::AccountId, text: &[u8]) -> DispatchResult {
		let mut worker = Workers::<T>::get(&who).ok_or(Error::<T>::NotAWorker)?;
		let ad = Self::admitted_ad(worker.pool, text)?;
		let deposit = Self::worker_deposit(ad.len());
		let reason = HoldReason::WorkerDeposit.into();
		if deposit > worker.deposit {
			T::DepositCurrency::hold(&reason, &who, deposit - worker.deposit)
				.map_err(|_| Error::<T>::CannotHoldDeposit)?;
		} else {
			T::DepositCurrency::release(
				&reason,
				&who,
				worker.deposit - deposit,
				Precision::BestEffort,
			)?;
		}
		worker.ad = ad;
		worker.deposit = deposit;
		Workers::<T>::insert(&who, worker);
		Self::deposit_event(Event::WorkerAdUpdated { worker: who, deposit });
		Ok(())
	}

	pub(crate) fn do_leave(who: T::AccountId) -> DispatchResult {
		let worker = Workers::<T>::get(&who).ok_or(Error::<T>::NotAWorker)?;
		ensure!(worker.replicas == 0, Error::<T>::HoldsReplicas);
		let refunded = T::DepositCurrency::release(
			&HoldReason::WorkerDeposit.into(),
			&who,
			worker.deposit,
			Precision::BestEffort,
		)?;
		let score = Scores::<T>::get(&who);
		PoolRecords::<T>::mutate(worker.pool, |r| {
			r.members = r.members.saturating_sub(1);
			r.score_sum = r.score_sum.saturating_sub(score.into());
		});
		Workers::<T>::remove(&who);
		Self::deposit_event(Event::WorkerLeft {
			worker: who,
			pool: worker.pool,
			deposit_refunded: refunded,
		});
		Ok(())
	}

	/// The index of the replica `worker` holds in `task` (not handed back, not discarded).
	fn held(task: &TaskOf<T>, worker: &T::AccountId) -> Result<usize, Error<T>> {
		task.replica_of(worker)
			.filter(|at| TaskOf::<T>::holds(&task.replicas[*at].state))
			.ok_or(Error::<T>::NoReplica)
	}

	/// Changes the number of replicas `worker` holds.
	pub(crate) fn count_replica(worker: &T::AccountId, delta: i32) {
		Workers::<T>::mutate(worker, |w| {
			if let Some(w) = w {
				w.replicas = if delta >= 0 {
					w.replicas.saturating_add(delta as u32)
				} else {
					w.replicas.saturating_sub(delta.unsigned_abs())
				};
			}
		});
	}

	/// Hands back the replicas of `task` claimed and overdue at `now`.
	/// Returns how many.
	fn release_overdue(id: TaskId, task: &mut TaskOf<T>, now: BlockNumberFor<T>) -> u32 {
		let mut released = 0;
		for replica in task.replicas.iter_mut() {
			if matches!(replica.state, ReplicaState::Claimed { due } if due <= now) {
				released += 1;
				replica.state = ReplicaState::Released;
				Self::count_replica(&replica.worker, -1);
				Self::deposit_event(Event::ReplicaReleased {
					task: id,
					worker: replica.worker.clone(),
				});
			}
		}
		released
	}

	/// Claims a replica; returns whether the claim started the task, and how many overdue
	/// replicas it handed back on the way.
	pub(crate) fn do_claim(who: &T::AccountId, id: TaskId) -> Result<(bool, u32), DispatchError> {
		let worker = Workers::<T>::get(who).ok_or(Error::<T>::NotAWorker)?;
		let deal = Self::deal(id.deal)?;
		ensure!(id.index < deal.volume, Error::<T>::NoSuchTask);
		ensure!(worker.pool == deal.pool, Error::<T>::NotInDealsPool);
		let now = Self::now();
		let (mut task, started) = match Tasks::<T>::get(id.deal, id.index) {
			Some(task) => (task, false),
			None => {
				let mut progress = Progress::<T>::get(id.deal)
					.unwrap_or(DealProgress { next: 0, last_start: deal.created_at });
				ensure!(id.index == progress.next, Error::<T>::NotNextTask);
				progress.next = progress.next.saturating_add(1);
				progress.last_start = now;
				Progress::<T>::insert(id.deal, progress);
				let task = TaskRecord {
					status: TaskStatus::Open,
					started_at: now,
					contribution_deadline: Self::after(now, &deal, deal.terms.contribution_ratio),
					final_deadline: Self::after(now, &deal, deal.terms.final_ratio),
					total: 1,
					best: 0,
					replicas: BoundedVec::new(),
					groups: BoundedVec::new(),
				};
				(task, true)
			}
		};
		ensure!(task.status == TaskStatus::Open, Error::<T>::TaskNotOpen);
		ensure!(now < task.contribution_deadline, Error::<T>::ContributionsClosed);
		let released = Self::release_overdue(id, &mut task, now);
		ensure!(task.replica_of(who).is_none(), Error::<T>::AlreadyHoldsReplica);
		let pending = task.replicas.iter().filter_map(|r| match r.state {
			ReplicaState::Claimed { .. } => Some(r.weight),
			_ => None,
		});
		ensure!(
			!rules::enough_in_flight(task.best, task.total, pending, deal.trust),
			Error::<T>::EnoughReplicasOut
		);
		let (job, worker_ad, limits) =
			(ads::load(&deal.job_ad), ads::load(&worker.ad), ads::limits());
		ensure!(requirements_met(&job, &worker_ad, &limits).0, Error::<T>::JobRequirementsNotMet);
		if let Some(pinned) = deal.determinism.architecture() {
			use pallet_market::matching::{architecture_of, is_architecture};
			ensure!(
				is_architecture(architecture_of(&worker_ad), pinned),
				Error::<T>::WrongArchitecture
			);
		}
		let rules = DealRules::<T>::get(id.deal).map(|r| ads::load_rules(&r)).unwrap_or_default();
		match rules.unmet(&worker_ad, &limits).0 {
			Some(Mismatch::AppRequirementsNotMet) => {
				return Err(Error::<T>::AppRequirementsNotMet.into())
			}
			Some(_) => return Err(Error::<T>::DatasetRestrictionsNotMet.into()),
			None => {}
		}
		let due = Self::after(now, &deal, deal.terms.replica_ratio).min(task.contribution_deadline);
		let weight = rules::worker_weight(Scores::<T>::get(who));
		task.replicas
			.try_push(Replica { worker: who.clone(), weight, state: ReplicaState::Claimed { due } })
			.map_err(|_| Error::<T>::TooManyReplicas)?;
		if started {
			Self::schedule(Due::Close(id), task.contribution_deadline);
		}
		Tasks::<T>::insert(id.deal, id.index, task);
		Self::count_replica(who, 1);
		Self::deposit_event(Event::ReplicaClaimed { task: id, worker: who.clone(), started });
		Ok((started, released))
	}

	pub(crate) fn do_release(
		caller: &T::AccountId,
		id: TaskId,
		worker: &T::AccountId,
	) -> DispatchResult {
		let mut task = Self::started(id)?;
		let at = Self::held(&task, worker)?;
		let ReplicaState::Claimed { due } = task.replicas[at].state else {
			return Err(Error::<T>::AlreadyContributed.into());
		};
		ensure!(caller == worker || due <= Self::now(), Error::<T>::ReplicaNotDue);
		task.replicas[at].state = ReplicaState::Released;
		Tasks::<T>::insert(id.deal, id.index, task);
		Self::count_replica(worker, -1);
		Self::deposit_event(Event::ReplicaReleased { task: id, worker: worker.clone() });
		Ok(())
	}

	/// Records `who`'s commitment in `task` (open, its replica claimed) and holds `stake`.
	/// Returns whether consensus is reached.
	fn commit(
		who: &T::AccountId,
		id: TaskId,
		deal: &DealOf<T>,
		task: &mut TaskOf<T>,
		commitment: &Commitment,
		stake: BalanceOf<T>,
	) -> Result<bool, DispatchError> {
		let now = Self::now();
		ensure!(task.status == TaskStatus::Open, Error::<T>::TaskNotOpen);
		ensure!(now < task.contribution_deadline, Error::<T>::ContributionsClosed);
		let at = Self::held(&task, who)?;
		ensure!(
			matches!(task.replicas[at].state, ReplicaState::Claimed { .. }),
			Error::<T>::AlreadyContributed
		);
		EscrowOf::<T>::lock(Ledger::Deal(id.deal), who, Escrowed::WorkerStake, stake)
			.map_err(|_| Error::<T>::CannotStake)?;
		let weight = task.replicas[at].weight;
		task.replicas[at].state = ReplicaState::Contributed {
			result_hash: commitment.result_hash,
			result_seal: commitment.result_seal,
			attestation_hash: commitment.attestation_hash,
		};
		let group = match task.groups.iter().position(|g| g.result_hash == commitment.result_hash) {
			Some(g) => g,
			None => {
				// At most one group per replica, and replicas are bounded alike.
				task.groups
					.try_push(Group { result_hash: commitment.result_hash, weight: 0 })
					.map_err(|_| Error::<T>::TooManyReplicas)?;
				task.groups.len() - 1
			}
		};
		let before = task.groups[group].weight;
		let after = rules::joined(before, weight);
		task.groups[group].weight = after;
		task.total = task.total - u128::from(before) + u128::from(after);
		task.best = task.best.max(after);
		Self::deposit_event(Event::Contributed {
			task: id,
			worker: who.clone(),
			result_hash: commitment.result_hash,
			stake,
		});
		let reached = rules::consensus(after, task.total, deal.trust);
		if reached {
			let deadline = Self::after(now, deal, deal.terms.reveal_ratio);
			task.status = TaskStatus::Revealing { result_hash: commitment.result_hash, deadline };
			Self::deposit_event(Event::ConsensusReached {
				task: id,
				result_hash: commitment.result_hash,
				deadline,
			});
		}
		Ok(reached)
	}

	pub(crate) fn do_contribute(who: &T::AccountId, commitment: &Commitment) -> DispatchResult {
		let id = commitment.task;
		let mut task = Self::started(id)?;
		let deal = Self::deal(id.deal)?;
		let stake = Self::worker_stake(&deal);
		if Self::commit(who, id, &deal, &mut task, commitment, stake)? {
			if let TaskStatus::Revealing { deadline, .. } = task.status {
				Self::schedule(Due::Reveal(id), deadline);
			}
		}
		Tasks::<T>::insert(id.deal, id.index, task);
		Ok(())
	}

	/// Checks a disclosure against the deal and the commitment; returns the digest.
	fn check_disclosure(
		who: &T::AccountId,
		id: TaskId,
		deal: &DealOf<T>,
		disclosure: &DisclosureOf<T>,
		committed: (H256, H256, H256),
	) -> Result<[u8; 32], DispatchError> {
		let attestation = &disclosure.attestation;
		ensure!(
			attestation.task == id && &attestation.worker == who,
			Error::<T>::AttestationNotForThis
		);
		ensure!(attestation.app_code_hash == deal.code_hash, Error::<T>::WrongAppCode);
		ensure!(
			attestation.dataset_checksum == deal.dataset.as_ref().map(|d| d.checksum),
			Error::<T>::WrongDataset
		);
		let digest = attestation.result_digest;
		let (hash, seal, attested) = committed;
		ensure!(result_hash(id, &digest) == hash, Error::<T>::ResultHashMismatch);
		ensure!(result_seal(who, id, &digest) == seal, Error::<T>::ResultSealMismatch);
		ensure!(attestation_hash(attestation) == attested, Error::<T>::AttestationHashMismatch);
		ensure!(
			disclosure.signature.verify(&signed_bytes(attestation)[..], who),
			Error::<T>::BadSignature
		);
		if let Some(ResultLocation::Inline(bytes)) = &disclosure.location {
			ensure!(blake2_256(bytes) == digest, Error::<T>::InlineResultMismatch);
		}
		Ok(digest)
	}

	/// Keeps the revealed digest and where the result is.
	fn record_result(id: TaskId, digest: [u8; 32], location: &Option<ResultLocationOf<T>>) {
		// A checked inline result replaces an unchecked location (a URI, or none).
		let inline = matches!(location, Some(ResultLocation::Inline(_)));
		Results::<T>::mutate(id.deal, id.index, |result| match result {
			Some(kept) if inline && !matches!(kept.location, Some(ResultLocation::Inline(_))) => {
				kept.location = location.clone()
			}
			Some(_) => {}
			None => {
				*result =
					Some(TaskResult { digest, location: location.clone(), completed_at: None })
			}
		});
	}

	/// Reveals one item; when the task completed, returns the workers whose replicas it settled.
	pub(crate) fn do_reveal(
		who: &T::AccountId,
		disclosure: &DisclosureOf<T>,
	) -> Result<Option<Vec<T::AccountId>>, DispatchError> {
		let id = disclosure.attestation.task;
		let mut task = Self::started(id)?;
		let deal = Self::deal(id.deal)?;
		let TaskStatus::Revealing { result_hash: winning, deadline } = task.status else {
			return Err(Error::<T>::NotRevealing.into());
		};
		ensure!(Self::now() < deadline, Error::<T>::RevealClosed);
		let at = Self::held(&task, who)?;
		let ReplicaState::Contributed { result_hash, result_seal, attestation_hash } =
			task.replicas[at].state
		else {
			return Err(Error::<T>::NotAWinner.into());
		};
		ensure!(result_hash == winning, Error::<T>::NotAWinner);
		let digest = Self::check_disclosure(
			who,
			id,
			&deal,
			disclosure,
			(result_hash, result_seal, attestation_hash),
		)?;
		task.replicas[at].state = ReplicaState::Revealed { result_hash, staked: true };
		Self::record_result(id, digest, &disclosure.location);
		Self::deposit_event(Event::Revealed { task: id, worker: who.clone(), digest });
		let waiting = task.replicas.iter().any(
			|r| matches!(r.state, ReplicaState::Contributed { result_hash, .. } if result_hash == winning),
		);
		if waiting {
			Tasks::<T>::insert(id.deal, id.index, task);
			return Ok(None);
		}
		let crew = task.replicas.iter().map(|r| r.worker.clone()).collect();
		Self::complete(id, &deal, task)?;
		Ok(Some(crew))
	}

	/// Returns how many other workers' claimed replicas the completion handed back.
	pub(crate) fn do_submit(
		who: &T::AccountId,
		disclosure: &DisclosureOf<T>,
	) -> Result<u32, DispatchError> {
		let id = disclosure.attestation.task;
		let mut task = Self::started(id)?;
		let deal = Self::deal(id.deal)?;
		ensure!(task.live_contributions() == 0, Error::<T>::ReplicationNeeded);
		let at = Self::held(&task, who)?;
		let alone = rules::joined(0, task.replicas[at].weight);
		ensure!(
			rules::consensus(alone, 1 + u128::from(alone), deal.trust),
			Error::<T>::ReplicationNeeded
		);
		let digest = disclosure.attestation.result_digest;
		let commitment = Commitment {
			task: id,
			result_hash: result_hash(id, &digest),
			result_seal: result_seal(who, id, &digest),
			attestation_hash: attestation_hash(&disclosure.attestation),
		};
		Self::commit(who, id, &deal, &mut task, &commitment, Zero::zero())?;
		Self::check_disclosure(
			who,
			id,
			&deal,
			disclosure,
			(commitment.result_hash, commitment.result_seal, commitment.attestation_hash),
		)?;
		task.replicas[at].state =
			ReplicaState::Revealed { result_hash: commitment.result_hash, staked: false };
		Self::record_result(id, digest, &disclosure.location);
		Self::deposit_event(Event::Revealed { task: id, worker: who.clone(), digest });
		let others =
			task.replicas.iter().filter(|r| TaskOf::<T>::holds(&r.state)).count() as u32 - 1;
		Self::complete(id, &deal, task)?;
		Ok(others)
	}

	/// Completes or reopens a task whose reveals are due; returns the weight it took.
	pub(crate) fn do_finalize(id: TaskId) -> Result<Weight, DispatchError> {
		let task = Self::started(id)?;
		let deal = Self::deal(id.deal)?;
		let TaskStatus::Revealing { result_hash: winning, deadline } = task.status else {
			return Err(Error::<T>::NotRevealing.into());
		};
		let (mut revealed, mut waiting) = (0u32, 0u32);
		for r in task.replicas.iter() {
			match r.state {
				ReplicaState::Revealed { .. } => revealed += 1,
				ReplicaState::Contributed { result_hash, .. } if result_hash == winning => {
					waiting += 1
				}
				_ => {}
			}
		}
		let replicas = task.replicas.len() as u32;
		if waiting == 0 && revealed > 0 {
			Self::complete(id, &deal, task)?;
			return Ok(<T as Config>::WeightInfo::finalize(replicas));
		}
		let now = Self::now();
		ensure!(now >= deadline || now >= task.final_deadline, Error::<T>::NotDue);
		if revealed > 0 {
			Self::complete(id, &deal, task)?;
			Ok(<T as Config>::WeightInfo::finalize(replicas))
		} else {
			Self::reopen(id, &deal, task)?;
			Ok(<T as Config>::WeightInfo::reopen(replicas))
		}
	}

	pub(crate) fn do_claim_failed(id: TaskId) -> Result<u32, DispatchError> {
		let task = Self::started(id)?;
		let deal = Self::deal(id.deal)?;
		let now = Self::now();
		match task.status {
			TaskStatus::Completed | TaskStatus::Failed => Err(Error::<T>::TaskSettled.into()),
			// A revealed result is never refunded: past the final deadline it completes.
			TaskStatus::Revealing { .. }
				if now < task.final_deadline
					|| task
						.replicas
						.iter()
						.any(|r| matches!(r.state, ReplicaState::Revealed { .. })) =>
			{
				Err(Error::<T>::UseFinalize.into())
			}
			TaskStatus::Open if now < task.contribution_deadline && now < task.final_deadline => {
				Err(Error::<T>::NotDue.into())
			}
			_ => {
				let replicas = task.replicas.len() as u32;
				Self::fail(id, &deal, task)?;
				Ok(replicas)
			}
		}
	}

	pub(crate) fn do_claim_unstarted(id: pallet_market::DealId) -> DispatchResult {
		let deal = Self::deal(id)?;
		let progress =
			Progress::<T>::get(id).unwrap_or(DealProgress { next: 0, last_start: deal.created_at });
		ensure!(progress.next < deal.volume, Error::<T>::NothingUnstarted);
		let due = Self::after(progress.last_start, &deal, deal.terms.final_ratio);
		ensure!(Self::now() >= due, Error::<T>::NotDue);
		Self::refund_unstarted(id, &deal, progress)
	}
}
