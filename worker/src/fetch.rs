//! Fetching what a task runs: an app's code or a data set, from `file://` paths or `http://`
//! and `https://` URLs (certificates checked against the host's trusted roots), with a size
//! bound, into a cache named by the hash the chain records (so a second
//! replica of the same app is not fetched again). Checking the bytes against that hash is the
//! caller's: a mismatch must fail the replica and say so.

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use std::{path::PathBuf, time::Duration};

/// Why fetching failed.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum FetchError {
	#[error("unsupported location {0:?}: use https:// or http://")]
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
	if !(location.starts_with("https://") || location.starts_with("http://")) {
		return Err(FetchError::Unsupported(location.into()));
	}
	let uri: hyper::Uri =
		location.parse().map_err(|e: hyper::http::uri::InvalidUri| failed(e.to_string()))?;
	// The host's trusted roots (`SSL_CERT_FILE` overrides them), read for each fetch so that
	// an updated store is used without a restart.
	let connector = hyper_rustls::HttpsConnectorBuilder::new()
		.with_native_roots()
		.map_err(|e| failed(format!("no trusted root certificates on this host: {e}")))?
		.https_or_http()
		.enable_http1()
		.build();
	let client = Client::builder(TokioExecutor::new()).build::<_, Empty<Bytes>>(connector);
	let response = tokio::time::timeout(Duration::from_secs(60), client.get(uri))
		.await
		.map_err(|_| failed("no answer within 60 s".into()))?
		.map_err(|e| failed(with_causes(&e)))?;
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

/// An error and its causes, as the client's own message ("client error (Connect)") says
/// nothing of why (a refused certificate, a refused connection).
fn with_causes(error: &dyn std::error::Error) -> String {
	let mut text = error.to_string();
	let mut cause = error.source();
	while let Some(inner) = cause {
		text = format!("{text}: {inner}");
		cause = inner.source();
	}
	text
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

	/// Runs `openssl` with `args` in `dir`, which must succeed.
	fn openssl(dir: &std::path::Path, args: &[&str]) {
		let out = std::process::Command::new("openssl").args(args).current_dir(dir).output();
		let out = out.expect("openssl is required (scripts/setup.sh installs it)");
		assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
	}

	/// A real HTTPS server (`openssl s_server -WWW`) with a certificate of a test authority:
	/// trusted through `SSL_CERT_FILE`, a module is fetched whole and bounded; not trusted
	/// (another authority), the fetch fails and names the certificate.
	#[tokio::test]
	async fn https_locations_are_fetched_with_their_certificate_checked() {
		let dir = tempfile::tempdir().unwrap();
		let d = dir.path();
		let (key, days) = (["-newkey", "rsa:2048", "-nodes"], ["-days", "1"]);
		for ca in ["ca", "other-ca"] {
			let (ca_key, ca_pem, subject) =
				(format!("{ca}.key"), format!("{ca}.pem"), format!("/CN=iexec test {ca}"));
			let mut args = vec!["req", "-x509"];
			args.extend(key);
			args.extend(days);
			args.extend(["-keyout", &ca_key, "-out", &ca_pem, "-subj", &subject]);
			openssl(d, &args);
		}
		let mut request = vec!["req"];
		request.extend(key);
		request.extend(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
		openssl(d, &request);
		std::fs::write(
			d.join("san.ext"),
			"subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
		)
		.unwrap();
		let mut sign =
			vec!["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key"];
		sign.extend(["-CAcreateserial", "-out", "server.pem", "-extfile", "san.ext"]);
		sign.extend(days);
		openssl(d, &sign);
		std::fs::create_dir(d.join("www")).unwrap();
		std::fs::write(d.join("www/app.wasm"), b"\0asm module bytes").unwrap();

		let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
		let mut server = std::process::Command::new("openssl")
			.args(["s_server", "-quiet", "-WWW", "-accept", &format!("127.0.0.1:{port}")])
			.args(["-cert", "../server.pem", "-key", "../server.key"])
			.current_dir(d.join("www"))
			.stdout(std::process::Stdio::null())
			.spawn()
			.unwrap();
		while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
			tokio::time::sleep(Duration::from_millis(20)).await;
		}
		let location = format!("https://127.0.0.1:{port}/app.wasm");
		// Only this test of the binary reads the trusted roots.
		std::env::set_var("SSL_CERT_FILE", d.join("ca.pem"));
		let fetched = fetch(&location, 1024, false).await;
		let too_small = fetch(&location, 4, false).await;
		std::env::set_var("SSL_CERT_FILE", d.join("other-ca.pem"));
		let untrusted = fetch(&location, 1024, false).await;
		std::env::remove_var("SSL_CERT_FILE");
		let _ = server.kill();
		assert_eq!(fetched.unwrap(), b"\0asm module bytes");
		assert!(matches!(too_small, Err(FetchError::TooLarge { .. })), "{too_small:?}");
		let Err(FetchError::Failed { reason, .. }) = untrusted else { panic!("{untrusted:?}") };
		assert!(reason.to_lowercase().contains("certificate"), "{reason}");
	}
}
