//! `iexec-worker`: run tasks as the worker would, and describe this host.

use clap::{Parser, Subcommand};
use iexec_worker::{
	config::Config,
	digest,
	engine::TaskEngine,
	machine::Host,
	task::{hash_hex, App, Input, Task},
};
use std::{path::PathBuf, process::ExitCode};

#[derive(Parser)]
#[command(version, about = "The iEx.ec worker: runs Wasm and Docker tasks and earns RLC.")]
struct Cli {
	/// Configuration file (TOML); `IEXEC_WORKER_*` variables and flags override it.
	#[arg(long, global = true, env = "IEXEC_WORKER_CONFIG")]
	config: Option<PathBuf>,
	/// Directory for task data (overrides `work_dir`).
	#[arg(long, global = true)]
	work_dir: Option<PathBuf>,
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Print this host's machine ad (ClassAd).
	Ad,
	/// Run a task exactly as the worker would, and print its digest, resources and output.
	Exec(ExecArgs),
}

#[derive(clap::Args)]
struct ExecArgs {
	/// A WASI module.
	#[arg(long, conflicts_with = "docker", required_unless_present = "docker")]
	wasm: Option<PathBuf>,
	/// A Docker image, by ID (`sha256:…`).
	#[arg(long)]
	docker: Option<String>,
	/// Input data set: a file or a directory (its checksum is computed and printed).
	#[arg(long)]
	input: Option<PathBuf>,
	/// Fuel limit (Wasm).
	#[arg(long)]
	fuel: Option<u64>,
	/// Memory limit, MiB.
	#[arg(long)]
	memory_mib: Option<u64>,
	/// Wall-clock limit, seconds.
	#[arg(long)]
	timeout_s: Option<u64>,
	/// Give the container the host's GPUs (Docker).
	#[arg(long)]
	gpus: bool,
	/// Print the outcome as JSON.
	#[arg(long)]
	json: bool,
	/// Arguments of the task.
	#[arg(last = true)]
	args: Vec<String>,
}

fn main() -> ExitCode {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_env("IEXEC_WORKER_LOG")
				.unwrap_or_else(|_| "info".into()),
		)
		.with_writer(std::io::stderr)
		.init();
	let cli = Cli::parse();
	let mut config = match Config::load(cli.config.as_deref(), std::env::vars()) {
		Ok(config) => config,
		Err(error) => {
			eprintln!("error: {error}");
			return ExitCode::from(2);
		}
	};
	if let Some(dir) = cli.work_dir {
		config.work_dir = dir;
	}
	let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
	match runtime.block_on(run(cli.command, config)) {
		Ok(code) => code,
		Err(error) => {
			eprintln!("error: {error:#}");
			ExitCode::FAILURE
		}
	}
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
	let engine = TaskEngine::new(&config.work_dir).await?;
	match command {
		Command::Ad => {
			let host = Host::detect(&config.work_dir, engine.docker().is_some());
			println!("{}", host.ad(&config.ad));
			Ok(ExitCode::SUCCESS)
		}
		Command::Exec(exec) => {
			let mut limits = config.task_limits();
			if let Some(fuel) = exec.fuel {
				limits.fuel = fuel;
			}
			if let Some(mib) = exec.memory_mib {
				limits.memory_bytes = mib << 20;
			}
			if let Some(seconds) = exec.timeout_s {
				limits.wall_time = std::time::Duration::from_secs(seconds);
			}
			limits.gpus = exec.gpus;
			let app = match (exec.wasm, exec.docker) {
				(Some(path), _) => {
					let module = std::fs::read(&path)
						.map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
					let code_hash = digest::blake2_256(&module);
					eprintln!("code hash: {}", hash_hex(&code_hash));
					App::Wasm { module, code_hash }
				}
				(None, Some(image_id)) => App::Docker { image_id },
				(None, None) => unreachable!("clap requires one of --wasm and --docker"),
			};
			let input = match exec.input {
				Some(path) => {
					let checksum = digest::input_checksum(&path).map_err(|e| {
						anyhow::anyhow!("cannot read input {}: {e}", path.display())
					})?;
					eprintln!("input checksum: {}", hash_hex(&checksum));
					Some(Input { path, checksum })
				}
				None => None,
			};
			let task = Task { app, args: exec.args, stdin: Vec::new(), input, limits };
			let outcome = engine.run(task).await;
			if exec.json {
				let json = match &outcome {
					Ok(success) => serde_json::json!({ "success": success }),
					Err(failure) => {
						serde_json::json!({ "failure": failure, "reason": failure.to_string() })
					}
				};
				println!("{json:#}");
			}
			match outcome {
				Ok(success) => {
					if !exec.json {
						println!("digest: {}", hash_hex(&success.digest));
						println!(
							"resources: fuel {}, wall time {:.3} s, peak memory {} KiB",
							success.resources.fuel,
							success.resources.wall_time.as_secs_f64(),
							success.resources.peak_memory_bytes / 1024
						);
						println!("output: {}", success.output_dir.display());
						if let Some(small) = &success.small_result {
							println!(
								"result ({} bytes, kept whole): {}",
								small.len(),
								String::from_utf8_lossy(small)
							);
						}
					}
					Ok(ExitCode::SUCCESS)
				}
				Err(failure) => {
					eprintln!("task failed: {failure}");
					Ok(ExitCode::FAILURE)
				}
			}
		}
	}
}
