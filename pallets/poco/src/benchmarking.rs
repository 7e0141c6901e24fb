//! Benchmarks of `pallet-poco`, each at the worst case of its bounds: tasks holding
//! `MaxContributors` replicas, a job ad whose `Requirements` takes nearly the whole evaluation
//! budget, the largest inline result, and settlements that pay or seize for every replica.

use super::*;
use crate::{
	commitments::{attestation_hash, result_hash, result_seal, signed_bytes},
	completion_batches::SHARED_CREW,
	dispatchable_impls::EscrowOf,
};
use alloc::{format, string::String, vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use pallet_escrow::{Escrow, HoldReason as Escrowed, Ledger};
use pallet_market::{
	ads, Architecture, Category, Deal, DealDataset, DealId, Deals, Determinism, NextDealId,
};
use pallet_registry::{AppRuntime, BenchmarkContracts, ContractId, ContractKind, ContractRegistry};
use sp_runtime::traits::{Bounded, Saturating};

/// Accounts and signatures for the benchmarks: the runtime signs with a real key.
pub trait BenchmarkHelper<AccountId, Signature> {
	/// A fresh account whose key can sign.
	fn signer(index: u32) -> AccountId;
	/// `who`'s signature of `message`.
	fn sign(who: &AccountId, message: &[u8]) -> Signature;
}

fn funded<T: Config>(who: &T::AccountId)
where
	T::DepositCurrency: Mutate<T::AccountId>,
{
	let _ = T::DepositCurrency::mint_into(who, BalanceOf::<T>::max_value() / 1_000_000u32.into());
}

/// An ad whose `Requirements` doubles references ten times before it comes out true: against
/// the padded worker ad below, whose size makes every lookup dearer, most of the 10,000
/// evaluation steps allowed (eleven doublings would exceed them).
fn dense_ad(prefix: &str, extra: &str) -> String {
	let mut attributes: Vec<String> = vec![format!("{prefix}0 = 1")];
	for i in 1..=10 {
		attributes.push(format!("{prefix}{i} = {prefix}{p} + {prefix}{p}", p = i - 1));
	}
	attributes.push(format!("Requirements = {prefix}10 > 0"));
	format!("[ {}; {extra} ]", attributes.join("; "))
}

/// A worker's ad: dense (the registry's benchmark pools evaluate `TARGET.W10` to admit it),
/// padded with strings to nearly the longest text and most attributes an ad may have.
fn worker_ad<T: Config>() -> BoundedVec<u8, <T as pallet_market::Config>::MaxAdText> {
	let limits = ads::limits();
	let room = (<T as pallet_market::Config>::MaxAdText::get()).min(limits.max_source_len) as usize;
	// `Arch` too: the deal pins it, and the claim checks it.
	let mut extra = String::from("Cpus = 64; Memory = 65536; Arch = \"X86_64\"");
	let free_attributes = limits.max_attributes as usize - 15;
	let pad_len = (room.saturating_sub(400) / free_attributes).saturating_sub(12).max(1);
	for i in 0..free_attributes {
		extra.push_str(&format!("; P{i} = \"{}\"", "x".repeat(pad_len)));
	}
	BoundedVec::truncate_from(dense_ad("W", &extra).into_bytes())
}

/// Fills the deadline index at `at` and the blocks after it that a deadline may spill to, all
/// but the last, so that scheduling one more walks them all.
fn crowd_deadlines<T: Config>(at: BlockNumberFor<T>) {
	let filler = Due::Close(TaskId { deal: u64::MAX, index: 0 });
	let mut block = at;
	for _ in 0..crate::tick_impls::SPILL_BLOCKS - 1 {
		let full = vec![filler; T::MaxDuePerBlock::get() as usize];
		DueAt::<T>::insert(block, BoundedVec::truncate_from(full));
		block = block + 1u32.into();
	}
}

/// Puts funds into the kitty, enough that each of `tasks` completions pays its bonus.
fn fill_kitty<T: Config>(from: &T::AccountId, tasks: u32) {
	let amount: BalanceOf<T> = BalanceOf::<T>::from(PRICE).saturating_mul(tasks.into());
	EscrowOf::<T>::lock(Ledger::Order(u64::MAX), from, Escrowed::PoolStake, amount).unwrap();
	EscrowOf::<T>::seize(Ledger::Order(u64::MAX), from, Escrowed::PoolStake, amount).unwrap();
}

/// Gives `who`, a worker of `pool`, a score high enough that every completion moves it (a
/// new worker's score of 0 does not move when it loses).
fn seasoned<T: Config>(who: &T::AccountId, pool: ContractId) {
	Pallet::<T>::move_score(who, pool, |_| 1_000);
}

struct Setup<T: Config> {
	deal: DealId,
	pool: ContractId,
	/// Workers of the pool, `MaxContributors` of them, each able to sign.
	workers: Vec<T::AccountId>,
}

const PRICE: u32 = 1_000_000;

/// A deal of `volume` XS tasks at `trust`, stored as the market makes it (payment and pool
/// stake held), and `MaxContributors` workers in its pool.
fn setup<T: Config>(volume: u32, trust: u32) -> Setup<T>
where
	T::DepositCurrency: Mutate<T::AccountId>,
	T::Registry: BenchmarkContracts<T::AccountId>,
	T::BenchmarkHelper: BenchmarkHelper<T::AccountId, T::Signature>,
{
	let requester: T::AccountId = account("requester", 0, 0);
	let owners: [T::AccountId; 3] =
		[account("app", 0, 0), account("dataset", 0, 0), account("pool", 0, 0)];
	for who in owners.iter().chain([&requester]) {
		funded::<T>(who);
	}
	let [app_owner, dataset_owner, pool_owner] = owners;
	let pool = T::Registry::approved(&pool_owner, ContractKind::WorkerPool);
	// Registered with the densest host rules, which each claim evaluates.
	let app = T::Registry::approved(&app_owner, ContractKind::App);
	let dataset = T::Registry::approved(&dataset_owner, ContractKind::Dataset);
	let price: BalanceOf<T> = PRICE.into();
	let per_task = price.saturating_mul(3u32.into());
	let pool_stake = price.saturating_mul(volume.into()) * 30u32.into() / 100u32.into();
	let id = NextDealId::<T>::get();
	let job = ads::parse_order_ad(dense_ad("J", "Rank = TARGET.Memory").as_bytes()).unwrap();
	let ledger = Ledger::Deal(id);
	EscrowOf::<T>::lock(
		ledger,
		&requester,
		Escrowed::RequesterPayment,
		per_task.saturating_mul(volume.into()),
	)
	.unwrap();
	EscrowOf::<T>::lock(ledger, &pool_owner, Escrowed::PoolStake, pool_stake).unwrap();
	let terms = EconomicParameters::<T>::get().terms(Category::XS);
	let deal = Deal {
		request: 0,
		requester: requester.clone(),
		beneficiary: requester,
		app,
		app_order: 0,
		app_owner,
		app_price: price,
		app_runtime: AppRuntime::Wasm,
		code_hash: [1; 32],
		dataset: Some(DealDataset {
			id: dataset,
			order: 0,
			owner: dataset_owner,
			price,
			checksum: [2; 32],
			location: BoundedVec::new(),
		}),
		pool,
		pool_order: 0,
		pool_owner,
		pool_price: price,
		pool_stake,
		worker_stake_ratio: 30,
		scheduler_reward_ratio: 1,
		category: Category::XS,
		trust,
		tag: 0,
		volume,
		params: BoundedVec::new(),
		job_ad: ads::store(&job).unwrap(),
		limits: Category::XS.limits(terms.task_seconds),
		terms,
		created_at: frame_system::Pallet::<T>::block_number(),
		determinism: Determinism::SameArchitecture(Architecture::X86_64),
	};
	Deals::<T>::insert(id, deal);
	// Kept as the market keeps them: each claim evaluates both against the worker's ad.
	let info = |contract| <T as pallet_market::Config>::Registry::info(contract).map(|i| i.details);
	let rules = ads::host_rules(info(app).as_ref(), info(dataset).as_ref());
	assert!(rules.app.is_some() && rules.dataset.is_some(), "the densest rules, kept");
	pallet_market::DealRules::<T>::insert(id, ads::store_rules(&rules).expect("small enough"));
	NextDealId::<T>::put(id + 1);
	let workers = (0..T::MaxContributors::get())
		.map(|i| {
			let who = T::BenchmarkHelper::signer(i);
			funded::<T>(&who);
			Pallet::<T>::do_join(who.clone(), pool, &worker_ad::<T>()).unwrap();
			who
		})
		.collect();
	Setup { deal: id, pool, workers }
}

fn digest(i: u32) -> [u8; 32] {
	let mut digest = [0u8; 32];
	digest[..4].copy_from_slice(&(i + 1).to_le_bytes());
	digest
}

fn attestation<T: Config>(
	who: &T::AccountId,
	task: TaskId,
	digest: [u8; 32],
) -> Attestation<T::AccountId> {
	Attestation {
		task,
		worker: who.clone(),
		app_code_hash: [1; 32],
		dataset_checksum: Some([2; 32]),
		result_digest: digest,
		resources: ResourcesUsed::default(),
		engine_version: 1,
	}
}

fn disclosure<T: Config>(
	who: &T::AccountId,
	task: TaskId,
	digest: [u8; 32],
	location: Option<ResultLocationOf<T>>,
) -> DisclosureOf<T>
where
	T::BenchmarkHelper: BenchmarkHelper<T::AccountId, T::Signature>,
{
	let attestation = attestation::<T>(who, task, digest);
	let signature = T::BenchmarkHelper::sign(who, &signed_bytes(&attestation));
	Disclosure { attestation, signature, location }
}

/// Stores task `index` of `s.deal` started now, with a replica for each of `replicas`
/// (worker, state), holding the stakes of those contributed.
fn started<T: Config>(
	s: &Setup<T>,
	index: u32,
	replicas: Vec<(T::AccountId, ReplicaState<BlockNumberFor<T>>)>,
	status: TaskStatus<BlockNumberFor<T>>,
) {
	let deal = Deals::<T>::get(s.deal).unwrap();
	let now = frame_system::Pallet::<T>::block_number();
	let stake = Pallet::<T>::worker_stake(&deal);
	let mut task = TaskRecord {
		status,
		started_at: now,
		contribution_deadline: Pallet::<T>::after(now, &deal, deal.terms.contribution_ratio),
		final_deadline: Pallet::<T>::after(now, &deal, deal.terms.final_ratio),
		total: 1,
		best: 0,
		replicas: BoundedVec::new(),
		groups: BoundedVec::new(),
	};
	for (who, state) in replicas {
		let weight = rules::worker_weight(Scores::<T>::get(&who));
		let hash = match state {
			ReplicaState::Contributed { result_hash, .. } => Some(result_hash),
			ReplicaState::Revealed { result_hash, .. } => Some(result_hash),
			_ => None,
		};
		if let Some(hash) = hash {
			EscrowOf::<T>::lock(Ledger::Deal(s.deal), &who, Escrowed::WorkerStake, stake).unwrap();
			match task.groups.iter_mut().find(|g| g.result_hash == hash) {
				Some(g) => {
					task.total -= u128::from(g.weight);
					g.weight = rules::joined(g.weight, weight);
					task.total += u128::from(g.weight);
				}
				None => {
					task.groups.try_push(Group { result_hash: hash, weight }).unwrap();
					task.total += u128::from(weight);
				}
			}
			task.best = task.groups.iter().map(|g| g.weight).max().unwrap_or(0);
		}
		Pallet::<T>::count_replica(&who, 1);
		task.replicas.try_push(Replica { worker: who, weight, state }).unwrap();
	}
	Tasks::<T>::insert(s.deal, index, task);
	let next = Progress::<T>::get(s.deal).map_or(0, |p| p.next).max(index + 1);
	Progress::<T>::insert(s.deal, DealProgress { next, last_start: now });
}

fn contributed<T: Config>(
	who: &T::AccountId,
	task: TaskId,
	digest: [u8; 32],
) -> ReplicaState<BlockNumberFor<T>> {
	ReplicaState::Contributed {
		result_hash: result_hash(task, &digest),
		result_seal: result_seal(who, task, &digest),
		attestation_hash: attestation_hash(&attestation::<T>(who, task, digest)),
	}
}

fn claimed<T: Config>() -> ReplicaState<BlockNumberFor<T>> {
	ReplicaState::Claimed { due: BlockNumberFor::<T>::max_value() }
}

fn revealing<T: Config>(task: TaskId, digest: [u8; 32]) -> TaskStatus<BlockNumberFor<T>> {
	TaskStatus::Revealing {
		result_hash: result_hash(task, &digest),
		deadline: frame_system::Pallet::<T>::block_number() + 1000u32.into(),
	}
}

#[benchmarks(where
	T::DepositCurrency: Mutate<T::AccountId>,
	T::Registry: BenchmarkContracts<T::AccountId>,
	T::BenchmarkHelper: BenchmarkHelper<T::AccountId, T::Signature>,
)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn join_pool() {
		let s = setup::<T>(1, 1);
		let who: T::AccountId = account("newcomer", 0, 0);
		funded::<T>(&who);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), s.pool, worker_ad::<T>());
		assert!(Workers::<T>::contains_key(&who));
	}

	#[benchmark]
	fn update_ad() {
		let s = setup::<T>(1, 1);
		let who = s.workers[0].clone();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), worker_ad::<T>());
		assert!(Workers::<T>::contains_key(&who));
	}

	#[benchmark]
	fn leave_pool() {
		let s = setup::<T>(1, 1);
		let who = s.workers[0].clone();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Workers::<T>::contains_key(&who));
	}

	/// `n` claims that each start a task, with the deadline index crowded where the task's
	/// contribution deadline falls.
	#[benchmark]
	fn claim_start(n: Linear<1, { T::MaxBatch::get() }>) {
		let s = setup::<T>(n, u32::MAX);
		let deal = Deals::<T>::get(s.deal).unwrap();
		let now = frame_system::Pallet::<T>::block_number();
		crowd_deadlines::<T>(Pallet::<T>::after(now, &deal, deal.terms.contribution_ratio));
		let tasks: Vec<TaskId> = (0..n).map(|index| TaskId { deal: s.deal, index }).collect();
		let who = s.workers[0].clone();
		#[extrinsic_call]
		claim(RawOrigin::Signed(who.clone()), BoundedVec::truncate_from(tasks));
		assert_eq!(Progress::<T>::get(s.deal).unwrap().next, n);
	}

	/// `n` tasks, each holding `MaxContributors - 1` replicas still being computed (the claim
	/// rule weighs them all). Overdue replicas handed back on the way are charged by the call,
	/// a worker record each.
	#[benchmark]
	fn claim(n: Linear<1, { T::MaxBatch::get() }>) {
		let s = setup::<T>(n, u32::MAX);
		let most = s.workers.len() - 1;
		let tasks: Vec<TaskId> = (0..n).map(|index| TaskId { deal: s.deal, index }).collect();
		for task in &tasks {
			let others = s.workers[..most].iter().map(|w| (w.clone(), claimed::<T>())).collect();
			started::<T>(&s, task.index, others, TaskStatus::Open);
		}
		let who = s.workers[most].clone();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), BoundedVec::truncate_from(tasks));
		assert_eq!(Workers::<T>::get(&who).unwrap().replicas, n);
	}

	#[benchmark]
	fn release_replica() {
		let s = setup::<T>(1, u32::MAX);
		let task = TaskId { deal: s.deal, index: 0 };
		let replicas = s.workers.iter().map(|w| (w.clone(), claimed::<T>())).collect();
		started::<T>(&s, 0, replicas, TaskStatus::Open);
		let who = s.workers.last().unwrap().clone();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), task, who.clone());
		assert_eq!(Workers::<T>::get(&who).unwrap().replicas, 0);
	}

	/// `n` tasks, each with `MaxContributors - 1` contributions in as many groups; the last
	/// contribution reaches consensus (a worker of great weight at trust 2).
	#[benchmark]
	fn contribute(n: Linear<1, { T::MaxBatch::get() }>) {
		let s = setup::<T>(n, 2);
		let most = s.workers.len() - 1;
		let who = s.workers[most].clone();
		Scores::<T>::insert(&who, u32::MAX);
		let deal = Deals::<T>::get(s.deal).unwrap();
		let now = frame_system::Pallet::<T>::block_number();
		crowd_deadlines::<T>(Pallet::<T>::after(now, &deal, deal.terms.reveal_ratio));
		let mut items = Vec::new();
		for index in 0..n {
			let task = TaskId { deal: s.deal, index };
			let mut replicas: Vec<_> = s.workers[..most]
				.iter()
				.enumerate()
				.map(|(i, w)| (w.clone(), contributed::<T>(w, task, digest(i as u32 + 1))))
				.collect();
			replicas.push((who.clone(), claimed::<T>()));
			started::<T>(&s, index, replicas, TaskStatus::Open);
			let c = attestation::<T>(&who, task, digest(0));
			items.push(Commitment {
				task,
				result_hash: result_hash(task, &digest(0)),
				result_seal: result_seal(&who, task, &digest(0)),
				attestation_hash: attestation_hash(&c),
			});
		}
		#[extrinsic_call]
		_(RawOrigin::Signed(who), BoundedVec::truncate_from(items));
		assert!(matches!(Tasks::<T>::get(s.deal, 0).unwrap().status, TaskStatus::Revealing { .. }));
	}

	/// `n` reveals, none completing its task (another winner has yet to reveal), each with
	/// the largest inline result.
	#[benchmark]
	fn reveal(n: Linear<1, { T::MaxBatch::get() }>) {
		let s = setup::<T>(n, 2);
		let inline: Vec<u8> = vec![7; T::MaxInlineResult::get() as usize];
		let result = sp_io::hashing::blake2_256(&inline);
		let who = s.workers[0].clone();
		let mut items = Vec::new();
		for index in 0..n {
			let task = TaskId { deal: s.deal, index };
			let replicas = s
				.workers
				.iter()
				.enumerate()
				.map(|(i, w)| {
					let d = if i < 2 { result } else { digest(i as u32) };
					(w.clone(), contributed::<T>(w, task, d))
				})
				.collect();
			started::<T>(&s, index, replicas, revealing::<T>(task, result));
			let location = ResultLocation::Inline(BoundedVec::truncate_from(inline.clone()));
			items.push(disclosure::<T>(&who, task, result, Some(location)));
		}
		#[extrinsic_call]
		_(RawOrigin::Signed(who), BoundedVec::truncate_from(items));
		assert!(Results::<T>::contains_key(s.deal, 0));
	}

	/// `n` reveals that each complete their task, all tasks of one deal held by the same crew
	/// of [`SHARED_CREW`] workers with scores that move: the revealer (with the largest inline
	/// result) and three winners that revealed before, so that every completion pays five
	/// payees and releases four stakes (heavier than losers, whose stakes only move). Task
	/// after task, the completions write the deal's parties and the crew's records again, as
	/// in any such batch ([`CompletionBatches`]).
	#[benchmark]
	fn reveal_complete(n: Linear<1, { T::MaxBatch::get() }>) {
		let s = setup::<T>(n, 2);
		let inline: Vec<u8> = vec![7; T::MaxInlineResult::get() as usize];
		let result = sp_io::hashing::blake2_256(&inline);
		let crew = &s.workers[..SHARED_CREW];
		crew.iter().for_each(|w| seasoned::<T>(w, s.pool));
		let who = crew[0].clone();
		fill_kitty::<T>(&who, n);
		let mut items = Vec::new();
		for index in 0..n {
			let task = TaskId { deal: s.deal, index };
			let winning = result_hash(task, &result);
			let replicas = crew
				.iter()
				.enumerate()
				.map(|(i, w)| {
					let state = match i {
						0 => contributed::<T>(w, task, result),
						_ => ReplicaState::Revealed { result_hash: winning, staked: true },
					};
					(w.clone(), state)
				})
				.collect();
			started::<T>(&s, index, replicas, revealing::<T>(task, result));
			Results::<T>::insert(
				s.deal,
				index,
				TaskResult { digest: result, location: None, completed_at: None },
			);
			let location = ResultLocation::Inline(BoundedVec::truncate_from(inline.clone()));
			items.push(disclosure::<T>(&who, task, result, Some(location)));
		}
		#[extrinsic_call]
		reveal(RawOrigin::Signed(who), BoundedVec::truncate_from(items));
		for index in 0..n {
			let task = Tasks::<T>::get(s.deal, index).unwrap();
			assert!(matches!(task.status, TaskStatus::Completed));
		}
	}

	/// `n` tasks through the fast path, each completing with the largest inline result. Other
	/// workers' claimed replicas that a completion hands back are charged by the call, a worker
	/// record each.
	#[benchmark]
	fn submit(n: Linear<1, { T::MaxBatch::get() }>) {
		let s = setup::<T>(n, 1);
		let inline: Vec<u8> = vec![7; T::MaxInlineResult::get() as usize];
		let result = sp_io::hashing::blake2_256(&inline);
		let who = s.workers[0].clone();
		fill_kitty::<T>(&who, n);
		let mut items = Vec::new();
		for index in 0..n {
			let task = TaskId { deal: s.deal, index };
			started::<T>(&s, index, vec![(who.clone(), claimed::<T>())], TaskStatus::Open);
			let location = ResultLocation::Inline(BoundedVec::truncate_from(inline.clone()));
			items.push(disclosure::<T>(&who, task, result, Some(location)));
		}
		#[extrinsic_call]
		_(RawOrigin::Signed(who), BoundedVec::truncate_from(items));
		assert!(matches!(Tasks::<T>::get(s.deal, 0).unwrap().status, TaskStatus::Completed));
	}

	/// A completion with `c` replicas of workers whose scores move: half winners that
	/// revealed, half losers whose stakes are shared.
	#[benchmark]
	fn finalize(c: Linear<1, { T::MaxContributors::get() }>) {
		let s = setup::<T>(1, 2);
		s.workers.iter().for_each(|w| seasoned::<T>(w, s.pool));
		let task = TaskId { deal: s.deal, index: 0 };
		let winning = result_hash(task, &digest(0));
		let replicas = s.workers[..c as usize]
			.iter()
			.enumerate()
			.map(|(i, w)| {
				let state = if i % 2 == 0 {
					ReplicaState::Revealed { result_hash: winning, staked: true }
				} else {
					contributed::<T>(w, task, digest(i as u32))
				};
				(w.clone(), state)
			})
			.collect();
		started::<T>(&s, 0, replicas, revealing::<T>(task, digest(0)));
		fill_kitty::<T>(&s.workers[0], 1);
		Results::<T>::insert(
			s.deal,
			0,
			TaskResult { digest: digest(0), location: None, completed_at: None },
		);
		#[extrinsic_call]
		_(RawOrigin::Signed(s.workers[0].clone()), task);
		assert!(matches!(Tasks::<T>::get(s.deal, 0).unwrap().status, TaskStatus::Completed));
	}

	/// A reopening whose `c` silent winners lose their stakes, after contributions closed so
	/// that the task fails too: the worst a reveal deadline can cost.
	#[benchmark]
	fn reopen(c: Linear<1, { T::MaxContributors::get() }>) {
		let s = setup::<T>(1, 2);
		let task = TaskId { deal: s.deal, index: 0 };
		let replicas = s.workers[..c as usize]
			.iter()
			.map(|w| (w.clone(), contributed::<T>(w, task, digest(0))))
			.collect();
		started::<T>(&s, 0, replicas, revealing::<T>(task, digest(0)));
		frame_system::Pallet::<T>::set_block_number(
			frame_system::Pallet::<T>::block_number() + 1000u32.into(),
		);
		#[block]
		{
			Pallet::<T>::do_finalize(task).unwrap();
		}
		assert!(matches!(Tasks::<T>::get(s.deal, 0).unwrap().status, TaskStatus::Failed));
	}

	/// A failure whose `c` contributors get their stakes back.
	#[benchmark]
	fn claim_failed(c: Linear<1, { T::MaxContributors::get() }>) {
		let s = setup::<T>(1, u32::MAX);
		let task = TaskId { deal: s.deal, index: 0 };
		let replicas = s.workers[..c as usize]
			.iter()
			.enumerate()
			.map(|(i, w)| (w.clone(), contributed::<T>(w, task, digest(i as u32))))
			.collect();
		started::<T>(&s, 0, replicas, TaskStatus::Open);
		let closed = Tasks::<T>::get(s.deal, 0).unwrap().contribution_deadline;
		frame_system::Pallet::<T>::set_block_number(closed);
		#[extrinsic_call]
		_(RawOrigin::Signed(s.workers[0].clone()), task);
		assert!(matches!(Tasks::<T>::get(s.deal, 0).unwrap().status, TaskStatus::Failed));
	}

	#[benchmark]
	fn claim_unstarted() {
		let s = setup::<T>(1_000, 1);
		let deal = Deals::<T>::get(s.deal).unwrap();
		let due = Pallet::<T>::after(deal.created_at, &deal, deal.terms.final_ratio);
		frame_system::Pallet::<T>::set_block_number(due);
		#[extrinsic_call]
		_(RawOrigin::Signed(s.workers[0].clone()), s.deal);
		assert_eq!(Progress::<T>::get(s.deal).unwrap().next, 1_000);
	}

	#[benchmark]
	fn set_economics() -> Result<(), BenchmarkError> {
		let mut economics = EconomicParameters::<T>::get();
		economics.final_ratio = 12;
		let origin =
			T::EconomicsOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, economics);
		assert_eq!(EconomicParameters::<T>::get().final_ratio, 12);
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
