//! Wasm tasks on real wasmtime: determinism, and one distinct failure per way a task can go
//! wrong, after each of which the next task still runs.

use iexec_worker::{
	digest::{blake2_256, input_checksum},
	engine::TaskEngine,
	task::{App, Determinism, Failure, Input, Limits, Task},
};
use std::time::Duration;

/// WASI helpers shared by the test modules: write `len` bytes at `ptr` to a new file named by
/// the string at `name`/`name_len` in the directory of preopened fd `dir`.
const WASI_PRELUDE: &str = r#"
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_renumber" (func $fd_renumber (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get"
    (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $path_unlink_file (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (memory (export "memory") 2)
  ;; Opens (creating) `name` in `dir`; exits with the errno on failure; returns the fd.
  (func $create (param $dir i32) (param $name i32) (param $len i32) (result i32)
    (local $errno i32)
    (local.set $errno (call $path_open (local.get $dir) (i32.const 0) (local.get $name) (local.get $len)
      (i32.const 9) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 1024)))
    (if (local.get $errno) (then (call $proc_exit (local.get $errno))))
    (i32.load (i32.const 1024)))
  ;; Writes `len` bytes at `ptr` to `fd`.
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 1032) (local.get $ptr))
    (i32.store (i32.const 1036) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 1032) (i32.const 1) (i32.const 1040))))
"#;

fn module(body: &str) -> Vec<u8> {
	wat::parse_str(format!("(module {WASI_PRELUDE} {body})")).expect("test module is valid WAT")
}

/// Copies its arguments (argv buffer) and its first 64 bytes of stdin to /output/result.txt
/// (fd 3: the output directory when there is no input).
fn echo_module() -> Vec<u8> {
	module(
		r#"
  (data (i32.const 2048) "result.txt")
  (func (export "_start")
    (local $fd i32)
    (drop (call $args_sizes_get (i32.const 1100) (i32.const 1104)))
    (drop (call $args_get (i32.const 4096) (i32.const 8192)))
    (local.set $fd (call $create (i32.const 3) (i32.const 2048) (i32.const 10)))
    (call $write (local.get $fd) (i32.const 8192) (i32.load (i32.const 1104)))
    (i32.store (i32.const 1200) (i32.const 12288))
    (i32.store (i32.const 1204) (i32.const 64))
    (drop (call $fd_read (i32.const 0) (i32.const 1200) (i32.const 1) (i32.const 1208)))
    (call $write (local.get $fd) (i32.const 12288) (i32.load (i32.const 1208))))
"#,
	)
}

/// Float work whose NaNs would differ between hosts without canonicalisation: writes the raw
/// bits of each result.
fn float_module() -> Vec<u8> {
	module(
		r#"
  (data (i32.const 2048) "floats.bin")
  (func (export "_start")
    (local $fd i32) (local $x f64) (local $i i32)
    (local.set $x (f64.const 1.0))
    (loop $l
      (local.set $x (f64.add (f64.mul (local.get $x) (f64.const 1.000001)) (f64.sqrt (f64.convert_i32_u (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 100000))))
    (f64.store (i32.const 3000) (local.get $x))
    ;; 0/0 and -(0/0): NaN payloads and signs that hardware leaves undefined.
    (f64.store (i32.const 3008) (f64.div (f64.const 0) (f64.const 0)))
    (f64.store (i32.const 3016) (f64.neg (f64.div (f64.const 0) (f64.const 0))))
    (f64.store (i32.const 3024) (f64.mul (f64.const inf) (f64.const 0)))
    (local.set $fd (call $create (i32.const 3) (i32.const 2048) (i32.const 10)))
    (call $write (local.get $fd) (i32.const 3000) (i32.const 32)))
"#,
	)
}

fn wasm_task(module: Vec<u8>, args: &[&str]) -> Task {
	let code_hash = blake2_256(&module);
	Task {
		app: App::Wasm { module, code_hash },
		args: args.iter().map(|a| a.to_string()).collect(),
		stdin: b"from stdin".to_vec(),
		input: None,
		limits: Limits { wall_time: Duration::from_secs(20), ..Limits::default() },
	}
}

async fn engine() -> (TaskEngine, tempfile::TempDir) {
	let dir = tempfile::tempdir().unwrap();
	(TaskEngine::new(dir.path()).await.unwrap(), dir)
}

#[tokio::test]
async fn same_task_gives_the_same_digest_twice_and_on_two_executors() {
	let (first, _a) = engine().await;
	let (second, _b) = engine().await;
	let task = wasm_task(echo_module(), &["alpha", "beta"]);
	let one = first.run(task.clone()).await.unwrap();
	let two = first.run(task.clone()).await.unwrap();
	let three = second.run(task.clone()).await.unwrap();
	assert_eq!(one.digest, two.digest);
	assert_eq!(one.digest, three.digest);
	assert!(first.wasm().is_cached(&blake2_256(&echo_module()), Determinism::Portable));
	let written = std::fs::read(one.output_dir.join("result.txt")).unwrap();
	assert_eq!(written, b"app\0alpha\0beta\0from stdin");
	assert_eq!(one.small_result.as_deref(), Some(&written[..]));
	assert!(one.resources.fuel > 0);

	let other = first.run(wasm_task(echo_module(), &["alpha", "gamma"])).await.unwrap();
	assert_ne!(other.digest, one.digest);
}

#[tokio::test]
async fn float_results_are_bit_identical_and_nans_canonical() {
	let (engine, _dir) = engine().await;
	let a = engine.run(wasm_task(float_module(), &[])).await.unwrap();
	let (other, _dir2) = self::engine().await;
	let b = other.run(wasm_task(float_module(), &[])).await.unwrap();
	assert_eq!(a.digest, b.digest);
	let bits = std::fs::read(a.output_dir.join("floats.bin")).unwrap();
	let words: Vec<u64> =
		bits.chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
	assert!(f64::from_bits(words[0]).is_finite());
	// NaNs are canonical where they are stored, whatever the arithmetic before (x86 makes
	// 0/0 the negative NaN 0xfff8…, so neither of these is what the CPU gave).
	assert_eq!(words[1], 0x7ff8_0000_0000_0000, "0/0 not canonical: {:#x}", words[1]);
	assert_eq!(words[2], 0x7ff8_0000_0000_0000, "-(0/0) not canonical: {:#x}", words[2]);
	assert_eq!(words[3], 0x7ff8_0000_0000_0000, "inf*0 not canonical: {:#x}", words[3]);
}

#[tokio::test]
async fn a_deal_pinned_to_one_architecture_runs_without_canonicalisation() {
	let (engine, _dir) = engine().await;
	let mut native = wasm_task(float_module(), &[]);
	native.limits.determinism = Determinism::SameArchitecture;
	let a = engine.run(native.clone()).await.unwrap();
	let b = engine.run(native).await.unwrap();
	assert_eq!(a.digest, b.digest, "the same bytes on the same processor");
	let code_hash = blake2_256(&float_module());
	assert!(engine.wasm().is_cached(&code_hash, Determinism::SameArchitecture));
	assert!(!engine.wasm().is_cached(&code_hash, Determinism::Portable));
	let bits = std::fs::read(a.output_dir.join("floats.bin")).unwrap();
	let words: Vec<u64> =
		bits.chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
	// The NaN of 0/0 as this processor's own division makes it (computed at run time).
	let zero = std::hint::black_box(0f64);
	assert_eq!(words[1], (zero / zero).to_bits());
	let portable = engine.run(wasm_task(float_module(), &[])).await.unwrap();
	let finite =
		|dir: &std::path::Path| std::fs::read(dir.join("floats.bin")).unwrap()[..8].to_vec();
	assert_eq!(finite(&a.output_dir), finite(&portable.output_dir), "finite results agree");
	// x86's 0/0 is the negative NaN: there the two settings give other bytes.
	#[cfg(target_arch = "x86_64")]
	assert_ne!(a.digest, portable.digest);
}

#[tokio::test]
async fn each_failure_has_its_own_reason_and_the_next_task_still_runs() {
	let (engine, _dir) = engine().await;
	let spin = module(r#"(func (export "_start") (loop $l (br $l)))"#);

	let mut out_of_fuel = wasm_task(spin.clone(), &[]);
	out_of_fuel.limits.fuel = 1_000_000;
	assert_eq!(engine.run(out_of_fuel).await.unwrap_err(), Failure::OutOfFuel { fuel: 1_000_000 });

	let mut too_long = wasm_task(spin, &[]);
	too_long.limits.fuel = u64::MAX / 2;
	too_long.limits.wall_time = Duration::from_millis(500);
	match engine.run(too_long).await.unwrap_err() {
		Failure::Timeout { seconds } => assert!((0.4..10.0).contains(&seconds), "{seconds}"),
		other => panic!("expected a timeout, got {other}"),
	}

	let bomb = module(
		r#"(func (export "_start") (loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))))"#,
	);
	let mut memory_bomb = wasm_task(bomb, &[]);
	memory_bomb.limits.memory_bytes = 16 << 20;
	assert_eq!(
		engine.run(memory_bomb).await.unwrap_err(),
		Failure::OutOfMemory { limit_bytes: 16 << 20 }
	);

	let garbage = vec![0, 97, 115, 109, 1, 0, 0, 0, 0xff, 0xff];
	assert!(matches!(
		engine.run(wasm_task(garbage, &[])).await.unwrap_err(),
		Failure::InvalidModule(_)
	));

	let mut wrong_hash = wasm_task(echo_module(), &[]);
	if let App::Wasm { code_hash, .. } = &mut wrong_hash.app {
		code_hash[0] ^= 1;
	}
	assert!(matches!(engine.run(wrong_hash).await.unwrap_err(), Failure::CodeHashMismatch { .. }));

	let socket = wat::parse_str(
		r#"(module (import "env" "connect" (func (param i32) (result i32))) (func (export "_start")))"#,
	)
	.unwrap();
	assert!(matches!(
		engine.run(wasm_task(socket, &[])).await.unwrap_err(),
		Failure::ForbiddenImport(_)
	));

	// Escaping the output directory: WASI refuses, and the module exits with the errno.
	let escape = module(
		r#"
  (data (i32.const 2048) "../../../../etc/hostname")
  (func (export "_start") (drop (call $create (i32.const 3) (i32.const 2048) (i32.const 24))))
"#,
	);
	match engine.run(wasm_task(escape, &[])).await.unwrap_err() {
		// 76 = ENOTCAPABLE, 63 = EPERM, 2 = EACCES in WASI's numbering.
		Failure::NonZeroExit { code, .. } => assert!([2, 63, 76].contains(&code), "errno {code}"),
		other => panic!("expected the escape to be refused, got {other}"),
	}
	// And it cannot see a descriptor it was not given.
	let other_fd = module(
		r#"
  (data (i32.const 2048) "x")
  (func (export "_start") (drop (call $create (i32.const 5) (i32.const 2048) (i32.const 1))))
"#,
	);
	assert!(matches!(
		engine.run(wasm_task(other_fd, &[])).await.unwrap_err(),
		Failure::NonZeroExit { .. }
	));

	// After all that, a good task runs.
	assert!(engine.run(wasm_task(echo_module(), &["still", "fine"])).await.is_ok());
}

#[tokio::test]
async fn input_is_checked_and_visible_read_only() {
	let (engine, dir) = engine().await;
	let data = dir.path().join("dataset.txt");
	std::fs::write(&data, b"payload").unwrap();
	let checksum = input_checksum(&data).unwrap();
	// Opens /input/input (fd 3: a single file has that name whatever its host name; a failure
	// writes the errno to /output/open-failed and exits 100) and copies it to /output/copy
	// (fd 4); then tries to create a file in /input and records the errno it got in
	// /output/refused (0 had it worked).
	let copy = module(
		r#"
  (data (i32.const 2048) "input")
  (data (i32.const 2100) "copy")
  (data (i32.const 2110) "refused")
  (data (i32.const 2120) "open-failed")
  (func (export "_start")
    (local $in i32) (local $out i32) (local $errno i32)
    ;; Read, seek and tell rights only, as a libc asks for a file opened read-only.
    (local.set $errno (call $path_open (i32.const 3) (i32.const 0) (i32.const 2048) (i32.const 5)
      (i32.const 0) (i64.const 0x26) (i64.const 0) (i32.const 0) (i32.const 1024)))
    (if (local.get $errno) (then
      (i32.store8 (i32.const 2200) (local.get $errno))
      (call $write (call $create (i32.const 4) (i32.const 2120) (i32.const 11)) (i32.const 2200) (i32.const 1))
      (call $proc_exit (i32.const 100))))
    (local.set $in (i32.load (i32.const 1024)))
    (i32.store (i32.const 1200) (i32.const 12288))
    (i32.store (i32.const 1204) (i32.const 64))
    (drop (call $fd_read (local.get $in) (i32.const 1200) (i32.const 1) (i32.const 1208)))
    (local.set $out (call $create (i32.const 4) (i32.const 2100) (i32.const 4)))
    (call $write (local.get $out) (i32.const 12288) (i32.load (i32.const 1208)))
    (local.set $errno (call $path_open (i32.const 3) (i32.const 0) (i32.const 2100) (i32.const 4)
      (i32.const 9) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 1024)))
    (i32.store8 (i32.const 2200) (local.get $errno))
    (call $write (call $create (i32.const 4) (i32.const 2110) (i32.const 7)) (i32.const 2200) (i32.const 1)))
"#,
	);
	let mut task = wasm_task(copy.clone(), &[]);
	task.input = Some(Input { path: data.clone(), checksum });
	let outcome = engine.run(task).await.expect("the copy runs");
	assert_eq!(std::fs::read(outcome.output_dir.join("copy")).unwrap(), b"payload");
	// 76 = ENOTCAPABLE, 63 = EPERM, 2 = EACCES in WASI's numbering.
	let refused = std::fs::read(outcome.output_dir.join("refused")).unwrap();
	assert!([2, 63, 76].contains(&refused[0]), "writing into /input gave errno {}", refused[0]);

	let mut bad = wasm_task(copy, &[]);
	let mut wrong = checksum;
	wrong[31] ^= 0xff;
	bad.input = Some(Input { path: data, checksum: wrong });
	assert!(matches!(engine.run(bad).await.unwrap_err(), Failure::InputChecksumMismatch { .. }));
}

/// Lists /input (fd 3), stats `x`, `y`, `z` in it and the directory itself, and writes the
/// raw listing and the four `filestat`s to /output/meta.bin (fd 4); a failing call's errno
/// becomes the exit code.
fn listing_module() -> Vec<u8> {
	module(
		r#"
  (data (i32.const 2048) "meta.bin")
  (data (i32.const 2064) "xyz")
  (func $check (param $errno i32) (if (local.get $errno) (then (call $proc_exit (local.get $errno)))))
  (func (export "_start")
    (local $fd i32) (local $i i32)
    (call $check (call $fd_readdir (i32.const 3) (i32.const 4096) (i32.const 4096) (i64.const 0) (i32.const 1100)))
    (loop $each
      (call $check (call $path_filestat_get (i32.const 3) (i32.const 0)
        (i32.add (i32.const 2064) (local.get $i)) (i32.const 1)
        (i32.add (i32.const 8192) (i32.mul (local.get $i) (i32.const 64)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $each (i32.lt_u (local.get $i) (i32.const 3))))
    (call $check (call $fd_filestat_get (i32.const 3) (i32.const 8384)))
    (local.set $fd (call $create (i32.const 4) (i32.const 2048) (i32.const 8)))
    (call $write (local.get $fd) (i32.const 4096) (i32.load (i32.const 1100)))
    (call $write (local.get $fd) (i32.const 8192) (i32.const 256)))
"#,
	)
}

#[tokio::test]
async fn file_metadata_and_listings_are_the_same_on_every_host() {
	let (engine, dir) = engine().await;
	// Two copies of one data set, as two hosts would hold it: files made in opposite orders
	// (a small directory lists in creation order on ext4, in hash order elsewhere), other
	// inodes, and times years apart.
	let make = |name: &str, order: &[&str], modified: std::time::SystemTime| {
		let root = dir.path().join(name);
		std::fs::create_dir(&root).unwrap();
		for file in order {
			let path = root.join(file);
			std::fs::write(&path, format!("content of {file}")).unwrap();
			std::fs::File::options()
				.write(true)
				.open(&path)
				.unwrap()
				.set_modified(modified)
				.unwrap();
		}
		root
	};
	let old = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
	let one = make("host-one", &["x", "y", "z"], std::time::SystemTime::now());
	let two = make("host-two", &["z", "y", "x"], old);
	let checksum = input_checksum(&one).unwrap();
	assert_eq!(input_checksum(&two).unwrap(), checksum);

	let mut outputs = Vec::new();
	for input in [&one, &two] {
		let mut task = wasm_task(listing_module(), &[]);
		task.input = Some(Input { path: input.clone(), checksum });
		let outcome = engine.run(task).await.expect("the listing runs");
		outputs.push((outcome.digest, std::fs::read(outcome.output_dir.join("meta.bin")).unwrap()));
	}
	assert_eq!(outputs[0].1, outputs[1].1, "the two hosts showed the task different metadata");
	assert_eq!(outputs[0].0, outputs[1].0);

	let meta = &outputs[0].1;
	let (listing, stats) = meta.split_at(meta.len() - 256);
	// The listing: `.`, `..`, then the files by name, cookies 1…5, inode numbers from 1.
	let mut names = Vec::new();
	let mut at = 0;
	while at < listing.len() {
		let cookie = u64::from_le_bytes(listing[at..at + 8].try_into().unwrap());
		let len = u32::from_le_bytes(listing[at + 16..at + 20].try_into().unwrap()) as usize;
		assert_eq!(cookie, names.len() as u64 + 1);
		names.push(String::from_utf8(listing[at + 24..at + 24 + len].to_vec()).unwrap());
		at += 24 + len;
	}
	assert_eq!(names, [".", "..", "x", "y", "z"]);
	for (i, stat) in stats.chunks(64).enumerate() {
		assert!(stat[40..64].iter().all(|b| *b == 0), "stat {i} shows a host time");
		assert!(u64::from_le_bytes(stat[8..16].try_into().unwrap()) <= 4, "stat {i}: host inode");
	}
	// `x` holds 12 bytes ("content of x"); the directory shows size 0 and one link.
	assert_eq!(u64::from_le_bytes(stats[32..40].try_into().unwrap()), 12);
	assert_eq!(u64::from_le_bytes(stats[192 + 24..192 + 32].try_into().unwrap()), 1);
	assert_eq!(u64::from_le_bytes(stats[192 + 32..192 + 40].try_into().unwrap()), 0);
}

#[tokio::test]
async fn writes_past_the_output_quota_fail_with_enospc_and_the_task_decides() {
	let (engine, _dir) = engine().await;
	// Makes three files (an entry costs 4,096 bytes of quota); writes 1,000 bytes to `data`
	// three times; one byte 1 MB into `sparse` (a hole the file system would not store, but
	// the quota counts); moves `sparse` onto descriptor 1 and writes 1,000 bytes there; makes
	// a fourth file. Each errno goes to /output/errnos.
	let writer = module(
		r#"
  (data (i32.const 2048) "data")
  (data (i32.const 2056) "errnos")
  (data (i32.const 2064) "sparse")
  (data (i32.const 2072) "more")
  (func (export "_start")
    (local $data i32) (local $sparse i32) (local $log i32) (local $i i32)
    (local.set $data (call $create (i32.const 3) (i32.const 2048) (i32.const 4)))
    (local.set $sparse (call $create (i32.const 3) (i32.const 2064) (i32.const 6)))
    (local.set $log (call $create (i32.const 3) (i32.const 2056) (i32.const 6)))
    (i32.store (i32.const 1032) (i32.const 4096))
    (i32.store (i32.const 1036) (i32.const 1000))
    (loop $each
      (i32.store8 (i32.add (i32.const 3000) (local.get $i))
        (call $fd_write (local.get $data) (i32.const 1032) (i32.const 1) (i32.const 1040)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $each (i32.lt_u (local.get $i) (i32.const 3))))
    (drop (call $fd_seek (local.get $sparse) (i64.const 1000000) (i32.const 0) (i32.const 1056)))
    (i32.store (i32.const 1036) (i32.const 1))
    (i32.store8 (i32.const 3003)
      (call $fd_write (local.get $sparse) (i32.const 1032) (i32.const 1) (i32.const 1040)))
    (drop (call $fd_renumber (local.get $sparse) (i32.const 1)))
    (i32.store (i32.const 1036) (i32.const 1000))
    (i32.store8 (i32.const 3004)
      (call $fd_write (i32.const 1) (i32.const 1032) (i32.const 1) (i32.const 1040)))
    (i32.store8 (i32.const 3005)
      (call $path_open (i32.const 3) (i32.const 0) (i32.const 2072) (i32.const 4)
        (i32.const 9) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 1024)))
    (call $write (local.get $log) (i32.const 3000) (i32.const 6)))
"#,
	);
	let entry = iexec_worker::output_quota::ENTRY_BYTES;
	let mut task = wasm_task(writer.clone(), &[]);
	task.limits.output_bytes = 3 * entry + 2_500;
	let outcome = engine.run(task).await.expect("the writer runs");
	assert_eq!(std::fs::read(outcome.output_dir.join("data")).unwrap().len(), 2_000);
	// 51 = ENOSPC in WASI's numbering.
	assert_eq!(std::fs::read(outcome.output_dir.join("errnos")).unwrap(), [0, 0, 51, 51, 51, 51]);
	assert_eq!(std::fs::metadata(outcome.output_dir.join("sparse")).unwrap().len(), 0);
	assert!(!outcome.output_dir.join("more").exists());
	// Under a large quota all of them go through.
	let outcome = engine.run(wasm_task(writer, &[])).await.unwrap();
	assert_eq!(std::fs::read(outcome.output_dir.join("errnos")).unwrap(), [0, 0, 0, 0, 0, 0]);
	assert_eq!(std::fs::metadata(outcome.output_dir.join("sparse")).unwrap().len(), 1_001_001);
	assert!(outcome.output_dir.join("more").exists());
}

#[tokio::test]
async fn endless_recursion_ends_at_the_stack_limit_with_its_own_reason() {
	let (engine, _dir) = engine().await;
	let recursion = module(
		r#"
  (func $down (param $n i64) (result i64) (i64.add (call $down (i64.add (local.get $n) (i64.const 1))) (i64.const 1)))
  (func (export "_start") (drop (call $down (i64.const 0))))
"#,
	);
	match engine.run(wasm_task(recursion, &[])).await.unwrap_err() {
		Failure::StackOverflow { limit } => {
			assert_eq!(limit, iexec_worker::instrument::STACK_LIMIT)
		}
		other => panic!("expected a stack overflow, got {other}"),
	}
	// The worker is fine: the next task runs.
	assert!(engine.run(wasm_task(echo_module(), &["after"])).await.is_ok());
}

#[tokio::test]
async fn random_bytes_are_a_stream_not_a_repeated_seed() {
	let (engine, _dir) = engine().await;
	// 96 random bytes to /output/random.
	let random = module(
		r#"
  (data (i32.const 2048) "random")
  (func (export "_start")
    (local $fd i32)
    (drop (call $random_get (i32.const 4096) (i32.const 96)))
    (local.set $fd (call $create (i32.const 3) (i32.const 2048) (i32.const 6)))
    (call $write (local.get $fd) (i32.const 4096) (i32.const 96)))
"#,
	);
	let one = engine.run(wasm_task(random.clone(), &["seed"])).await.unwrap();
	let bytes = std::fs::read(one.output_dir.join("random")).unwrap();
	assert_eq!(bytes.len(), 96);
	assert_ne!(bytes[..32], bytes[32..64], "the stream repeats its 32-byte seed");
	assert_ne!(bytes[32..64], bytes[64..96]);
	// The same task draws the same bytes; another task other bytes.
	let two = engine.run(wasm_task(random.clone(), &["seed"])).await.unwrap();
	assert_eq!(std::fs::read(two.output_dir.join("random")).unwrap(), bytes);
	let other = engine.run(wasm_task(random, &["other"])).await.unwrap();
	assert_ne!(std::fs::read(other.output_dir.join("random")).unwrap(), bytes);
}

#[tokio::test]
async fn output_beyond_the_log_cap_is_dropped_and_the_task_succeeds() {
	let (engine, _dir) = engine().await;
	// 64 writes of 16 KiB to stdout, 1 MiB, sixteen times the default 64 KiB cap, each
	// written whole as Rust's `write_all` (so `println!`) does: a write that takes no byte is
	// an error, and the task exits with 70 as a panicking Rust program would.
	let chatty = module(
		r#"
  (func $write_all (param $ptr i32) (param $len i32)
    (local $done i32)
    (loop $more
      (i32.store (i32.const 1032) (local.get $ptr))
      (i32.store (i32.const 1036) (local.get $len))
      (if (call $fd_write (i32.const 1) (i32.const 1032) (i32.const 1) (i32.const 1040))
        (then (call $proc_exit (i32.const 70))))
      (local.set $done (i32.load (i32.const 1040)))
      (if (i32.eqz (local.get $done)) (then (call $proc_exit (i32.const 70))))
      (local.set $ptr (i32.add (local.get $ptr) (local.get $done)))
      (local.set $len (i32.sub (local.get $len) (local.get $done)))
      (br_if $more (local.get $len))))
  (func (export "_start")
    (local $i i32)
    (loop $l
      (call $write_all (i32.const 16384) (i32.const 16384))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 64)))))
"#,
	);
	let task = wasm_task(chatty, &[]);
	let cap = task.limits.output_cap;
	let outcome = engine.run(task).await.expect("a full log must not fail the task");
	assert_eq!(outcome.stdout.len(), cap);
}

#[tokio::test]
async fn a_sleep_longer_than_the_wall_limit_returns_at_once_in_virtual_time() {
	let (engine, _dir) = engine().await;
	// Sleeps 5 s on the monotonic clock (one relative clock subscription), then writes the
	// monotonic time and the number of events to /output/time.
	let sleeper = module(
		r#"
  (data (i32.const 2048) "time")
  (func (export "_start")
    (local $fd i32)
    (i64.store (i32.const 4096) (i64.const 42))
    (i32.store8 (i32.const 4104) (i32.const 0))
    (i32.store (i32.const 4112) (i32.const 1))
    (i64.store (i32.const 4120) (i64.const 5000000000))
    (if (call $poll_oneoff (i32.const 4096) (i32.const 4200) (i32.const 1) (i32.const 4300))
      (then (call $proc_exit (i32.const 71))))
    (if (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 4304))
      (then (call $proc_exit (i32.const 72))))
    (local.set $fd (call $create (i32.const 3) (i32.const 2048) (i32.const 4)))
    (call $write (local.get $fd) (i32.const 4300) (i32.const 12))
    (call $write (local.get $fd) (i32.const 4200) (i32.const 8)))
"#,
	);
	let mut task = wasm_task(sleeper, &[]);
	task.limits.wall_time = Duration::from_secs(1);
	let outcome = engine.run(task).await.expect("a sleep must not outlive the wall limit");
	let written = std::fs::read(outcome.output_dir.join("time")).unwrap();
	let mut expected = 1u32.to_le_bytes().to_vec(); // one event
	expected.extend(5_000_000_000u64.to_le_bytes()); // the clock moved by the sleep, exactly
	expected.extend(42u64.to_le_bytes()); // the event's userdata
	assert_eq!(written, expected);
}

#[tokio::test]
async fn every_memory_and_table_counts_against_one_limit() {
	let (engine, _dir) = engine().await;
	// Two memories of 20 pages (1.25 MiB each): each under a 2 MiB limit, together over it.
	let two_memories = wat::parse_str(
		r#"(module
  (memory (export "memory") 20)
  (memory $second 20)
  (func (export "_start")))"#,
	)
	.unwrap();
	let mut task = wasm_task(two_memories.clone(), &[]);
	task.limits.memory_bytes = 2 * 1024 * 1024;
	assert!(matches!(
		engine.run(task).await.unwrap_err(),
		Failure::OutOfMemory { limit_bytes } if limit_bytes == 2 * 1024 * 1024
	));
	// Under a 3 MiB limit it runs, and reports both memories as its peak.
	let mut task = wasm_task(two_memories, &[]);
	task.limits.memory_bytes = 3 * 1024 * 1024;
	let outcome = engine.run(task).await.unwrap();
	assert_eq!(outcome.resources.peak_memory_bytes, 40 * 64 * 1024);
}

#[tokio::test]
async fn a_task_asking_beyond_the_offer_is_refused_not_run_under_other_limits() {
	let dir = tempfile::tempdir().unwrap();
	let offer = Limits { memory_bytes: 64 << 20, ..Limits::default() };
	let engine = TaskEngine::with_offer(dir.path(), offer.clone()).await.unwrap();
	let mut greedy = wasm_task(echo_module(), &[]);
	greedy.limits.memory_bytes = 128 << 20;
	assert_eq!(
		engine.run(greedy).await.unwrap_err(),
		Failure::AboveOffer("128 MiB of memory (at most 64 MiB)".into())
	);
	// Within the offer, the task runs under its own limits: its fuel, not the worker's, ends it.
	let mut frugal = wasm_task(float_module(), &[]);
	frugal.limits.memory_bytes = 64 << 20;
	frugal.limits.fuel = 1_000;
	assert_eq!(engine.run(frugal).await.unwrap_err(), Failure::OutOfFuel { fuel: 1_000 });
	let mut gpu = wasm_task(echo_module(), &[]);
	gpu.limits.gpus = true;
	assert!(matches!(engine.run(gpu).await.unwrap_err(), Failure::AboveOffer(_)));
}

#[tokio::test]
async fn a_module_beyond_the_compile_bound_is_refused_before_compiling() {
	let (engine, _dir) = engine().await;
	// A valid module (it would compile: custom sections are ignored) of 33 MiB.
	let mut big = b"\0asm\x01\0\0\0".to_vec();
	let payload = 33usize << 20;
	let name = b"pad";
	let mut size = payload + 1 + name.len();
	big.push(0); // a custom section
	loop {
		let byte = (size & 0x7f) as u8;
		size >>= 7;
		big.push(if size == 0 { byte } else { byte | 0x80 });
		if size == 0 {
			break;
		}
	}
	big.push(name.len() as u8);
	big.extend(name);
	big.resize(big.len() + payload, 0);
	match engine.run(wasm_task(big, &[])).await.unwrap_err() {
		Failure::InvalidModule(why) => assert!(why.contains("larger than the 32 MiB"), "{why}"),
		other => panic!("expected the size bound, got {other}"),
	}
}

#[tokio::test]
async fn a_file_made_after_one_removed_gets_a_number_of_its_own() {
	// Makes `a`, stats it, removes it, makes `b` (where a host may reuse `a`'s inode), stats
	// it, and writes both inode numbers.
	let reuse = module(
		r#"
  (data (i32.const 2048) "a")
  (data (i32.const 2056) "b")
  (data (i32.const 2064) "inodes")
  (func (export "_start")
    (local $fd i32)
    (drop (call $fd_close (call $create (i32.const 3) (i32.const 2048) (i32.const 1))))
    (drop (call $path_filestat_get (i32.const 3) (i32.const 0) (i32.const 2048) (i32.const 1) (i32.const 4096)))
    (if (call $path_unlink_file (i32.const 3) (i32.const 2048) (i32.const 1)) (then (unreachable)))
    (drop (call $fd_close (call $create (i32.const 3) (i32.const 2056) (i32.const 1))))
    (drop (call $path_filestat_get (i32.const 3) (i32.const 0) (i32.const 2056) (i32.const 1) (i32.const 4160)))
    (i64.store (i32.const 4224) (i64.load (i32.const 4104)))
    (i64.store (i32.const 4232) (i64.load (i32.const 4168)))
    (local.set $fd (call $create (i32.const 3) (i32.const 2064) (i32.const 6)))
    (call $write (local.get $fd) (i32.const 4224) (i32.const 16)))
"#,
	);
	let (engine, _dir) = engine().await;
	let done = engine.run(wasm_task(reuse, &[])).await.unwrap();
	let bytes = std::fs::read(done.output_dir.join("inodes")).unwrap();
	let inode = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
	assert_eq!((inode(0), inode(8)), (1, 2));
	assert!(!done.output_dir.join("a").exists());
}
