//! The worker's HTTP endpoints: `/health`, `/metrics` (Prometheus) and `/results/{deal}/{index}`,
//! which gives a certified result's bytes (the output's directory encoding, whose blake2-256 is
//! the on-chain digest) to the deal's beneficiary only.
//!
//! The beneficiary proves itself by signing, with its account key (sr25519),
//! `iexec/result-access/v2 ‖ SCALE((deal: u64, index: u32, at: u64, uri: Vec<u8>))`, `at` being
//! the current Unix time in seconds and `uri` the result's location as this worker revealed
//! it; it sends `?at=…&signature=0x…` (the 64 signature bytes). A signature more than five
//! minutes old or ahead is refused, so a captured one does not open the result for long, and
//! one made for another worker's location does not open this worker's copy.

use crate::{
	chain::{Chain, TaskId},
	metrics::Metrics,
};
use codec::Encode;
use http_body_util::Full;
use hyper::{body::Bytes, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use sp_core::sr25519;
use sp_runtime::traits::Verify;
use std::{
	net::SocketAddr,
	path::PathBuf,
	sync::{atomic::Ordering::Relaxed, Arc},
};

/// What a result-access signature covers first.
pub const RESULT_ACCESS_CONTEXT: &[u8] = b"iexec/result-access/v2";
/// How far a signature's time may be from the server's.
const MAX_SKEW_SECONDS: u64 = 300;

/// Where certified results are kept: `results/{deal}-{index}` holds the output directory.
#[derive(Clone, Debug)]
pub struct ResultStore {
	dir: PathBuf,
}

impl ResultStore {
	pub fn open(dir: impl Into<PathBuf>) -> std::io::Result<ResultStore> {
		let dir = dir.into();
		std::fs::create_dir_all(&dir)?;
		Ok(ResultStore { dir })
	}

	fn index(&self, task: TaskId) -> PathBuf {
		self.dir.join(format!("{}-{}", task.deal, task.index))
	}

	/// Records where `task`'s output is.
	pub fn keep(&self, task: TaskId, output: &std::path::Path) -> std::io::Result<()> {
		std::fs::write(self.index(task), output.as_os_str().as_encoded_bytes())
	}

	/// The output's directory encoding, if this worker keeps `task`'s result (outputs live
	/// beside the store, in the work directory; a record naming anything else is ignored).
	pub fn encoding(&self, task: TaskId) -> Option<Vec<u8>> {
		let path = std::fs::read_to_string(self.index(task)).ok()?;
		let path = std::fs::canonicalize(path).ok()?;
		let work_dir = std::fs::canonicalize(self.dir.parent()?).ok()?;
		if !path.starts_with(&work_dir) {
			return None;
		}
		crate::digest::directory_encoding(&path, usize::MAX).ok().flatten()
	}

	/// Whether this worker keeps `task`'s result.
	pub fn has(&self, task: TaskId) -> bool {
		self.index(task).exists()
	}

	/// Forgets the results kept longer than `retention`, their outputs with them (task outputs
	/// of the work directory only). A record whose output cannot be deleted (files a container
	/// left to another user) is kept, to be tried again. Returns how many went.
	pub fn prune(&self, retention: std::time::Duration) -> usize {
		let Some(cutoff) = std::time::SystemTime::now().checked_sub(retention) else { return 0 };
		let Ok(entries) = std::fs::read_dir(&self.dir) else { return 0 };
		let Some(work_dir) = self.dir.parent() else { return 0 };
		let mut pruned = 0;
		for entry in entries.flatten() {
			let kept_since = entry.metadata().and_then(|m| m.modified());
			if !kept_since.is_ok_and(|t| t < cutoff) {
				continue;
			}
			let output = std::fs::read_to_string(entry.path())
				.ok()
				.and_then(|path| crate::engine::task_output_in(work_dir, path.as_ref()));
			if let Some(output) = output {
				if let Err(error) = std::fs::remove_dir_all(&output) {
					tracing::warn!(output = %output.display(), %error, "cannot delete an old result");
					continue;
				}
			}
			if std::fs::remove_file(entry.path()).is_ok() {
				pruned += 1;
			}
		}
		pruned
	}
}

/// The location a worker whose result server is reached at `base` reveals for `task`.
pub fn result_uri(base: &str, task: TaskId) -> String {
	format!("{}/results/{}/{}", base.trim_end_matches('/'), task.deal, task.index)
}

/// The bytes a beneficiary signs to fetch `task`'s result from `uri` at Unix time `at`.
pub fn access_message(task: TaskId, at: u64, uri: &str) -> Vec<u8> {
	let mut bytes = RESULT_ACCESS_CONTEXT.to_vec();
	(task.deal, task.index, at, uri.as_bytes()).encode_to(&mut bytes);
	bytes
}

/// Serves the endpoints on `address` until the process ends.
pub async fn serve(
	address: SocketAddr,
	metrics: Arc<Metrics>,
	chain: Chain,
	results: ResultStore,
	result_url: Option<String>,
) -> std::io::Result<SocketAddr> {
	let listener = tokio::net::TcpListener::bind(address).await?;
	let bound = listener.local_addr()?;
	tokio::spawn(async move {
		loop {
			let Ok((stream, _)) = listener.accept().await else { continue };
			let server = Server {
				metrics: metrics.clone(),
				chain: chain.clone(),
				results: results.clone(),
				result_url: result_url.clone(),
			};
			tokio::spawn(async move {
				let service = hyper::service::service_fn(move |request| {
					let server = server.clone();
					async move { Ok::<_, std::convert::Infallible>(server.answer(request).await) }
				});
				let _ = hyper::server::conn::http1::Builder::new()
					.serve_connection(TokioIo::new(stream), service)
					.await;
			});
		}
	});
	Ok(bound)
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
	let mut response = Response::new(Full::new(body.into()));
	*response.status_mut() = status;
	response
}

/// What a connection is served from.
#[derive(Clone)]
struct Server {
	metrics: Arc<Metrics>,
	chain: Chain,
	results: ResultStore,
	/// The base of the locations this worker reveals (`result_url`).
	result_url: Option<String>,
}

impl Server {
	async fn answer(&self, request: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
		let path = request.uri().path().to_string();
		match path.as_str() {
			"/health" => {
				if self.metrics.synced.load(Relaxed) == 1 {
					reply(StatusCode::OK, "ok\n")
				} else {
					reply(StatusCode::SERVICE_UNAVAILABLE, "not synced with a node yet\n")
				}
			}
			"/metrics" => reply(StatusCode::OK, self.metrics.render()),
			_ => match path.strip_prefix("/results/") {
				Some(rest) => self.result(rest, request.uri().query().unwrap_or("")).await,
				None => reply(
					StatusCode::NOT_FOUND,
					"no such endpoint: try /health, /metrics or /results/{deal}/{index}\n",
				),
			},
		}
	}

	async fn result(&self, rest: &str, query: &str) -> Response<Full<Bytes>> {
		let bad = |why: &str| reply(StatusCode::BAD_REQUEST, format!("{why}\n"));
		let Some((deal, index)) = rest.split_once('/') else {
			return bad("use /results/{deal}/{index}");
		};
		let (Ok(deal), Ok(index)) = (deal.parse::<u64>(), index.parse::<u32>()) else {
			return bad("deal and index must be numbers");
		};
		let task = TaskId { deal, index };
		let parameter = |name: &str| {
			query
				.split('&')
				.find_map(|pair| pair.strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
		};
		let (Some(at), Some(signature)) = (parameter("at"), parameter("signature")) else {
			return reply(
				StatusCode::UNAUTHORIZED,
				"sign the access message and send ?at=…&signature=0x… (docs/worker.md)\n",
			);
		};
		let Ok(at) = at.parse::<u64>() else { return bad("`at` must be Unix seconds") };
		// Local checks first: a request for nothing costs no node call.
		let not_kept = "this worker keeps no certified result of that task\n";
		if !self.results.has(task) {
			return reply(StatusCode::NOT_FOUND, not_kept);
		}
		// The signature covers the location this worker revealed: without one, nobody was
		// told where to ask.
		let Some(base) = &self.result_url else {
			return reply(
				StatusCode::NOT_FOUND,
				"this worker reveals no result location (its result_url is unset)\n",
			);
		};
		let now = std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.map(|d| d.as_secs())
			.unwrap_or_default();
		if now.abs_diff(at) > MAX_SKEW_SECONDS {
			return reply(
				StatusCode::UNAUTHORIZED,
				"the signed time is more than five minutes away\n",
			);
		}
		let Some(signature) = hex::decode(signature.trim_start_matches("0x"))
			.ok()
			.and_then(|bytes| sr25519::Signature::try_from(&bytes[..]).ok())
		else {
			return bad("`signature` must be 64 bytes of hex (sr25519)");
		};
		let head = match self.chain.finalized().await {
			Ok(head) => head,
			Err(error) => return reply(StatusCode::SERVICE_UNAVAILABLE, format!("{error}\n")),
		};
		let beneficiary = match self.chain.deal(deal, head.hash).await {
			Ok(Some(deal)) => deal.beneficiary,
			Ok(None) => return reply(StatusCode::NOT_FOUND, "no such deal\n"),
			Err(error) => return reply(StatusCode::SERVICE_UNAVAILABLE, format!("{error}\n")),
		};
		let signer = sr25519::Public::from_raw(*beneficiary.as_ref());
		let message = access_message(task, at, &result_uri(base, task));
		if !signature.verify(&message[..], &signer) {
			return reply(
				StatusCode::FORBIDDEN,
				"not signed by the deal's beneficiary for this worker's location\n",
			);
		}
		match self.results.encoding(task) {
			Some(bytes) => reply(StatusCode::OK, bytes),
			None => reply(StatusCode::NOT_FOUND, not_kept),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn results_kept_past_their_retention_are_pruned_with_their_outputs() {
		let work = tempfile::tempdir().unwrap();
		let store = ResultStore::open(work.path().join("results")).unwrap();
		let (old, new) = (TaskId { deal: 1, index: 0 }, TaskId { deal: 2, index: 0 });
		for (task, name) in [(old, "task-old"), (new, "task-new")] {
			let output = work.path().join(name);
			std::fs::create_dir(&output).unwrap();
			std::fs::write(output.join("result.txt"), name).unwrap();
			store.keep(task, &output).unwrap();
		}
		let forty_days = std::time::Duration::from_secs(40 * 24 * 3600);
		let record = std::fs::File::options().write(true).open(store.index(old)).unwrap();
		record.set_modified(std::time::SystemTime::now() - forty_days).unwrap();
		// Records naming anything but a task output of the work directory lose only
		// themselves: a task folder elsewhere, the journal through `..`.
		let outside = tempfile::tempdir().unwrap();
		let elsewhere = outside.path().join("task-elsewhere");
		std::fs::create_dir(&elsewhere).unwrap();
		std::fs::create_dir(work.path().join("journal")).unwrap();
		let (stray, sneaky) = (TaskId { deal: 3, index: 0 }, TaskId { deal: 4, index: 0 });
		store.keep(stray, &elsewhere).unwrap();
		store.keep(sneaky, &work.path().join("task-new/../journal")).unwrap();
		for task in [stray, sneaky] {
			let record = std::fs::File::options().write(true).open(store.index(task)).unwrap();
			record.set_modified(std::time::SystemTime::now() - forty_days).unwrap();
		}

		assert_eq!(store.prune(std::time::Duration::from_secs(30 * 24 * 3600)), 3);
		assert!(!store.has(old) && !work.path().join("task-old").exists());
		assert!(store.has(new) && store.encoding(new).is_some());
		assert!(!store.has(stray) && elsewhere.exists());
		assert!(!store.has(sneaky) && work.path().join("journal").exists());
	}

	#[test]
	fn the_access_message_is_bound_to_the_task_time_and_location() {
		let task = TaskId { deal: 7, index: 2 };
		let uri = result_uri("http://rig.example:9616/", task);
		assert_eq!(uri, "http://rig.example:9616/results/7/2");
		let message = access_message(task, 1_800_000_000, &uri);
		// The layout docs/worker.md gives: context, then SCALE of (u64, u32, u64, bytes).
		let mut expected = b"iexec/result-access/v2".to_vec();
		expected.extend(7u64.to_le_bytes());
		expected.extend(2u32.to_le_bytes());
		expected.extend(1_800_000_000u64.to_le_bytes());
		expected.push((uri.len() as u8) << 2);
		expected.extend(uri.as_bytes());
		assert_eq!(message, expected);
		// What polkadot.js gives (scripts/js/lib/results.mjs, accessMessage), the same bytes.
		let from_js =
			"69657865632f726573756c742d6163636573732f763207000000000000000200000000d2496b0000\
			00008c687474703a2f2f7269672e6578616d706c653a393631362f726573756c74732f372f32";
		assert_eq!(hex::encode(&message), from_js);
		let elsewhere = result_uri("http://other.example:9616", task);
		assert_ne!(access_message(task, 1_800_000_000, &elsewhere), message);
	}
}
