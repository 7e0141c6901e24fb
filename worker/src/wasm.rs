//! Deterministic Wasm execution: wasmtime with WASI preview 1, the only imports a module gets.
//!
//! - **Determinism.** NaNs are canonicalised, threads and relaxed SIMD are off, time is
//!   virtual (clocks start at zero and move only when the task sleeps; a sleep returns at
//!   once: [`crate::virtual_time`]) and the random generators are ChaCha20 streams keyed by the task (code
//!   hash and arguments), and file metadata and directory listings are the same on every host
//!   ([`crate::deterministic_fs`]), so the same task gives bit-identical output on any honest
//!   host.
//!   Output beyond the log cap is dropped, never refused (a refused write changes the result).
//! - **Sandbox.** The module sees its arguments, stdin, a read-only `/input` and a writable
//!   `/output`, nothing else: no network, no other files, no environment.
//! - **Limits.** Fuel (reported as used), a memory limiter, and a wall-clock limit through
//!   epoch interruption (a ticker thread advances the epoch every [`TICK`]).
//! - Untrusted modules are compiled within bounds: at most [`MAX_MODULE_BYTES`], on one
//!   thread; compiled modules are cached by code hash, at most [`CACHE_BYTES`] of them (by
//!   module size), least recently used out first.

use crate::task::{Failure, Hash, Limits, Resources};
use crate::{
	capped_output::CappedOutput,
	deterministic_fs::{add_deterministic_fs, FileIdentities},
	instrument::{self, NATIVE_STACK_BYTES, STACK_HEIGHT_EXPORT, STACK_LIMIT},
	output_quota::{add_output_quota, OutputQuota},
	virtual_time::{add_poll_oneoff, VirtualClock},
};
use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
use std::{
	collections::HashMap,
	path::Path,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};
use wasmtime::{Config, Engine, Linker, Module, Store, Trap};
use wasmtime_wasi::{
	p2::pipe::MemoryInputPipe, preview1::WasiP1Ctx, DirPerms, FilePerms, WasiCtxBuilder,
};

/// The version of this engine's deterministic behaviour: fuel costs (wasmtime's, per
/// operator), virtual time, the random streams, the memory accounting. Bumped whenever any of
/// them changes; workers advertise it (`WasmEngineVersion`) and sign it in attestations.
pub const ENGINE_VERSION: u32 = 3;

/// Native stack for the host calls (WASI) made from the deepest Wasm frame.
const HOST_STACK_BYTES: usize = 8 << 20;

/// Granularity of the wall-clock limit.
pub const TICK: Duration = Duration::from_millis(10);
/// The largest module compiled: compile time and memory grow with it, and Cranelift cannot be
/// interrupted, so the size is what bounds them.
pub const MAX_MODULE_BYTES: usize = 32 << 20;
/// Module bytes whose compiled modules are kept.
pub const CACHE_BYTES: usize = 256 << 20;

/// Compiled modules by code hash, with their size and when each was last used.
#[derive(Default)]
struct ModuleCache {
	modules: HashMap<Hash, (Module, usize, u64)>,
	bytes: usize,
	clock: u64,
}

impl ModuleCache {
	fn get(&mut self, code_hash: &Hash) -> Option<Module> {
		self.clock += 1;
		let clock = self.clock;
		self.modules.get_mut(code_hash).map(|(module, _, used)| {
			*used = clock;
			module.clone()
		})
	}

	/// Keeps `module`, dropping the least recently used until the cache fits.
	fn insert(&mut self, code_hash: Hash, module: Module, size: usize) {
		self.clock += 1;
		if let Some((_, old, _)) = self.modules.insert(code_hash, (module, size, self.clock)) {
			self.bytes -= old;
		}
		self.bytes += size;
		while self.bytes > CACHE_BYTES && self.modules.len() > 1 {
			let oldest = self.modules.iter().min_by_key(|(_, (_, _, used))| *used).map(|(h, _)| *h);
			let Some((_, size, _)) = oldest.and_then(|h| self.modules.remove(&h)) else { break };
			self.bytes -= size;
		}
	}
}

/// What a finished Wasm run reports besides its output directory.
#[derive(Debug)]
pub struct WasmRun {
	pub resources: Resources,
	pub stdout: String,
	pub stderr: String,
}

/// The Wasm executor; cheap to clone and share between tasks.
#[derive(Clone)]
pub struct WasmExecutor {
	engine: Engine,
	linker: Arc<Linker<TaskState>>,
	cache: Arc<Mutex<ModuleCache>>,
}

struct TaskState {
	wasi: WasiP1Ctx,
	limiter: MemoryLimiter,
	clock: VirtualClock,
	files: FileIdentities,
	quota: OutputQuota,
}

/// Bytes a table element is counted as (a reference: a pointer and its type on 64-bit hosts).
const TABLE_ELEMENT_BYTES: usize = 16;

/// Caps all linear memories and tables of a task together (multi-memory is on in wasmtime, so
/// a module may have several of each), and remembers whether the cap was hit, so that the
/// failure can say so.
struct MemoryLimiter {
	limit: usize,
	/// Bytes in linear memories and tables now, and at most.
	used: usize,
	peak: usize,
	denied: bool,
}

impl MemoryLimiter {
	fn new(limit: usize) -> Self {
		MemoryLimiter { limit, used: 0, peak: 0, denied: false }
	}

	/// Grows the total by `desired - current` bytes, or refuses (and traps: the task could not
	/// go on anyway) past the limit.
	fn grow(&mut self, current: usize, desired: usize) -> anyhow::Result<bool> {
		let total = self.used.saturating_sub(current).saturating_add(desired);
		if total > self.limit {
			self.denied = true;
			anyhow::bail!(
				"memory limit of {} bytes reached (memories and tables together)",
				self.limit
			);
		}
		self.used = total;
		self.peak = self.peak.max(total);
		Ok(true)
	}
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
	fn memory_growing(
		&mut self,
		current: usize,
		desired: usize,
		_max: Option<usize>,
	) -> anyhow::Result<bool> {
		self.grow(current, desired)
	}

	fn table_growing(
		&mut self,
		current: usize,
		desired: usize,
		_max: Option<usize>,
	) -> anyhow::Result<bool> {
		self.grow(
			current.saturating_mul(TABLE_ELEMENT_BYTES),
			desired.saturating_mul(TABLE_ELEMENT_BYTES),
		)
	}
}

impl WasmExecutor {
	/// A new executor, with its epoch ticker.
	pub fn new() -> anyhow::Result<Self> {
		let mut config = Config::new();
		config
			.consume_fuel(true)
			.epoch_interruption(true)
			// NaNs are canonicalised where they can be seen, by the rewrite (instrument.rs).
			.cranelift_nan_canonicalization(false)
			.max_wasm_stack(NATIVE_STACK_BYTES)
			.wasm_threads(false)
			.wasm_tail_call(false)
			.wasm_relaxed_simd(false)
			.relaxed_simd_deterministic(true)
			.wasm_component_model(false)
			// One thread per compilation: a worker runs several tasks, and an untrusted module
			// must not take every core.
			.parallel_compilation(false);
		let engine = Engine::new(&config)?;
		let mut linker = Linker::new(&engine);
		wasmtime_wasi::preview1::add_to_linker_sync(&mut linker, |state: &mut TaskState| {
			&mut state.wasi
		})?;
		add_poll_oneoff(&mut linker, |state: &TaskState| &state.clock)?;
		add_deterministic_fs(&mut linker, |state: &mut TaskState| {
			(&mut state.wasi, &mut state.files)
		})?;
		add_output_quota(&mut linker, |state: &mut TaskState| (&mut state.wasi, &mut state.quota))?;
		let weak = engine.weak();
		std::thread::Builder::new().name("wasm-epoch".into()).spawn(move || {
			// Ends when the last executor sharing the engine is gone.
			while let Some(engine) = weak.upgrade() {
				engine.increment_epoch();
				drop(engine);
				std::thread::sleep(TICK);
			}
		})?;
		Ok(WasmExecutor { engine, linker: Arc::new(linker), cache: Default::default() })
	}

	/// Compiles `module` (or takes it from the cache).
	fn module(&self, code_hash: &Hash, bytes: &[u8]) -> Result<Module, Failure> {
		if let Some(module) = self.cache.lock().expect("cache lock").get(code_hash) {
			return Ok(module);
		}
		if bytes.len() > MAX_MODULE_BYTES {
			return Err(Failure::InvalidModule(format!(
				"{} bytes, larger than the {} MiB a worker compiles",
				bytes.len(),
				MAX_MODULE_BYTES >> 20
			)));
		}
		// The limits that decide the result are put into the module itself; the rewrite also
		// validates it against the sandbox's features.
		let instrumented = instrument::instrument(bytes).map_err(Failure::InvalidModule)?;
		let module = Module::new(&self.engine, &instrumented)
			.map_err(|e| Failure::InvalidModule(format!("{e:#}")))?;
		self.cache.lock().expect("cache lock").insert(*code_hash, module.clone(), bytes.len());
		Ok(module)
	}

	/// Whether a compiled module for `code_hash` is cached.
	pub fn is_cached(&self, code_hash: &Hash) -> bool {
		self.cache.lock().expect("cache lock").modules.contains_key(code_hash)
	}

	/// Runs a module whose code hash was already checked, with `input` (a directory) at
	/// `/input` and `output` at `/output`. Blocking: call it from a blocking thread. The
	/// module runs on a thread of its own, whose stack holds [`NATIVE_STACK_BYTES`] of Wasm
	/// frames and the host calls above them.
	#[allow(clippy::too_many_arguments)]
	pub fn run(
		&self,
		code_hash: &Hash,
		module_bytes: &[u8],
		args: &[String],
		stdin: &[u8],
		input: Option<&Path>,
		output: &Path,
		limits: &Limits,
	) -> Result<WasmRun, Failure> {
		std::thread::scope(|scope| {
			std::thread::Builder::new()
				.name("wasm-task".into())
				.stack_size(NATIVE_STACK_BYTES + HOST_STACK_BYTES)
				.spawn_scoped(scope, || {
					self.run_here(code_hash, module_bytes, args, stdin, input, output, limits)
				})
				.map_err(|e| Failure::Io(format!("cannot start the task's thread: {e}")))?
				.join()
				.map_err(|_| Failure::Io("the task's thread panicked".into()))?
		})
	}

	#[allow(clippy::too_many_arguments)]
	fn run_here(
		&self,
		code_hash: &Hash,
		module_bytes: &[u8],
		args: &[String],
		stdin: &[u8],
		input: Option<&Path>,
		output: &Path,
		limits: &Limits,
	) -> Result<WasmRun, Failure> {
		let module = self.module(code_hash, module_bytes)?;
		let io = |e: anyhow::Error| Failure::Io(format!("{e:#}"));

		let stdout = CappedOutput::new(limits.output_cap);
		let stderr = CappedOutput::new(limits.output_cap);
		// The seed: the task itself, so that honest workers draw the same numbers.
		let mut seed_material = code_hash.to_vec();
		for arg in args {
			seed_material.extend((arg.len() as u64).to_le_bytes());
			seed_material.extend(arg.as_bytes());
		}
		let seed = crate::digest::blake2_256(&seed_material);
		// Two streams of one key: what the task draws as `random_get` and as the insecure
		// generator never repeat each other (nor, unlike a repeated seed, themselves).
		let secure = ChaCha20Rng::from_seed(seed);
		let mut insecure = ChaCha20Rng::from_seed(seed);
		insecure.set_stream(1);

		let clock = VirtualClock::default();
		let mut wasi = WasiCtxBuilder::new();
		// argv[0] is the program name, as on any OS.
		let argv: Vec<&str> =
			std::iter::once("app").chain(args.iter().map(String::as_str)).collect();
		wasi.args(&argv)
			.stdin(MemoryInputPipe::new(stdin.to_vec()))
			.stdout(stdout.clone())
			.stderr(stderr.clone())
			.wall_clock(clock.clone())
			.monotonic_clock(clock.clone())
			.secure_random(secure)
			.insecure_random(insecure)
			.insecure_random_seed(0)
			.allow_tcp(false)
			.allow_udp(false)
			.allow_ip_name_lookup(false);
		if let Some(input) = input {
			wasi.preopened_dir(input, "/input", DirPerms::READ, FilePerms::READ).map_err(io)?;
		}
		wasi.preopened_dir(output, "/output", DirPerms::all(), FilePerms::all()).map_err(io)?;

		let limit = usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX);
		let state = TaskState {
			wasi: wasi.build_p1(),
			limiter: MemoryLimiter::new(limit),
			clock,
			files: FileIdentities::default(),
			quota: OutputQuota::new(limits.output_bytes),
		};
		let mut store = Store::new(&self.engine, state);
		store.limiter(|state| &mut state.limiter);
		store.set_fuel(limits.fuel).map_err(io)?;
		let ticks = (limits.wall_time.as_millis() / TICK.as_millis()).max(1) as u64;
		store.set_epoch_deadline(ticks);

		let started = Instant::now();
		let mut stack_height = None;
		let outcome = self
			.linker
			.instantiate(&mut store, &module)
			.map_err(|e| classify_link_error(e))
			.and_then(|instance| {
				stack_height = instance.get_global(&mut store, STACK_HEIGHT_EXPORT);
				let start = instance
					.get_typed_func::<(), ()>(&mut store, "_start")
					.map_err(|e| Failure::InvalidModule(format!("no `_start` entry point: {e}")))?;
				Ok(start.call(&mut store, ()))
			});
		let wall_time = started.elapsed();
		// A trap leaves the frames' units counted: past the limit, the stack limit trapped.
		let stack_overflow = stack_height
			.and_then(|global| global.get(&mut store).i32())
			.is_some_and(|height| height as u32 > STACK_LIMIT);
		let fuel = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
		let state = store.into_data();
		let resources = Resources { fuel, wall_time, peak_memory_bytes: state.limiter.peak as u64 };
		let stdout = String::from_utf8_lossy(&stdout.contents()).into_owned();
		let stderr = String::from_utf8_lossy(&stderr.contents()).into_owned();

		let call = match outcome {
			// A module whose initial memory is over the limit fails to instantiate.
			Err(_) if state.limiter.denied => {
				return Err(Failure::OutOfMemory { limit_bytes: limits.memory_bytes })
			}
			Err(failure) => return Err(failure),
			Ok(call) => call,
		};
		match call {
			Ok(()) => Ok(WasmRun { resources, stdout, stderr }),
			Err(error) => {
				if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
					return if exit.0 == 0 {
						Ok(WasmRun { resources, stdout, stderr })
					} else {
						Err(Failure::NonZeroExit { code: i64::from(exit.0), stderr })
					};
				}
				if state.limiter.denied {
					return Err(Failure::OutOfMemory { limit_bytes: limits.memory_bytes });
				}
				if stack_overflow {
					return Err(Failure::StackOverflow { limit: STACK_LIMIT });
				}
				Err(match error.downcast_ref::<Trap>() {
					Some(Trap::OutOfFuel) => Failure::OutOfFuel { fuel: limits.fuel },
					Some(Trap::Interrupt) => Failure::Timeout { seconds: wall_time.as_secs_f64() },
					_ => Failure::Trap(format!("{error:#}")),
				})
			}
		}
	}
}

/// Instantiation fails on imports the sandbox does not provide, or on a start-up trap.
fn classify_link_error(error: anyhow::Error) -> Failure {
	let text = format!("{error:#}");
	if text.contains("unknown import") {
		Failure::ForbiddenImport(text)
	} else {
		Failure::Trap(text)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_module_cache_keeps_its_byte_bound_dropping_the_least_recently_used() {
		let engine = Engine::default();
		let module = Module::new(&engine, "(module)").unwrap();
		let mut cache = ModuleCache::default();
		cache.insert([1; 32], module.clone(), 100 << 20);
		cache.insert([2; 32], module.clone(), 100 << 20);
		// Using the first makes the second the least recently used.
		assert!(cache.get(&[1; 32]).is_some());
		cache.insert([3; 32], module.clone(), 100 << 20);
		assert!(cache.modules.contains_key(&[1; 32]));
		assert!(!cache.modules.contains_key(&[2; 32]));
		assert!(cache.modules.contains_key(&[3; 32]));
		assert_eq!(cache.bytes, 200 << 20);
		// A module larger than the whole bound stays alone.
		cache.insert([4; 32], module, CACHE_BYTES + 1);
		assert_eq!(cache.modules.len(), 1);
		assert_eq!(cache.bytes, CACHE_BYTES + 1);
	}
}
