//! `load-gen`: drives a dev node through full task lives with simulated workers, and measures
//! what the chain sustains.
//!
//! In `tasks` mode it registers an app and a worker pool (approved by referendum), funds
//! `--workers` accounts that join the pool and `--requesters` that buy tasks, then keeps lanes
//! of requests, matches, claims, contributions, reveals and completions going
//! ([`lanes`]) until `--blocks` blocks have been measured after a warm-up. In `transfers` mode
//! it measures the chain's own ceiling the same way: signed balance transfers between
//! `--senders` accounts. Results are precomputed, so the chain is what is measured. Run it
//! against a fresh release-built dev node (`scripts/bench-load.sh` does).

mod feed;
mod lanes;
mod report;
mod setup;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use feed::{BlockFigures, CallError, Feed};
use iexec_runtime::{token::RLC, Balance, RuntimeCall};
use iexec_worker::chain::{Chain, Rpc};
use report::{grouped, ProcessSample, Report, Window};
use std::{
	io::{IsTerminal, Write},
	process::ExitCode,
	sync::{
		atomic::{AtomicBool, AtomicU32, Ordering::Relaxed},
		Arc,
	},
};
use tokio::sync::mpsc;

#[derive(Clone, Copy, Debug, PartialEq, ValueEnum)]
enum Mode {
	/// Full task lives with simulated workers.
	Tasks,
	/// Signed balance transfers: the chain's own ceiling, for a ratio.
	Transfers,
}

/// Drives a dev node with simulated workers and reports certified tasks per second, extrinsics
/// per block, block fullness, cost per task and the node's CPU and memory.
#[derive(Parser, Debug, Clone)]
#[command(name = "load-gen", version)]
struct Cli {
	/// The dev node's WebSocket RPC endpoint (a fresh `--dev` chain: the generator's accounts
	/// must be new).
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	url: String,
	#[arg(long, value_enum, default_value_t = Mode::Tasks)]
	mode: Mode,
	/// Worker accounts in the pool.
	#[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
	workers: u32,
	/// Trust the requests ask for (1: one worker's result is enough).
	#[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
	trust: u32,
	/// Tasks per request, and so per claim, contribution and reveal call (the runtime takes
	/// up to 32 items a call).
	#[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=32))]
	batch: u32,
	/// Requester accounts (each has one request in flight at a time).
	#[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=100_000))]
	requesters: u32,
	/// Lanes (requests being carried to certification) in flight at most.
	#[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=100_000))]
	lanes: u32,
	/// Sender accounts in transfers mode (each has one transfer in flight at a time).
	#[arg(long, default_value_t = 8_000, value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
	senders: u32,
	/// Blocks skipped once the first task is certified (or transfer made) before measuring.
	#[arg(long, default_value_t = 5)]
	warmup: u32,
	/// Blocks measured.
	#[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
	blocks: u32,
	/// The node's process id, to report its CPU and memory.
	#[arg(long)]
	node_pid: Option<u32>,
	/// RLC given to each worker and sender (fees, stakes and deposits).
	#[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
	account_funds: u32,
	/// Names the generator's accounts (`//NAMESPACE//worker//7` of the dev phrase): another
	/// name gives new accounts, for another run on the same chain.
	#[arg(long, default_value = "load")]
	namespace: String,
	/// Print the report as JSON on stdout (progress still goes to stderr).
	#[arg(long)]
	json: bool,
}

/// Where the run is, shared between the setup-and-load task and the block loop.
struct Phase {
	/// Set when the load starts: blocks from then on count toward the warm-up and the window.
	loading: AtomicBool,
	/// Accounts funded or workers joined so far, for the progress line.
	setup_done: AtomicU32,
	stop: Arc<AtomicBool>,
}

/// Blocks of load without a certified task (or a transfer) after which the run gives up.
const STALL_BLOCKS: u32 = 60;

fn say(line: &str) {
	eprintln!("load-gen: {line}");
}

#[tokio::main]
async fn main() -> ExitCode {
	let cli = Cli::parse();
	match run(&cli).await {
		Ok(report) => {
			if cli.json {
				println!("{}", serde_json::to_string_pretty(&report).expect("serialisable"));
			} else {
				print!("{}", report.text());
			}
			if report.conserved && report.done > 0 {
				ExitCode::SUCCESS
			} else {
				say("the run certified nothing or did not conserve RLC: see above");
				ExitCode::FAILURE
			}
		}
		Err(error) => {
			say(&format!("{error:#}"));
			ExitCode::FAILURE
		}
	}
}

fn issuance_key() -> Vec<u8> {
	frame_support::storage::storage_prefix(b"Balances", b"TotalIssuance").to_vec()
}

async fn run(cli: &Cli) -> anyhow::Result<Report> {
	let chain = Chain::new(vec![cli.url.clone()]);
	let feed = Feed::connect(&cli.url, &chain)
		.await
		.with_context(|| format!("connecting to the node at {}", cli.url))?;
	let start = chain.best_number().await?;
	let start_hash = chain.block_hash(start).await?;
	let issuance_before: Balance = chain.storage(issuance_key(), start_hash).await?.unwrap_or(0);

	let (figures_tx, mut figures) = mpsc::unbounded_channel();
	let follower = tokio::spawn(feed::follow(
		chain.clone(),
		Rpc::new(vec![cli.url.clone()]),
		feed.clone(),
		start + 1,
		figures_tx,
	));
	let phase = Arc::new(Phase {
		loading: AtomicBool::new(false),
		setup_done: AtomicU32::new(0),
		stop: Arc::new(AtomicBool::new(false)),
	});
	if cli.mode == Mode::Tasks {
		match lanes::crew_of_new_workers(cli.trust) {
			Some(crew) if crew <= cli.workers as usize => {}
			Some(crew) => anyhow::bail!(
				"trust {} needs {crew} new workers per task and --workers is {}",
				cli.trust,
				cli.workers
			),
			None => anyhow::bail!(
				"trust {} needs more new workers per task than a task may have",
				cli.trust
			),
		}
	}
	let keys = setup::DevKeys::new(&cli.namespace);
	let mut driver =
		tokio::spawn(drive(cli.clone(), keys, feed.clone(), chain.clone(), phase.clone()));

	let node = cli.node_pid.map(|pid| pid.to_string());
	let sample = |pid: &Option<String>| pid.as_deref().and_then(ProcessSample::take);
	let me = Some(std::process::id().to_string());
	let mut window = Window::default();
	let mut warm: Option<u32> = None;
	let mut burnt: Balance = 0;
	let mut samples = None;
	let mut lanes: Option<Arc<lanes::Lanes>> = None;
	let counted = |b: &BlockFigures| match cli.mode {
		Mode::Tasks => b.certified,
		Mode::Transfers => b.transfers,
	};
	let progress = Progress::new();
	let mut idle_blocks = 0;
	let mut previous: Option<BlockFigures> = None;
	loop {
		let block = tokio::select! {
			block = figures.recv() => match block {
				Some(block) => block,
				None => anyhow::bail!("{}", follower.await.map_or_else(
					|e| format!("block follower: {e}"),
					|r| format!("block follower stopped: {r:?}"),
				)),
			},
			done = &mut driver => {
				match done.context("load task")? {
					Ok(l) => { lanes = l; driver = tokio::spawn(std::future::pending()); continue },
					Err(error) => return Err(error),
				}
			},
		};
		burnt = burnt.saturating_add(block.burnt);
		if !phase.loading.load(Relaxed) {
			progress.setup(&block, phase.setup_done.load(Relaxed), feed.pending());
			previous = Some(block);
			continue;
		}
		match warm {
			None if counted(&block) > 0 => warm = Some(cli.warmup),
			None => {
				idle_blocks += 1;
				if idle_blocks > STALL_BLOCKS {
					let failures = lanes.as_ref().map(|l| l.counts.failure_summary());
					anyhow::bail!(
						"nothing done in {STALL_BLOCKS} blocks of load; failed lanes: {}",
						failures.unwrap_or_else(|| "none".into())
					);
				}
			}
			Some(0) => {
				if window.blocks.is_empty() && window.before.is_none() {
					// No warm-up: the window starts at the block before this one.
					window.before = previous.clone();
					samples = Some((sample(&node), sample(&me)));
				}
				window.blocks.push(block.clone());
			}
			Some(n) => {
				warm = Some(n - 1);
				if n == 1 {
					window.before = Some(block.clone());
					samples = Some((sample(&node), sample(&me)));
				}
			}
		}
		previous = Some(block.clone());
		progress.load(&block, counted(&block), &window, cli.blocks, warm);
		if window.blocks.len() >= cli.blocks as usize {
			break;
		}
	}
	phase.stop.store(true, Relaxed);
	progress.done();
	let (node_end, me_end) = (sample(&node), sample(&me));
	let last = window.blocks.last().map_or(start, |b| b.number);
	let end_hash = chain.block_hash(last).await?;
	let issuance_after: Balance = chain.storage(issuance_key(), end_hash).await?.unwrap_or(0);

	let sums = window.sums(counted);
	let done = sums.done.max(1) as f64;
	let (node_start, me_start) = samples.unwrap_or((None, None));
	let cores = |end: Option<ProcessSample>, start: Option<ProcessSample>| {
		end.zip(start).map(|(e, s)| e.cores_since(&s))
	};
	let counts = lanes.as_ref().map(|l| &l.counts);
	let failures = counts
		.map(|c| {
			c.failures.lock().expect("failures").iter().map(|(k, v)| (k.clone(), *v)).collect()
		})
		.unwrap_or_default();
	Ok(Report {
		mode: format!("{:?}", cli.mode).to_lowercase(),
		accounts: match cli.mode {
			Mode::Tasks => cli.workers as usize,
			Mode::Transfers => cli.senders as usize,
		},
		trust: cli.trust,
		batch: cli.batch,
		first_block: sums.first,
		last_block: sums.last,
		blocks: sums.blocks,
		seconds: sums.seconds,
		done: sums.done,
		per_second: if sums.seconds > 0.0 { sums.done as f64 / sums.seconds } else { 0.0 },
		per_block: sums.done as f64 / sums.blocks.max(1) as f64,
		extrinsics_per_block: sums.extrinsics / sums.blocks.max(1) as f64,
		failed_calls: sums.failed,
		weight_fullness: sums.weight_fullness,
		proof_fullness: sums.proof_fullness,
		length_fullness: sums.length_fullness,
		weight_micros_each: sums.weight_micros / done,
		proof_bytes_each: sums.proof_bytes / done,
		block_bytes_each: sums.bytes / done,
		extrinsics_each: sums.extrinsics / done,
		replicas_per_task: (cli.mode == Mode::Tasks).then(|| sums.winners as f64 / done),
		latency_blocks: counts
			.and_then(|c| report::Latency::of(c.latencies.lock().expect("latencies").clone())),
		lanes_certified: counts.map_or(0, |c| c.certified_lanes.load(Relaxed)),
		lanes_failed: counts.map_or(0, |c| c.failed_lanes.load(Relaxed)),
		failures,
		node_cores: cores(node_end, node_start),
		node_rss_mib: node_end.map(|s| s.rss_mib),
		node_peak_rss_mib: node_end.map(|s| s.peak_rss_mib),
		generator_cores: cores(me_end, me_start),
		issuance_before,
		issuance_after,
		burnt,
		conserved: issuance_before.checked_sub(issuance_after) == Some(burnt),
	})
}

/// The setup, then the load until the block loop says stop. Returns the lanes (tasks mode)
/// once the load is started.
async fn drive(
	cli: Cli,
	keys: setup::DevKeys,
	feed: Arc<Feed>,
	chain: Chain,
	phase: Arc<Phase>,
) -> anyhow::Result<Option<Arc<lanes::Lanes>>> {
	let role = if cli.mode == Mode::Tasks { "worker" } else { "sender" };
	let count = if cli.mode == Mode::Tasks { cli.workers as usize } else { cli.senders as usize };
	say(&format!("deriving {} {role} keys", grouped(count as f64)));
	let accounts = keys.derived(role, count);
	let first = accounts[0].account();
	if chain.account(&first, chain.block_hash(chain.best_number().await?).await?).await?.nonce > 0 {
		anyhow::bail!(
			"the generator's accounts were used on this chain before: run it against a fresh dev \
			 chain (`iexec-node --dev --tmp`) or give another --namespace"
		);
	}
	let requesters = if cli.mode == Mode::Tasks {
		keys.derived("requester", cli.requesters as usize)
	} else {
		Vec::new()
	};
	let ids = |keys: &[iexec_worker::keys::WorkerKey]| {
		keys.iter().map(|k| k.account()).collect::<Vec<_>>()
	};
	// New accounts: their first nonce is 0, nothing to ask the node.
	feed.assume_new(&ids(&accounts));
	feed.assume_new(&ids(&requesters));

	let account_funds = Balance::from(cli.account_funds) * RLC;
	let requester_funds = 1_000 * RLC;
	let needed =
		account_funds * accounts.len() as Balance + requester_funds * requesters.len() as Balance;
	let alice = chain
		.account(&keys.alice.account(), chain.block_hash(chain.best_number().await?).await?)
		.await?;
	// Alice keeps a margin for her own fees and deposits.
	if alice.data.free < needed.saturating_add(1_000 * RLC) {
		anyhow::bail!(
			"funding needs {} RLC and Alice has {}: fewer accounts or a smaller --account-funds",
			report::rlc(needed),
			report::rlc(alice.data.free)
		);
	}
	say(&format!(
		"funding {} accounts from Alice",
		grouped((accounts.len() + requesters.len()) as f64)
	));
	let (workers_ids, requester_ids) = (ids(&accounts), ids(&requesters));
	tokio::try_join!(
		setup::fund(&feed, &keys, &workers_ids, account_funds),
		setup::fund(&feed, &keys, &requester_ids, requester_funds),
	)?;

	if cli.mode == Mode::Transfers {
		phase.loading.store(true, Relaxed);
		say(&format!("load: {} senders, one transfer in flight each", grouped(count as f64)));
		let ring: Vec<_> = ids(&accounts);
		for (i, key) in accounts.into_iter().enumerate() {
			let (feed, stop, dest) =
				(feed.clone(), phase.stop.clone(), ring[(i + 1) % ring.len()].clone());
			tokio::spawn(async move {
				while !stop.load(Relaxed) {
					let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
						dest: dest.clone().into(),
						value: RLC / 1_000,
					});
					if let Err(CallError::Refused(_) | CallError::Node(_)) =
						feed.send(&key, call).await
					{
						tokio::time::sleep(std::time::Duration::from_secs(1)).await;
					}
				}
			});
		}
		return Ok(None);
	}

	say("registering the app and the pool; a referendum approves them (about a minute on a dev chain)");
	// Enough tasks in the standing orders for any run.
	let market = setup::market(&feed, &chain, &keys, cli.trust, u32::MAX / 2).await?;
	say(&format!(
		"app {} and pool {} approved; {} workers joining the pool",
		market.app,
		market.pool,
		grouped(f64::from(cli.workers))
	));
	setup::join_pool(&feed, &accounts, market.pool, |n| phase.setup_done.store(n as u32, Relaxed))
		.await?;
	let lanes = lanes::Lanes::new(feed, market, cli.trust, cli.batch, accounts, requesters);
	say(&format!("load: up to {} lanes of {} tasks in flight", cli.lanes, cli.batch));
	phase.loading.store(true, Relaxed);
	tokio::spawn(lanes.clone().run(cli.lanes as usize, phase.stop.clone()));
	Ok(Some(lanes))
}

/// The progress line on stderr: redrawn in place on a terminal, a line every few blocks
/// otherwise.
struct Progress {
	terminal: bool,
}

impl Progress {
	fn new() -> Progress {
		Progress { terminal: std::io::stderr().is_terminal() }
	}

	fn show(&self, number: u32, text: String) {
		if self.terminal {
			eprint!("\r\x1b[2K{text}");
			let _ = std::io::stderr().flush();
		} else if number % 5 == 0 {
			eprintln!("{text}");
		}
	}

	fn setup(&self, block: &BlockFigures, done: u32, pending: usize) {
		self.show(
			block.number,
			format!(
				"setting up: block #{} ({} extrinsics), {} workers joined, {} calls pending",
				block.number,
				block.extrinsics,
				grouped(done as f64),
				pending
			),
		);
	}

	fn load(
		&self,
		block: &BlockFigures,
		counted: u32,
		window: &Window,
		blocks: u32,
		warm: Option<u32>,
	) {
		const WIDTH: usize = 30;
		let measured = window.blocks.len();
		let filled = measured * WIDTH / blocks.max(1) as usize;
		let bar = format!("[{}{}]", "#".repeat(filled), ".".repeat(WIDTH - filled));
		let state = match warm {
			None => "waiting for the first result".to_string(),
			Some(n) if n > 0 => format!("warming up ({n} blocks)"),
			_ => {
				let sums = window.sums(|b| b.certified.max(b.transfers));
				let rate = if sums.seconds > 0.0 { sums.done as f64 / sums.seconds } else { 0.0 };
				format!("{measured}/{blocks} blocks, {rate:.1}/s")
			}
		};
		self.show(
			block.number,
			format!(
				"{bar} {state} | block #{}: {} done, {} extrinsics",
				block.number,
				grouped(f64::from(counted)),
				block.extrinsics
			),
		);
	}

	fn done(&self) {
		if self.terminal {
			eprintln!();
		}
	}
}
