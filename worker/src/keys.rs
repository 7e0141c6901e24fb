//! The worker's key: an sr25519 account key, from a secret URI or a file holding one. It signs
//! transactions and attestations; it is never printed or logged.

use iexec_runtime::{AccountId, Signature};
use sp_core::{crypto::Ss58Codec, sr25519, Pair};
use std::path::Path;

/// The worker's account key.
#[derive(Clone)]
pub struct WorkerKey {
	pair: sr25519::Pair,
	account: AccountId,
}

/// Why a key could not be loaded; never contains the secret.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum KeyError {
	#[error("cannot read the key file {path}: {reason}")]
	Unreadable { path: String, reason: String },
	#[error(
		"the key file {path} can be read by other users (mode {mode:o}): run `chmod 600 {path}`"
	)]
	TooOpen { path: String, mode: u32 },
	#[error("the key is not a valid secret URI, seed or phrase ({0})")]
	Invalid(String),
	#[error("no key: give --key-file or --suri (or IEXEC_WORKER_KEY_FILE / IEXEC_WORKER_SURI)")]
	Missing,
}

impl core::fmt::Debug for WorkerKey {
	fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
		write!(f, "WorkerKey({})", self.account.to_ss58check())
	}
}

impl WorkerKey {
	/// From a secret URI (`//Alice`, a phrase with a derivation, a `0x` seed).
	pub fn from_suri(suri: &str) -> Result<WorkerKey, KeyError> {
		let pair = sr25519::Pair::from_string(suri.trim(), None)
			.map_err(|e| KeyError::Invalid(format!("{e:?}")))?;
		Ok(WorkerKey { account: AccountId::from(pair.public()), pair })
	}

	/// Hard-derives `//junction` for each junction of `path` from this key: many keys from one
	/// phrase without running the phrase's key stretching for each.
	pub fn derive(&self, path: &[&str]) -> WorkerKey {
		use sp_core::crypto::DeriveJunction;
		// As a secret URI reads `//j` (numbers as integers), so the URI `//load//worker//7`
		// names the key `derive(&["load", "worker", "7"])` gives.
		let junctions = path.iter().map(|j| DeriveJunction::from(format!("/{j}")));
		let (pair, _) =
			self.pair.derive(junctions, None).expect("hard sr25519 derivation never fails");
		WorkerKey { account: AccountId::from(pair.public()), pair }
	}

	/// From a file holding a secret URI; refused when other users may read it.
	pub fn from_file(path: &Path) -> Result<WorkerKey, KeyError> {
		let shown = path.display().to_string();
		let metadata = std::fs::metadata(path)
			.map_err(|e| KeyError::Unreadable { path: shown.clone(), reason: e.to_string() })?;
		#[cfg(unix)]
		{
			use std::os::unix::fs::PermissionsExt;
			let mode = metadata.permissions().mode() & 0o777;
			if mode & 0o077 != 0 {
				return Err(KeyError::TooOpen { path: shown, mode });
			}
		}
		if !metadata.is_file() {
			return Err(KeyError::Unreadable { path: shown, reason: "not a file".into() });
		}
		let text = std::fs::read_to_string(path)
			.map_err(|e| KeyError::Unreadable { path: shown.clone(), reason: e.to_string() })?;
		Self::from_suri(&text)
	}

	/// From a file when given, else a secret URI when given.
	pub fn load(file: Option<&Path>, suri: Option<&str>) -> Result<WorkerKey, KeyError> {
		match (file, suri) {
			(Some(path), _) => Self::from_file(path),
			(None, Some(suri)) => Self::from_suri(suri),
			(None, None) => Err(KeyError::Missing),
		}
	}

	pub fn account(&self) -> AccountId {
		self.account.clone()
	}

	/// Signs `bytes` (a transaction payload or an attestation's signed bytes).
	pub fn sign(&self, bytes: &[u8]) -> Signature {
		Signature::Sr25519(self.pair.sign(bytes))
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_runtime::traits::Verify;

	#[test]
	fn a_key_file_others_can_read_is_refused_and_the_secret_never_shows() {
		use std::os::unix::fs::PermissionsExt;
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("worker.key");
		std::fs::write(&path, "//Dave\n").unwrap();
		std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
		let error = WorkerKey::from_file(&path).unwrap_err();
		assert!(matches!(error, KeyError::TooOpen { mode: 0o644, .. }), "{error}");
		assert!(error.to_string().contains("chmod 600"));
		std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
		let key = WorkerKey::from_file(&path).unwrap();
		assert_eq!(key.account(), WorkerKey::from_suri("//Dave").unwrap().account());
		assert!(!format!("{key:?}").contains("Dave"));
		let signature = key.sign(b"bytes");
		assert!(signature.verify(&b"bytes"[..], &key.account()));
	}

	#[test]
	fn bad_keys_say_why_without_the_secret() {
		let error = WorkerKey::from_suri("not a phrase at all").unwrap_err();
		assert!(!error.to_string().contains("not a phrase"), "{error}");
		let missing = WorkerKey::from_file(Path::new("/nonexistent/worker.key")).unwrap_err();
		assert!(matches!(missing, KeyError::Unreadable { .. }));
		assert_eq!(WorkerKey::load(None, None).unwrap_err(), KeyError::Missing);
	}
}
