//! Sandboxed Docker execution through the Docker Engine API (bollard).
//!
//! The image is pinned by ID; the container gets no network, a read-only root filesystem,
//! no capabilities, `no-new-privileges`, an unprivileged user, CPU / memory / PID limits, the
//! input mounted read-only at `/iexec/input` and the output directory at `/iexec/output`, the
//! task's standard input, GPUs through a device request when the task asks for them, and a
//! wall-clock limit that kills it; an output quota watched while it runs (a container past it
//! is stopped); an init process, no core files, a fixed hostname, logs capped by the engine
//! too. The container is removed afterwards, whatever happened — also when the task's future
//! is dropped — and containers a dead worker left (they carry [`TASK_LABEL`]) are removed
//! when the next one connects.

use crate::{
	output_quota::tree_bytes,
	task::{Failure, Limits, Resources},
};
use bollard::{
	models::{
		ContainerCreateBody, DeviceRequest, HostConfig, HostConfigLogConfig, Mount, MountTypeEnum,
		ResourcesUlimits,
	},
	query_parameters::{
		AttachContainerOptions, CreateContainerOptions, InspectContainerOptions,
		KillContainerOptions, ListContainersOptions, LogsOptions, RemoveContainerOptions,
		StartContainerOptions, WaitContainerOptions,
	},
	Docker,
};
use futures::StreamExt;
use std::{
	path::{Path, PathBuf},
	time::{Duration, Instant},
};

/// Where the task finds its input and writes its output inside the container.
pub const INPUT_MOUNT: &str = "/iexec/input";
pub const OUTPUT_MOUNT: &str = "/iexec/output";
/// `nobody`: tasks never run as root.
const TASK_USER: &str = "65534:65534";
/// The label of every task container, by which leftovers are found.
pub const TASK_LABEL: &str = "ec.iex.worker.task";
/// The hostname every task sees, whatever the host's.
pub const TASK_HOSTNAME: &str = "iexec-task";
/// How often a running container's output is measured, at least: a container can pass its
/// quota by what it writes in this time before it is stopped.
const OUTPUT_WATCH_EVERY: Duration = Duration::from_millis(250);

/// Removes a container when dropped, unless disarmed: a task whose future is dropped (a
/// shutdown, a timeout above it) must not leave its container running.
struct RemoveOnDrop {
	docker: Docker,
	id: Option<String>,
}

impl Drop for RemoveOnDrop {
	fn drop(&mut self) {
		let Some(id) = self.id.take() else { return };
		let docker = self.docker.clone();
		if let Ok(runtime) = tokio::runtime::Handle::try_current() {
			runtime.spawn(async move {
				let remove = RemoveContainerOptions { force: true, v: true, ..Default::default() };
				if let Err(e) = docker.remove_container(&id, Some(remove)).await {
					tracing::warn!(container = %id, "could not remove the task container: {e}");
				}
			});
		}
	}
}

/// What a finished container run reports besides its output directory.
#[derive(Debug)]
pub struct DockerRun {
	pub resources: Resources,
	pub stdout: String,
	pub stderr: String,
}

/// The Docker executor.
#[derive(Clone)]
pub struct DockerExecutor {
	docker: Docker,
}

impl DockerExecutor {
	/// Connects to the local engine (`DOCKER_HOST`, else the Unix socket) and agrees on an API
	/// version with it.
	pub async fn connect() -> Result<Self, Failure> {
		let unavailable = |e: bollard::errors::Error| Failure::EngineUnavailable(e.to_string());
		let docker = Docker::connect_with_local_defaults().map_err(unavailable)?;
		let docker = docker.negotiate_version().await.map_err(unavailable)?;
		docker.ping().await.map_err(unavailable)?;
		let executor = DockerExecutor { docker };
		executor.remove_leftovers().await;
		Ok(executor)
	}

	/// Removes the task containers an earlier worker left behind (it died mid-task).
	async fn remove_leftovers(&self) {
		let options = ListContainersOptions {
			all: true,
			filters: Some([("label".to_string(), vec![TASK_LABEL.to_string()])].into()),
			..Default::default()
		};
		let Ok(leftovers) = self.docker.list_containers(Some(options)).await else { return };
		for id in leftovers.into_iter().filter_map(|c| c.id) {
			let remove = RemoveContainerOptions { force: true, v: true, ..Default::default() };
			match self.docker.remove_container(&id, Some(remove)).await {
				Ok(()) => tracing::info!(container = %id, "removed a task container left behind"),
				Err(e) => tracing::warn!(container = %id, "could not remove a leftover: {e}"),
			}
		}
	}

	/// The engine's version, for the machine ad and logs.
	pub async fn engine_version(&self) -> Option<String> {
		self.docker.version().await.ok().and_then(|v| v.version)
	}

	/// Runs image `image_id` with `args` as its command and `stdin` as its standard input.
	pub async fn run(
		&self,
		image_id: &str,
		args: &[String],
		stdin: &[u8],
		input: Option<&Path>,
		output: &Path,
		limits: &Limits,
	) -> Result<DockerRun, Failure> {
		let image = self.docker.inspect_image(image_id).await.map_err(|e| match e {
			bollard::errors::Error::DockerResponseServerError { status_code: 404, .. } => {
				Failure::ImageNotFound(image_id.into())
			}
			other => Failure::EngineUnavailable(other.to_string()),
		})?;
		// Pinning: a tag could have moved; the ID cannot.
		let actual = image.id.unwrap_or_default();
		if actual != image_id {
			return Err(Failure::CodeHashMismatch { expected: image_id.into(), actual });
		}

		// Structured mounts: a host path with `:` in it is a path, not a separator.
		let bind = |source: &Path, target: &str, read_only: bool| Mount {
			target: Some(target.into()),
			source: Some(source.display().to_string()),
			typ: Some(MountTypeEnum::BIND),
			read_only: Some(read_only),
			..Default::default()
		};
		let mut mounts = vec![bind(output, OUTPUT_MOUNT, false)];
		if let Some(input) = input {
			mounts.push(bind(input, INPUT_MOUNT, true));
		}
		// The engine keeps at most twice the cap of logs (stdout and stderr share one file).
		let log_bytes = (limits.output_cap.saturating_mul(2)).max(4096);
		let host_config = HostConfig {
			network_mode: Some("none".into()),
			readonly_rootfs: Some(true),
			cap_drop: Some(vec!["ALL".into()]),
			security_opt: Some(vec!["no-new-privileges".into()]),
			memory: Some(limits.memory_bytes as i64),
			// Same as memory: no swap.
			memory_swap: Some(limits.memory_bytes as i64),
			nano_cpus: Some((limits.cpus * 1e9) as i64),
			pids_limit: Some(limits.pids),
			mounts: Some(mounts),
			// An init reaps orphans and forwards signals; no core files fill the disk.
			init: Some(true),
			ulimits: Some(vec![ResourcesUlimits {
				name: Some("core".into()),
				soft: Some(0),
				hard: Some(0),
			}]),
			log_config: Some(HostConfigLogConfig {
				typ: Some("json-file".into()),
				config: Some(
					[
						("max-size".to_string(), log_bytes.to_string()),
						("max-file".to_string(), "1".to_string()),
					]
					.into(),
				),
			}),
			// A small writable /tmp in memory, as many programs expect one.
			tmpfs: Some([("/tmp".to_string(), "rw,noexec,nosuid,size=64m".to_string())].into()),
			device_requests: gpu_request(limits),
			..Default::default()
		};
		let config = ContainerCreateBody {
			image: Some(image_id.into()),
			cmd: (!args.is_empty()).then(|| args.to_vec()),
			user: Some(TASK_USER.into()),
			hostname: Some(TASK_HOSTNAME.into()),
			labels: Some([(TASK_LABEL.to_string(), "1".to_string())].into()),
			network_disabled: Some(true),
			// Standard input is the task's: closed once it is all written (an empty one
			// reads as end of file at once).
			open_stdin: Some(true),
			stdin_once: Some(true),
			attach_stdin: Some(true),
			working_dir: Some(OUTPUT_MOUNT.into()),
			env: Some(vec![
				format!("IEXEC_INPUT={INPUT_MOUNT}"),
				format!("IEXEC_OUTPUT={OUTPUT_MOUNT}"),
			]),
			host_config: Some(host_config),
			..Default::default()
		};
		let created =
			self.docker.create_container(None::<CreateContainerOptions>, config).await.map_err(
				|e| Failure::EngineUnavailable(format!("cannot create the container: {e}")),
			)?;
		let id = created.id;
		// Removed whatever happens below, also if this future is dropped (then by a task the
		// guard spawns); a failure to remove is logged, not hidden.
		let mut guard = RemoveOnDrop { docker: self.docker.clone(), id: Some(id.clone()) };
		let result = self.run_created(&id, stdin, output, limits).await;
		// Not dropped: remove it now, and be done before returning.
		guard.id = None;
		let remove = RemoveContainerOptions { force: true, v: true, ..Default::default() };
		if let Err(e) = self.docker.remove_container(&id, Some(remove)).await {
			tracing::warn!(container = %id, "could not remove the task container: {e}");
		}
		result
	}

	async fn run_created(
		&self,
		id: &str,
		stdin: &[u8],
		output: &Path,
		limits: &Limits,
	) -> Result<DockerRun, Failure> {
		let engine = |e: bollard::errors::Error| Failure::EngineUnavailable(e.to_string());
		// Attached before the start, so the task reads its input from the first byte.
		let attach = AttachContainerOptions { stdin: true, stream: true, ..Default::default() };
		let mut attached = self.docker.attach_container(id, Some(attach)).await.map_err(engine)?;
		let started = Instant::now();
		self.docker.start_container(id, None::<StartContainerOptions>).await.map_err(
			|e| match e {
				// The engine answered but could not start this container: a missing command,
				// a GPU runtime that is not installed…
				bollard::errors::Error::DockerResponseServerError { message, .. } => {
					Failure::CannotStart(message)
				}
				other => engine(other),
			},
		)?;
		// Written beside the run: a task that never reads its input must not hold this up,
		// and closing the stream is its end of file.
		let stdin = stdin.to_vec();
		let writer = tokio::spawn(async move {
			use tokio::io::AsyncWriteExt;
			let _ = attached.input.write_all(&stdin).await;
			let _ = attached.input.shutdown().await;
		});
		let mut wait = self.docker.wait_container(id, None::<WaitContainerOptions>);
		let (mut timed_out, mut bad_output) = (false, None);
		tokio::select! {
			_ = wait.next() => {}
			_ = tokio::time::sleep(limits.wall_time) => timed_out = true,
			failure = output_watch(output.to_path_buf(), limits.output_bytes) => bad_output = Some(failure),
		}
		let wall_time = started.elapsed();
		writer.abort();
		if timed_out || bad_output.is_some() {
			let kill = KillContainerOptions { signal: "KILL".into() };
			let _ = self.docker.kill_container(id, Some(kill)).await;
		}
		let state = self
			.docker
			.inspect_container(id, None::<InspectContainerOptions>)
			.await
			.map_err(engine)?
			.state;
		let (stdout, stderr) = self.logs(id, limits.output_cap).await;
		if timed_out {
			return Err(Failure::Timeout { seconds: wall_time.as_secs_f64() });
		}
		if let Some(failure) = bad_output {
			return Err(failure);
		}
		let state = state.unwrap_or_default();
		// Success only once the container has stopped (a wait cut short says nothing).
		if state.running != Some(false) {
			let kill = KillContainerOptions { signal: "KILL".into() };
			let _ = self.docker.kill_container(id, Some(kill)).await;
			return Err(Failure::EngineUnavailable(
				"the engine stopped reporting on the container before it ended".into(),
			));
		}
		// Out of memory only when the engine says so: an exit status of 137 is any SIGKILL.
		if state.oom_killed == Some(true) {
			return Err(Failure::OutOfMemory { limit_bytes: limits.memory_bytes });
		}
		match state.exit_code.unwrap_or(-1) {
			0 => Ok(DockerRun {
				resources: Resources { fuel: 0, wall_time, peak_memory_bytes: 0 },
				stdout,
				stderr,
			}),
			code => Err(Failure::NonZeroExit { code, stderr }),
		}
	}

	/// stdout and stderr of the container, each capped at `cap` bytes.
	async fn logs(&self, id: &str, cap: usize) -> (String, String) {
		let options =
			LogsOptions { stdout: true, stderr: true, tail: "all".into(), ..Default::default() };
		let mut stream = self.docker.logs(id, Some(options));
		let (mut out, mut err) = (Vec::new(), Vec::new());
		// Read only up to the cap: what is beyond is never fetched.
		while out.len() < cap || err.len() < cap {
			let Some(Ok(chunk)) = stream.next().await else { break };
			use bollard::container::LogOutput;
			let (sink, bytes) = match chunk {
				LogOutput::StdOut { message } => (&mut out, message),
				LogOutput::StdErr { message } => (&mut err, message),
				_ => continue,
			};
			let room = cap.saturating_sub(sink.len());
			sink.extend_from_slice(&bytes[..bytes.len().min(room)]);
		}
		(String::from_utf8_lossy(&out).into_owned(), String::from_utf8_lossy(&err).into_owned())
	}
}

/// Returns, with the task's failure, once the files under `output` hold more than `quota`
/// bytes, or once the output cannot be measured (a directory the task closed to the worker:
/// the worker could not digest it either, and must not be blinded while the task writes on);
/// never otherwise. It measures every [`OUTPUT_WATCH_EVERY`], or four times as seldom as a
/// measure takes, so that an output of many files does not keep a core busy.
async fn output_watch(output: PathBuf, quota: u64) -> Failure {
	loop {
		let started = Instant::now();
		let dir = output.clone();
		match tokio::task::spawn_blocking(move || tree_bytes(&dir)).await {
			Ok(Ok(bytes)) if bytes > quota => {
				return Failure::OutputTooLarge { bytes, limit_bytes: quota };
			}
			Ok(Ok(_)) => {}
			Ok(Err(e)) => return Failure::BadOutput(format!("the output cannot be measured: {e}")),
			Err(e) => return Failure::Io(e.to_string()),
		}
		tokio::time::sleep(OUTPUT_WATCH_EVERY.max(started.elapsed() * 4)).await;
	}
}

/// The device request that gives a task its GPUs: those leased to it, or all of the host's.
fn gpu_request(limits: &Limits) -> Option<Vec<DeviceRequest>> {
	if !limits.gpus {
		return None;
	}
	let (count, device_ids) = match limits.gpu_devices.is_empty() {
		true => (Some(-1), None),
		false => (None, Some(limits.gpu_devices.clone())),
	};
	Some(vec![DeviceRequest {
		driver: Some("nvidia".into()),
		count,
		device_ids,
		capabilities: Some(vec![vec!["gpu".into()]]),
		..Default::default()
	}])
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_task_gets_the_gpus_leased_to_it_or_all_when_none_are() {
		assert_eq!(gpu_request(&Limits::default()), None, "no GPU asked for");
		let all = gpu_request(&Limits { gpus: true, ..Limits::default() }).expect("asked");
		assert_eq!((all[0].count, all[0].device_ids.clone()), (Some(-1), None));
		let leased =
			Limits { gpus: true, gpu_devices: vec!["2".into(), "3".into()], ..Limits::default() };
		let some = gpu_request(&leased).expect("asked");
		assert_eq!(
			(some[0].count, some[0].device_ids.clone()),
			(None, Some(vec!["2".into(), "3".into()]))
		);
		assert_eq!(some[0].driver.as_deref(), Some("nvidia"));
	}
}
