//! The task execution API: checks what it is given, runs it in the right executor, and
//! digests the output. Every problem becomes a [`Failure`]; nothing here takes the worker down.

use crate::{
	digest,
	docker::DockerExecutor,
	output_quota,
	task::{hash_hex, App, Failure, Outcome, Success, Task, SMALL_RESULT_MAX},
	wasm::WasmExecutor,
};
use std::path::{Path, PathBuf};

/// Runs tasks; holds the Wasm executor (with its module cache) and, when an engine answers,
/// the Docker executor.
#[derive(Clone)]
pub struct TaskEngine {
	wasm: WasmExecutor,
	docker: Option<DockerExecutor>,
	work_dir: PathBuf,
	/// The most a task may ask; `None` accepts any (the `exec` command, where the operator sets
	/// the task's limits). The limits a task runs under are always its own: they decide its
	/// result, so every replica must run under the same ones.
	offer: Option<crate::task::Limits>,
}

impl TaskEngine {
	/// An engine keeping task outputs under `work_dir`. Docker is optional: without a
	/// reachable engine, Docker tasks fail with [`Failure::EngineUnavailable`].
	pub async fn new(work_dir: impl Into<PathBuf>) -> anyhow::Result<Self> {
		let work_dir = work_dir.into();
		std::fs::create_dir_all(&work_dir)?;
		let docker = match DockerExecutor::connect().await {
			Ok(docker) => Some(docker),
			Err(why) => {
				tracing::info!("Docker tasks disabled: {why}");
				None
			}
		};
		Ok(TaskEngine { wasm: WasmExecutor::new()?, docker, work_dir, offer: None })
	}

	/// The same, refusing tasks that ask for more than `offer` (the worker's configuration)
	/// with [`Failure::AboveOffer`] rather than running them under other limits.
	pub async fn with_offer(
		work_dir: impl Into<PathBuf>,
		offer: crate::task::Limits,
	) -> anyhow::Result<Self> {
		let mut engine = Self::new(work_dir).await?;
		engine.offer = Some(offer);
		Ok(engine)
	}

	/// The Wasm executor, for inspection (cache) and benchmarks.
	pub fn wasm(&self) -> &WasmExecutor {
		&self.wasm
	}

	/// The Docker executor, when an engine answered.
	pub fn docker(&self) -> Option<&DockerExecutor> {
		self.docker.as_ref()
	}

	/// Runs `task`: verifies the code hash and the input checksum, runs the app with a fresh
	/// output directory, and digests that directory.
	pub async fn run(&self, task: Task) -> Outcome {
		if let Some(beyond) = self.offer.as_ref().and_then(|offer| task.limits.beyond(offer)) {
			return Err(Failure::AboveOffer(beyond));
		}
		if let Some(input) = &task.input {
			let path = input.path.clone();
			let actual = tokio::task::spawn_blocking(move || digest::input_checksum(&path))
				.await
				.map_err(|e| Failure::Io(e.to_string()))?
				.map_err(|e| Failure::InputUnreadable(format!("{}: {e}", input.path.display())))?;
			if actual != input.checksum {
				return Err(Failure::InputChecksumMismatch {
					expected: hash_hex(&input.checksum),
					actual: hash_hex(&actual),
				});
			}
		}
		let output_dir = tempfile::Builder::new()
			.prefix(OUTPUT_PREFIX)
			.tempdir_in(&self.work_dir)
			.map_err(|e| Failure::Io(e.to_string()))?
			.keep();
		let result = self.execute(&task, &output_dir).await;
		let run = match result {
			Ok(run) => run,
			Err(failure) => {
				let _ = std::fs::remove_dir_all(&output_dir);
				return Err(failure);
			}
		};
		// A Wasm task is held to its quota as it writes; a container is watched while it runs
		// (its output is a bind mount, which has no quota of its own) and checked here.
		let dir = output_dir.clone();
		let written = tokio::task::spawn_blocking(move || output_quota::tree_bytes(&dir))
			.await
			.map_err(|e| Failure::Io(e.to_string()))?
			.map_err(|e| Failure::BadOutput(e.to_string()))?;
		if written > task.limits.output_bytes {
			let _ = std::fs::remove_dir_all(&output_dir);
			return Err(Failure::OutputTooLarge {
				bytes: written,
				limit_bytes: task.limits.output_bytes,
			});
		}
		let dir = output_dir.clone();
		let (digest, small_result, encoded_result) = tokio::task::spawn_blocking(move || {
			Ok::<_, std::io::Error>((
				digest::directory_digest(&dir)?,
				digest::small_result(&dir)?,
				digest::directory_encoding(&dir, SMALL_RESULT_MAX)?,
			))
		})
		.await
		.map_err(|e| Failure::Io(e.to_string()))?
		.map_err(|e| Failure::BadOutput(e.to_string()))?;
		Ok(Success {
			digest,
			small_result,
			encoded_result,
			resources: run.0,
			output_dir,
			stdout: run.1,
			stderr: run.2,
		})
	}

	async fn execute(
		&self,
		task: &Task,
		output_dir: &Path,
	) -> Result<(crate::task::Resources, String, String), Failure> {
		// Executors always get a directory: a single input file is shown alone in one, never
		// beside whatever else its own directory holds, under a fixed name (the host's file
		// name would make the task's view differ between workers).
		let staged;
		let input = match task.input.as_ref().map(|i| i.path.as_path()) {
			Some(path) if path.is_file() => {
				staged = tempfile::Builder::new()
					.prefix("input-")
					.tempdir_in(&self.work_dir)
					.map_err(|e| Failure::Io(e.to_string()))?;
				std::fs::copy(path, staged.path().join(crate::task::INPUT_FILE_NAME))
					.map_err(|e| Failure::InputUnreadable(e.to_string()))?;
				Some(staged.path().to_path_buf())
			}
			other => other.map(Path::to_path_buf),
		};
		match &task.app {
			App::Wasm { module, code_hash } => {
				let actual = digest::blake2_256(module);
				if actual != *code_hash {
					return Err(Failure::CodeHashMismatch {
						expected: hash_hex(code_hash),
						actual: hash_hex(&actual),
					});
				}
				let wasm = self.wasm.clone();
				let (module, code_hash) = (module.clone(), *code_hash);
				let (args, stdin, limits) =
					(task.args.clone(), task.stdin.clone(), task.limits.clone());
				let output = output_dir.to_path_buf();
				tokio::task::spawn_blocking(move || {
					wasm.run(&code_hash, &module, &args, &stdin, input.as_deref(), &output, &limits)
				})
				.await
				.map_err(|e| Failure::Io(format!("the Wasm thread failed: {e}")))?
				.map(|run| (run.resources, run.stdout, run.stderr))
			}
			App::Docker { image_id } => {
				let docker = self.docker.as_ref().ok_or_else(|| {
					Failure::EngineUnavailable("no Docker engine answered at start-up".into())
				})?;
				// The container's unprivileged user must be able to write the output.
				use std::os::unix::fs::PermissionsExt;
				std::fs::set_permissions(output_dir, std::fs::Permissions::from_mode(0o777))
					.map_err(|e| Failure::Io(e.to_string()))?;
				docker
					.run(
						image_id,
						&task.args,
						&task.stdin,
						input.as_deref(),
						output_dir,
						&task.limits,
					)
					.await
					.map(|run| (run.resources, run.stdout, run.stderr))
			}
		}
	}
}

/// Where task outputs are made in a work directory: `task-…` folders directly inside it.
const OUTPUT_PREFIX: &str = "task-";

/// `path`, resolved, if it is a task output of `work_dir` (a `task-…` folder directly inside
/// it): the only thing the worker deletes on its own, whatever a damaged journal or result
/// record names.
pub fn task_output_in(work_dir: &Path, path: &Path) -> Option<std::path::PathBuf> {
	let work_dir = std::fs::canonicalize(work_dir).ok()?;
	let path = std::fs::canonicalize(path).ok()?;
	let named = path.file_name()?.to_str()?.starts_with(OUTPUT_PREFIX);
	(named && path.parent() == Some(work_dir.as_path())).then_some(path)
}
