//! `iexec-worker`: the daemon a rig owner runs (`run`), its pool membership (`join`, `leave`),
//! what it holds and earned (`status`, `explain`), and running a task by hand (`exec`, `ad`).

use clap::{Parser, Subcommand};
use iexec_worker::{
	chain::{Chain, TaskId},
	config::Config,
	daemon::{self, Daemon, Settings},
	digest,
	engine::TaskEngine,
	journal::{format_task, Journal},
	keys::WorkerKey,
	machine::Host,
	metrics::Metrics,
	serve::{self, ResultStore},
	task::{hash_hex, App, Determinism, Input, Task},
};
use std::{path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

#[derive(Parser)]
#[command(version, about = "The iEx.ec worker: runs Wasm and Docker tasks and earns RLC.")]
struct Cli {
	/// Configuration file (TOML); `IEXEC_WORKER_*` variables and flags override it.
	#[arg(long, global = true, env = "IEXEC_WORKER_CONFIG")]
	config: Option<PathBuf>,
	/// Directory for task data (overrides `work_dir`).
	#[arg(long, global = true)]
	work_dir: Option<PathBuf>,
	/// Node WebSocket URLs, comma-separated, tried in order (overrides `node_url`).
	#[arg(long, global = true)]
	node_url: Option<String>,
	/// File holding the worker's secret key; readable by its owner only (overrides `key_file`).
	#[arg(long, global = true)]
	key_file: Option<PathBuf>,
	/// The worker's secret key itself (`//Dave`, a phrase, a 0x seed); prefer --key-file.
	#[arg(long, global = true, env = "IEXEC_WORKER_SURI", hide_env_values = true)]
	suri: Option<String>,
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Print this host's machine ad (ClassAd).
	Ad,
	/// Run a task exactly as the worker would, and print its digest, resources and output.
	Exec(ExecArgs),
	/// Compile a WebAssembly text app (`.wat`) to a module, and print its code hash (what the
	/// app is registered with).
	CompileWat {
		/// The `.wat` source.
		source: PathBuf,
		/// Where the module goes.
		output: PathBuf,
	},
	/// Run the worker: claim the pool's tasks, run them, commit and reveal, get paid.
	Run(RunArgs),
	/// Join a worker pool with this host's machine ad (holds a storage deposit).
	Join {
		/// The pool's contract id.
		pool: u64,
	},
	/// Leave the pool (holding no replica); the deposit comes back.
	Leave,
	/// The pool, score, balances, and the replicas in progress with their phase.
	Status,
	/// Why this worker does or does not take a task (`DEAL/INDEX`).
	Explain { task: String },
}

#[derive(clap::Args)]
struct RunArgs {
	/// Replicas held at once (overrides `slots`).
	#[arg(long)]
	slots: Option<usize>,
	/// Address of the health, metrics and result endpoints (overrides `listen`).
	#[arg(long)]
	listen: Option<String>,
	/// Public base URL of the result endpoint (overrides `result_url`).
	#[arg(long)]
	result_url: Option<String>,
	/// Seconds a shutdown waits for running tasks before handing their replicas back
	/// (overrides `shutdown_grace_s`).
	#[arg(long)]
	shutdown_grace_s: Option<u64>,
	/// Read apps and data sets from `file://` locations too (development chains).
	#[arg(long)]
	allow_file_uris: bool,
	/// Test only: commit wrong results, to watch the protocol take the stake.
	#[arg(long, hide = true)]
	fault_wrong_result: bool,
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
	/// Leave NaN bits as this processor makes them, as for a deal pinned to one architecture
	/// (Wasm; by default they are canonicalised, as for a portable deal).
	#[arg(long)]
	same_architecture: bool,
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
	let mut overrides = vec![];
	if let Some(url) = cli.node_url {
		overrides.push(("node_url", url));
	}
	if let Command::Run(run) = &cli.command {
		overrides.extend(run.slots.map(|n| ("slots", n.to_string())));
		overrides.extend(run.listen.clone().map(|a| ("listen", a)));
		overrides.extend(run.result_url.clone().map(|u| ("result_url", u)));
		overrides.extend(run.shutdown_grace_s.map(|s| ("shutdown_grace_s", s.to_string())));
		if run.allow_file_uris {
			overrides.push(("allow_file_uris", "true".into()));
		}
	}
	for (field, value) in overrides {
		if let Err(error) = config.set(field, &value).and_then(|_| config.validate()) {
			eprintln!("error: {error}");
			return ExitCode::from(2);
		}
	}
	if let Some(path) = cli.key_file {
		config.key_file = Some(path);
	}
	let key = || WorkerKey::load(config.key_file.as_deref(), cli.suri.as_deref());
	let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
	let outcome = match cli.command {
		Command::Ad | Command::Exec(_) | Command::CompileWat { .. } => {
			runtime.block_on(run(cli.command, config))
		}
		command => match key() {
			Ok(key) => runtime.block_on(on_chain(command, config, key)),
			Err(error) => {
				eprintln!("error: {error}");
				return ExitCode::from(2);
			}
		},
	};
	// Runs stopped at shutdown may still hold a blocking thread: do not wait for them.
	runtime.shutdown_timeout(Duration::from_secs(5));
	match outcome {
		Ok(code) => code,
		Err(error) => {
			eprintln!("error: {error:#}");
			ExitCode::FAILURE
		}
	}
}

/// The commands that talk to the chain with the worker's key.
async fn on_chain(command: Command, config: Config, key: WorkerKey) -> anyhow::Result<ExitCode> {
	let chain = Chain::new(config.node_urls());
	let me = key.account();
	match command {
		Command::Run(args) => {
			let engine = TaskEngine::with_offer(&config.work_dir, config.offer()).await?;
			let metrics = Arc::new(Metrics::default());
			let results = ResultStore::open(config.work_dir.join("results"))?;
			let address = config.listen.parse()?;
			let bound = serve::serve(
				address,
				metrics.clone(),
				chain.clone(),
				results,
				config.result_url.clone(),
			)
			.await
			.map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
			tracing::info!(%bound, "health, metrics and results served");
			let settings = Settings {
				slots: config.slots,
				offer: config.offer(),
				result_url: config.result_url.clone(),
				poll: Duration::from_millis(1000),
				shutdown_grace: Duration::from_secs(config.shutdown_grace_s),
				result_retention: Duration::from_secs(config.result_retention_days * 24 * 3600),
				allow_file_uris: config.allow_file_uris,
				fault_wrong_result: args.fault_wrong_result,
			};
			if args.fault_wrong_result {
				tracing::warn!("--fault-wrong-result: this worker commits wrong results and will lose its stakes");
			}
			let daemon =
				Daemon::start(chain, key, engine, config.work_dir.clone(), settings, metrics)
					.await?;
			let (stop, stopped) = tokio::sync::watch::channel(false);
			tokio::spawn(async move {
				let mut term =
					tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
						.expect("SIGTERM handler");
				tokio::select! {
					_ = term.recv() => {}
					_ = tokio::signal::ctrl_c() => {}
				}
				let _ = stop.send(true);
			});
			daemon.run(stopped).await;
			Ok(ExitCode::SUCCESS)
		}
		Command::Join { pool } => {
			let engine = TaskEngine::new(&config.work_dir).await?;
			let ad = Host::detect(&config.work_dir, engine.docker().is_some())
				.offering(config.offer().gpus)
				.ad(&config.ad)
				.to_string();
			let ad = ad
				.into_bytes()
				.try_into()
				.map_err(|_| anyhow::anyhow!("the machine ad is too long"))?;
			let call = pallet_poco::Call::join_pool { pool, ad };
			let included =
				chain.submit_finalized(&key, iexec_runtime::RuntimeCall::Poco(call)).await?;
			println!("{me} joined pool {pool} (finalised in block {:?})", included.block);
			Ok(ExitCode::SUCCESS)
		}
		Command::Leave => {
			let call = pallet_poco::Call::leave_pool {};
			chain.submit_finalized(&key, iexec_runtime::RuntimeCall::Poco(call)).await?;
			println!("{me} left its pool; the deposit is back");
			Ok(ExitCode::SUCCESS)
		}
		Command::Status => {
			let head = chain.finalized().await?;
			let account = chain.account(&me, head.hash).await?;
			println!("worker: {me}");
			println!("node: {} (finalised block {})", chain.node_url().await, head.number);
			match chain.worker(&me, head.hash).await? {
				Some(record) => println!(
					"pool: {}\nreplicas held: {}\ndeposit: {}",
					record.pool, record.replicas, record.deposit
				),
				None => println!("pool: none (run `iexec-worker join POOL`)"),
			}
			println!("score: {}", chain.score(&me, head.hash).await?);
			println!(
				"free: {}\nheld (deposit and stakes): {}",
				account.data.free, account.data.reserved
			);
			for entry in Journal::open(config.work_dir.join("journal"))?.entries() {
				let task = entry.task();
				let phase = match chain.task(task, head.hash).await? {
					Some(record) => {
						match record.replica_of(&me).map(|at| record.replicas[at].state) {
							Some(state) => format!("{state:?}, task {:?}", record.status),
							None => format!("no replica, task {:?}", record.status),
						}
					}
					None => "not started".into(),
				};
				let local = match (&entry.computed, &entry.failure) {
					(Some(c), _) => format!("computed {}", hash_hex(&c.digest)),
					(None, Some(why)) => format!("failed: {why}"),
					(None, None) => "running or waiting".into(),
				};
				println!("replica {}: {phase}; {local}", format_task(task));
			}
			Ok(ExitCode::SUCCESS)
		}
		Command::Explain { task } => {
			let Some((deal, index)) =
				task.split_once('/').and_then(|(d, i)| Some((d.parse().ok()?, i.parse().ok()?)))
			else {
				anyhow::bail!("give the task as DEAL/INDEX, like 3/0");
			};
			let task = TaskId { deal, index };
			let head = chain.finalized().await?;
			let Some(deal) = chain.deal(task.deal, head.hash).await? else {
				anyhow::bail!("no deal {} at finalised block {}", task.deal, head.number);
			};
			let Some(record) = chain.worker(&me, head.hash).await? else {
				println!("{me} is not a worker: run `iexec-worker join {}`", deal.pool);
				return Ok(ExitCode::FAILURE);
			};
			let mut reasons = Vec::new();
			if record.pool != deal.pool {
				reasons.push(format!(
					"the deal is for pool {}, this worker serves pool {}",
					deal.pool, record.pool
				));
			}
			if task.index >= deal.volume {
				reasons.push(format!("the deal has {} tasks", deal.volume));
			}
			let engine = TaskEngine::new(&config.work_dir).await?;
			let ad = pallet_market::ads::load(&record.ad);
			let job = pallet_market::ads::load(&deal.job_ad);
			let (met, evaluation) =
				iexec_classad::matching::requirements_met(&job, &ad, &pallet_market::ads::limits());
			println!("job requirements: {}", if met { "met" } else { "not met" });
			println!("  {evaluation:?}");
			let rules = chain.deal_rules(task.deal, head.hash).await?;
			if let Some(why) =
				daemon::unfit(&deal, &rules, &ad, &config.offer(), engine.docker().is_some())
			{
				reasons.push(why);
			}
			match chain.task(task, head.hash).await? {
				Some(record) => {
					println!(
						"task {}: {:?}, {} replicas",
						format_task(task),
						record.status,
						record.replicas.len()
					);
					if record.replica_of(&me).is_some() {
						println!("this worker holds a replica of it");
					}
				}
				None => println!(
					"task {}: not started (the deal's next task: {})",
					format_task(task),
					chain.next_task(task.deal, head.hash).await?
				),
			}
			if reasons.is_empty() {
				println!("this worker can take it");
				Ok(ExitCode::SUCCESS)
			} else {
				for reason in reasons {
					println!("cannot take it: {reason}");
				}
				Ok(ExitCode::FAILURE)
			}
		}
		Command::Ad | Command::Exec(_) | Command::CompileWat { .. } => {
			unreachable!("run without a key")
		}
	}
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
	if let Command::CompileWat { source, output } = &command {
		let module = wat::parse_file(source).map_err(|e| anyhow::anyhow!("{e}"))?;
		std::fs::write(output, &module)
			.map_err(|e| anyhow::anyhow!("cannot write {}: {e}", output.display()))?;
		println!("{}", hash_hex(&digest::blake2_256(&module)));
		return Ok(ExitCode::SUCCESS);
	}
	let engine = TaskEngine::new(&config.work_dir).await?;
	match command {
		Command::Ad => {
			let host = Host::detect(&config.work_dir, engine.docker().is_some())
				.offering(config.offer().gpus);
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
			if exec.same_architecture {
				limits.determinism = Determinism::SameArchitecture;
			}
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
		_ => unreachable!("the chain commands run in on_chain"),
	}
}
