//! Docker tasks on a real engine (Debian's docker.io, started by scripts/setup.sh), with a
//! test image made by `docker import` from a busybox root filesystem built here: no registry
//! is needed.

use iexec_worker::{
	digest::directory_digest,
	engine::TaskEngine,
	task::{App, Failure, Limits, Task},
};
use std::{path::Path, process::Command, time::Duration};

const TAG: &str = "iexec-test/busybox:latest";

/// Builds (once per run) and imports the busybox image; returns its ID.
fn test_image() -> String {
	let busybox = ["/bin/busybox", "/usr/bin/busybox"]
		.into_iter()
		.find(|p| Path::new(p).exists())
		.expect("busybox is required (Debian's busybox-static; scripts/setup.sh installs it)");
	let root = tempfile::tempdir().unwrap();
	for dir in ["bin", "tmp", "etc", "iexec/input", "iexec/output"] {
		std::fs::create_dir_all(root.path().join(dir)).unwrap();
	}
	std::fs::copy(busybox, root.path().join("bin/busybox")).unwrap();
	for applet in [
		"sh", "echo", "cat", "id", "touch", "sleep", "head", "tail", "ls", "wc", "yes", "nc",
		"hostname", "kill",
	] {
		std::os::unix::fs::symlink("busybox", root.path().join("bin").join(applet)).unwrap();
	}
	let tar = Command::new("tar")
		.args(["-C", root.path().to_str().unwrap(), "-c", "."])
		.output()
		.expect("tar runs");
	let mut import = Command::new("docker")
		.args(["import", "-", TAG])
		.stdin(std::process::Stdio::piped())
		.stdout(std::process::Stdio::piped())
		.spawn()
		.expect("the docker CLI is installed (docker.io)");
	std::io::Write::write_all(import.stdin.as_mut().unwrap(), &tar.stdout).unwrap();
	let out = import.wait_with_output().unwrap();
	assert!(out.status.success(), "docker import failed; is dockerd running?");
	String::from_utf8(out.stdout).unwrap().trim().to_string()
}

async fn engine() -> (TaskEngine, tempfile::TempDir) {
	let dir = tempfile::tempdir().unwrap();
	let engine = TaskEngine::new(dir.path()).await.unwrap();
	assert!(
		engine.docker().is_some(),
		"no Docker engine answered: start dockerd (scripts/setup.sh does)"
	);
	(engine, dir)
}

fn task(image_id: &str, script: &str) -> Task {
	Task {
		app: App::Docker { image_id: image_id.into() },
		args: vec!["/bin/sh".into(), "-c".into(), script.into()],
		stdin: Vec::new(),
		input: None,
		limits: Limits {
			memory_bytes: 64 << 20,
			wall_time: Duration::from_secs(30),
			..Limits::default()
		},
	}
}

/// Listens on the docker0 bridge address and answers `hi` to each connection, for a few
/// seconds; returns the address and port.
fn bridge_listener() -> (String, u16) {
	let out = Command::new("ip").args(["-4", "-o", "addr", "show", "docker0"]).output().unwrap();
	let text = String::from_utf8(out.stdout).unwrap();
	let ip = text
		.split_whitespace()
		.skip_while(|w| *w != "inet")
		.nth(1)
		.and_then(|cidr| cidr.split('/').next())
		.expect("docker0 has an IPv4 address")
		.to_string();
	let listener = std::net::TcpListener::bind((ip.as_str(), 0)).unwrap();
	let port = listener.local_addr().unwrap().port();
	std::thread::spawn(move || {
		// Two connections at most (the control, and the sandboxed attempt should it succeed).
		for stream in listener.incoming().take(2).flatten() {
			let _ = std::io::Write::write_all(&mut &stream, b"hi\n");
		}
	});
	(ip, port)
}

/// Containers created from the test image, running or not.
fn leftover_containers(image_id: &str) -> Vec<String> {
	let out = Command::new("docker")
		.args(["ps", "-a", "-q", "--filter", &format!("ancestor={image_id}")])
		.output()
		.unwrap();
	String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

#[tokio::test]
async fn docker_tasks_run_sandboxed_are_limited_and_leave_nothing_behind() {
	let image = test_image();
	let (engine, _dir) = engine().await;

	// A task runs as nobody, writes its output, and the output is digested.
	let ok = engine
		.run(task(&image, "echo hello > /iexec/output/out.txt && id -u > /iexec/output/uid"))
		.await
		.unwrap();
	assert_eq!(std::fs::read_to_string(ok.output_dir.join("out.txt")).unwrap(), "hello\n");
	assert_eq!(std::fs::read_to_string(ok.output_dir.join("uid")).unwrap(), "65534\n");
	assert_eq!(ok.digest, directory_digest(&ok.output_dir).unwrap());
	let again = engine
		.run(task(&image, "echo hello > /iexec/output/out.txt && id -u > /iexec/output/uid"))
		.await
		.unwrap();
	assert_eq!(again.digest, ok.digest);

	// No network: the only interface is loopback.
	let net = engine.run(task(&image, "cat /proc/net/dev > /iexec/output/dev")).await.unwrap();
	let interfaces: Vec<String> = std::fs::read_to_string(net.output_dir.join("dev"))
		.unwrap()
		.lines()
		.skip(2)
		.filter_map(|l| l.split(':').next().map(|s| s.trim().to_string()))
		.collect();
	assert_eq!(interfaces, vec!["lo".to_string()]);

	// A task that tries the network cannot reach it. The target is a listener of this test on
	// the docker0 bridge address (this machine); the same command in a container that has the
	// bridge network does reach it, so the failure is the sandbox's doing.
	let (bridge_ip, port) = bridge_listener();
	let probe = format!("nc -w 3 {bridge_ip} {port} </dev/null");
	let control = Command::new("docker")
		.args(["run", "--rm", "--network", "bridge", &image, "/bin/sh", "-c", &probe])
		.output()
		.unwrap();
	assert_eq!(
		String::from_utf8_lossy(&control.stdout),
		"hi\n",
		"control run could not reach the listener"
	);
	let sandboxed = engine
		.run(task(&image, &format!("{probe} > /iexec/output/got 2>&1; echo $? > /iexec/output/rc")))
		.await
		.unwrap();
	let rc = std::fs::read_to_string(sandboxed.output_dir.join("rc")).unwrap();
	let got = std::fs::read_to_string(sandboxed.output_dir.join("got")).unwrap();
	assert_ne!(rc.trim(), "0", "the sandboxed task reached the network: {got}");
	assert!(got.contains("unreachable"), "{got}");

	// Read-only root filesystem.
	match engine.run(task(&image, "touch /bin/new")).await.unwrap_err() {
		Failure::NonZeroExit { code, stderr } => {
			assert_ne!(code, 0);
			assert!(stderr.contains("Read-only"), "stderr: {stderr}");
		}
		other => panic!("expected a refused write, got {other}"),
	}

	// Memory limit: the shell keeps a command substitution's whole output in memory.
	let memory = engine.run(task(&image, "x=$(yes | head -c 400000000); echo ${#x}")).await;
	assert_eq!(memory.unwrap_err(), Failure::OutOfMemory { limit_bytes: 64 << 20 });

	// Time limit: killed, not waited for.
	let mut slow = task(&image, "sleep 60");
	slow.limits.wall_time = Duration::from_secs(2);
	let started = std::time::Instant::now();
	assert!(matches!(engine.run(slow).await.unwrap_err(), Failure::Timeout { .. }));
	assert!(started.elapsed() < Duration::from_secs(30));

	// Image pinning: an unknown ID is refused.
	let unknown = format!("sha256:{}", "0".repeat(64));
	assert_eq!(
		engine.run(task(&unknown, "true")).await.unwrap_err(),
		Failure::ImageNotFound(unknown)
	);

	// A SIGKILL is not an out-of-memory unless the engine says so.
	match engine.run(task(&image, "kill -9 $$")).await.unwrap_err() {
		Failure::NonZeroExit { code, .. } => assert_eq!(code, 137),
		other => panic!("expected exit 137, got {other}"),
	}

	// An init, a fixed hostname, no core files.
	let env = engine
		.run(task(&image, "hostname > /iexec/output/h; ulimit -c > /iexec/output/core; cat /proc/1/comm > /iexec/output/init"))
		.await
		.unwrap();
	let read = |name: &str| std::fs::read_to_string(env.output_dir.join(name)).unwrap();
	assert_eq!(read("h"), "iexec-task\n");
	assert_eq!(read("core"), "0\n");
	assert_ne!(read("init").trim(), "sh", "PID 1 is the init, not the task");

	// The task's standard input is delivered whole, and ends; a task that never reads a large
	// input still finishes.
	let mut echo =
		task(&image, "cat > /iexec/output/stdin; wc -c < /iexec/output/stdin > /iexec/output/n");
	echo.stdin = b"line one\nline two\n".to_vec();
	let echoed = engine.run(echo).await.expect("the stdin task runs");
	assert_eq!(std::fs::read(echoed.output_dir.join("stdin")).unwrap(), b"line one\nline two\n");
	let mut ignored = task(&image, "echo done > /iexec/output/done");
	ignored.stdin = vec![b'x'; 4 << 20];
	assert!(engine.run(ignored).await.is_ok());

	// No capability, no new privileges, in force in the task's own process.
	let status =
		engine.run(task(&image, "cat /proc/self/status > /iexec/output/status")).await.unwrap();
	let status = std::fs::read_to_string(status.output_dir.join("status")).unwrap();
	let field = |name: &str| {
		status
			.lines()
			.find_map(|l| l.strip_prefix(&format!("{name}:")).map(|v| v.trim().to_string()))
			.unwrap_or_else(|| panic!("{name} missing from /proc/self/status"))
	};
	for caps in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
		assert_eq!(field(caps), "0000000000000000", "{caps}");
	}
	assert_eq!(field("NoNewPrivs"), "1");
	// The PID limit is the container's own cgroup's, as the task sees it (cgroup v2, or v1).
	let mut limited = task(
		&image,
		"cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max > /iexec/output/pids 2>/dev/null; true",
	);
	limited.limits.pids = 32;
	let seen = engine.run(limited).await.expect("the task runs");
	assert_eq!(std::fs::read_to_string(seen.output_dir.join("pids")).unwrap().trim(), "32");
	// A fork bomb is held too: the task ends (by its wall limit), the worker and the host are
	// fine, and the next task runs.
	let mut bomb = task(&image, "f() { f | f & }; f; sleep 30");
	bomb.limits.wall_time = Duration::from_secs(5);
	bomb.limits.pids = 32;
	assert!(matches!(engine.run(bomb).await.unwrap_err(), Failure::Timeout { .. }));

	// Every container was removed, after successes and failures alike.
	assert_eq!(leftover_containers(&image), Vec::<String>::new());

	// A task whose future is dropped mid-run (a shutdown, a caller's timeout) leaves no
	// container either.
	let dropped =
		tokio::time::timeout(Duration::from_secs(3), engine.run(task(&image, "sleep 60")));
	assert!(dropped.await.is_err(), "the task was still running when dropped");
	let mut left = leftover_containers(&image);
	for _ in 0..50 {
		if left.is_empty() {
			break;
		}
		tokio::time::sleep(Duration::from_millis(200)).await;
		left = leftover_containers(&image);
	}
	assert_eq!(left, Vec::<String>::new());

	// And a task still runs, and is removed before `run` returns.
	assert!(engine.run(task(&image, "echo ok > /iexec/output/ok")).await.is_ok());
	assert_eq!(leftover_containers(&image), Vec::<String>::new());

	// A container a dead worker left (it carries the task label) is removed by the next
	// worker that connects.
	let left = Command::new("docker")
		.args(["create", "--label", "ec.iex.worker.task=1", &image, "/bin/sleep", "60"])
		.output()
		.unwrap();
	assert!(left.status.success());
	assert_eq!(leftover_containers(&image).len(), 1);
	let (_next, _dir2) = self::engine().await;
	assert_eq!(leftover_containers(&image), Vec::<String>::new());
}

#[tokio::test]
async fn a_container_writing_past_its_output_quota_is_stopped_while_it_runs() {
	let image = test_image();
	let (engine, _dir) = engine().await;
	let quota = 8u64 << 20;
	let with_quota = |script: &str| {
		let mut t = task(&image, script);
		t.limits.output_bytes = quota;
		// Far longer than the test: without the watch, the endless writer would end by timeout.
		t.limits.wall_time = Duration::from_secs(60);
		t
	};
	// Within the quota: a success.
	let ok = engine.run(with_quota("head -c 4096 /dev/zero > /iexec/output/small")).await;
	assert!(ok.is_ok(), "{ok:?}");
	// An endless writer is stopped for its output, not its time.
	match engine.run(with_quota("yes 0123456789abcdef > /iexec/output/endless")).await {
		Err(Failure::OutputTooLarge { bytes, limit_bytes }) => {
			assert_eq!(limit_bytes, quota);
			assert!(bytes > quota, "{bytes}");
		}
		other => panic!("expected OutputTooLarge, got {other:?}"),
	}
	// One that passes the quota quickly fails too: by a measure, or by the check after it.
	let quick = engine.run(with_quota("head -c 9437184 /dev/zero > /iexec/output/big")).await;
	assert!(
		matches!(quick, Err(Failure::OutputTooLarge { bytes, limit_bytes }) if limit_bytes == quota && bytes > quota),
		"{quick:?}"
	);
}
