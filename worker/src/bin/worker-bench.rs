//! `worker-bench`: figures for docs/benchmarks.md.
//!
//! ```sh
//! cargo run -p iexec-worker --bin worker-bench
//! ```
//!
//! A debug build measures the kernels as a release build does: wasmtime and Cranelift are
//! optimised in every profile of the workspace, and so are the native kernels
//! (`iexec-bench-kernels`). Only the result digest needs `--release`.
//!
//! - compute kernels (a float matrix multiply, an integer hash, branchy integer code, a
//!   memory-bound pointer chase) run by the Wasm executor (the rewrite of instrument.rs with its
//!   fuel, stack limit and watchdog, as in production) against the same loops compiled
//!   natively with the processor features Cranelift uses, under wasmtime with each of its own
//!   determinism features alone, and rewritten for each [`Determinism`]. Each figure is the
//!   median of 11 runs, with the fastest and slowest beside it; compilation is never timed;
//! - executor start-up per task, module compiled or cached;
//! - Docker container start overhead (when an engine answers);
//! - result digest throughput.

use iexec_bench_kernels as native;
use iexec_worker::{
	digest::{blake2_256, directory_digest},
	engine::TaskEngine,
	task::{App, Determinism, Limits, Task},
};
use std::time::{Duration, Instant};

/// The same kernels in WAT. Each writes its result (8 bytes) to /output/result.
fn kernel_module(body: &str) -> Vec<u8> {
	wat::parse_str(format!(
		r#"(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1100)
  (data (i32.const 16) "result")
  (func $emit (param $at i32)
    (drop (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 6) (i32.const 9)
      (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 32)))
    (i32.store (i32.const 40) (local.get $at))
    (i32.store (i32.const 44) (i32.const 8))
    (drop (call $fd_write (i32.load (i32.const 32)) (i32.const 40) (i32.const 1) (i32.const 48))))
  {body})"#
	))
	.expect("kernel WAT is valid")
}

fn matmul_wasm() -> Vec<u8> {
	// A at 1 MiB, B at 1 MiB + 128 KiB, C at 1 MiB + 256 KiB.
	kernel_module(
		r#"
  (func (export "_start")
    (local $i i32) (local $j i32) (local $k i32) (local $r i32) (local $sum f64) (local $total f64)
    (loop $fill
      (f64.store (i32.add (i32.const 1048576) (i32.shl (local.get $i) (i32.const 3)))
        (f64.mul (f64.convert_i32_u (i32.rem_u (local.get $i) (i32.const 7))) (f64.const 0.5)))
      (f64.store (i32.add (i32.const 1179648) (i32.shl (local.get $i) (i32.const 3)))
        (f64.mul (f64.convert_i32_u (i32.rem_u (local.get $i) (i32.const 5))) (f64.const 0.25)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 16384))))
    (loop $reps
      (local.set $i (i32.const 0))
      (loop $li
        (local.set $j (i32.const 0))
        (loop $lj
          (local.set $sum (f64.const 0))
          (local.set $k (i32.const 0))
          (loop $lk
            (local.set $sum (f64.add (local.get $sum) (f64.mul
              (f64.load (i32.add (i32.const 1048576)
                (i32.shl (i32.add (i32.mul (local.get $i) (i32.const 128)) (local.get $k)) (i32.const 3))))
              (f64.load (i32.add (i32.const 1179648)
                (i32.shl (i32.add (i32.mul (local.get $k) (i32.const 128)) (local.get $j)) (i32.const 3)))))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br_if $lk (i32.lt_u (local.get $k) (i32.const 128))))
          (f64.store (i32.add (i32.const 1310720)
            (i32.shl (i32.add (i32.mul (local.get $i) (i32.const 128)) (local.get $j)) (i32.const 3)))
            (local.get $sum))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $lj (i32.lt_u (local.get $j) (i32.const 128))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $li (i32.lt_u (local.get $i) (i32.const 128))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $reps (i32.lt_u (local.get $r) (i32.const 30))))
    (local.set $i (i32.const 0))
    (loop $sum_c
      (local.set $total (f64.add (local.get $total)
        (f64.load (i32.add (i32.const 1310720) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $sum_c (i32.lt_u (local.get $i) (i32.const 16384))))
    (f64.store (i32.const 64) (local.get $total))
    (call $emit (i32.const 64)))
"#,
	)
}

fn collatz_wasm() -> Vec<u8> {
	kernel_module(
		r#"
  (func (export "_start")
    (local $n i64) (local $x i64) (local $total i64)
    (local.set $n (i64.const 1))
    (loop $outer
      (local.set $x (local.get $n))
      (block $done
        (loop $steps
          (br_if $done (i64.eq (local.get $x) (i64.const 1)))
          (if (i64.eqz (i64.and (local.get $x) (i64.const 1)))
            (then (local.set $x (i64.shr_u (local.get $x) (i64.const 1))))
            (else (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 3)) (i64.const 1)))))
          (local.set $total (i64.add (local.get $total) (i64.const 1)))
          (br $steps)))
      (local.set $n (i64.add (local.get $n) (i64.const 1)))
      (br_if $outer (i64.le_u (local.get $n) (i64.const 300000))))
    (i64.store (i32.const 64) (local.get $total))
    (call $emit (i32.const 64)))
"#,
	)
}

fn chase_wasm() -> Vec<u8> {
	// The table at 1 MiB.
	kernel_module(
		r#"
  (func (export "_start")
    (local $i i32) (local $p i32) (local $sum i64) (local $s i32)
    (loop $fill
      (i32.store (i32.add (i32.const 1048576) (i32.shl (local.get $i) (i32.const 2)))
        (i32.and (i32.add (i32.mul (local.get $i) (i32.const 1664525)) (i32.const 1013904223))
          (i32.const 4194303)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 4194304))))
    (loop $chase
      (local.set $p (i32.load (i32.add (i32.const 1048576) (i32.shl (local.get $p) (i32.const 2)))))
      (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_u (local.get $p))))
      (local.set $s (i32.add (local.get $s) (i32.const 1)))
      (br_if $chase (i32.lt_u (local.get $s) (i32.const 16777216))))
    (i64.store (i32.const 64) (local.get $sum))
    (call $emit (i32.const 64)))
"#,
	)
}

fn hash_wasm() -> Vec<u8> {
	// 64 MiB of words from offset 1 MiB.
	kernel_module(
		r#"
  (func (export "_start")
    (local $p i32) (local $x i64) (local $h i64) (local $pass i32)
    (local.set $x (i64.const 0x9e3779b97f4a7c15))
    (local.set $p (i32.const 1048576))
    (loop $fill
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
      (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
      (i64.store (local.get $p) (local.get $x))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (br_if $fill (i32.lt_u (local.get $p) (i32.const 68157440))))
    (local.set $h (i64.const 0xcbf29ce484222325))
    (loop $passes
      (local.set $p (i32.const 1048576))
      (loop $mix
        (local.set $h (i64.rotl (i64.mul (i64.xor (local.get $h) (i64.load (local.get $p)))
          (i64.const 0x100000001b3)) (i64.const 13)))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br_if $mix (i32.lt_u (local.get $p) (i32.const 68157440))))
      (local.set $pass (i32.add (local.get $pass) (i32.const 1)))
      (br_if $passes (i32.lt_u (local.get $pass) (i32.const 4))))
    (i64.store (i32.const 64) (local.get $h))
    (call $emit (i32.const 64)))
"#,
	)
}

/// The same module under wasmtime with only the given determinism features (`nan`: NaN
/// canonicalisation, `fuel`: fuel metering): what each one costs. Compilation is not timed.
fn plain_wasmtime(module: &[u8], nan: bool, fuel: bool) {
	use wasmtime::{Config, Engine, Linker, Module, Store};
	use wasmtime_wasi::{preview1::WasiP1Ctx, DirPerms, FilePerms, WasiCtxBuilder};
	type Compiled = (Vec<u8>, bool, bool, Engine, Module);
	thread_local! {
		static COMPILED: std::cell::RefCell<Option<Compiled>> = const { std::cell::RefCell::new(None) };
	}
	let (engine, compiled) = COMPILED.with(|cache| {
		let mut cache = cache.borrow_mut();
		let hit = matches!(cache.as_ref(), Some((b, n, f, _, _)) if b.as_slice() == module && *n == nan && *f == fuel);
		if !hit {
			let mut config = Config::new();
			config.cranelift_nan_canonicalization(nan).consume_fuel(fuel);
			let engine = Engine::new(&config).expect("engine");
			let compiled = Module::new(&engine, module).expect("module compiles");
			*cache = Some((module.to_vec(), nan, fuel, engine, compiled));
		}
		let (_, _, _, engine, compiled) = cache.as_ref().expect("just set");
		(engine.clone(), compiled.clone())
	});
	let out = tempfile::tempdir().expect("tempdir");
	let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
	wasmtime_wasi::preview1::add_to_linker_sync(&mut linker, |ctx| ctx).expect("wasi links");
	let wasi = WasiCtxBuilder::new()
		.preopened_dir(out.path(), "/output", DirPerms::all(), FilePerms::all())
		.expect("preopen")
		.build_p1();
	let mut store = Store::new(&engine, wasi);
	if fuel {
		store.set_fuel(u64::MAX / 4).expect("fuel");
	}
	let instance = linker.instantiate(&mut store, &compiled).expect("instantiates");
	// A rewritten module meters its own fuel: give it plenty.
	if let Some(meter) = instance.get_memory(&mut store, iexec_worker::instrument::FUEL_EXPORT) {
		meter.write(&mut store, 0, &(i64::MAX / 2).to_le_bytes()).expect("fuel");
	}
	let start = instance.get_typed_func::<(), ()>(&mut store, "_start").expect("_start");
	start.call(&mut store, ()).expect("runs");
}

fn task(module: &[u8]) -> Task {
	Task {
		app: App::Wasm { module: module.to_vec(), code_hash: blake2_256(module) },
		args: Vec::new(),
		stdin: Vec::new(),
		input: None,
		limits: Limits {
			fuel: u64::MAX / 4,
			memory_bytes: 128 << 20,
			wall_time: Duration::from_secs(120),
			..Limits::default()
		},
	}
}

/// Timings of several runs of one thing.
struct Spread {
	sorted: Vec<Duration>,
}

impl Spread {
	fn new(mut times: Vec<Duration>) -> Self {
		assert!(!times.is_empty(), "at least one run");
		times.sort();
		Spread { sorted: times }
	}

	fn median(&self) -> Duration {
		self.sorted[self.sorted.len() / 2]
	}

	/// `median ms (fastest–slowest)`.
	fn show(&self) -> String {
		let ms = |d: &Duration| d.as_secs_f64() * 1e3;
		format!(
			"{:>8.1} ms ({:.1}–{:.1})",
			ms(&self.median()),
			ms(&self.sorted[0]),
			ms(self.sorted.last().expect("not empty"))
		)
	}
}

/// `runs` timings of `f`, and what its last run returned.
fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (Spread, T) {
	let mut times = Vec::new();
	let mut last = None;
	for _ in 0..runs {
		let started = Instant::now();
		last = Some(f());
		times.push(started.elapsed());
	}
	(Spread::new(times), last.expect("runs > 0"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
	let work = tempfile::tempdir()?;
	let engine = TaskEngine::new(work.path()).await?;
	let runs = 11;

	println!("native kernels: opt-level 3, {}", native::features());
	for (name, module, native) in [
		(
			"f64 matmul 128x128 x30",
			matmul_wasm(),
			Box::new(|| native::matmul().to_le_bytes()) as Box<dyn Fn() -> [u8; 8]>,
		),
		("u64 hash over 64 MiB x4", hash_wasm(), Box::new(|| native::hash().to_le_bytes())),
		("collatz steps to 300,000", collatz_wasm(), Box::new(|| native::collatz().to_le_bytes())),
		("pointer chase 16 MiB x16M", chase_wasm(), Box::new(|| native::chase().to_le_bytes())),
	] {
		let (native_times, native_result) = timed(runs, || native());
		engine.run(task(&module)).await.map_err(|f| anyhow::anyhow!("{f}"))?; // compile and cache
		let mut wasm_times = Vec::new();
		let mut fuel = 0;
		for _ in 0..runs {
			let outcome = engine.run(task(&module)).await.map_err(|f| anyhow::anyhow!("{f}"))?;
			let result = std::fs::read(outcome.output_dir.join("result"))?;
			assert_eq!(result, native_result, "{name}: Wasm and native results differ");
			wasm_times.push(outcome.resources.wall_time);
			fuel = outcome.resources.fuel;
			std::fs::remove_dir_all(&outcome.output_dir)?;
		}
		let executor = Spread::new(wasm_times);
		// Off the async runtime: WASI's synchronous calls start their own.
		let plain_module = module.clone();
		let rewrite = |determinism| {
			iexec_worker::instrument::instrument(&module, determinism).map_err(anyhow::Error::msg)
		};
		let (portable, one_arch) =
			(rewrite(Determinism::Portable)?, rewrite(Determinism::SameArchitecture)?);
		let (variants, rewrites) = std::thread::spawn(move || {
			let variants =
				[(false, false), (true, false), (false, true), (true, true)].map(|(nan, fuel)| {
					(nan, fuel, timed(runs, || plain_wasmtime(&plain_module, nan, fuel)).0)
				});
			// The executor's rewrite: stack limit, its own fuel, NaNs canonicalised where seen
			// (portable) or not (one architecture).
			let rewrites =
				[portable, one_arch].map(|m| timed(runs, || plain_wasmtime(&m, false, false)).0);
			(variants, rewrites)
		})
		.join()
		.expect("baseline thread");
		let ratio = |t: &Spread| t.median().as_secs_f64() / native_times.median().as_secs_f64();
		println!("{name}: native {}", native_times.show());
		let rows = variants
			.iter()
			.map(|(nan, fuel, time)| {
				let label = match (nan, fuel) {
					(false, false) => "wasmtime defaults",
					(true, false) => "+ NaN canonicalisation",
					(false, true) => "+ fuel",
					(true, true) => "+ NaN canonicalisation + fuel",
				};
				(label.to_string(), time)
			})
			.chain([
				("rewrite, portable".to_string(), &rewrites[0]),
				("rewrite, one architecture".to_string(), &rewrites[1]),
				(format!("executor, portable ({fuel} fuel)"), &executor),
			]);
		for (label, time) in rows {
			println!("  {label:<34} {}  {:.2}x", time.show(), ratio(time));
		}
	}

	// Start-up of a trivial task: compiling the module, or taking it from the cache.
	let trivial =
		wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "_start")))"#)?;
	let mut cold = Vec::new();
	for i in 0..runs {
		// A distinct module each time (an extra export) so that nothing is cached.
		let fresh = wat::parse_str(format!(
			r#"(module (memory (export "memory") 1) (func (export "_start")) (func (export "f{i}")))"#
		))?;
		let started = Instant::now();
		engine.run(task(&fresh)).await.map_err(|f| anyhow::anyhow!("{f}"))?;
		cold.push(started.elapsed());
	}
	cold.sort();
	engine.run(task(&trivial)).await.map_err(|f| anyhow::anyhow!("{f}"))?;
	let mut warm = Vec::new();
	for _ in 0..20 {
		let started = Instant::now();
		engine.run(task(&trivial)).await.map_err(|f| anyhow::anyhow!("{f}"))?;
		warm.push(started.elapsed());
	}
	warm.sort();
	println!(
		"task start-up (trivial module, whole engine.run): compiled {:.2} ms, cached {:.2} ms",
		cold[runs / 2].as_secs_f64() * 1e3,
		warm[10].as_secs_f64() * 1e3
	);

	// Docker: a container that does nothing, end to end (create, start, wait, logs, remove).
	if engine.docker().is_some() {
		if let Ok(image) = std::env::var("BENCH_DOCKER_IMAGE") {
			let mut times = Vec::new();
			for _ in 0..runs {
				let t = Task {
					app: App::Docker { image_id: image.clone() },
					args: vec!["/bin/sh".into(), "-c".into(), "true".into()],
					stdin: Vec::new(),
					input: None,
					limits: Limits::default(),
				};
				let started = Instant::now();
				engine.run(t).await.map_err(|f| anyhow::anyhow!("{f}"))?;
				times.push(started.elapsed());
			}
			times.sort();
			println!(
				"docker container overhead (`sh -c true`, end to end): {:.0} ms",
				times[runs / 2].as_secs_f64() * 1e3
			);
		} else {
			println!("docker: set BENCH_DOCKER_IMAGE to an image ID to measure container overhead");
		}
	}

	// Digest throughput over 1 GiB in 16 files: the hashing crates are optimised only in a
	// release build, so a debug build's figure would say nothing.
	if cfg!(debug_assertions) {
		println!("result digest: not measured in a debug build (use --release)");
		return Ok(());
	}
	let data = tempfile::tempdir_in(work.path())?;
	let chunk: Vec<u8> =
		(0..64u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
	for i in 0..16 {
		std::fs::write(data.path().join(format!("part-{i:02}")), &chunk)?;
	}
	let (times, _) = timed(3, || directory_digest(data.path()).expect("digest"));
	let time = times.median();
	println!(
		"result digest: {:.2} s per GiB ({:.0} MiB/s)",
		time.as_secs_f64(),
		1024.0 / time.as_secs_f64()
	);
	Ok(())
}
