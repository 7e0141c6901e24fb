//! Result digests: one blake2-256 over a directory, identical on every host.
//!
//! The digest of a directory hashes, for each regular file in ascending byte order of its path
//! relative to the directory (components joined with `/`):
//!
//! ```text
//! u64 little-endian length of the path ‖ path bytes ‖ u64 little-endian length of the content ‖ content
//! ```
//!
//! Directories themselves (and so empty directories), permissions and timestamps are not part
//! of the digest. A symbolic link or any other special file is refused: its meaning depends on
//! the host.
//!
//! An input's checksum is versioned and says what it covers, so that a file and a directory
//! never share one: blake2-256 of `iexec/input/file/v1` ‖ the file's content, or of
//! `iexec/input/dir/v1` ‖ the directory's encoding above.

use crate::task::{Hash, SMALL_RESULT_MAX};
use blake2::{digest::consts::U32, Blake2b, Digest};
use std::{
	fs::File,
	io::{self, Read},
	path::{Path, PathBuf},
};

type Blake2b256 = Blake2b<U32>;

/// blake2-256 of bytes.
pub fn blake2_256(bytes: &[u8]) -> Hash {
	Blake2b256::digest(bytes).into()
}

/// Regular files under `root`, as (relative path with `/`, absolute path), sorted.
fn files(root: &Path) -> io::Result<Vec<(String, PathBuf)>> {
	let mut out = Vec::new();
	let mut pending = vec![root.to_path_buf()];
	while let Some(dir) = pending.pop() {
		for entry in std::fs::read_dir(&dir)? {
			let entry = entry?;
			let kind = entry.file_type()?;
			let path = entry.path();
			if kind.is_dir() {
				pending.push(path);
			} else if kind.is_file() {
				let relative = path.strip_prefix(root).map_err(io::Error::other)?;
				let name = relative
					.components()
					.map(|c| c.as_os_str().to_str().map(str::to_owned))
					.collect::<Option<Vec<_>>>()
					.ok_or_else(|| {
						io::Error::other(format!("{} is not UTF-8", relative.display()))
					})?
					.join("/");
				out.push((name, path));
			} else {
				return Err(io::Error::other(format!(
					"{} is not a regular file or directory",
					path.strip_prefix(root).unwrap_or(&path).display()
				)));
			}
		}
	}
	out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
	Ok(out)
}

fn hash_file_into(hasher: &mut Blake2b256, path: &Path) -> io::Result<()> {
	let mut file = File::open(path)?;
	hasher.update(file.metadata()?.len().to_le_bytes());
	let mut buffer = vec![0u8; 1 << 20];
	loop {
		let n = file.read(&mut buffer)?;
		if n == 0 {
			return Ok(());
		}
		hasher.update(&buffer[..n]);
	}
}

/// Feeds the directory encoding of the module docs to `hasher`.
fn hash_directory_into(hasher: &mut Blake2b256, root: &Path) -> io::Result<()> {
	for (name, path) in files(root)? {
		hasher.update((name.len() as u64).to_le_bytes());
		hasher.update(name.as_bytes());
		hash_file_into(hasher, &path)?;
	}
	Ok(())
}

/// The digest of a directory, as described in the module docs.
pub fn directory_digest(root: &Path) -> io::Result<Hash> {
	let mut hasher = Blake2b256::new();
	hash_directory_into(&mut hasher, root)?;
	Ok(hasher.finalize().into())
}

/// The directory's encoding itself (the bytes its digest hashes), when it is at most `max`
/// bytes: a result small enough to reveal on chain, checkable there against the digest.
pub fn directory_encoding(root: &Path, max: usize) -> io::Result<Option<Vec<u8>>> {
	let mut out = Vec::new();
	for (name, path) in files(root)? {
		let size = std::fs::metadata(&path)?.len();
		let needed = 16u64.saturating_add(name.len() as u64).saturating_add(size);
		if (out.len() as u64).saturating_add(needed) > max as u64 {
			return Ok(None);
		}
		out.extend_from_slice(&(name.len() as u64).to_le_bytes());
		out.extend_from_slice(name.as_bytes());
		let content = std::fs::read(&path)?;
		out.extend_from_slice(&(content.len() as u64).to_le_bytes());
		out.extend_from_slice(&content);
	}
	Ok((out.len() <= max).then_some(out))
}

/// What an input checksum of a file starts with.
pub const INPUT_FILE_DOMAIN: &[u8] = b"iexec/input/file/v1";
/// What an input checksum of a directory starts with.
pub const INPUT_DIR_DOMAIN: &[u8] = b"iexec/input/dir/v1";

/// The checksum of an input (a data set), as the module docs describe it.
pub fn input_checksum(path: &Path) -> io::Result<Hash> {
	let mut hasher = Blake2b256::new();
	if path.is_dir() {
		hasher.update(INPUT_DIR_DOMAIN);
		hash_directory_into(&mut hasher, path)?;
		return Ok(hasher.finalize().into());
	}
	hasher.update(INPUT_FILE_DOMAIN);
	let mut file = File::open(path)?;
	let mut buffer = vec![0u8; 1 << 20];
	loop {
		let n = file.read(&mut buffer)?;
		if n == 0 {
			return Ok(hasher.finalize().into());
		}
		hasher.update(&buffer[..n]);
	}
}

/// The whole result, when the output is exactly one file of at most 4 KiB.
pub fn small_result(root: &Path) -> io::Result<Option<Vec<u8>>> {
	let files = files(root)?;
	match files.as_slice() {
		[(_, path)] if std::fs::metadata(path)?.len() <= SMALL_RESULT_MAX as u64 => {
			Ok(Some(std::fs::read(path)?))
		}
		_ => Ok(None),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_encoding_hashes_to_the_digest_and_is_kept_only_when_small() {
		let dir = tempfile::tempdir().unwrap();
		std::fs::create_dir(dir.path().join("sub")).unwrap();
		std::fs::write(dir.path().join("result.txt"), b"pi = 3.14159").unwrap();
		std::fs::write(dir.path().join("sub/b"), b"more").unwrap();
		let encoding = directory_encoding(dir.path(), 4096).unwrap().unwrap();
		assert_eq!(blake2_256(&encoding), directory_digest(dir.path()).unwrap());
		assert_eq!(&encoding[..8], &10u64.to_le_bytes(), "`result.txt` comes first");
		assert_eq!(directory_encoding(dir.path(), encoding.len()).unwrap(), Some(encoding.clone()));
		assert_eq!(directory_encoding(dir.path(), encoding.len() - 1).unwrap(), None);
	}

	#[test]
	fn input_checksums_tell_a_file_from_a_directory() {
		// A directory whose encoding is exactly some file's content: same bytes hashed before,
		// different checksums now.
		let dir = tempfile::tempdir().unwrap();
		write(dir.path(), "a", b"x");
		let mut encoding = Vec::new();
		encoding.extend(1u64.to_le_bytes());
		encoding.extend(b"a");
		encoding.extend(1u64.to_le_bytes());
		encoding.extend(b"x");
		let file = tempfile::NamedTempFile::new().unwrap().into_temp_path();
		std::fs::write(&file, &encoding).unwrap();
		assert_eq!(directory_digest(dir.path()).unwrap(), blake2_256(&encoding));
		assert_ne!(input_checksum(dir.path()).unwrap(), input_checksum(&file).unwrap());
		assert_eq!(
			input_checksum(&file).unwrap(),
			blake2_256(&[INPUT_FILE_DOMAIN, &encoding[..]].concat())
		);
	}

	fn write(root: &Path, name: &str, content: &[u8]) {
		let path = root.join(name);
		std::fs::create_dir_all(path.parent().unwrap()).unwrap();
		std::fs::write(path, content).unwrap();
	}

	#[test]
	fn digest_depends_on_names_and_contents_not_on_creation_order() {
		let a = tempfile::tempdir().unwrap();
		let b = tempfile::tempdir().unwrap();
		write(a.path(), "x/1.txt", b"one");
		write(a.path(), "result.bin", b"two");
		write(b.path(), "result.bin", b"two");
		write(b.path(), "x/1.txt", b"one");
		std::fs::create_dir(b.path().join("empty")).unwrap();
		assert_eq!(directory_digest(a.path()).unwrap(), directory_digest(b.path()).unwrap());

		write(b.path(), "x/1.txt", b"One");
		assert_ne!(directory_digest(a.path()).unwrap(), directory_digest(b.path()).unwrap());
		write(b.path(), "x/1.txt", b"one");
		std::fs::rename(b.path().join("x/1.txt"), b.path().join("x/2.txt")).unwrap();
		assert_ne!(directory_digest(a.path()).unwrap(), directory_digest(b.path()).unwrap());
	}

	#[test]
	fn digest_of_a_known_directory_is_stable() {
		// Pins the documented format: a change here changes every result digest.
		let dir = tempfile::tempdir().unwrap();
		write(dir.path(), "a", b"1");
		let mut expected = Vec::new();
		expected.extend(1u64.to_le_bytes());
		expected.extend(b"a");
		expected.extend(1u64.to_le_bytes());
		expected.extend(b"1");
		assert_eq!(directory_digest(dir.path()).unwrap(), blake2_256(&expected));
		assert_eq!(directory_digest(tempfile::tempdir().unwrap().path()).unwrap(), blake2_256(b""));
	}

	#[test]
	fn symlinks_are_refused() {
		let dir = tempfile::tempdir().unwrap();
		std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link")).unwrap();
		let error = directory_digest(dir.path()).unwrap_err();
		assert!(error.to_string().contains("not a regular file"), "{error}");
	}

	#[test]
	fn small_results_are_kept_whole() {
		let dir = tempfile::tempdir().unwrap();
		write(dir.path(), "out", b"42");
		assert_eq!(small_result(dir.path()).unwrap(), Some(b"42".to_vec()));
		write(dir.path(), "more", b"x");
		assert_eq!(small_result(dir.path()).unwrap(), None);
		let big = tempfile::tempdir().unwrap();
		write(big.path(), "out", &vec![0u8; SMALL_RESULT_MAX + 1]);
		assert_eq!(small_result(big.path()).unwrap(), None);
	}
}
