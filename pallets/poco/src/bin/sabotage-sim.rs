//! `sabotage-sim`: how well Proof-of-Contribution's rules resist saboteurs, and what a task
//! life weighs.
//!
//! A population of workers, a fraction `f` of which return the same wrong result, runs many
//! tasks at a trust level with the chain's own rules ([`pallet_poco::rules`]): replicas are
//! handed out while those in flight cannot reach consensus, contributions accumulate
//! credibility, winners gain score when their task was replicated, losers lose a third. It
//! prints the rate of accepted wrong results and the mean replicas per task, early and late (as
//! scores build up). Then it prints the weight of a full task life from the pallet's generated
//! weights and the certified tasks a 6 s block can hold.
//!
//!   cargo run --release -p pallet-poco --bin sabotage-sim [-- --tasks N --workers N --seed N]

use pallet_poco::{rules, weights::WeightInfo, CompletionBatches};

/// splitmix64: small, deterministic, good enough to draw workers.
struct Rng(u64);
impl Rng {
	fn next(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}
	fn below(&mut self, n: usize) -> usize {
		(self.next() % n as u64) as usize
	}
}

const MAX_CONTRIBUTORS: usize = 20;

struct Outcome {
	wrong: bool,
	failed: bool,
	replicas: usize,
}

/// One task: replicas go out in waves, as the chain's claim rule allows, and contribute.
fn run_task(scores: &mut [u32], saboteur: &[bool], trust: u32, rng: &mut Rng) -> Outcome {
	// Groups: 0 the right result, 1 the wrong one.
	let mut groups = [0u64; 2];
	let mut total: u128 = 1;
	let mut members: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
	let mut used: Vec<usize> = Vec::new();
	loop {
		// Hand out replicas while those in flight cannot reach consensus.
		let best = groups[0].max(groups[1]);
		let mut pending: Vec<usize> = Vec::new();
		while used.len() + pending.len() < MAX_CONTRIBUTORS
			&& !rules::enough_in_flight(
				best,
				total,
				pending.iter().map(|w| rules::worker_weight(scores[*w])),
				trust,
			) {
			let w = loop {
				let w = rng.below(scores.len());
				if !used.contains(&w) && !pending.contains(&w) {
					break w;
				}
			};
			pending.push(w);
		}
		if pending.is_empty() {
			return Outcome { wrong: false, failed: true, replicas: used.len() };
		}
		for w in pending {
			used.push(w);
			let g = usize::from(saboteur[w]);
			let before = groups[g];
			groups[g] = rules::joined(before, rules::worker_weight(scores[w]));
			total = total - u128::from(before) + u128::from(groups[g]);
			members[g].push(w);
			if rules::consensus(groups[g], total, trust) {
				let replicated = used.len() > 1;
				for winner in &members[g] {
					scores[*winner] = rules::winner_score(scores[*winner], replicated);
				}
				for loser in &members[1 - g] {
					scores[*loser] = rules::loser_score(scores[*loser]);
				}
				return Outcome { wrong: g == 1, failed: false, replicas: used.len() };
			}
		}
	}
}

fn arg(name: &str, default: u64) -> u64 {
	let args: Vec<String> = std::env::args().collect();
	args.iter()
		.position(|a| a == name)
		.and_then(|i| args.get(i + 1))
		.map(|v| v.parse().unwrap_or_else(|_| panic!("{name} takes a number, not {v}")))
		.unwrap_or(default)
}

fn simulate(workers: usize, tasks: usize, seed: u64) {
	println!(
		"Sabotage: {workers} workers, {tasks} tasks per row, saboteurs agree on one wrong result"
	);
	println!(
		"{:>6} {:>6} {:>12} {:>10} {:>10} {:>10} {:>8}",
		"trust", "f", "wrong rate", "bound", "replicas", "late", "failed"
	);
	for trust in [2u32, 10, 100] {
		for f in [0.0f64, 0.1, 0.2, 0.4] {
			let mut rng = Rng(seed ^ u64::from(trust) << 32 ^ (f * 100.0) as u64);
			let saboteur: Vec<bool> =
				(0..workers).map(|_| (rng.next() % 1000) < (f * 1000.0) as u64).collect();
			let mut scores = vec![0u32; workers];
			let (mut wrong, mut failed, mut replicas, mut late) = (0usize, 0usize, 0usize, 0usize);
			let late_from = tasks - tasks / 10;
			for i in 0..tasks {
				let o = run_task(&mut scores, &saboteur, trust, &mut rng);
				wrong += usize::from(o.wrong);
				failed += usize::from(o.failed);
				replicas += o.replicas;
				if i >= late_from {
					late += o.replicas;
				}
			}
			let certified = (tasks - failed).max(1) as f64;
			println!(
				"{:>6} {:>5.0}% {:>11.4}% {:>9.2}% {:>10.2} {:>10.2} {:>8}",
				trust,
				f * 100.0,
				100.0 * wrong as f64 / certified,
				100.0 / f64::from(trust),
				replicas as f64 / tasks as f64,
				late as f64 / (tasks - late_from) as f64,
				failed
			);
		}
	}
}

/// The weight of a task's life from the generated weights (ParityDB's database weights, as
/// the runtime), and what a block holds: 2 s of compute, 75 % for normal extrinsics. (The
/// chain is not a parachain: proof size does not limit its blocks; it is shown for reference.)
fn task_life() {
	type W = ();
	let block_ref_time = 2_000_000_000_000u64 * 3 / 4;
	println!("\nTask life (weights of pallet_poco, ParityDB database weights)");
	println!("{:<44} {:>12} {:>12} {:>14}", "path", "ref_time µs", "proof KiB", "tasks/block");
	let show = |name: &str, w: frame_support::weights::Weight, tasks: u64| {
		let by_time = block_ref_time / (w.ref_time() / tasks).max(1);
		println!(
			"{:<44} {:>12.1} {:>12.1} {:>14}",
			name,
			w.ref_time() as f64 / 1e6 / tasks as f64,
			w.proof_size() as f64 / 1024.0 / tasks as f64,
			by_time
		);
	};
	// Trust 1: a claim that starts the task, then submit (contribute, reveal, complete).
	show("trust 1, single (claim + submit)", W::claim_start(1).saturating_add(W::submit(1)), 1);
	show("trust 1, batched by 32", W::claim_start(32).saturating_add(W::submit(32)), 32);
	// Trust 3 with new workers: two replicas, each claims (the first starts the task),
	// contributes and reveals; the last reveal completes the task, charged as the chain
	// charges it: completions of one deal by one crew together (`CompletionBatches`).
	let life = |n: u32| {
		let mut completions = CompletionBatches::<u32>::default();
		for _ in 0..n {
			completions.add(0, &[1, 2]);
		}
		W::claim_start(n)
			.saturating_add(W::claim(n))
			.saturating_add(W::contribute(n).saturating_mul(2))
			.saturating_add(W::reveal(n))
			.saturating_add(completions.weight(n, W::reveal, W::reveal_complete, W::finalize))
	};
	show("trust 3, single (2 replicas)", life(1), 1);
	show("trust 3, batched by 32 (2 replicas)", life(32), 32);
	// The same completions charged one by one, as a batch of many deals or crews is.
	let alone = W::claim_start(32)
		.saturating_add(W::claim(32))
		.saturating_add(W::contribute(32).saturating_mul(2))
		.saturating_add(W::reveal(32).saturating_mul(2))
		.saturating_add(W::finalize(2).saturating_mul(32));
	show("trust 3, batched by 32, completions alone", alone, 32);
}

fn main() {
	let workers = arg("--workers", 1_000) as usize;
	let tasks = arg("--tasks", 20_000) as usize;
	let seed = arg("--seed", 7);
	if workers < MAX_CONTRIBUTORS {
		eprintln!("sabotage-sim: --workers must be at least {MAX_CONTRIBUTORS}");
		std::process::exit(2);
	}
	if tasks < 10 {
		eprintln!("sabotage-sim: --tasks must be at least 10");
		std::process::exit(2);
	}
	simulate(workers, tasks, seed);
	task_life();
}
