//! Deterministic Wasm execution: wasmtime with WASI preview 1, the only imports a module gets.
//!
//! - **The rewrite.** Every module is rewritten before it is compiled
//!   ([`crate::instrument`]): a stack limit in Wasm terms, NaNs canonicalised where their bits
//!   can be seen, and fuel charged once per loop iteration and function call.
//! - **Determinism.** Threads and relaxed SIMD are off; time is virtual (clocks start at zero
//!   and move only when the task sleeps; a sleep returns at once: [`crate::virtual_time`]); the
//!   random generators are ChaCha20 streams keyed by the task (code hash and arguments); file
//!   metadata and directory listings are the same on every host ([`crate::deterministic_fs`]).
//!   So the same task gives bit-identical output on any honest host. Output beyond the log cap
//!   is dropped, never refused (a refused write changes the result).
//! - **Sandbox.** The module sees its arguments, stdin, a read-only `/input` and a writable
//!   `/output`, nothing else: no network, no other files, no environment.
//! - **Limits.** Fuel (reported as used) and the wall clock, both through the module's fuel
//!   counter and its watchdog ([`crate::fuel_meter`]); a memory limiter over all memories and
//!   tables; the output size as a write quota ([`crate::output_quota`]); a task runs on a
//!   thread of its own with a native stack larger than its Wasm stack limit can use.
//! - Untrusted modules are compiled within bounds: at most [`MAX_MODULE_BYTES`], on one
//!   thread; compiled modules are cached by code hash and determinism, at most
//!   [`CACHE_BYTES`] of them (by module size), least recently used out first.

use crate::task::{Determinism, Failure, Hash, Limits, Resources};
use crate::{
	capped_output::CappedOutput,
	deterministic_fs::{add_deterministic_fs, FileIdentities},
	fuel_meter::{self, Watchdog},
	instrument::{
		self, FUEL_EXPORT, NATIVE_STACK_BYTES, STACK_HEIGHT_EXPORT, STACK_LIMIT, START_EXPORT,
	},
	output_quota::{add_output_quota, OutputQuota},
	virtual_time::{add_poll_oneoff, VirtualClock},
};
use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
use std::{
	collections::HashMap,
	path::Path,
	sync::{Arc, Mutex},
	time::Instant,
};
use wasmtime::{Config, Engine, Linker, Module, Store};
use wasmtime_wasi::{
	p2::pipe::MemoryInputPipe, preview1::WasiP1Ctx, DirPerms, FilePerms, WasiCtxBuilder,
};

/// The version of this engine's deterministic behaviour: the rewrite (fuel costs, the stack
/// limit, where NaNs are canonicalised: instrument.rs), virtual time, the random streams, file
/// metadata, the memory accounting. Bumped whenever any of them changes; workers advertise it
/// (`WasmEngineVersion`) and sign it in attestations.
pub const ENGINE_VERSION: u32 = 4;

/// Native stack for the host calls (WASI) made from the deepest Wasm frame.
const HOST_STACK_BYTES: usize = 8 << 20;

/// The largest module compiled: compile time and memory grow with it, and Cranelift cannot be
/// interrupted, so the size is what bounds them.
pub const MAX_MODULE_BYTES: usize = 32 << 20;
/// Module bytes whose compiled modules are kept.
pub const CACHE_BYTES: usize = 256 << 20;

/// A compiled module's identity: the app's code hash and how it was rewritten.
type ModuleKey = (Hash, Determinism);

/// Compiled modules by code hash and determinism, with their size and when each was last
/// used.
#[derive(Default)]
struct ModuleCache {
	modules: HashMap<ModuleKey, (Module, usize, u64)>,
	bytes: usize,
	clock: u64,
}

impl ModuleCache {
	fn get(&mut self, key: &ModuleKey) -> Option<Module> {
		self.clock += 1;
		let clock = self.clock;
		self.modules.get_mut(key).map(|(module, _, used)| {
			*used = clock;
			module.clone()
		})
	}

	/// Keeps `module`, dropping the least recently used until the cache fits.
	fn insert(&mut self, key: ModuleKey, module: Module, size: usize) {
		self.clock += 1;
		if let Some((_, old, _)) = self.modules.insert(key, (module, size, self.clock)) {
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

/// The meter memory the rewrite adds (one page), left out of the task's memory.
const METER_BYTES: usize = 64 << 10;

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
	/// A new executor.
	pub fn new() -> anyhow::Result<Self> {
		let mut config = Config::new();
		config
			// Fuel is metered by the rewrite, once per loop iteration (instrument.rs).
			// So is the wall clock, through the same counter (fuel_meter.rs).
			.consume_fuel(false)
			.epoch_interruption(false)
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
		Ok(WasmExecutor { engine, linker: Arc::new(linker), cache: Default::default() })
	}

	/// Compiles `module` rewritten for `determinism` (or takes it from the cache).
	fn module(
		&self,
		code_hash: &Hash,
		bytes: &[u8],
		determinism: Determinism,
	) -> Result<Module, Failure> {
		let key = (*code_hash, determinism);
		if let Some(module) = self.cache.lock().expect("cache lock").get(&key) {
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
		let instrumented =
			instrument::instrument(bytes, determinism).map_err(Failure::InvalidModule)?;
		// Vector code grows the most (a canonicalisation after each float operation); bound
		// what Cranelift is given too.
		if instrumented.len() > 4 * MAX_MODULE_BYTES {
			return Err(Failure::InvalidModule(format!(
				"{} bytes once instrumented, more than the {} MiB a worker compiles",
				instrumented.len(),
				4 * MAX_MODULE_BYTES >> 20
			)));
		}
		let module = Module::new(&self.engine, &instrumented)
			.map_err(|e| Failure::InvalidModule(format!("{e:#}")))?;
		self.cache.lock().expect("cache lock").insert(key, module.clone(), instrumented.len());
		Ok(module)
	}

	/// Whether `code_hash`'s module, rewritten for `determinism`, is cached.
	pub fn is_cached(&self, code_hash: &Hash, determinism: Determinism) -> bool {
		self.cache.lock().expect("cache lock").modules.contains_key(&(*code_hash, determinism))
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
		let module = self.module(code_hash, module_bytes, limits.determinism)?;
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
			// The meter's page is the sandbox's, not the task's.
			limiter: MemoryLimiter::new(limit.saturating_add(METER_BYTES)),
			clock,
			files: FileIdentities::default(),
			quota: OutputQuota::new(limits.output_bytes),
		};
		let mut store = Store::new(&self.engine, state);
		store.limiter(|state| &mut state.limiter);

		let started = Instant::now();
		// The counters the rewrite added: the fuel is given before any code runs, and the
		// watchdog ends the task at its wall-time limit through the same counter.
		let mut counters = None;
		let mut timed_out = false;
		let outcome = std::thread::scope(|scope| {
			let instance =
				self.linker.instantiate(&mut store, &module).map_err(|e| classify_link_error(e))?;
			let (Some(height), Some(meter)) = (
				instance.get_global(&mut store, STACK_HEIGHT_EXPORT),
				instance.get_memory(&mut store, FUEL_EXPORT),
			) else {
				return Err(Failure::Io("the rewritten module lacks its counters".into()));
			};
			let given = fuel_meter::initial(limits.fuel).to_le_bytes();
			meter.write(&mut store, 0, &given).map_err(|e| io(e.into()))?;
			counters = Some((height, meter));
			let start = instance
				.get_typed_func::<(), ()>(&mut store, "_start")
				.map_err(|e| Failure::InvalidModule(format!("no `_start` entry point: {e}")))?;
			// The module's own start function first, as instantiation would have run it.
			let module_start = instance.get_typed_func::<(), ()>(&mut store, START_EXPORT).ok();
			// SAFETY: the meter memory's first 8 bytes, aligned (a memory starts on a page);
			// it never grows (one page at most) and `store` outlives the watch, which ends
			// below before this scope does.
			let watchdog = unsafe {
				Watchdog::start(scope, meter.data_ptr(&store).cast::<i64>(), limits.wall_time)
			}
			.map_err(|e| Failure::Io(format!("cannot start the task's watchdog: {e}")))?;
			let call = match module_start {
				Some(module_start) => {
					module_start.call(&mut store, ()).and_then(|()| start.call(&mut store, ()))
				}
				None => start.call(&mut store, ()),
			};
			timed_out = watchdog.stop();
			Ok(call)
		});
		let wall_time = started.elapsed();
		// A trap leaves the frames' units counted: past the limit, the stack limit trapped.
		let (height, left) = counters.map_or((0, 0), |(height, meter)| {
			let mut left = [0u8; 8];
			let _ = meter.read(&store, 0, &mut left);
			(height.get(&mut store).i32().unwrap_or(0) as u32, i64::from_le_bytes(left))
		});
		let state = store.into_data();
		let fuel = fuel_meter::used(limits.fuel, left);
		let resources = Resources {
			fuel,
			wall_time,
			peak_memory_bytes: state.limiter.peak.saturating_sub(METER_BYTES) as u64,
		};
		let stdout = String::from_utf8_lossy(&stdout.contents()).into_owned();
		let stderr = String::from_utf8_lossy(&stderr.contents()).into_owned();
		// What ended a task that the host stopped or refused memory.
		let stopped = |state: &TaskState| {
			if state.limiter.denied {
				return Some(Failure::OutOfMemory { limit_bytes: limits.memory_bytes });
			}
			if timed_out {
				return Some(Failure::Timeout { seconds: wall_time.as_secs_f64() });
			}
			(left < 0).then_some(Failure::OutOfFuel { fuel: limits.fuel })
		};

		let call = match outcome {
			Err(failure) => return Err(stopped(&state).unwrap_or(failure)),
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
				if let Some(failure) = stopped(&state) {
					return Err(failure);
				}
				if height > STACK_LIMIT {
					return Err(Failure::StackOverflow { limit: STACK_LIMIT });
				}
				Err(Failure::Trap(format!("{error:#}")))
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
		let key = |i: u8| ([i; 32], Determinism::Portable);
		cache.insert(key(1), module.clone(), 100 << 20);
		cache.insert(key(2), module.clone(), 100 << 20);
		// Using the first makes the second the least recently used.
		assert!(cache.get(&key(1)).is_some());
		cache.insert(key(3), module.clone(), 100 << 20);
		assert!(cache.modules.contains_key(&key(1)));
		assert!(!cache.modules.contains_key(&key(2)));
		assert!(cache.modules.contains_key(&key(3)));
		assert_eq!(cache.bytes, 200 << 20);
		// A module larger than the whole bound stays alone.
		cache.insert(key(4), module, CACHE_BYTES + 1);
		assert_eq!(cache.modules.len(), 1);
		assert_eq!(cache.bytes, CACHE_BYTES + 1);
	}
}
