//! A deterministic view of the task's files. WASI hands a module what the host's file system
//! says: real times, inode numbers derived from the host's device and inode, directory sizes
//! and link counts that differ between file systems, and directory entries in the host's order
//! (creation order, or a hash order seeded per file system). An app that lists, stats, tars or
//! zips its files would then give host-dependent bytes. So the sandbox shows instead:
//!
//! - times of 0 (the epoch), whatever the host holds;
//! - inode numbers numbered 1, 2, 3… in the order the task first meets each file, on device 1;
//!   a file the task removes (its last link) takes its number with it, so a file made later
//!   gets a new one even where the host reuses the old file's inode;
//! - directories with one link and size 0;
//! - directory listings sorted by name (`.` and `..` first), their cookies positions in that
//!   order.
//!
//! `fd_filestat_get`, `path_filestat_get` and `fd_readdir` are shadowed in the linker: each
//! asks WASI's own implementation, then rewrites what it answered. `path_unlink_file`,
//! `path_remove_directory`, `path_rename` and `fd_close` are shadowed too, to forget the
//! identity of what they remove (a file unlinked while open is gone when it is closed). File
//! contents, sizes of files and link counts of files are the task's own doing and pass
//! unchanged.

use std::collections::HashMap;
use wasmtime::{AsContextMut, Caller, Extern, Linker};
use wasmtime_wasi::preview1::{
	types::{self, Filetype},
	wasi_snapshot_preview1::WasiSnapshotPreview1,
	WasiP1Ctx,
};
use wiggle::{GuestMemory, GuestPtr};

/// The size of a WASI `filestat` and of a `dirent` header, and the offsets used here.
const FILESTAT_SIZE: usize = 64;
const DIRENT_HEADER: usize = 24;
const ERRNO_FAULT: i32 = 21;
const ERRNO_INVAL: i32 = 28;
const ERRNO_NOMEM: i32 = 48;
/// The largest listing read at once (its encoding): beyond, the directory is refused rather
/// than listed in part, which would depend on where the host cut it.
const MAX_LISTING_BYTES: usize = 64 << 20;

/// The inode numbers a task sees (host identities renumbered in the order the task meets
/// them), and the sorted listing of each directory descriptor being read: a listing is read
/// from the host when a task starts it (cookie 0) and then served from here, so reading one
/// with a small buffer costs one host listing, not one per call.
#[derive(Default)]
pub struct FileIdentities {
	by_host: HashMap<u64, u64>,
	/// Numbers given so far: never given again, even once their file is gone.
	given: u64,
	listings: HashMap<u32, Vec<Entry>>,
}

impl FileIdentities {
	/// The number the task sees for host identity `host` (WASI's hash of the host's device
	/// and inode).
	fn synthetic(&mut self, host: u64) -> u64 {
		if let Some(known) = self.by_host.get(&host) {
			return *known;
		}
		self.given += 1;
		self.by_host.insert(host, self.given);
		self.given
	}

	/// The file of host identity `host` is gone: a host may give its inode to the next file,
	/// which must still get a number of its own, as on a host that does not.
	fn forget(&mut self, host: u64) {
		self.by_host.remove(&host);
	}
}

/// The host identity of what `path` names in directory `fd` (not following a last symbolic
/// link), when removing it removes the file itself (its last link, or a directory).
fn removed_identity(
	ctx: &mut WasiP1Ctx,
	memory: &mut GuestMemory<'_>,
	fd: types::Fd,
	path: GuestPtr<str>,
) -> Option<u64> {
	let stat = wasmtime_wasi::runtime::in_tokio(ctx.path_filestat_get(
		memory,
		fd,
		types::Lookupflags::empty(),
		path,
	))
	.ok()?;
	(stat.filetype == Filetype::Directory || stat.nlink <= 1).then_some(stat.ino)
}

/// What a task may see of a file's metadata: `stat` as WASI answered it, with every
/// host-dependent field replaced.
fn normalise(stat: &types::Filestat, ids: &mut FileIdentities) -> [u8; FILESTAT_SIZE] {
	let directory = stat.filetype == Filetype::Directory;
	let mut out = [0u8; FILESTAT_SIZE];
	// Standard streams have no identity: WASI reports 0 for them, and so does this.
	let (dev, ino) =
		if stat.ino == 0 && stat.dev == 0 { (0u64, 0u64) } else { (1, ids.synthetic(stat.ino)) };
	out[0..8].copy_from_slice(&dev.to_le_bytes());
	out[8..16].copy_from_slice(&ino.to_le_bytes());
	out[16] = stat.filetype as u8;
	let nlink = if directory { 1 } else { stat.nlink };
	out[24..32].copy_from_slice(&nlink.to_le_bytes());
	let size = if directory { 0 } else { stat.size };
	out[32..40].copy_from_slice(&size.to_le_bytes());
	// atim, mtim, ctim (40..64) stay 0.
	out
}

/// One directory entry: its host identity, type and name.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
	ino: u64,
	kind: u8,
	name: Vec<u8>,
}

/// Reads a whole listing as WASI encoded it (`dirent` headers each followed by its name).
fn parse_listing(raw: &[u8]) -> Option<Vec<Entry>> {
	let mut entries = Vec::new();
	let mut at = 0;
	while at < raw.len() {
		let header = raw.get(at..at + DIRENT_HEADER)?;
		let ino = u64::from_le_bytes(header[8..16].try_into().ok()?);
		let len = u32::from_le_bytes(header[16..20].try_into().ok()?) as usize;
		let name = raw.get(at + DIRENT_HEADER..at + DIRENT_HEADER + len)?.to_vec();
		entries.push(Entry { ino, kind: header[20], name });
		at += DIRENT_HEADER + len;
	}
	Some(entries)
}

/// `.` and `..` first, then by name, byte by byte: the same order on every host.
fn sort_listing(entries: &mut [Entry]) {
	let rank = |name: &[u8]| match name {
		b"." => 0,
		b".." => 1,
		_ => 2,
	};
	entries.sort_by(|a, b| (rank(&a.name), &a.name).cmp(&(rank(&b.name), &b.name)));
}

/// The listing from position `cookie` on, encoded as `fd_readdir` returns it into a buffer of
/// `buf_len` bytes: cut at the buffer's end (a full buffer tells the task to ask again with
/// a larger one), each entry's cookie its position after it.
fn encode_listing(
	entries: &[Entry],
	cookie: u64,
	buf_len: usize,
	ids: &mut FileIdentities,
) -> Vec<u8> {
	let mut out = Vec::new();
	let skip = usize::try_from(cookie).unwrap_or(usize::MAX);
	for (position, entry) in entries.iter().enumerate().skip(skip) {
		if out.len() >= buf_len {
			break;
		}
		out.extend((position as u64 + 1).to_le_bytes());
		out.extend(ids.synthetic(entry.ino).to_le_bytes());
		out.extend((entry.name.len() as u32).to_le_bytes());
		out.extend([entry.kind, 0, 0, 0]);
		out.extend(&entry.name);
	}
	out.truncate(buf_len);
	out
}

// Each call into WASI's own functions below first gives it the store's budget for copying
// guest memory (`set_hostcall_fuel`), as wasmtime's generated glue does: without it, any call
// that reads a path or buffer answers `ENOMEM`.

/// An errno for the task, or a trap (a host failure WASI would have trapped on too).
fn errno(error: types::Error) -> anyhow::Result<i32> {
	error.downcast().map(|errno| errno as i32)
}

/// Writes `bytes` into the task's memory at `ptr`.
fn write_guest<T>(caller: &mut Caller<'_, T>, ptr: i32, bytes: &[u8]) -> Result<(), i32> {
	let Some(Extern::Memory(memory)) = caller.get_export("memory") else { return Err(ERRNO_FAULT) };
	memory.write(caller, ptr as u32 as usize, bytes).map_err(|_| ERRNO_FAULT)
}

/// Hands WASI's answer to a `stat` to the task, at `buf`, in its deterministic view; or the
/// errno.
fn answer_stat<T>(
	caller: &mut Caller<'_, T>,
	parts: fn(&mut T) -> (&mut WasiP1Ctx, &mut FileIdentities),
	buf: i32,
	stat: Result<types::Filestat, types::Error>,
) -> anyhow::Result<i32> {
	let stat = match stat {
		Ok(stat) => stat,
		Err(error) => return errno(error),
	};
	let (_, ids) = parts(caller.data_mut());
	let bytes = normalise(&stat, ids);
	Ok(write_guest(caller, buf, &bytes).err().unwrap_or(0))
}

/// Hands `listing` to the task: its bytes at `buf`, their count at `bufused`.
fn finish_listing<T>(
	caller: &mut Caller<'_, T>,
	buf: i32,
	bufused: i32,
	listing: &[u8],
) -> anyhow::Result<i32> {
	if let Err(errno) = write_guest(caller, buf, listing) {
		return Ok(errno);
	}
	let used = (listing.len() as u32).to_le_bytes();
	Ok(write_guest(caller, bufused, &used).err().unwrap_or(0))
}

/// Replaces WASI's `fd_filestat_get`, `path_filestat_get` and `fd_readdir` in `linker` (which
/// must already hold WASI) with their deterministic views; `parts` reaches the task's WASI
/// context and its inode numbering.
pub fn add_deterministic_fs<T: 'static>(
	linker: &mut Linker<T>,
	parts: fn(&mut T) -> (&mut WasiP1Ctx, &mut FileIdentities),
) -> anyhow::Result<()> {
	const MODULE: &str = "wasi_snapshot_preview1";
	linker.allow_shadowing(true);

	linker.func_wrap(
		MODULE,
		"fd_filestat_get",
		move |mut caller: Caller<'_, T>, fd: i32, buf: i32| -> anyhow::Result<i32> {
			let fuel = caller.as_context_mut().hostcall_fuel();
			let (ctx, _) = parts(caller.data_mut());
			ctx.set_hostcall_fuel(fuel);
			let mut none = GuestMemory::Unshared(&mut []);
			let stat = wasmtime_wasi::runtime::in_tokio(
				ctx.fd_filestat_get(&mut none, types::Fd::from(fd as u32)),
			);
			answer_stat(&mut caller, parts, buf, stat)
		},
	)?;

	linker.func_wrap(
		MODULE,
		"path_filestat_get",
		move |mut caller: Caller<'_, T>,
		      fd: i32,
		      flags: i32,
		      path: i32,
		      path_len: i32,
		      buf: i32|
		      -> anyhow::Result<i32> {
			let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
				return Ok(ERRNO_FAULT);
			};
			let fuel = caller.as_context_mut().hostcall_fuel();
			let (data, state) = memory.data_and_store_mut(&mut caller);
			let (ctx, _) = parts(state);
			ctx.set_hostcall_fuel(fuel);
			let mut guest = GuestMemory::Unshared(data);
			let Ok(flags) = types::Lookupflags::try_from(flags) else { return Ok(ERRNO_INVAL) };
			let path = GuestPtr::<str>::new((path as u32, path_len as u32));
			let stat = wasmtime_wasi::runtime::in_tokio(ctx.path_filestat_get(
				&mut guest,
				types::Fd::from(fd as u32),
				flags,
				path,
			));
			answer_stat(&mut caller, parts, buf, stat)
		},
	)?;

	linker.func_wrap(
		MODULE,
		"fd_readdir",
		move |mut caller: Caller<'_, T>,
		      fd: i32,
		      buf: i32,
		      buf_len: i32,
		      cookie: i64,
		      bufused: i32|
		      -> anyhow::Result<i32> {
			let fuel = caller.as_context_mut().hostcall_fuel();
			let (ctx, ids) = parts(caller.data_mut());
			ctx.set_hostcall_fuel(fuel);
			let dir = fd as u32;
			if cookie != 0 {
				if let Some(entries) = ids.listings.remove(&dir) {
					let listing =
						encode_listing(&entries, cookie as u64, buf_len as u32 as usize, ids);
					ids.listings.insert(dir, entries);
					return finish_listing(&mut caller, buf, bufused, &listing);
				}
			}
			// The whole listing, read into a scratch buffer that grows until it holds it all.
			let mut scratch = vec![0u8; 64 << 10];
			let raw = loop {
				let len = scratch.len() as u32;
				let used = match wasmtime_wasi::runtime::in_tokio(ctx.fd_readdir(
					&mut GuestMemory::Unshared(&mut scratch),
					types::Fd::from(fd as u32),
					GuestPtr::new(0),
					len,
					0,
				)) {
					Ok(used) => used as usize,
					Err(error) => return errno(error),
				};
				if used < scratch.len() {
					scratch.truncate(used);
					break scratch;
				}
				if scratch.len() >= MAX_LISTING_BYTES {
					return Ok(ERRNO_NOMEM);
				}
				scratch = vec![0u8; scratch.len() * 2];
			};
			let Some(mut entries) = parse_listing(&raw) else {
				anyhow::bail!("WASI returned a directory listing that does not parse");
			};
			sort_listing(&mut entries);
			let listing = encode_listing(&entries, cookie as u64, buf_len as u32 as usize, ids);
			ids.listings.insert(dir, entries);
			finish_listing(&mut caller, buf, bufused, &listing)
		},
	)?;

	// Closing the last descriptor of a file already unlinked frees its inode for reuse.
	linker.func_wrap(
		MODULE,
		"fd_close",
		move |mut caller: Caller<'_, T>, fd: i32| -> anyhow::Result<i32> {
			let fuel = caller.as_context_mut().hostcall_fuel();
			let (ctx, ids) = parts(caller.data_mut());
			ctx.set_hostcall_fuel(fuel);
			let mut none = GuestMemory::Unshared(&mut []);
			let descriptor = types::Fd::from(fd as u32);
			let orphan =
				wasmtime_wasi::runtime::in_tokio(ctx.fd_filestat_get(&mut none, descriptor))
					.ok()
					.filter(|stat| stat.nlink == 0 && stat.filetype != Filetype::Directory)
					.map(|stat| stat.ino);
			match wasmtime_wasi::runtime::in_tokio(ctx.fd_close(&mut none, descriptor)) {
				Ok(()) => {
					if let Some(host) = orphan {
						ids.forget(host);
					}
					// The number may name another directory next: no listing carries over.
					ids.listings.remove(&(fd as u32));
					Ok(0)
				}
				Err(error) => errno(error),
			}
		},
	)?;

	// Removals: the identity of what goes is forgotten once the host removed it.
	for (name, remove) in
		[("path_unlink_file", unlink_at as RemoveAt), ("path_remove_directory", rmdir_at)]
	{
		linker.func_wrap(
			MODULE,
			name,
			move |caller: Caller<'_, T>, fd: i32, path: i32, len: i32| {
				removing(caller, parts, |ctx, memory| {
					let (fd, path) = (types::Fd::from(fd as u32), str_at(path, len));
					let gone = removed_identity(ctx, memory, fd, path);
					remove(ctx, memory, fd, path).map(|()| gone)
				})
			},
		)?;
	}
	linker.func_wrap(
		MODULE,
		"path_rename",
		move |caller: Caller<'_, T>,
		      old_fd: i32,
		      old: i32,
		      old_len: i32,
		      new_fd: i32,
		      new: i32,
		      new_len: i32| {
			removing(caller, parts, |ctx, memory| {
				let (old_fd, old) = (types::Fd::from(old_fd as u32), str_at(old, old_len));
				let (new_fd, new) = (types::Fd::from(new_fd as u32), str_at(new, new_len));
				// A rename onto an existing name removes what was there, unless both names are
				// links of one file (then nothing happens).
				let moved = removed_identity(ctx, memory, old_fd, old);
				let gone = removed_identity(ctx, memory, new_fd, new).filter(|g| Some(*g) != moved);
				wasmtime_wasi::runtime::in_tokio(ctx.path_rename(memory, old_fd, old, new_fd, new))
					.map(|()| gone)
			})
		},
	)?;

	linker.allow_shadowing(false);
	Ok(())
}

/// A removal of a name in a directory, through WASI's own implementation.
type RemoveAt =
	fn(&mut WasiP1Ctx, &mut GuestMemory<'_>, types::Fd, GuestPtr<str>) -> Result<(), types::Error>;

fn unlink_at(
	ctx: &mut WasiP1Ctx,
	memory: &mut GuestMemory<'_>,
	fd: types::Fd,
	path: GuestPtr<str>,
) -> Result<(), types::Error> {
	wasmtime_wasi::runtime::in_tokio(ctx.path_unlink_file(memory, fd, path))
}

fn rmdir_at(
	ctx: &mut WasiP1Ctx,
	memory: &mut GuestMemory<'_>,
	fd: types::Fd,
	path: GuestPtr<str>,
) -> Result<(), types::Error> {
	wasmtime_wasi::runtime::in_tokio(ctx.path_remove_directory(memory, fd, path))
}

/// The task's string of `len` bytes at `ptr`.
fn str_at(ptr: i32, len: i32) -> GuestPtr<str> {
	GuestPtr::<str>::new((ptr as u32, len as u32))
}

/// Runs `remove` (a removal through WASI, which answers the identity it removed) with the
/// task's memory, forgets that identity, and answers the errno.
fn removing<T>(
	mut caller: Caller<'_, T>,
	parts: fn(&mut T) -> (&mut WasiP1Ctx, &mut FileIdentities),
	remove: impl FnOnce(&mut WasiP1Ctx, &mut GuestMemory<'_>) -> Result<Option<u64>, types::Error>,
) -> anyhow::Result<i32> {
	let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
		return Ok(ERRNO_FAULT);
	};
	let fuel = caller.as_context_mut().hostcall_fuel();
	let (data, state) = memory.data_and_store_mut(&mut caller);
	let (ctx, ids) = parts(state);
	ctx.set_hostcall_fuel(fuel);
	match remove(ctx, &mut GuestMemory::Unshared(data)) {
		Ok(gone) => {
			if let Some(host) = gone {
				ids.forget(host);
			}
			Ok(0)
		}
		Err(error) => errno(error),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn entry(ino: u64, name: &str) -> Entry {
		Entry { ino, kind: Filetype::RegularFile as u8, name: name.as_bytes().to_vec() }
	}

	fn raw(entries: &[Entry]) -> Vec<u8> {
		let mut ids = FileIdentities::default();
		// Identity numbering off: encode with the host numbers by seeding the map with them.
		for e in entries {
			ids.by_host.insert(e.ino, e.ino);
		}
		encode_listing(entries, 0, usize::MAX, &mut ids)
	}

	#[test]
	fn listings_are_sorted_whatever_the_host_order() {
		let host_a =
			vec![entry(9, "b"), entry(7, ".."), entry(5, "a"), entry(7, "."), entry(3, "B")];
		let mut host_b = host_a.clone();
		host_b.reverse();
		let mut a = parse_listing(&raw(&host_a)).unwrap();
		let mut b = parse_listing(&raw(&host_b)).unwrap();
		sort_listing(&mut a);
		sort_listing(&mut b);
		assert_eq!(a, b);
		let names: Vec<&[u8]> = a.iter().map(|e| e.name.as_slice()).collect();
		assert_eq!(names, [&b"."[..], b"..", b"B", b"a", b"b"]);
	}

	#[test]
	fn cookies_are_positions_and_a_full_buffer_is_cut() {
		let entries = vec![entry(1, "."), entry(1, ".."), entry(2, "file")];
		let mut ids = FileIdentities::default();
		let all = encode_listing(&entries, 0, usize::MAX, &mut ids);
		assert_eq!(all.len(), 3 * DIRENT_HEADER + 1 + 2 + 4);
		let parsed = parse_listing(&all).unwrap();
		assert_eq!(parsed.len(), 3);
		// The second entry's cookie is 2: asking from 2 gives the third alone.
		assert_eq!(u64::from_le_bytes(all[25..33].try_into().unwrap()), 2);
		let rest = encode_listing(&entries, 2, usize::MAX, &mut ids);
		assert_eq!(&rest[DIRENT_HEADER..], b"file");
		// A buffer shorter than what is left is filled exactly.
		assert_eq!(encode_listing(&entries, 0, 30, &mut ids).len(), 30);
		assert!(encode_listing(&entries, 3, 100, &mut ids).is_empty());
	}

	#[test]
	fn inode_numbers_follow_first_sight_not_the_host() {
		let mut ids = FileIdentities::default();
		assert_eq!(ids.synthetic(0xdead_beef), 1);
		assert_eq!(ids.synthetic(42), 2);
		assert_eq!(ids.synthetic(0xdead_beef), 1);
		// Removed, then its host inode reused by a new file: a new number, as elsewhere.
		ids.forget(0xdead_beef);
		assert_eq!(ids.synthetic(0xdead_beef), 3);
		assert_eq!(ids.synthetic(42), 2);
	}

	#[test]
	fn metadata_keeps_only_what_the_task_decides() {
		let mut ids = FileIdentities::default();
		let stat = |filetype, nlink, size| types::Filestat {
			dev: 2049,
			ino: 123_456,
			filetype,
			nlink,
			size,
			atim: 1_700_000_000_000_000_000,
			mtim: 1_700_000_000_000_000_001,
			ctim: 1_700_000_000_000_000_002,
		};
		let file = normalise(&stat(Filetype::RegularFile, 2, 10), &mut ids);
		assert_eq!(u64::from_le_bytes(file[0..8].try_into().unwrap()), 1);
		assert_eq!(u64::from_le_bytes(file[8..16].try_into().unwrap()), 1);
		assert_eq!(file[16], Filetype::RegularFile as u8);
		assert_eq!(u64::from_le_bytes(file[24..32].try_into().unwrap()), 2);
		assert_eq!(u64::from_le_bytes(file[32..40].try_into().unwrap()), 10);
		assert!(file[40..64].iter().all(|b| *b == 0), "times are zero");
		let dir = normalise(&stat(Filetype::Directory, 5, 4096), &mut ids);
		assert_eq!(u64::from_le_bytes(dir[24..32].try_into().unwrap()), 1);
		assert_eq!(u64::from_le_bytes(dir[32..40].try_into().unwrap()), 0);
	}
}
