//! The daemon (`iexec-worker run`): follows finalised blocks, claims replicas of its pool's
//! tasks, runs them, commits and reveals their results, and hands back what it cannot run.
//!
//! Every block it reconciles what the chain says of each task it watches with what it knows
//! (the journal): the chain decides where a replica stands, so a restart, a lost connection or
//! a transaction that did not make it only delays the next step, never repeats a done one.
//! Decisions wait for finality, but for one: the commitment that follows the worker's own
//! claim and run is sent from the best block, since a reorganisation can only make it fail.
//! A reveal waits for a final consensus: revealed from a block later reorganised away, a
//! digest could be copied by a worker still able to commit on the surviving chain.

use crate::gpu_leases::GpuLeases;
use crate::{
	chain::{
		AccountId, Balance, BlockNumber, Chain, ChainError, Deal, Disclosure, Head, RuntimeEvent,
		TaskId, TaskRecord,
	},
	digest,
	engine::TaskEngine,
	fetch::Cache,
	journal::{format_task, Computed, Entry, Journal},
	keys::WorkerKey,
	metrics::Metrics,
	serve::ResultStore,
	task::{hash_hex, App, Determinism, Failure, Input, Limits, Task},
};
use iexec_runtime::RuntimeCall;
use pallet_market::matching::HostRules;
use pallet_poco::{
	commitments, rules, Attestation, Commitment, ReplicaState, ResourcesUsed, ResultLocation,
	TaskStatus,
};
use sp_core::H256;
use std::{
	collections::{BTreeMap, BTreeSet},
	path::PathBuf,
	sync::{
		atomic::{AtomicUsize, Ordering::Relaxed},
		Arc, Mutex,
	},
	time::Duration,
};
use tokio::sync::{mpsc, watch};

/// Largest app module fetched.
const MAX_APP_BYTES: usize = 64 << 20;
/// Largest data set fetched.
const MAX_DATASET_BYTES: usize = 1 << 30;
/// Blocks a sent step is not sent again, waiting for finality to show its effect.
const STEP_QUIET_BLOCKS: BlockNumber = 12;
/// Blocks a step the chain refused is not sent again: enough for finality to show why.
const REFUSED_QUIET_BLOCKS: BlockNumber = 3;
/// How often results past their retention are looked for.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Kept aside from what can be staked, for the fees of the claims, commitments and reveals
/// (a few thousandths of an RLC each on the dev chain).
const FEE_RESERVE: Balance = 100 * iexec_runtime::MILLI_RLC;
/// Blocks of events read to catch up; after a longer absence the deals are read anew.
const MAX_CATCH_UP: BlockNumber = 600;

/// How the daemon works.
#[derive(Clone, Debug)]
pub struct Settings {
	/// Replicas held at once (claimed and not yet committed).
	pub slots: usize,
	/// The most a task may ask; the deal's limits are what it runs under.
	pub offer: Limits,
	/// Base URL of this worker's result server, for results too large to reveal on chain.
	pub result_url: Option<String>,
	/// How often the finalised head is polled.
	pub poll: Duration,
	/// How long a shutdown waits for running tasks before handing their replicas back.
	pub shutdown_grace: Duration,
	/// How long certified results are kept for their beneficiary.
	pub result_retention: Duration,
	/// Whether apps and data sets may be read from `file://` locations (development).
	pub allow_file_uris: bool,
	/// Test only: commit a wrong digest (to watch the protocol punish it).
	pub fault_wrong_result: bool,
}

/// A step sent to the chain for a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
	Claim,
	Contribute,
	Submit,
	Reveal,
	Release,
	Finalize,
}

/// What one reconciliation decided to send.
#[derive(Default)]
struct Plan {
	claims: Vec<TaskId>,
	contributions: Vec<(TaskId, Commitment)>,
	reveals: Vec<(TaskId, Disclosure)>,
	submissions: Vec<(TaskId, Disclosure)>,
	releases: Vec<TaskId>,
	finalizations: Vec<TaskId>,
}

/// What one reconciliation counted.
#[derive(Default)]
struct Tally {
	/// Replicas held, claimed and not yet committed.
	claimed: usize,
	/// Replicas committed to a task waiting for reveals.
	owed: usize,
	/// Tasks this worker could claim.
	open: Vec<TaskId>,
	/// What the replicas held and not yet committed will stake.
	stakes_due: Balance,
}

struct Watched {
	deal: Deal,
	/// Tasks below this are settled and hold nothing of ours.
	cursor: u32,
	/// Why this worker cannot take the deal's tasks, if it cannot.
	unfit: Option<String>,
}

type RunOutcome = (TaskId, Result<Computed, (String, String)>);

/// The daemon's state.
pub struct Daemon {
	chain: Chain,
	key: WorkerKey,
	me: AccountId,
	pool: u64,
	ad: iexec_classad::Ad,
	engine: TaskEngine,
	journal: Journal,
	apps: Cache,
	data: Cache,
	/// The GPUs offered, leased to GPU tasks one share each.
	gpus: GpuLeases,
	results: ResultStore,
	settings: Settings,
	metrics: Arc<Metrics>,
	deals: BTreeMap<u64, Watched>,
	running: BTreeSet<TaskId>,
	/// Tasks whose result the journal lost (reported once).
	lost: BTreeSet<TaskId>,
	/// Deals whose tasks were passed over for want of stake (reported once).
	short_of_stake: BTreeSet<u64>,
	handles: BTreeMap<TaskId, tokio::task::JoinHandle<()>>,
	quiet: Arc<Mutex<BTreeMap<(TaskId, Step), BlockNumber>>>,
	/// Calls sent and not yet included or refused.
	in_flight: Arc<AtomicUsize>,
	/// Steps whose batch the chain refused: sent alone from then on, so that one stale item
	/// does not hold the others back.
	solo: Arc<Mutex<BTreeSet<(TaskId, Step)>>>,
	finished_tx: mpsc::UnboundedSender<RunOutcome>,
	finished_rx: mpsc::UnboundedReceiver<RunOutcome>,
	/// Claims included in a block (not yet final): their runs start at once, overlapping
	/// finality, and their commitments follow at the best block (`follow_ups_at_best`).
	claimed_tx: mpsc::UnboundedSender<Vec<TaskId>>,
	claimed_rx: mpsc::UnboundedReceiver<Vec<TaskId>>,
	/// The last block whose events were read.
	seen: Option<BlockNumber>,
	/// The finalised block last reconciled, and whether something changed locally since.
	reconciled: Option<BlockNumber>,
	dirty: bool,
	/// The best block our commitments were last decided at, and whether a run finished
	/// since.
	followed_best: Option<H256>,
	fresh_results: bool,
	/// When results past their retention were last deleted.
	pruned_at: Option<tokio::time::Instant>,
	/// The work directory: outputs not kept live in it until settled.
	work_dir: PathBuf,
	draining: bool,
}

/// Why the daemon cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
	#[error("{0} is not a worker: run `iexec-worker join POOL` first")]
	NotAWorker(String),
	#[error(transparent)]
	Chain(#[from] ChainError),
	#[error("cannot use the work directory: {0}")]
	WorkDir(#[from] std::io::Error),
	#[error("the work directory {0} is writable by other users or owned by another: it holds the journal and the results")]
	WorkDirOpen(String),
}

impl Daemon {
	/// Reads the worker's record and the deals of its pool.
	pub async fn start(
		chain: Chain,
		key: WorkerKey,
		engine: TaskEngine,
		work_dir: PathBuf,
		settings: Settings,
		metrics: Arc<Metrics>,
	) -> Result<Daemon, StartError> {
		check_private(&work_dir)?;
		let me = key.account();
		let head = chain.finalized().await?;
		let record = chain
			.worker(&me, head.hash)
			.await?
			.ok_or_else(|| StartError::NotAWorker(me.to_string()))?;
		let (finished_tx, finished_rx) = mpsc::unbounded_channel();
		let (claimed_tx, claimed_rx) = mpsc::unbounded_channel();
		let gpu_count = if settings.offer.gpus { crate::gpu::detect().len() } else { 0 };
		let gpus = GpuLeases::new(gpu_count, settings.slots);
		if gpu_count > 0 {
			tracing::info!(gpus = gpu_count, per_task = gpus.per_task(), "GPUs offered");
		}
		if gpu_count > 0 && gpu_count < settings.slots {
			tracing::warn!(
				gpus = gpu_count,
				slots = settings.slots,
				"fewer GPUs than slots: GPU tasks will wait for each other's GPUs (and may miss \
				 their deadlines); set slots to at most the number of GPUs on a GPU rig"
			);
		}
		let mut daemon = Daemon {
			chain,
			key,
			me,
			pool: record.pool,
			ad: pallet_market::ads::load(&record.ad),
			engine,
			journal: Journal::open(work_dir.join("journal"))?,
			apps: Cache::open(work_dir.join("apps"))?,
			data: Cache::open(work_dir.join("data"))?,
			gpus,
			results: ResultStore::open(work_dir.join("results"))?,
			settings,
			metrics,
			deals: BTreeMap::new(),
			running: BTreeSet::new(),
			lost: BTreeSet::new(),
			short_of_stake: BTreeSet::new(),
			handles: BTreeMap::new(),
			quiet: Default::default(),
			in_flight: Default::default(),
			solo: Default::default(),
			finished_tx,
			finished_rx,
			claimed_tx,
			claimed_rx,
			seen: None,
			reconciled: None,
			dirty: true,
			followed_best: None,
			fresh_results: false,
			pruned_at: None,
			work_dir: work_dir.clone(),
			draining: false,
		};
		daemon.read_deals(head).await?;
		tracing::info!(
			worker = %daemon.me, pool = daemon.pool, deals = daemon.deals.len(),
			journal = daemon.journal.entries().len(), "worker started"
		);
		Ok(daemon)
	}

	/// Runs until `shutdown` turns true, then stops claiming, lets running tasks finish (for
	/// the grace period), commits what finished and hands back the rest.
	pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
		let mut backoff = Duration::from_secs(1);
		let mut grace_until: Option<tokio::time::Instant> = None;
		loop {
			if *shutdown.borrow() && !self.draining {
				self.draining = true;
				grace_until = Some(tokio::time::Instant::now() + self.settings.shutdown_grace);
				tracing::info!(running = self.running.len(), "shutting down: no new claims");
			}
			while let Ok(outcome) = self.finished_rx.try_recv() {
				self.finished(outcome);
			}
			if self.pruned_at.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
				self.pruned_at = Some(tokio::time::Instant::now());
				let (results, retention) = (self.results.clone(), self.settings.result_retention);
				tokio::task::spawn_blocking(move || {
					let pruned = results.prune(retention);
					if pruned > 0 {
						tracing::info!(pruned, "results past their retention deleted");
					}
				});
			}
			let past_grace = grace_until.is_some_and(|t| tokio::time::Instant::now() >= t);
			if past_grace && !self.handles.is_empty() {
				self.abort_runs();
			}
			match self.tick(past_grace).await {
				Ok(done) => {
					backoff = Duration::from_secs(1);
					if let Err(error) = self.follow_ups_at_best().await {
						// The finalised reconciliation takes these steps anyway.
						tracing::debug!(%error, "follow-ups at the best block skipped");
					}
					// A commitment just sent is waited for too.
					if self.draining && done && self.in_flight.load(Relaxed) == 0 {
						tracing::info!("nothing held that can be finished now; stopped");
						return;
					}
				}
				Err(error) if error.is_transient() => {
					self.metrics.synced.store(0, Relaxed);
					if past_grace {
						// Nothing can be handed back without a node; the chain releases held
						// replicas once they are overdue.
						tracing::warn!(%error, "chain unreachable while stopping; stopped");
						return;
					}
					tracing::warn!(%error, retry_in = ?backoff, "chain unreachable");
					// A shutdown is not delayed by the backoff: it wakes the loop, and a
					// draining one sleeps no longer than its grace.
					let now = tokio::time::Instant::now();
					let wait = grace_until
						.map_or(backoff, |t| backoff.min(t.saturating_duration_since(now)));
					tokio::select! {
						_ = tokio::time::sleep(wait) => {}
						_ = shutdown.changed(), if !self.draining => {}
					}
					backoff = (backoff * 2).min(Duration::from_secs(30));
					continue;
				}
				Err(error) => tracing::error!(%error, "reconciliation failed"),
			}
			tokio::select! {
				_ = tokio::time::sleep(self.settings.poll) => {}
				Some(outcome) = self.finished_rx.recv() => self.finished(outcome),
				Some(tasks) = self.claimed_rx.recv() => self.claimed_in_block(tasks),
				_ = shutdown.changed(), if !self.draining => {}
			}
		}
	}

	/// Our claims are in a block: journal them and start their runs.
	fn claimed_in_block(&mut self, tasks: Vec<TaskId>) {
		// From now on the journal holds these replicas (and their slots): a claim waiting for
		// finality is no longer a claim in flight.
		let mut quiet = self.quiet.lock().unwrap_or_else(|e| e.into_inner());
		for task in &tasks {
			quiet.remove(&(*task, Step::Claim));
		}
		drop(quiet);
		for task in tasks {
			if self.journal.get(task).is_none() {
				self.journal_claim(task, self.reconciled.unwrap_or_default());
			}
			let deal = self.deals.get(&task.deal).map(|w| w.deal.clone());
			if let Some(deal) = deal {
				if !self.running.contains(&task) && !self.draining {
					self.spawn_run(task, deal);
				}
			}
		}
	}

	/// A new journal entry for a replica just claimed.
	fn journal_claim(&mut self, task: TaskId, at: BlockNumber) -> Entry {
		let entry = Entry {
			deal: task.deal,
			index: task.index,
			claimed_at: at,
			computed: None,
			failure: None,
		};
		if self.journal.put(&entry).is_ok() {
			self.metrics.claimed.fetch_add(1, Relaxed);
			tracing::info!(task = %format_task(task), "replica claimed");
		}
		entry
	}

	/// Records a finished run in the journal.
	fn finished(&mut self, (task, outcome): RunOutcome) {
		self.dirty = true;
		self.fresh_results = true;
		self.running.remove(&task);
		self.handles.remove(&task);
		self.metrics.running.store(self.running.len() as u64, Relaxed);
		let Some(mut entry) = self.journal.get(task) else {
			// Settled or forgotten while it ran: nobody will ask for this output.
			if let Ok(computed) = &outcome {
				self.discard_output(computed);
			}
			return;
		};
		match outcome {
			Ok(computed) => {
				tracing::info!(task = %format_task(task), digest = %hash_hex(&computed.digest), "task ran");
				self.metrics.execution_millis.fetch_add(computed.wall_millis, Relaxed);
				entry.computed = Some(computed);
			}
			Err((reason, message)) => {
				tracing::error!(task = %format_task(task), %reason, "task cannot run here: {message}; handing the replica back");
				self.metrics.failed(&reason);
				entry.failure = Some(message);
			}
		}
		if let Err(error) = self.journal.put(&entry) {
			tracing::error!(task = %format_task(task), %error, "cannot write the journal");
		}
	}

	/// Watches every stored deal of the pool (at start, or after a long absence).
	async fn read_deals(&mut self, head: Head) -> Result<(), ChainError> {
		for id in self.chain.deal_ids(head.hash).await? {
			if !self.deals.contains_key(&id) {
				if let Some(deal) = self.chain.deal(id, head.hash).await? {
					self.watch(id, deal, head.hash).await?;
				}
			}
		}
		self.seen = Some(head.number);
		Ok(())
	}

	/// Watches deal `id` when it is of this worker's pool, with the host rules kept with it
	/// (read at block `at`).
	async fn watch(&mut self, id: u64, deal: Deal, at: H256) -> Result<(), ChainError> {
		if deal.pool != self.pool {
			return Ok(());
		}
		let rules = self.chain.deal_rules(id, at).await?;
		let unfit = self.unfit(&deal, &rules);
		if let Some(why) = &unfit {
			tracing::info!(deal = id, "not taking this deal's tasks: {why}");
		}
		self.deals.insert(id, Watched { deal, cursor: 0, unfit });
		Ok(())
	}

	fn unfit(&self, deal: &Deal, rules: &HostRules) -> Option<String> {
		unfit(deal, rules, &self.ad, &self.settings.offer, self.engine.docker().is_some())
	}

	/// Reads the events of the blocks finalised since the last tick: new deals of the pool,
	/// and what this worker was paid.
	async fn follow(&mut self, head: Head) -> Result<(), ChainError> {
		let Some(seen) = self.seen else { return self.read_deals(head).await };
		if head.number <= seen {
			return Ok(());
		}
		if head.number - seen > MAX_CATCH_UP {
			return self.read_deals(head).await;
		}
		for number in seen + 1..=head.number {
			let hash = self.chain.block_hash(number).await?;
			let events = match self.chain.events(hash).await {
				Ok(events) => events,
				// A runtime this worker does not know: its tasks are still reconciled from
				// storage; new deals are found by reading them all again.
				Err(error @ ChainError::Decode(_)) => {
					tracing::error!(block = number, %error, "events skipped");
					self.seen = None;
					return Ok(());
				}
				Err(error) => return Err(error),
			};
			for event in events {
				match event {
					RuntimeEvent::Market(pallet_market::Event::DealMade { deal, .. }) => {
						if let Some(stored) = self.chain.deal(deal, hash).await? {
							self.watch(deal, stored, hash).await?;
						}
					}
					RuntimeEvent::Escrow(pallet_escrow::Event::Paid { to, amount, .. })
						if to == self.me =>
					{
						let amount = u64::try_from(amount).unwrap_or(u64::MAX);
						self.metrics.earned.fetch_add(amount, Relaxed);
					}
					_ => {}
				}
			}
			self.seen = Some(number);
		}
		Ok(())
	}

	/// One reconciliation at the finalised head. Returns whether nothing is left that a
	/// draining daemon should wait for.
	async fn tick(&mut self, past_grace: bool) -> Result<bool, ChainError> {
		let head = self.chain.finalized().await?;
		self.metrics.finalized_block.store(head.number.into(), Relaxed);
		if let Ok(best) = self.chain.best_number().await {
			self.metrics.best_block.store(best.into(), Relaxed);
		}
		self.follow(head).await?;
		self.metrics.synced.store(1, Relaxed);
		if self.reconciled == Some(head.number) && !self.dirty && !self.draining {
			return Ok(false);
		}
		self.reconciled = Some(head.number);
		self.dirty = false;
		self.quiet
			.lock()
			.unwrap_or_else(|e| e.into_inner())
			.retain(|_, until| *until > head.number);

		let mut plan = Plan::default();
		let mut tally = Tally::default();
		let ids: Vec<u64> = self.deals.keys().copied().collect();
		// Read once for every deal of this tick.
		let journal = self.journal.entries();
		for id in ids {
			self.reconcile_deal(id, head, &journal, &mut plan, &mut tally, past_grace).await?;
		}
		// Replicas held and not yet committed, or being claimed, fill the slots; claims in
		// flight will stake too.
		let pending_claims = self.quiet_count(Step::Claim);
		for (task, step) in self.quiet.lock().unwrap_or_else(|e| e.into_inner()).keys() {
			if let (Step::Claim, Some(watched)) = (step, self.deals.get(&task.deal)) {
				tally.stakes_due = tally.stakes_due.saturating_add(worker_stake(&watched.deal));
			}
		}
		let mut free = self.settings.slots.saturating_sub(tally.claimed + pending_claims);
		if !self.draining && !tally.open.is_empty() {
			let mut open = std::mem::take(&mut tally.open);
			open.sort();
			open.dedup();
			// Claim only what the free balance can stake once the runs are done: a replica
			// whose commitment cannot be paid is only held until it is due.
			let mut spendable = self.spendable(head).await?.saturating_sub(tally.stakes_due);
			let mut unaffordable = BTreeSet::new();
			for task in open {
				if free == 0 || plan.claims.len() >= 32 {
					break;
				}
				let stake = self.deals.get(&task.deal).map_or(0, |w| worker_stake(&w.deal));
				// A deal's later tasks stake as much: skip them all, so that a batch of
				// not-started tasks stays in order.
				if unaffordable.contains(&task.deal) {
					continue;
				}
				if stake > spendable {
					self.warn_short_of_stake(task, stake, spendable);
					unaffordable.insert(task.deal);
					continue;
				}
				spendable -= stake;
				self.short_of_stake.remove(&task.deal);
				plan.claims.push(task);
				free -= 1;
			}
		}
		// A draining daemon waits for its runs, its reveals due now and its calls in flight.
		let idle = tally.claimed == 0
			&& self.running.is_empty()
			&& plan.reveals.is_empty()
			&& self.in_flight.load(Relaxed) == 0;
		if self.draining && tally.owed > 0 {
			tracing::info!(
				owed = tally.owed,
				"replicas committed and not yet settled stay in the journal"
			);
		}
		self.send(plan, head);
		Ok(idle)
	}

	/// What this worker can stake: its free balance above the existential deposit and a fee
	/// reserve, the lesser of the finalised `head`'s and the best block's (a transfer out may
	/// not be final yet).
	async fn spendable(&self, head: Head) -> Result<Balance, ChainError> {
		let mut free = self.chain.account(&self.me, head.hash).await?.data.free;
		if let Ok(best) = self.chain.best().await {
			free = free.min(self.chain.account(&self.me, best.hash).await?.data.free);
		}
		Ok(free.saturating_sub(iexec_runtime::EXISTENTIAL_DEPOSIT + FEE_RESERVE))
	}

	/// Says once per deal that its tasks are not claimed for want of stake.
	fn warn_short_of_stake(&mut self, task: TaskId, stake: Balance, spendable: Balance) {
		if self.short_of_stake.insert(task.deal) {
			tracing::warn!(
				deal = task.deal, %stake, %spendable,
				"not claiming: a contribution stakes more than the free balance left (top the account up)"
			);
		}
	}

	fn quiet_count(&self, step: Step) -> usize {
		self.quiet
			.lock()
			.unwrap_or_else(|e| e.into_inner())
			.keys()
			.filter(|(_, s)| *s == step)
			.count()
	}

	fn is_quiet(&self, task: TaskId, step: Step) -> bool {
		self.quiet.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&(task, step))
	}

	async fn reconcile_deal(
		&mut self,
		id: u64,
		head: Head,
		journal: &[Entry],
		plan: &mut Plan,
		tally: &mut Tally,
		past_grace: bool,
	) -> Result<(), ChainError> {
		let next = self.chain.next_task(id, head.hash).await?;
		let (volume, mut cursor, fit) = {
			let watched = &self.deals[&id];
			(watched.deal.volume, watched.cursor, watched.unfit.is_none())
		};
		let mut all_settled_below = true;
		for index in cursor..next {
			let task = TaskId { deal: id, index };
			let record = self.chain.task(task, head.hash).await?;
			let settled_and_free = match record {
				Some(record) => {
					// Settled records keep no replicas: ours won if the certified digest is ours.
					let certified = if record.status == TaskStatus::Completed
						&& self.journal.get(task).is_some()
					{
						self.chain.result(task, head.hash).await?.map(|r| r.digest)
					} else {
						None
					};
					self.reconcile_task(
						task, &record, certified, head, plan, tally, fit, past_grace,
					)
				}
				None => true,
			};
			if settled_and_free && all_settled_below {
				cursor = index + 1;
			} else {
				all_settled_below = false;
			}
		}
		// Our claims of tasks not started at `head`, in a block finality has not reached:
		// they hold a slot and a stake to come; one that never becomes final is forgotten.
		let stake = worker_stake(&self.deals[&id].deal);
		let mut ours_beyond = BTreeSet::new();
		for entry in journal {
			let task = entry.task();
			if task.deal != id || task.index < next {
				continue;
			}
			if head.number > entry.claimed_at + 2 * STEP_QUIET_BLOCKS {
				tracing::warn!(task = %format_task(task), "our claim never became final");
				self.forget(task);
			} else {
				ours_beyond.insert(task.index);
				tally.claimed += 1;
				tally.stakes_due = tally.stakes_due.saturating_add(stake);
			}
		}
		// Tasks not started are claimed in order only: as many as the slots allow, in one
		// batch, after those our claims already hold; none past a claim still in flight or
		// just refused (the chain would refuse the next ones as out of order).
		if fit {
			let mut wanted = self.settings.slots;
			let mut index = next;
			while wanted > 0 && index < volume {
				let task = TaskId { deal: id, index };
				if self.is_quiet(task, Step::Claim) {
					break;
				}
				if !ours_beyond.contains(&index) {
					tally.open.push(task);
					wanted -= 1;
				}
				index += 1;
			}
		}
		if cursor >= volume {
			self.deals.remove(&id);
		} else if let Some(watched) = self.deals.get_mut(&id) {
			watched.cursor = cursor;
		}
		Ok(())
	}

	/// Decides this task's next step. Returns whether it is settled with nothing of ours
	/// left to do.
	#[allow(clippy::too_many_arguments)]
	fn reconcile_task(
		&mut self,
		task: TaskId,
		record: &TaskRecord,
		certified: Option<[u8; 32]>,
		head: Head,
		plan: &mut Plan,
		tally: &mut Tally,
		fit: bool,
		past_grace: bool,
	) -> bool {
		let deal = self.deals[&task.deal].deal.clone();
		let mine = record.replica_of(&self.me).map(|at| record.replicas[at].state);
		let entry = self.journal.get(task);
		if record.is_settled() {
			if let Some(entry) = entry {
				self.settle(task, record, certified, &entry);
			}
			return true;
		}
		match mine {
			// Claimed in a block finality has not reached yet: it holds a slot; a claim that
			// never became final is forgotten.
			None if entry.is_some() => {
				let Some(entry) = entry.as_ref() else { return false };
				if head.number > entry.claimed_at + 2 * STEP_QUIET_BLOCKS {
					tracing::warn!(task = %format_task(task), "our claim never became final");
					self.forget(task);
				} else {
					tally.claimed += 1;
					tally.stakes_due = tally.stakes_due.saturating_add(worker_stake(&deal));
				}
			}
			None => {
				// An overdue replica is handed back by the next claim: it does not count.
				let pending = record.replicas.iter().filter_map(|r| match r.state {
					ReplicaState::Claimed { due } if due > head.number => Some(r.weight),
					_ => None,
				});
				let wanted = record.status == TaskStatus::Open
					&& head.number < record.contribution_deadline
					&& !rules::enough_in_flight(record.best, record.total, pending, deal.trust);
				if fit && wanted && !self.is_quiet(task, Step::Claim) {
					tally.open.push(task);
				}
			}
			Some(ReplicaState::Claimed { due }) => {
				tally.claimed += 1;
				tally.stakes_due = tally.stakes_due.saturating_add(worker_stake(&deal));
				let entry = match entry {
					Some(entry) => entry,
					None => self.journal_claim(task, head.number),
				};
				let open_now =
					record.status == TaskStatus::Open && head.number < record.contribution_deadline;
				if !open_now || head.number >= due {
					// Contributions closed, consensus reached without us, or the replica is
					// overdue: a commitment would be refused; hand it back (no stake held).
					if !self.is_quiet(task, Step::Release) {
						plan.releases.push(task);
					}
				} else if let Some(computed) = &entry.computed {
					self.plan_contribution(&deal, task, computed, plan);
				} else if entry.failure.is_some() || (self.draining && past_grace) {
					if !self.is_quiet(task, Step::Release) {
						plan.releases.push(task);
					}
				} else if !self.running.contains(&task) && !self.draining {
					self.spawn_run(task, deal);
				}
			}
			Some(ReplicaState::Contributed { result_hash, .. }) => {
				if let TaskStatus::Revealing { result_hash: winning, deadline } = record.status {
					tally.owed += 1;
					if winning == result_hash
						&& head.number < deadline
						&& !self.is_quiet(task, Step::Reveal)
					{
						match entry.and_then(|e| e.computed) {
							Some(computed) => self.plan_reveal(&deal, task, &computed, plan),
							// Said once: the other winners may still complete the task.
							None if self.lost.insert(task) => tracing::error!(
								task = %format_task(task),
								"our result won but the journal lost it: cannot reveal (stake at risk)"
							),
							None => {}
						}
					}
				}
			}
			Some(ReplicaState::Revealed { .. }) => {
				if let TaskStatus::Revealing { deadline, .. } = record.status {
					if head.number >= deadline && !self.is_quiet(task, Step::Finalize) {
						plan.finalizations.push(task);
					}
				}
			}
			Some(ReplicaState::Discarded) | Some(ReplicaState::Released) => {
				if let Some(entry) = entry {
					self.settle(task, record, None, &entry);
				}
				return true;
			}
		}
		false
	}

	/// Our commitment of `computed` (at trust 1, our submission), unless one is in flight.
	fn plan_contribution(&self, deal: &Deal, task: TaskId, computed: &Computed, plan: &mut Plan) {
		let attestation = self.attestation(deal, task, computed);
		if deal.trust <= 1 {
			if !self.is_quiet(task, Step::Submit) {
				plan.submissions.push((task, self.disclosure(task, attestation, computed)));
			}
		} else if !self.is_quiet(task, Step::Contribute) {
			plan.contributions.push((task, self.commitment(task, &attestation)));
		}
	}

	fn plan_reveal(&self, deal: &Deal, task: TaskId, computed: &Computed, plan: &mut Plan) {
		let attestation = self.attestation(deal, task, computed);
		plan.reveals.push((task, self.disclosure(task, attestation, computed)));
	}

	/// Our commitments at the best block, without waiting for finality: once our claim is in
	/// a block and its run is done. It follows from our own calls already included, so a
	/// reorganisation can only make it fail (its fee, never a stake); everything else waits
	/// for finality, and the finalised reconciliation retries whatever did not make it.
	async fn follow_ups_at_best(&mut self) -> Result<(), ChainError> {
		let best = self.chain.best().await?;
		if self.followed_best == Some(best.hash) && !self.fresh_results {
			return Ok(());
		}
		self.followed_best = Some(best.hash);
		self.fresh_results = false;
		let mut plan = Plan::default();
		for entry in self.journal.entries() {
			let (task, Some(computed)) = (entry.task(), &entry.computed) else { continue };
			let Some(deal) = self.deals.get(&task.deal).map(|w| w.deal.clone()) else { continue };
			let Some(record) = self.chain.task(task, best.hash).await? else { continue };
			let mine = record.replica_of(&self.me).map(|at| record.replicas[at].state);
			if let Some(ReplicaState::Claimed { due }) = mine {
				let open = record.status == TaskStatus::Open
					&& best.number < record.contribution_deadline.min(due);
				if open {
					self.plan_contribution(&deal, task, computed, &mut plan);
				}
			}
		}
		self.send(plan, best);
		Ok(())
	}

	/// Drops a replica whose claim never became final: its run, output and journal entry.
	fn forget(&mut self, task: TaskId) {
		if let Some(handle) = self.handles.remove(&task) {
			handle.abort();
		}
		self.running.remove(&task);
		if let Some(computed) = self.journal.get(task).and_then(|e| e.computed) {
			self.discard_output(&computed);
		}
		let _ = self.journal.remove(task);
	}

	/// Deletes the output of a result this worker will not serve, off the async threads (it
	/// can be large). Only a task output of the work directory: the journal names nothing
	/// else, but a damaged one is not trusted.
	fn discard_output(&self, computed: &Computed) {
		let Some(output) = crate::engine::task_output_in(&self.work_dir, &computed.output_dir)
		else {
			return;
		};
		tokio::task::spawn_blocking(move || {
			if let Err(error) = std::fs::remove_dir_all(&output) {
				tracing::warn!(output = %output.display(), %error, "cannot delete a task output");
			}
		});
	}

	/// A task is over for this worker: count how it went and forget it.
	fn settle(
		&mut self,
		task: TaskId,
		record: &TaskRecord,
		certified: Option<[u8; 32]>,
		entry: &Entry,
	) {
		let ours = entry.computed.as_ref().map(|c| c.digest);
		let won = certified.is_some() && certified == ours;
		if won {
			self.metrics.won.fetch_add(1, Relaxed);
			if let Some(computed) = &entry.computed {
				if let Err(error) = self.results.keep(task, &computed.output_dir) {
					tracing::error!(task = %format_task(task), %error, "cannot keep the result");
				}
			}
			tracing::info!(task = %format_task(task), "task certified with our result");
		} else if entry.computed.is_none() {
			tracing::info!(task = %format_task(task), "replica handed back");
		} else {
			self.metrics.lost.fetch_add(1, Relaxed);
			tracing::warn!(task = %format_task(task), status = ?record.status, "our result did not win");
		}
		if let (false, Some(computed)) = (won, &entry.computed) {
			self.discard_output(computed);
		}
		if let Err(error) = self.journal.remove(task) {
			tracing::error!(task = %format_task(task), %error, "cannot update the journal");
		}
	}

	fn attestation(
		&self,
		deal: &Deal,
		task: TaskId,
		computed: &Computed,
	) -> Attestation<AccountId> {
		Attestation {
			task,
			worker: self.me.clone(),
			app_code_hash: deal.code_hash,
			dataset_checksum: deal.dataset.as_ref().map(|d| d.checksum),
			result_digest: computed.digest,
			resources: ResourcesUsed {
				fuel: computed.fuel,
				wall_millis: computed.wall_millis,
				memory_mib: computed.memory_mib,
			},
			engine_version: computed.engine_version,
		}
	}

	fn commitment(&self, task: TaskId, attestation: &Attestation<AccountId>) -> Commitment {
		let digest = &attestation.result_digest;
		Commitment {
			task,
			result_hash: commitments::result_hash(task, digest),
			result_seal: commitments::result_seal(&self.me, task, digest),
			attestation_hash: commitments::attestation_hash(attestation),
		}
	}

	fn disclosure(
		&self,
		task: TaskId,
		attestation: Attestation<AccountId>,
		computed: &Computed,
	) -> Disclosure {
		let signature = self.key.sign(&commitments::signed_bytes(&attestation));
		let inline = computed
			.inline
			.clone()
			.and_then(|bytes| bytes.try_into().ok())
			.map(ResultLocation::Inline);
		if inline.is_none() && self.settings.result_url.is_none() {
			tracing::warn!(
				task = %format_task(task),
				"result above 4 KiB and no result_url: the beneficiary cannot fetch it"
			);
		}
		let location = inline.or_else(|| {
			let uri = crate::serve::result_uri(self.settings.result_url.as_ref()?, task);
			uri.into_bytes().try_into().ok().map(ResultLocation::Uri)
		});
		Disclosure { attestation, signature, location }
	}

	fn spawn_run(&mut self, task: TaskId, deal: Deal) {
		self.running.insert(task);
		self.metrics.running.store(self.running.len() as u64, Relaxed);
		let runner = Runner {
			chain: self.chain.clone(),
			engine: self.engine.clone(),
			apps: self.apps.clone(),
			data: self.data.clone(),
			gpus: self.gpus.clone(),
			offer: self.settings.offer.clone(),
			fault: self.settings.fault_wrong_result,
			allow_files: self.settings.allow_file_uris,
		};
		let done = self.finished_tx.clone();
		let handle = tokio::spawn(async move {
			let outcome = runner.run(&deal).await;
			let _ = done.send((task, outcome));
		});
		self.handles.insert(task, handle);
	}

	/// Past the shutdown grace: stops the runs still going (their replicas are handed back).
	fn abort_runs(&mut self) {
		for (task, handle) in std::mem::take(&mut self.handles) {
			if !handle.is_finished() {
				tracing::warn!(task = %format_task(task), "run stopped by the shutdown");
				handle.abort();
			}
		}
		self.running.clear();
		self.metrics.running.store(0, Relaxed);
	}

	/// Sends the plan's steps without waiting: each kind in one batched call, but for steps
	/// whose batch the chain refused before, which go alone.
	fn send(&mut self, plan: Plan, head: Head) {
		use pallet_poco::Call;
		type Make<T> = fn(Vec<T>) -> Option<Call<iexec_runtime::Runtime>>;
		let make_claim: Make<TaskId> =
			|tasks| tasks.try_into().ok().map(|tasks| Call::claim { tasks });
		let make_contribution: Make<Commitment> =
			|items| items.try_into().ok().map(|items| Call::contribute { items });
		let make_reveal: Make<Disclosure> =
			|items| items.try_into().ok().map(|items| Call::reveal { items });
		let make_submission: Make<Disclosure> =
			|items| items.try_into().ok().map(|items| Call::submit { items });
		// Claims go in one call, never split: tasks not started must be claimed in order.
		self.send_call(Step::Claim, plan.claims.clone(), make_claim(plan.claims), head);
		self.send_batched(Step::Contribute, plan.contributions, make_contribution, head);
		self.send_batched(Step::Reveal, plan.reveals, make_reveal, head);
		self.send_batched(Step::Submit, plan.submissions, make_submission, head);
		for task in plan.releases {
			let worker = self.me.clone();
			let call = Call::release_replica { task, worker };
			self.send_call(Step::Release, vec![task], Some(call), head);
		}
		for task in plan.finalizations {
			self.send_call(Step::Finalize, vec![task], Some(Call::finalize { task }), head);
		}
	}

	fn send_batched<T>(
		&mut self,
		step: Step,
		items: Vec<(TaskId, T)>,
		make: fn(Vec<T>) -> Option<pallet_poco::Call<iexec_runtime::Runtime>>,
		head: Head,
	) {
		if items.is_empty() {
			return;
		}
		let solo = self.solo.lock().unwrap_or_else(|e| e.into_inner()).clone();
		let (alone, together): (Vec<_>, Vec<_>) =
			items.into_iter().partition(|(task, _)| solo.contains(&(*task, step)));
		let tasks = tasks(&together);
		let call = make(together.into_iter().map(|(_, item)| item).collect());
		self.send_call(step, tasks, call, head);
		for (task, item) in alone {
			self.send_call(step, vec![task], make(vec![item]), head);
		}
	}

	/// Sends one call for `tasks` and keeps those steps quiet until finality can show its
	/// effect (or, refused, for a few blocks).
	fn send_call(
		&mut self,
		step: Step,
		tasks: Vec<TaskId>,
		call: Option<pallet_poco::Call<iexec_runtime::Runtime>>,
		head: Head,
	) {
		let Some(call) = call else { return };
		if tasks.is_empty() {
			return;
		}
		let mut quiet = self.quiet.lock().unwrap_or_else(|e| e.into_inner());
		for task in &tasks {
			quiet.insert((*task, step), head.number + STEP_QUIET_BLOCKS);
		}
		drop(quiet);
		let (chain, key, quiet, solo) =
			(self.chain.clone(), self.key.clone(), self.quiet.clone(), self.solo.clone());
		let (metrics, in_flight, claimed) =
			(self.metrics.clone(), self.in_flight.clone(), self.claimed_tx.clone());
		in_flight.fetch_add(1, Relaxed);
		tokio::spawn(async move {
			let shown: Vec<String> = tasks.iter().map(|t| format_task(*t)).collect();
			match chain.submit(&key, RuntimeCall::Poco(call)).await {
				Ok(_) => {
					tracing::info!(tasks = ?shown, "{step:?} included");
					if step == Step::Claim {
						let _ = claimed.send(tasks.clone());
					}
					if step == Step::Contribute || step == Step::Submit {
						metrics.contributed.fetch_add(tasks.len() as u64, Relaxed);
					}
				}
				// The state the call was decided on changed (another worker was faster):
				// finality shows the new state before it is retried; a refused batch is
				// split, so that one stale item does not hold the others back.
				Err(error @ ChainError::Dispatch(_)) => {
					tracing::warn!(tasks = ?shown, %error, "{step:?} refused by the chain");
					let mut quiet = quiet.lock().unwrap_or_else(|e| e.into_inner());
					for task in &tasks {
						quiet.insert((*task, step), head.number + REFUSED_QUIET_BLOCKS);
					}
					if tasks.len() > 1 && step != Step::Claim {
						let mut solo = solo.lock().unwrap_or_else(|e| e.into_inner());
						solo.extend(tasks.iter().map(|task| (*task, step)));
					}
				}
				Err(error) => {
					tracing::warn!(tasks = ?shown, %error, "{step:?} not sent; will retry");
					let mut quiet = quiet.lock().unwrap_or_else(|e| e.into_inner());
					for task in &tasks {
						quiet.remove(&(*task, step));
					}
				}
			}
			in_flight.fetch_sub(1, Relaxed);
		});
	}
}

/// Why a worker with machine ad `ad` and `offer` cannot run `deal`'s tasks, if it cannot.
/// `rules` are what the deal's app and data set demand of a host.
pub fn unfit(
	deal: &Deal,
	rules: &HostRules,
	ad: &iexec_classad::Ad,
	offer: &Limits,
	docker: bool,
) -> Option<String> {
	use pallet_market::matching::Mismatch;
	let job = pallet_market::ads::load(&deal.job_ad);
	let limits = pallet_market::ads::limits();
	if !iexec_classad::matching::requirements_met(&job, ad, &limits).0 {
		return Some("the job's Requirements are not met by this worker's ad".into());
	}
	match rules.unmet(ad, &limits).0 {
		Some(Mismatch::AppRequirementsNotMet) => {
			return Some(
				"the app's registered host requirements are not met by this worker's ad".into(),
			)
		}
		Some(_) => {
			return Some(
				"the data set's registered restrictions are not met by this worker's ad".into(),
			)
		}
		None => {}
	}
	if let Some(pinned) = deal.determinism.architecture() {
		use pallet_market::matching::{architecture_of, is_architecture};
		let arch = architecture_of(ad);
		if !is_architecture(arch, pinned) {
			return Some(format!(
				"the deal's replicas run on {} only (its determinism), this worker's Arch is {}",
				pinned.classad_name(),
				arch.unwrap_or("not given")
			));
		}
	}
	if let Some(beyond) = deal_limits(deal, offer).beyond(offer) {
		return Some(format!("the deal asks for {beyond}"));
	}
	if deal.app_runtime == pallet_registry::AppRuntime::Docker && !docker {
		return Some("a Docker app, and no Docker engine answers".into());
	}
	None
}

/// Refuses a work directory another user could write to (or that is not this user's).
fn check_private(dir: &std::path::Path) -> Result<(), StartError> {
	use std::os::unix::fs::MetadataExt;
	std::fs::create_dir_all(dir)?;
	let metadata = std::fs::metadata(dir)?;
	// SAFETY: geteuid has no preconditions and cannot fail.
	let me = unsafe { libc::geteuid() };
	if metadata.uid() != me || metadata.mode() & 0o022 != 0 {
		return Err(StartError::WorkDirOpen(dir.display().to_string()));
	}
	Ok(())
}

fn tasks<T>(items: &[(TaskId, T)]) -> Vec<TaskId> {
	items.iter().map(|(task, _)| *task).collect()
}

/// What a worker stakes on each contribution to `deal`'s tasks.
fn worker_stake(deal: &Deal) -> Balance {
	rules::worker_stake(deal.pool_price, deal.worker_stake_ratio)
}

/// The limits a deal's tasks run under, with the host limits of `offer` (CPUs, processes,
/// log size) that do not change a result. A Docker task of a deal tagged GPU gets the GPUs.
pub fn deal_limits(deal: &Deal, offer: &Limits) -> Limits {
	let docker = deal.app_runtime == pallet_registry::AppRuntime::Docker;
	Limits {
		fuel: deal.limits.fuel,
		memory_bytes: u64::from(deal.limits.memory_mib) << 20,
		wall_time: Duration::from_secs(deal.limits.wall_seconds.into()),
		output_cap: offer.output_cap,
		output_bytes: deal.limits.output_bytes,
		cpus: offer.cpus,
		pids: offer.pids,
		gpus: docker && deal.tag & pallet_market::TAG_GPU != 0,
		gpu_devices: Vec::new(),
		determinism: match deal.determinism {
			pallet_market::Determinism::Portable => Determinism::Portable,
			pallet_market::Determinism::SameArchitecture(_) => Determinism::SameArchitecture,
		},
	}
}

/// A failure's short name, for metrics.
fn reason_of(failure: &Failure) -> &'static str {
	match failure {
		Failure::CodeHashMismatch { .. } => "code_hash",
		Failure::InputChecksumMismatch { .. } => "dataset_checksum",
		Failure::InputUnreadable(_) => "dataset_unreadable",
		Failure::InvalidModule(_) | Failure::ForbiddenImport(_) => "invalid_app",
		Failure::OutOfFuel { .. } => "out_of_fuel",
		Failure::OutOfMemory { .. } => "out_of_memory",
		Failure::Timeout { .. } => "timeout",
		Failure::Trap(_) | Failure::StackOverflow { .. } | Failure::NonZeroExit { .. } => {
			"app_failed"
		}
		Failure::CannotStart(_) | Failure::ImageNotFound(_) => "image",
		Failure::EngineUnavailable(_) => "engine_unavailable",
		Failure::BadOutput(_) | Failure::OutputTooLarge { .. } => "bad_output",
		Failure::Io(_) => "io",
		Failure::AboveOffer(_) => "above_offer",
	}
}

/// What a run needs, cloned into its task.
struct Runner {
	chain: Chain,
	engine: TaskEngine,
	apps: Cache,
	data: Cache,
	gpus: GpuLeases,
	offer: Limits,
	fault: bool,
	allow_files: bool,
}

impl Runner {
	/// Fetches what a replica runs, checks it against the deal, runs it under the deal's limits.
	async fn run(&self, deal: &Deal) -> Result<Computed, (String, String)> {
		let Runner { chain, engine, apps, data, gpus, offer, fault, allow_files } = self;
		let (fault, allow_files) = (*fault, *allow_files);
		let fail = |reason: &str, message: String| (reason.to_string(), message);
		let app = match deal.app_runtime {
			pallet_registry::AppRuntime::Wasm => {
				let matches = |bytes: &[u8]| digest::blake2_256(bytes) == deal.code_hash;
				let module = match apps.cached(&deal.code_hash, matches).await {
					Some(module) => module,
					None => {
						let uri = app_uri(chain, deal.app).await?;
						let module = apps
							.get_or_fetch(
								&deal.code_hash,
								&uri,
								MAX_APP_BYTES,
								allow_files,
								matches,
							)
							.await
							.map_err(|e| fail("app_fetch", e.to_string()))?;
						let actual = digest::blake2_256(&module);
						if actual != deal.code_hash {
							return Err(fail(
								"code_hash",
								format!(
									"the code at {uri} hashes to {}, the app is registered with {}",
									hash_hex(&actual),
									hash_hex(&deal.code_hash)
								),
							));
						}
						module
					}
				};
				App::Wasm { module, code_hash: deal.code_hash }
			}
			pallet_registry::AppRuntime::Docker => {
				App::Docker { image_id: format!("sha256:{}", hex::encode(deal.code_hash)) }
			}
		};
		let input = match &deal.dataset {
			None => None,
			Some(dataset) => {
				let location = String::from_utf8_lossy(&dataset.location).into_owned();
				let matches = |bytes: &[u8]| file_checksum(bytes) == dataset.checksum;
				let bytes = data
					.get_or_fetch(
						&dataset.checksum,
						&location,
						MAX_DATASET_BYTES,
						allow_files,
						matches,
					)
					.await
					.map_err(|e| fail("dataset_fetch", e.to_string()))?;
				let actual = file_checksum(&bytes);
				if actual != dataset.checksum {
					let (expected, actual) = (hash_hex(&dataset.checksum), hash_hex(&actual));
					return Err(fail(
					"dataset_checksum",
					format!("input checksum mismatch: expected {expected}, got {actual} (from {location})"),
				));
				}
				// The cache keeps only what matched, under its checksum: runs share it read-only.
				Some(Input { path: data.path(&dataset.checksum), checksum: dataset.checksum })
			}
		};
		let args =
			String::from_utf8_lossy(&deal.params).split_whitespace().map(str::to_owned).collect();
		let mut limits = deal_limits(deal, offer);
		// Held until the run ends: these GPUs are this task's alone.
		let _gpus = match limits.gpus {
			true => {
				let lease = gpus.acquire().await.ok_or_else(|| {
					fail("gpus", "the task asks for GPUs and this worker offers none".into())
				})?;
				limits.gpu_devices = lease.device_ids();
				Some(lease)
			}
			false => None,
		};
		let task = Task { app, args, stdin: Vec::new(), input, limits };
		match engine.run(task).await {
			Ok(success) => {
				let mut digest = success.digest;
				let mut inline = success.encoded_result;
				if fault {
					digest = digest::blake2_256(&[&digest[..], b"fault"].concat());
					inline = None;
				}
				Ok(Computed {
					digest,
					fuel: success.resources.fuel,
					wall_millis: success.resources.wall_time.as_millis() as u64,
					memory_mib: u32::try_from(success.resources.peak_memory_bytes >> 20)
						.unwrap_or(u32::MAX),
					inline,
					output_dir: success.output_dir,
					engine_version: crate::wasm::ENGINE_VERSION,
				})
			}
			Err(failure) => Err(fail(reason_of(&failure), failure.to_string())),
		}
	}
}

/// Where app `app`'s code is, as registered; a node that does not answer is waited for (up to
/// about a minute), not taken for a fault of the task.
async fn app_uri(chain: &Chain, app: u64) -> Result<String, (String, String)> {
	let mut wait = Duration::from_secs(1);
	let contract = loop {
		let attempt = async {
			let head = chain.finalized().await?;
			chain.contract(app, head.hash).await
		};
		match attempt.await {
			Ok(contract) => break contract,
			Err(error) if error.is_transient() && wait <= Duration::from_secs(32) => {
				tracing::warn!(%error, retry_in = ?wait, "cannot read app {app} yet");
				tokio::time::sleep(wait).await;
				wait *= 2;
			}
			Err(error) => return Err(("chain".into(), error.to_string())),
		}
	};
	match contract.map(|c| c.terms) {
		Some(pallet_registry::Terms::App { code_uri, .. }) => {
			Ok(String::from_utf8_lossy(&code_uri).into_owned())
		}
		Some(_) => Err(("app".into(), format!("contract {app} is not an app"))),
		None => Err(("app".into(), format!("app {app} is not registered"))),
	}
}

/// An input file's checksum from its bytes (see [`digest::input_checksum`]).
fn file_checksum(bytes: &[u8]) -> [u8; 32] {
	digest::blake2_256(&[digest::INPUT_FILE_DOMAIN, bytes].concat())
}

#[cfg(test)]
mod tests {
	use super::*;
	use pallet_market::{Category, DealTerms, TAG_GPU, TAG_TEE};

	use pallet_registry::AppRuntime;

	const NO_RULES: HostRules = HostRules { app: None, dataset: None };

	fn deal(runtime: AppRuntime, tag: u64) -> Deal {
		let someone = AccountId::from([7; 32]);
		Deal {
			request: 1,
			requester: someone.clone(),
			beneficiary: someone.clone(),
			app: 1,
			app_order: 2,
			app_owner: someone.clone(),
			app_price: 0,
			app_runtime: runtime,
			code_hash: [0; 32],
			dataset: None,
			pool: 1,
			pool_order: 3,
			pool_owner: someone,
			pool_price: 0,
			pool_stake: 0,
			worker_stake_ratio: 30,
			scheduler_reward_ratio: 5,
			category: Category::XS,
			trust: 1,
			tag,
			volume: 1,
			params: Default::default(),
			job_ad: pallet_market::ads::store(
				&pallet_market::ads::parse_order_ad(b"[ Requirements = true ]").unwrap(),
			)
			.unwrap(),
			limits: Category::XS.limits(300),
			terms: DealTerms::design(Category::XS),
			created_at: 1,
			determinism: Default::default(),
		}
	}

	#[test]
	fn limits_come_from_the_deal_and_gpus_from_its_tag() {
		let offer = Limits { gpus: true, cpus: 3.0, ..Limits::default() };
		let limits = deal_limits(&deal(AppRuntime::Docker, TAG_GPU | TAG_TEE), &offer);
		assert!(limits.gpus);
		assert_eq!(limits.memory_bytes, 512 << 20);
		assert_eq!(limits.output_bytes, 16 << 20);
		assert_eq!(limits.wall_time, Duration::from_secs(300));
		assert_eq!(limits.cpus, 3.0, "host limits that do not change a result: the offer's");
		assert!(!deal_limits(&deal(AppRuntime::Docker, TAG_TEE), &offer).gpus);
		// A Wasm task has no use for a GPU, whatever the tag.
		assert!(!deal_limits(&deal(AppRuntime::Wasm, TAG_GPU), &offer).gpus);
	}

	#[test]
	fn a_gpu_deal_is_unfit_for_a_worker_without_gpus() {
		let ad = iexec_classad::Ad::new();
		let gpu_deal = deal(AppRuntime::Docker, TAG_GPU);
		let without = Limits { gpus: false, fuel: u64::MAX, ..Limits::default() };
		let why = unfit(&gpu_deal, &NO_RULES, &ad, &without, true).expect("no GPU offered");
		assert!(why.contains("GPUs"), "{why}");
		assert_eq!(unfit(&gpu_deal, &NO_RULES, &ad, &Limits { gpus: true, ..without }, true), None);
	}

	#[test]
	fn a_deal_whose_app_or_data_set_rules_this_worker_fails_is_unfit() {
		use pallet_market::ads::rule_ad;
		let limits = pallet_market::ads::limits();
		let ad = iexec_classad::parse_ad("[ Memory = 2048; Region = \"eu\" ]", &limits).unwrap();
		let offer = Limits { fuel: u64::MAX, ..Limits::default() };
		let wasm = deal(AppRuntime::Wasm, 0);
		let rules = |app: &str, dataset: Option<&str>| HostRules {
			app: Some(rule_ad(app.as_bytes())),
			dataset: dataset.map(|d| rule_ad(d.as_bytes())),
		};
		let fits = rules("TARGET.Memory >= 1024", Some("TARGET.Region == \"eu\""));
		assert_eq!(unfit(&wasm, &fits, &ad, &offer, true), None);
		let why = unfit(&wasm, &rules("TARGET.Memory >= 4096", None), &ad, &offer, true)
			.expect("too little memory for the app");
		assert!(why.contains("app's registered host requirements"), "{why}");
		let why = unfit(&wasm, &rules("true", Some("TARGET.Region == \"us\"")), &ad, &offer, true)
			.expect("the data may not go to this region");
		assert!(why.contains("data set's registered restrictions"), "{why}");
	}

	#[test]
	fn a_deal_pinned_to_another_architecture_is_unfit_and_runs_without_canonicalisation() {
		use pallet_market::{Architecture, Determinism as Pinning};
		let offer = Limits { fuel: u64::MAX, ..Limits::default() };
		let ad = crate::machine::Host::detect(&std::env::temp_dir(), false).ad(&Default::default());
		let mut pinned = deal(AppRuntime::Wasm, 0);
		assert_eq!(deal_limits(&pinned, &offer).determinism, Determinism::Portable);
		let (here, elsewhere) = match std::env::consts::ARCH {
			"aarch64" => (Architecture::Aarch64, Architecture::X86_64),
			_ => (Architecture::X86_64, Architecture::Aarch64),
		};
		pinned.determinism = Pinning::SameArchitecture(here);
		assert_eq!(unfit(&pinned, &NO_RULES, &ad, &offer, true), None);
		assert_eq!(deal_limits(&pinned, &offer).determinism, Determinism::SameArchitecture);
		pinned.determinism = Pinning::SameArchitecture(elsewhere);
		let why = unfit(&pinned, &NO_RULES, &ad, &offer, true).expect("another architecture");
		assert!(why.contains(elsewhere.classad_name()), "{why}");
	}
}
