//! `classad-bench`: figures for docs/benchmarks.md — parse time, encoded size and evaluations
//! per second of a realistic machine ad against a job ad, and the worst-case evaluation steps
//! at the default bounds, and the cost of parsing and checking each dense shape of text at the
//! longest length (what the registry's `propose` weight covers). Build with `--release` for
//! meaningful times.

use codec::Encode;
use iexec_classad::{dense::dense_texts, evaluate, matching, parse_ad, parse_expr, Limits};
use std::time::Instant;

const MACHINE: &str = r#"[
	Cpus = 16; Memory = 65536; Disk = 512000; Arch = "x86_64"; OpSys = "LINUX";
	GPUs = 2; GPUMemory = 81920; Runtimes = { "wasm", "docker" };
	Requirements = TARGET.RequestMemory <= MY.Memory && TARGET.RequestCpus <= MY.Cpus
]"#;

const JOB: &str = r#"[
	RequestCpus = 4; RequestMemory = 16384; RequestDisk = 10240; Owner = "alice";
	MaxPrice = 20; Category = "M"; Trust = 3; ImageSize = 2048;
	Requirements = TARGET.Memory >= MY.RequestMemory && TARGET.Cpus >= MY.RequestCpus &&
		TARGET.Disk >= MY.RequestDisk && TARGET.Arch == "x86_64" &&
		member("docker", TARGET.Runtimes) && (TARGET.GPUs >= 1 ? TARGET.GPUMemory >= 16384 : false);
	Rank = TARGET.Memory / 1024 + TARGET.GPUs * 10
]"#;

fn per_second(iterations: u32, started: Instant) -> f64 {
	f64::from(iterations) / started.elapsed().as_secs_f64()
}

fn main() {
	let limits = Limits::default();
	let machine = parse_ad(MACHINE, &limits).expect("machine ad parses");
	let job = parse_ad(JOB, &limits).expect("job ad parses");

	let n = 20_000;
	let started = Instant::now();
	for _ in 0..n {
		std::hint::black_box(parse_ad(std::hint::black_box(JOB), &limits).unwrap());
	}
	let parse_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);

	let n = 200_000;
	let started = Instant::now();
	let mut steps = 0;
	for _ in 0..n {
		let outcome = matching::match_ads(std::hint::black_box(&job), &machine, &limits);
		assert!(outcome.symmetric());
		let rank = matching::rank(&job, &machine, &limits);
		steps = outcome.steps + rank.steps;
	}
	let matches_per_s = per_second(n, started);

	// Worst case at the bounds: a tree of references that fans out until the step budget
	// runs out, as deep as references may nest (deeper chains stop at that bound sooner).
	let levels = limits.max_attributes.min(limits.max_reference_depth);
	let mut source = String::from("[ A0 = 1");
	for i in 1..levels {
		source.push_str(&format!("; A{i} = A{p} + A{p}", p = i - 1));
	}
	source.push_str(" ]");
	let worst = parse_ad(&source, &Limits { max_source_len: 1 << 16, ..limits }).unwrap();
	let expr = parse_expr(&format!("A{}", levels - 1), &limits).unwrap();
	let started = Instant::now();
	let worst_eval = evaluate(&expr, Some(&worst), None, &limits);
	let worst_us = started.elapsed().as_secs_f64() * 1e6;

	println!("job ad: {} attributes, {} nodes", job.len(), job.node_count());
	println!("parse job ad:            {parse_us:.1} µs");
	println!(
		"encoded size (SCALE):    job {} bytes, machine {} bytes, source {} bytes",
		job.encode().len(),
		machine.encode().len(),
		JOB.len()
	);
	println!("match both ways + rank:  {matches_per_s:.0} per second ({steps} steps each)");
	println!(
		"worst case at default bounds: {} steps (limit {}), limit hit: {}, {worst_us:.0} µs",
		worst_eval.steps, limits.max_steps, worst_eval.limit_hit
	);

	// Parse and check, as the registry does for a proposal, each dense shape at full length.
	let len = limits.max_source_len as usize;
	println!("parse + check {len}-byte texts (median of 11 runs of 2,000):");
	for (shape, text) in dense_texts(len, &limits) {
		let mut runs: Vec<f64> = (0..11)
			.map(|_| {
				let started = Instant::now();
				for _ in 0..2_000 {
					let expr = parse_expr(std::hint::black_box(&text), &limits).unwrap();
					assert!(std::hint::black_box(expr.problems()).is_empty());
				}
				started.elapsed().as_secs_f64() * 1e6 / 2_000.0
			})
			.collect();
		runs.sort_by(f64::total_cmp);
		let nodes = parse_expr(&text, &limits).unwrap().node_count();
		println!("  {:<8} {nodes:>4} nodes  {:>7.1} µs", format!("{shape:?}"), runs[5]);
	}
}
