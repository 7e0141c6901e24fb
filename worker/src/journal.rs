//! What the daemon must not forget across restarts: for each replica it holds, the result it
//! computed (the attestation it commits to is rebuilt from it, byte for byte, at reveal) or
//! why it could not. One small JSON file per task, replaced atomically.
//!
//! The chain stays the authority on where a replica stands; the journal only keeps what the
//! chain does not: the digest before it is revealed, the resources measured, the output.

use crate::chain::TaskId;
use serde::{Deserialize, Serialize};
use std::{
	io::Write,
	path::{Path, PathBuf},
};

/// A replica's computed result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Computed {
	#[serde(with = "hex::serde")]
	pub digest: [u8; 32],
	pub fuel: u64,
	pub wall_millis: u64,
	pub memory_mib: u32,
	/// The output's directory encoding, when it fits on chain.
	#[serde(default, with = "optional_hex")]
	pub inline: Option<Vec<u8>>,
	pub output_dir: PathBuf,
	/// The engine version that ran it: the attestation committed names it, so an upgrade
	/// between commitment and reveal must not change it.
	#[serde(default = "current_engine")]
	pub engine_version: u32,
}

fn current_engine() -> u32 {
	crate::wasm::ENGINE_VERSION
}

/// One replica this worker holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
	pub deal: u64,
	pub index: u32,
	/// The finalised block at which the claim was seen.
	pub claimed_at: u32,
	pub computed: Option<Computed>,
	/// Why the task could not be run here (the replica is handed back).
	pub failure: Option<String>,
}

impl Entry {
	pub fn task(&self) -> TaskId {
		TaskId { deal: self.deal, index: self.index }
	}
}

/// The journal directory.
#[derive(Clone, Debug)]
pub struct Journal {
	dir: PathBuf,
}

impl Journal {
	pub fn open(dir: impl Into<PathBuf>) -> std::io::Result<Journal> {
		let dir = dir.into();
		std::fs::create_dir_all(&dir)?;
		Ok(Journal { dir })
	}

	fn path(&self, task: TaskId) -> PathBuf {
		self.dir.join(format!("{}-{}.json", task.deal, task.index))
	}

	/// Writes `entry` so that a crash leaves either the old or the new file, never half.
	pub fn put(&self, entry: &Entry) -> std::io::Result<()> {
		let path = self.path(entry.task());
		let temporary = path.with_extension("json.tmp");
		let mut file = std::fs::File::create(&temporary)?;
		file.write_all(&serde_json::to_vec_pretty(entry)?)?;
		file.sync_all()?;
		std::fs::rename(&temporary, &path)?;
		sync_dir(&self.dir)
	}

	pub fn get(&self, task: TaskId) -> Option<Entry> {
		let bytes = std::fs::read(self.path(task)).ok()?;
		match serde_json::from_slice(&bytes) {
			Ok(entry) => Some(entry),
			Err(error) => {
				tracing::error!(task = %format_task(task), %error, "journal entry unreadable; ignored");
				None
			}
		}
	}

	pub fn remove(&self, task: TaskId) -> std::io::Result<()> {
		match std::fs::remove_file(self.path(task)) {
			Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
			_ => Ok(()),
		}
	}

	/// Every entry (unreadable files are skipped with an error logged).
	pub fn entries(&self) -> Vec<Entry> {
		let Ok(dir) = std::fs::read_dir(&self.dir) else { return Vec::new() };
		let mut entries: Vec<Entry> = dir
			.filter_map(|e| e.ok())
			.filter(|e| e.path().extension().is_some_and(|x| x == "json"))
			.filter_map(|e| {
				let bytes = std::fs::read(e.path()).ok()?;
				serde_json::from_slice(&bytes)
					.map_err(
						|error| tracing::error!(file = %e.path().display(), %error, "journal entry unreadable"),
					)
					.ok()
			})
			.collect();
		entries.sort_by_key(|e: &Entry| (e.deal, e.index));
		entries
	}
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
	std::fs::File::open(dir)?.sync_all()
}

/// `deal/index`, as logs and URLs show a task.
pub fn format_task(task: TaskId) -> String {
	format!("{}/{}", task.deal, task.index)
}

mod optional_hex {
	use serde::{Deserialize, Deserializer, Serializer};
	pub fn serialize<S: Serializer>(value: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
		match value {
			Some(bytes) => s.serialize_some(&hex::encode(bytes)),
			None => s.serialize_none(),
		}
	}
	pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
		Option::<String>::deserialize(d)?
			.map(|text| hex::decode(text).map_err(serde::de::Error::custom))
			.transpose()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn entries_survive_a_reopen_and_removal_is_idempotent() {
		let dir = tempfile::tempdir().unwrap();
		let journal = Journal::open(dir.path()).unwrap();
		let entry = Entry {
			deal: 3,
			index: 1,
			claimed_at: 17,
			computed: Some(Computed {
				digest: [7; 32],
				fuel: 10,
				wall_millis: 2,
				memory_mib: 1,
				inline: Some(b"result".to_vec()),
				output_dir: "/tmp/out".into(),
				engine_version: 2,
			}),
			failure: None,
		};
		journal.put(&entry).unwrap();
		let again = Journal::open(dir.path()).unwrap();
		assert_eq!(again.get(entry.task()), Some(entry.clone()));
		assert_eq!(again.entries(), vec![entry.clone()]);
		again.remove(entry.task()).unwrap();
		again.remove(entry.task()).unwrap();
		assert!(again.entries().is_empty());
	}
}
