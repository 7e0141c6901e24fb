//! Fetching what a task runs: an app's code or a data set, from `file://` paths or `http://`
//! URLs, with a size bound, into a cache named by the hash the chain records (so a second
//! replica of the same app is not fetched again). Checking the bytes against that hash is the
//! caller's: a mismatch must fail the replica and say so.

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use std::{path::PathBuf, time::Duration};

/// Why fetching failed.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum FetchError {
	#[error("unsupported location {0:?}: use http://")]
	Unsupported(String),
	#[error("{0} is a local file and this worker does not read local files (allow_file_uris)")]
	FileRefused(String),
	#[error("cannot read {location}: {reason}")]
	Failed { location: String, reason: String },
	#[error("{location} is larger than {max} bytes")]
	TooLarge { location: String, max: usize },
}

/// Reads `location` whole, refusing more than `max` bytes. `file://` paths are read only when
/// `allow_files` (a location comes from the chain: any provider could name any file of the
/// worker's host), and only regular files.
pub async fn fetch(location: &str, max: usize, allow_files: bool) -> Result<Vec<u8>, FetchError> {
	let failed = |reason: String| FetchError::Failed { location: location.into(), reason };
	if let Some(path) = location.strip_prefix("file://") {
		if !allow_files {
			return Err(FetchError::FileRefused(location.into()));
		}
		let file = tokio::fs::File::open(path).await.map_err(|e| failed(e.to_string()))?;
		let metadata = file.metadata().await.map_err(|e| failed(e.to_string()))?;
		if !metadata.is_file() {
			return Err(failed("not a regular file".into()));
		}
		// The size on disk may change or lie (procfs): read at most one byte beyond the bound.
		let mut bytes = Vec::new();
		use tokio::io::AsyncReadExt;
		file.take(max as u64 + 1)
			.read_to_end(&mut bytes)
			.await
			.map_err(|e| failed(e.to_string()))?;
		if bytes.len() > max {
			return Err(FetchError::TooLarge { location: location.into(), max });
		}
		return Ok(bytes);
	}
	if !location.starts_with("http://") {
		return Err(FetchError::Unsupported(location.into()));
	}
	let uri: hyper::Uri =
		location.parse().map_err(|e: hyper::http::uri::InvalidUri| failed(e.to_string()))?;
	let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
	let response = tokio::time::timeout(Duration::from_secs(60), client.get(uri))
		.await
		.map_err(|_| failed("no answer within 60 s".into()))?
		.map_err(|e| failed(e.to_string()))?;
	if !response.status().is_success() {
		return Err(failed(format!("HTTP {}", response.status())));
	}
	let body = Limited::new(response.into_body(), max);
	match tokio::time::timeout(Duration::from_secs(600), body.collect()).await {
		Err(_) => Err(failed("not read within 600 s".into())),
		Ok(Ok(collected)) => Ok(collected.to_bytes().to_vec()),
		Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
			Err(FetchError::TooLarge { location: location.into(), max })
		}
		Ok(Err(error)) => Err(failed(error.to_string())),
	}
}

/// A cache of fetched files, named by the hash the chain records for them.
#[derive(Clone, Debug)]
pub struct Cache {
	dir: PathBuf,
}

impl Cache {
	pub fn open(dir: impl Into<PathBuf>) -> std::io::Result<Cache> {
		let dir = dir.into();
		std::fs::create_dir_all(&dir)?;
		Ok(Cache { dir })
	}

	/// Where the file of `hash` is kept.
	pub fn path(&self, hash: &[u8; 32]) -> PathBuf {
		self.dir.join(hex::encode(hash))
	}

	/// The cached bytes of `hash`, if `check` accepts them.
	pub async fn cached(&self, hash: &[u8; 32], check: impl Fn(&[u8]) -> bool) -> Option<Vec<u8>> {
		let bytes = tokio::fs::read(self.path(hash)).await.ok()?;
		check(&bytes).then_some(bytes)
	}

	/// The cached bytes of `hash`, or those fetched from `location` (kept only when `check`
	/// accepts them).
	pub async fn get_or_fetch(
		&self,
		hash: &[u8; 32],
		location: &str,
		max: usize,
		allow_files: bool,
		check: impl Fn(&[u8]) -> bool,
	) -> Result<Vec<u8>, FetchError> {
		let path = self.path(hash);
		if let Some(bytes) = self.cached(hash, &check).await {
			return Ok(bytes);
		}
		let bytes = fetch(location, max, allow_files).await?;
		if check(&bytes) {
			let temporary = path.with_extension("part");
			if tokio::fs::write(&temporary, &bytes).await.is_ok() {
				let _ = tokio::fs::rename(&temporary, &path).await;
			}
		}
		Ok(bytes)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[tokio::test]
	async fn files_are_read_within_their_bound_and_other_schemes_refused() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("app.wasm");
		std::fs::write(&path, b"0123456789").unwrap();
		let location = format!("file://{}", path.display());
		assert_eq!(fetch(&location, 10, true).await.unwrap(), b"0123456789");
		assert!(matches!(fetch(&location, 9, true).await, Err(FetchError::TooLarge { .. })));
		assert!(matches!(fetch(&location, 10, false).await, Err(FetchError::FileRefused(_))));
		assert!(matches!(fetch("ftp://host/app", 10, true).await, Err(FetchError::Unsupported(_))));
		let missing = format!("file://{}/none", dir.path().display());
		assert!(matches!(fetch(&missing, 10, true).await, Err(FetchError::Failed { .. })));
		// Files whose size says nothing (procfs, devices) are bounded by what is read.
		let endless = fetch("file:///dev/zero", 10, true).await;
		assert!(matches!(endless, Err(FetchError::Failed { .. })), "{endless:?}");
		let proc = fetch("file:///proc/self/status", 10, true).await;
		assert!(matches!(proc, Err(FetchError::TooLarge { .. })), "{proc:?}");
	}
}
