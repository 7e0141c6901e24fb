//! The `iexec-worker` command: `exec` prints what an app author needs, `ad` prints a ClassAd,
//! and a bad configuration is refused naming the field.

use std::process::Command;

fn worker(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
	let work = tempfile::tempdir().unwrap();
	let out = Command::new(env!("CARGO_BIN_EXE_iexec-worker"))
		.args(args)
		.arg("--work-dir")
		.arg(work.path())
		.envs(env.iter().copied())
		.output()
		.unwrap();
	(
		out.status.success(),
		String::from_utf8_lossy(&out.stdout).into_owned(),
		String::from_utf8_lossy(&out.stderr).into_owned(),
	)
}

#[test]
fn exec_prints_digest_resources_and_output() {
	let dir = tempfile::tempdir().unwrap();
	let module = dir.path().join("app.wasm");
	// Exits cleanly without output: the digest of an empty directory.
	std::fs::write(
		&module,
		wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "_start")))"#)
			.unwrap(),
	)
	.unwrap();
	let (ok, stdout, stderr) =
		worker(&["exec", "--wasm", module.to_str().unwrap(), "--", "x"], &[]);
	assert!(ok, "{stderr}");
	assert!(stderr.contains("code hash: 0x"), "{stderr}");
	let empty = iexec_worker::digest::blake2_256(b"");
	assert!(stdout.contains(&format!("digest: 0x{}", hex::encode(empty))), "{stdout}");
	assert!(stdout.contains("resources: fuel "), "{stdout}");
	assert!(stdout.contains("output: "), "{stdout}");

	std::fs::write(&module, b"not wasm").unwrap();
	let (ok, _, stderr) = worker(&["exec", "--wasm", module.to_str().unwrap()], &[]);
	assert!(!ok);
	assert!(stderr.contains("task failed: invalid Wasm module"), "{stderr}");
}

#[test]
fn ad_prints_a_classad() {
	let (ok, stdout, stderr) = worker(&["ad"], &[("IEXEC_WORKER_REGION", "eu-west")]);
	assert!(ok, "{stderr}");
	let ad = iexec_classad::parse_ad(stdout.trim(), &Default::default()).unwrap();
	assert!(ad.get("Cpus").is_some() && ad.get("Memory").is_some());
	assert_eq!(ad.get("Region"), Some(&iexec_classad::Expr::Str("eu-west".into())));
}

#[test]
fn bad_configuration_is_refused_by_field() {
	let dir = tempfile::tempdir().unwrap();
	let config = dir.path().join("worker.toml");
	std::fs::write(&config, "[limits]\ntimeout_s = -5\n").unwrap();
	let (ok, _, stderr) = worker(&["--config", config.to_str().unwrap(), "ad"], &[]);
	assert!(!ok);
	assert!(stderr.contains("timeout_s"), "{stderr}");
	let (ok, _, stderr) = worker(&["ad"], &[("IEXEC_WORKER_NODE_URL", "http://example")]);
	assert!(!ok);
	assert!(stderr.contains("`node_url`"), "{stderr}");
}
