//! Task lives, many at once. A lane is one request of `batch` tasks and the crew of simulated
//! workers that carries its deal to certification with batched calls:
//!
//! - trust reached by one worker (trust 1, or a worker whose score weighs enough): the request,
//!   a claim of every task, then `poco.submit` (contribute, reveal and complete at once);
//! - otherwise as many workers as the claim rule hands replicas to: the request, the first
//!   claim (it starts the tasks), the others' claims, every worker's contribution, then every
//!   worker's reveal (the last completes the tasks).
//!
//! Results are precomputed: the chain, not the workers, is what the load measures. A worker
//! is in one lane at a time, so its nonces and its score (which decides the crew) are known.

use crate::{feed::Feed, setup::Market};
use iexec_runtime::{AccountId, BlockNumber, Runtime, RuntimeCall, RuntimeEvent};
use iexec_worker::digest::blake2_256;
use iexec_worker::keys::WorkerKey;
use pallet_poco::{commitments, rules, Attestation, Commitment, ResourcesUsed, TaskId};
use std::{
	collections::{BTreeMap, VecDeque},
	sync::{
		atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
		Arc, Mutex,
	},
	time::Duration,
};
use tokio::sync::{mpsc, Semaphore};

/// What one call of a worker carries: up to the runtime's `MaxBatch` items.
type Batch<T> = frame_support::BoundedVec<T, <Runtime as pallet_poco::Config>::MaxBatch>;

/// The result every simulated worker returns, revealed on chain (it is small).
const RESULT: &[u8] = b"iexec load generator: precomputed result\n";
/// Replicas a task may have (the runtime's `MaxContributors`).
fn max_crew() -> usize {
	<<Runtime as pallet_poco::Config>::MaxContributors as frame_support::traits::Get<u32>>::get()
		as usize
}

/// How many new workers (score 0) a task at `trust` needs, or `None` when more than a task
/// may have.
pub fn crew_of_new_workers(trust: u32) -> Option<usize> {
	let new = rules::worker_weight(0);
	(1..=max_crew()).find(|&k| rules::enough_in_flight(0, 1, vec![new; k], trust))
}

/// Why a lane stopped, and whether its crew took part (then their state on chain is unknown).
struct Failure {
	reason: String,
	crew_used: bool,
}

/// What the lanes did, for the report.
#[derive(Default)]
pub struct LaneCounts {
	pub started: AtomicU64,
	pub certified_lanes: AtomicU64,
	pub failed_lanes: AtomicU64,
	/// Why lanes failed (first error of each), by reason.
	pub failures: Mutex<BTreeMap<String, u64>>,
	/// Blocks from each certified lane's request block to the block certifying its tasks.
	pub latencies: Mutex<Vec<u32>>,
}

impl LaneCounts {
	/// `3 × reason; 1 × other reason`, or `none`.
	pub fn failure_summary(&self) -> String {
		let failures = self.failures.lock().expect("failures");
		if failures.is_empty() {
			return "none".into();
		}
		failures.iter().map(|(reason, n)| format!("{n} × {reason}")).collect::<Vec<_>>().join("; ")
	}

	fn failed(&self, reason: String) {
		self.failed_lanes.fetch_add(1, Relaxed);
		*self.failures.lock().expect("failures").entry(reason).or_default() += 1;
	}
}

fn tasks_of(deal: u64, volume: u32) -> Vec<TaskId> {
	(0..volume).map(|index| TaskId { deal, index }).collect()
}

/// The simulated pool and its requesters.
pub struct Lanes {
	feed: Arc<Feed>,
	market: Market,
	trust: u32,
	batch: u32,
	workers: Vec<WorkerKey>,
	/// Each worker's score, as the chain keeps it: 0 for the new accounts the run starts with,
	/// moved here as the lanes complete.
	scores: Mutex<Vec<u32>>,
	/// Workers in no lane, in the order they will be picked (round robin).
	idle: Mutex<VecDeque<usize>>,
	/// Woken when workers come back.
	returned: tokio::sync::Notify,
	requesters:
		(mpsc::UnboundedSender<WorkerKey>, tokio::sync::Mutex<mpsc::UnboundedReceiver<WorkerKey>>),
	pub counts: LaneCounts,
}

impl Lanes {
	pub fn new(
		feed: Arc<Feed>,
		market: Market,
		trust: u32,
		batch: u32,
		workers: Vec<WorkerKey>,
		requesters: Vec<WorkerKey>,
	) -> Arc<Lanes> {
		let (give, take) = mpsc::unbounded_channel();
		for key in requesters {
			give.send(key).expect("receiver held");
		}
		Arc::new(Lanes {
			feed,
			market,
			trust,
			batch,
			idle: Mutex::new((0..workers.len()).collect()),
			scores: Mutex::new(vec![0; workers.len()]),
			workers,
			returned: tokio::sync::Notify::new(),
			requesters: (give, tokio::sync::Mutex::new(take)),
			counts: LaneCounts::default(),
		})
	}

	/// Starts lanes, at most `max_lanes` at once, until `stop` is set.
	pub async fn run(self: Arc<Self>, max_lanes: usize, stop: Arc<AtomicBool>) {
		let slots = Arc::new(Semaphore::new(max_lanes));
		while !stop.load(Relaxed) {
			let Ok(slot) = slots.clone().acquire_owned().await else { return };
			let crew = loop {
				// Listening before looking, so that a lane ending in between is not missed.
				let returned = self.returned.notified();
				tokio::pin!(returned);
				returned.as_mut().enable();
				if let Some(crew) = self.pick_crew() {
					break crew;
				}
				// Every worker is busy: wait for a lane to finish (or look again soon).
				let _ = tokio::time::timeout(Duration::from_millis(500), returned).await;
				if stop.load(Relaxed) {
					return;
				}
			};
			let requester = self.requesters.1.lock().await.recv().await.expect("sender held");
			self.counts.started.fetch_add(1, Relaxed);
			let lanes = self.clone();
			tokio::spawn(async move {
				match lanes.live(&requester, &crew).await {
					Ok(blocks) => {
						lanes.counts.certified_lanes.fetch_add(1, Relaxed);
						lanes.counts.latencies.lock().expect("latencies").push(blocks);
						lanes.idle.lock().expect("idle").extend(crew);
					}
					Err(Failure { reason, crew_used }) => {
						lanes.counts.failed(reason);
						// A crew that sent something may hold replicas or stakes on chain: it
						// stays out of later lanes.
						if !crew_used {
							lanes.idle.lock().expect("idle").extend(crew);
						}
					}
				}
				lanes.returned.notify_waiters();
				drop(slot);
			});
		}
	}

	/// The next idle workers, as many as the claim rule hands replicas to (from their scores);
	/// `None` when too few are idle.
	fn pick_crew(&self) -> Option<Vec<usize>> {
		let mut idle = self.idle.lock().expect("idle");
		let scores = self.scores.lock().expect("scores");
		let weight = |worker: usize| rules::worker_weight(scores[worker]);
		let enough = |crew: &[usize]| {
			rules::enough_in_flight(0, 1, crew.iter().map(|&w| weight(w)), self.trust)
		};
		let mut crew = Vec::new();
		while !enough(&crew) && crew.len() < max_crew() {
			let Some(worker) = idle.pop_front() else {
				// Not enough: put them back where they were.
				for worker in crew.into_iter().rev() {
					idle.push_front(worker);
				}
				return None;
			};
			crew.push(worker);
		}
		// Heaviest first, and only as many as that order needs: then no part of the crew
		// reaches the trust without the rest, whatever order their claims and contributions
		// land in (a part that did would close the task to the others).
		crew.sort_by_key(|&w| core::cmp::Reverse(weight(w)));
		let needed = (1..=crew.len()).find(|&k| enough(&crew[..k])).unwrap_or(crew.len());
		for worker in crew.drain(needed..).rev() {
			idle.push_front(worker);
		}
		Some(crew)
	}

	/// One lane's life: the request to the certification of its tasks (or the first failure);
	/// how many blocks after the request's block the tasks were certified.
	async fn live(&self, requester: &WorkerKey, crew: &[usize]) -> Result<u32, Failure> {
		let spec = pallet_market::types::RequestSpec {
			app: self.market.app,
			dataset: None,
			app_max_price: self.market.app_price,
			dataset_max_price: 0,
			pool_max_price: self.market.pool_price,
			volume: self.batch,
			category: self.market.category,
			trust: self.trust,
			tag: 0,
			pool: Some(self.market.pool),
			params: b"1000".to_vec().try_into().expect("short"),
			beneficiary: requester.account(),
			job_ad: b"[ Requirements = true ]".to_vec().try_into().expect("short"),
			weights: pallet_market::types::CriteriaWeights {
				cost: 1,
				performance: 0,
				trust: 0,
				reliability: 0,
				energy: 0,
				rank: 0,
			},
			determinism: Default::default(),
		};
		let requested = self
			.feed
			.send(requester, RuntimeCall::Market(pallet_market::Call::submit_request { spec }))
			.await;
		// The requester's next request may go as soon as this one is in a block.
		let _ = self.requesters.0.send(requester.clone());
		let untouched = |reason: String| Failure { reason, crew_used: false };
		let requested = requested.map_err(|e| untouched(format!("request {e}")))?;
		let (deal, volume) = requested
			.events
			.iter()
			.find_map(|e| match e {
				RuntimeEvent::Market(pallet_market::Event::DealMade { deal, volume, .. }) => {
					Some((*deal, *volume))
				}
				_ => None,
			})
			.ok_or_else(|| {
				untouched("request not matched (no DealMade): are the orders exhausted?".into())
			})?;
		let certified = self
			.carry(crew, &tasks_of(deal, volume))
			.await
			.map_err(|reason| Failure { reason, crew_used: true })?;
		Ok(certified.saturating_sub(requested.block))
	}

	/// The crew's part: claims to certification; the certifying block.
	async fn carry(&self, crew: &[usize], tasks: &[TaskId]) -> Result<BlockNumber, String> {
		let claim = || {
			RuntimeCall::Poco(pallet_poco::Call::claim {
				tasks: tasks.to_vec().try_into().expect("batch ≤ MaxBatch"),
			})
		};
		let worker = |i: usize| &self.workers[i];
		self.step(worker(crew[0]), claim(), "claim").await?;
		if crew.len() == 1 {
			let items = self.disclosures(worker(crew[0]), tasks);
			return self
				.step(
					worker(crew[0]),
					RuntimeCall::Poco(pallet_poco::Call::submit { items }),
					"submit",
				)
				.await;
		}
		self.all(crew[1..].iter().map(|&w| (worker(w), claim())), "claim").await?;
		self.all(
			crew.iter().map(|&w| {
				let items = self.commitments(worker(w), tasks);
				(worker(w), RuntimeCall::Poco(pallet_poco::Call::contribute { items }))
			}),
			"contribute",
		)
		.await?;
		let revealed = self
			.all(
				crew.iter().map(|&w| {
					let items = self.disclosures(worker(w), tasks);
					(worker(w), RuntimeCall::Poco(pallet_poco::Call::reveal { items }))
				}),
				"reveal",
			)
			.await?;
		// Each winner of a replicated task gains a point per task, as the chain counts it.
		let mut scores = self.scores.lock().expect("scores");
		for &w in crew {
			for _ in tasks {
				scores[w] = rules::winner_score(scores[w], true);
			}
		}
		Ok(revealed)
	}

	/// Sends one call; the block that included it.
	async fn step(
		&self,
		key: &WorkerKey,
		call: RuntimeCall,
		what: &str,
	) -> Result<BlockNumber, String> {
		match self.feed.send(key, call).await {
			Ok(included) => Ok(included.block),
			Err(error) => Err(format!("{what} {error}")),
		}
	}

	async fn all<'a>(
		&self,
		calls: impl Iterator<Item = (&'a WorkerKey, RuntimeCall)>,
		what: &str,
	) -> Result<BlockNumber, String> {
		let sends = calls.map(|(key, call)| self.step(key, call, what));
		let blocks = futures::future::try_join_all(sends).await?;
		Ok(blocks.into_iter().max().unwrap_or_default())
	}

	fn attestation(&self, worker: AccountId, task: TaskId) -> Attestation<AccountId> {
		Attestation {
			task,
			worker,
			app_code_hash: self.market.code_hash,
			dataset_checksum: None,
			result_digest: blake2_256(RESULT),
			resources: ResourcesUsed { fuel: 1_000, wall_millis: 1, memory_mib: 1 },
			engine_version: iexec_worker::wasm::ENGINE_VERSION,
		}
	}

	fn commitments(&self, key: &WorkerKey, tasks: &[TaskId]) -> Batch<Commitment> {
		let digest = blake2_256(RESULT);
		let items: Vec<Commitment> = tasks
			.iter()
			.map(|&task| Commitment {
				task,
				result_hash: commitments::result_hash(task, &digest),
				result_seal: commitments::result_seal(&key.account(), task, &digest),
				attestation_hash: commitments::attestation_hash(
					&self.attestation(key.account(), task),
				),
			})
			.collect();
		items.try_into().expect("batch ≤ MaxBatch")
	}

	fn disclosures(
		&self,
		key: &WorkerKey,
		tasks: &[TaskId],
	) -> Batch<pallet_poco::DisclosureOf<Runtime>> {
		let items: Vec<_> = tasks
			.iter()
			.map(|&task| {
				let attestation = self.attestation(key.account(), task);
				let signature = key.sign(&commitments::signed_bytes(&attestation));
				let location = pallet_poco::ResultLocation::Inline(
					RESULT.to_vec().try_into().expect("inline result ≤ 4 KiB"),
				);
				pallet_poco::Disclosure { attestation, signature, location: Some(location) }
			})
			.collect();
		items.try_into().expect("batch ≤ MaxBatch")
	}
}
