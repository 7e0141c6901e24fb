//! The output quota of a Wasm task: the bytes it may write to files, from the deal. A write
//! that would pass it fails with `ENOSPC`, as on a full disk, and the task decides what to do.
//!
//! What counts is what the task asks for, not what the host's file system ends up holding:
//! every byte written through `fd_write` / `fd_pwrite` to a regular file — whatever its
//! descriptor number, so a file moved onto descriptor 1 counts too — with the hole a write
//! past the end of the file would leave, and every size set through `fd_filestat_set_size`.
//! Overwrites count again. Every entry a task makes — a file opened with `O_CREAT`, a
//! directory, a link — costs [`ENTRY_BYTES`], so empty files cannot use up the host's inodes.
//! So the outcome depends on the task alone, never on the host's block size, free space,
//! inodes or limit on file sizes, and what a task writes can never hold more than the quota.
//! (Stdout and stderr are in-memory pipes, capped on their own.)
//!
//! A Docker task's output is a bind mount, which has no quota of its own: it is measured with
//! [`tree_bytes`] while the container runs (the executor stops a container past its quota)
//! and once after.

use wasmtime::{AsContextMut, Caller, Extern, Linker};
use wasmtime_wasi::preview1::{types, wasi_snapshot_preview1::WasiSnapshotPreview1, WasiP1Ctx};
use wiggle::{GuestMemory, GuestPtr};

/// Bytes of the regular files under `root`, by their sizes (links are not followed). An entry
/// removed while it is measured (a running task's doing) counts as nothing; anything else
/// that cannot be read (a directory the task closed to others) is an error.
pub fn tree_bytes(root: &std::path::Path) -> std::io::Result<u64> {
	let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
	let mut total = 0u64;
	for entry in std::fs::read_dir(root)? {
		let entry = entry?;
		let bytes = match entry.path().symlink_metadata() {
			Ok(metadata) if metadata.is_dir() => match tree_bytes(&entry.path()) {
				Err(e) if gone(&e) => 0,
				other => other?,
			},
			Ok(metadata) if metadata.is_file() => metadata.len(),
			Ok(_) => 0,
			Err(e) if gone(&e) => 0,
			Err(e) => return Err(e),
		};
		total = total.saturating_add(bytes);
	}
	Ok(total)
}

const ERRNO_FAULT: i32 = 21;
const ERRNO_NOSPC: i32 = 51;
const OFLAGS_CREAT: i32 = 1;
/// What making a directory entry costs, as a block of a file system would.
pub const ENTRY_BYTES: u64 = 4096;

/// Bytes a task may still write.
pub struct OutputQuota {
	left: u64,
}

impl OutputQuota {
	pub fn new(bytes: u64) -> Self {
		OutputQuota { left: bytes }
	}

	/// Takes `bytes` from the quota, or refuses (taking nothing) when they do not fit.
	fn take(&mut self, bytes: u64) -> bool {
		match self.left.checked_sub(bytes) {
			Some(left) => {
				self.left = left;
				true
			}
			None => false,
		}
	}
}

/// The bytes a `ciovec` array asks to write: the sum of its buffers' lengths.
fn requested(data: &[u8], iovs: u32, count: u32) -> Option<u64> {
	let start = iovs as usize;
	let end = start.checked_add((count as usize).checked_mul(8)?)?;
	let raw = data.get(start..end)?;
	Some(
		raw.chunks_exact(8)
			.map(|iov| u64::from(u32::from_le_bytes(iov[4..8].try_into().unwrap())))
			.sum(),
	)
}

/// For a regular file, the hole a write at `offset` (or at the file's position, or its end in
/// append mode) would leave past the end of the file; `None` for anything else.
fn file_growth(
	ctx: &mut WasiP1Ctx,
	fd: types::Fd,
	offset: Option<i64>,
) -> Result<Option<u64>, types::Error> {
	let mut none = GuestMemory::Unshared(&mut []);
	let stat = wasmtime_wasi::runtime::in_tokio(ctx.fd_fdstat_get(&mut none, fd))?;
	if stat.fs_filetype != types::Filetype::RegularFile {
		return Ok(None);
	}
	let size = wasmtime_wasi::runtime::in_tokio(ctx.fd_filestat_get(&mut none, fd))?.size;
	let at = if stat.fs_flags.contains(types::Fdflags::APPEND) {
		size
	} else if let Some(offset) = offset {
		offset as u64
	} else {
		ctx.fd_tell(&mut none, fd)?
	};
	Ok(Some(at.saturating_sub(size)))
}

fn errno(error: types::Error) -> anyhow::Result<i32> {
	error.downcast().map(|errno| errno as i32)
}

/// One write, `fd_write` or `fd_pwrite` (`offset`), under the quota.
fn write<T>(
	mut caller: Caller<'_, T>,
	parts: fn(&mut T) -> (&mut WasiP1Ctx, &mut OutputQuota),
	fd: i32,
	iovs: i32,
	count: i32,
	offset: Option<i64>,
	nwritten: i32,
) -> anyhow::Result<i32> {
	let Some(Extern::Memory(memory)) = caller.get_export("memory") else { return Ok(ERRNO_FAULT) };
	// WASI's budget for copying guest memory, as wasmtime's own glue sets it.
	let fuel = caller.as_context_mut().hostcall_fuel();
	let (data, state) = memory.data_and_store_mut(&mut caller);
	let (ctx, quota) = parts(state);
	ctx.set_hostcall_fuel(fuel);
	let Some(length) = requested(data, iovs as u32, count as u32) else { return Ok(ERRNO_FAULT) };
	let fd = types::Fd::from(fd as u32);
	// Only a regular file takes room: a pipe (stdout, stderr) or a directory does not.
	let hole = match file_growth(ctx, fd, offset) {
		Ok(hole) => hole,
		Err(error) => return errno(error),
	};
	let asked = hole.map_or(0, |hole| length.saturating_add(hole));
	if !quota.take(asked) {
		return Ok(ERRNO_NOSPC);
	}
	let mut guest = GuestMemory::Unshared(data);
	let ciovs = GuestPtr::new((iovs as u32, count as u32));
	let written = wasmtime_wasi::runtime::in_tokio(async {
		match offset {
			None => ctx.fd_write(&mut guest, fd, ciovs).await,
			Some(offset) => ctx.fd_pwrite(&mut guest, fd, ciovs, offset as u64).await,
		}
	});
	let written = match written {
		Ok(written) => written,
		Err(error) => {
			// Nothing was written: nothing is spent.
			quota.left = quota.left.saturating_add(asked);
			return errno(error);
		}
	};
	if hole.is_some() {
		// A short write spends only what it wrote, and the hole.
		quota.left = quota.left.saturating_add(length.saturating_sub(u64::from(written)));
	}
	match memory.write(&mut caller, nwritten as u32 as usize, &written.to_le_bytes()) {
		Ok(()) => Ok(0),
		Err(_) => Ok(ERRNO_FAULT),
	}
}

/// A WASI call that makes a directory entry, under the quota: [`ENTRY_BYTES`] taken first, and
/// given back if the call fails. `call` gets the task's WASI context and memory.
fn making_entry<T, R>(
	mut caller: Caller<'_, T>,
	parts: fn(&mut T) -> (&mut WasiP1Ctx, &mut OutputQuota),
	call: impl FnOnce(&mut WasiP1Ctx, &mut GuestMemory<'_>) -> Result<R, types::Error>,
) -> anyhow::Result<Result<(R, Caller<'_, T>), i32>> {
	let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
		return Ok(Err(ERRNO_FAULT));
	};
	let fuel = caller.as_context_mut().hostcall_fuel();
	let (data, state) = memory.data_and_store_mut(&mut caller);
	let (ctx, quota) = parts(state);
	ctx.set_hostcall_fuel(fuel);
	if !quota.take(ENTRY_BYTES) {
		return Ok(Err(ERRNO_NOSPC));
	}
	match call(ctx, &mut GuestMemory::Unshared(data)) {
		Ok(value) => Ok(Ok((value, caller))),
		Err(error) => {
			quota.left = quota.left.saturating_add(ENTRY_BYTES);
			errno(error).map(Err)
		}
	}
}

/// The errno of a call that made an entry, or success.
fn entry_errno<R, C>(outcome: anyhow::Result<Result<(R, C), i32>>) -> anyhow::Result<i32> {
	outcome.map(|made| made.err().unwrap_or(0))
}

/// Replaces WASI's `fd_write`, `fd_pwrite`, `fd_filestat_set_size`, and the calls that make
/// directory entries (`path_open` with `O_CREAT`, `path_create_directory`, `path_symlink`,
/// `path_link`) in `linker` (which must already hold WASI) with ones that keep to the task's
/// quota.
pub fn add_output_quota<T: 'static>(
	linker: &mut Linker<T>,
	parts: fn(&mut T) -> (&mut WasiP1Ctx, &mut OutputQuota),
) -> anyhow::Result<()> {
	const MODULE: &str = "wasi_snapshot_preview1";
	linker.allow_shadowing(true);
	linker.func_wrap(
		MODULE,
		"fd_write",
		move |caller: Caller<'_, T>, fd: i32, iovs: i32, count: i32, nwritten: i32| {
			write(caller, parts, fd, iovs, count, None, nwritten)
		},
	)?;
	linker.func_wrap(
		MODULE,
		"fd_pwrite",
		move |caller: Caller<'_, T>, fd: i32, iovs: i32, count: i32, offset: i64, nwritten: i32| {
			write(caller, parts, fd, iovs, count, Some(offset), nwritten)
		},
	)?;
	linker.func_wrap(
		MODULE,
		"fd_filestat_set_size",
		move |mut caller: Caller<'_, T>, fd: i32, size: i64| -> anyhow::Result<i32> {
			let fuel = caller.as_context_mut().hostcall_fuel();
			let (ctx, quota) = parts(caller.data_mut());
			ctx.set_hostcall_fuel(fuel);
			if !quota.take(size as u64) {
				return Ok(ERRNO_NOSPC);
			}
			let mut none = GuestMemory::Unshared(&mut []);
			match wasmtime_wasi::runtime::in_tokio(ctx.fd_filestat_set_size(
				&mut none,
				types::Fd::from(fd as u32),
				size as u64,
			)) {
				Ok(()) => Ok(0),
				Err(error) => {
					quota.left = quota.left.saturating_add(size as u64);
					errno(error)
				}
			}
		},
	)?;
	linker.func_wrap(
		MODULE,
		"path_create_directory",
		move |caller: Caller<'_, T>, fd: i32, path: i32, len: i32| {
			entry_errno(making_entry(caller, parts, |ctx, memory| {
				let path = GuestPtr::<str>::new((path as u32, len as u32));
				wasmtime_wasi::runtime::in_tokio(ctx.path_create_directory(memory, fd_of(fd), path))
			}))
		},
	)?;
	linker.func_wrap(
		MODULE,
		"path_symlink",
		move |caller: Caller<'_, T>, old: i32, old_len: i32, fd: i32, new: i32, new_len: i32| {
			entry_errno(making_entry(caller, parts, |ctx, memory| {
				let old = GuestPtr::<str>::new((old as u32, old_len as u32));
				let new = GuestPtr::<str>::new((new as u32, new_len as u32));
				wasmtime_wasi::runtime::in_tokio(ctx.path_symlink(memory, old, fd_of(fd), new))
			}))
		},
	)?;
	linker.func_wrap(
		MODULE,
		"path_link",
		move |caller: Caller<'_, T>,
		      old_fd: i32,
		      flags: i32,
		      old: i32,
		      old_len: i32,
		      new_fd: i32,
		      new: i32,
		      new_len: i32| {
			entry_errno(making_entry(caller, parts, |ctx, memory| {
				let flags = types::Lookupflags::try_from(flags).map_err(|_| types::Errno::Inval)?;
				let old = GuestPtr::<str>::new((old as u32, old_len as u32));
				let new = GuestPtr::<str>::new((new as u32, new_len as u32));
				let (old_fd, new_fd) = (fd_of(old_fd), fd_of(new_fd));
				wasmtime_wasi::runtime::in_tokio(
					ctx.path_link(memory, old_fd, flags, old, new_fd, new),
				)
			}))
		},
	)?;
	linker.func_wrap(
		MODULE,
		"path_open",
		move |mut caller: Caller<'_, T>,
		      fd: i32,
		      dirflags: i32,
		      path: i32,
		      len: i32,
		      oflags: i32,
		      base: i64,
		      inheriting: i64,
		      fdflags: i32,
		      opened: i32|
		      -> anyhow::Result<i32> {
			let open = |ctx: &mut WasiP1Ctx, memory: &mut GuestMemory<'_>| {
				let inval = |_| types::Errno::Inval;
				let dirflags = types::Lookupflags::try_from(dirflags).map_err(inval)?;
				let oflags_bits = types::Oflags::try_from(oflags).map_err(inval)?;
				let base = types::Rights::try_from(base).map_err(inval)?;
				let inheriting = types::Rights::try_from(inheriting).map_err(inval)?;
				let fdflags = types::Fdflags::try_from(fdflags).map_err(inval)?;
				let path = GuestPtr::<str>::new((path as u32, len as u32));
				wasmtime_wasi::runtime::in_tokio(ctx.path_open(
					memory,
					fd_of(fd),
					dirflags,
					path,
					oflags_bits,
					base,
					inheriting,
					fdflags,
				))
			};
			// Only an open that may create a file makes an entry.
			let new_fd = if oflags & OFLAGS_CREAT != 0 {
				match making_entry(caller, parts, open)? {
					Ok((new_fd, back)) => {
						caller = back;
						new_fd
					}
					Err(errno) => return Ok(errno),
				}
			} else {
				let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
					return Ok(ERRNO_FAULT);
				};
				let fuel = caller.as_context_mut().hostcall_fuel();
				let (data, state) = memory.data_and_store_mut(&mut caller);
				let (ctx, _) = parts(state);
				ctx.set_hostcall_fuel(fuel);
				match open(ctx, &mut GuestMemory::Unshared(data)) {
					Ok(new_fd) => new_fd,
					Err(error) => return errno(error),
				}
			};
			let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
				return Ok(ERRNO_FAULT);
			};
			let bytes = u32::from(new_fd).to_le_bytes();
			Ok(memory
				.write(&mut caller, opened as u32 as usize, &bytes)
				.map_or(ERRNO_FAULT, |()| 0))
		},
	)?;
	linker.allow_shadowing(false);
	Ok(())
}

fn fd_of(fd: i32) -> types::Fd {
	types::Fd::from(fd as u32)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_quota_refuses_what_does_not_fit_and_takes_nothing_then() {
		let mut quota = OutputQuota::new(10);
		assert!(quota.take(6));
		assert!(!quota.take(5));
		assert_eq!(quota.left, 4);
		assert!(quota.take(4));
		assert!(!quota.take(1));
	}

	#[test]
	fn a_write_asks_for_the_sum_of_its_buffers() {
		let mut data = vec![0u8; 64];
		data[16..24].copy_from_slice(&[0, 0, 0, 0, 5, 0, 0, 0]);
		data[24..32].copy_from_slice(&[0, 0, 0, 0, 7, 0, 0, 0]);
		assert_eq!(requested(&data, 16, 2), Some(12));
		assert_eq!(requested(&data, 60, 1), None, "past the memory");
		assert_eq!(requested(&data, 0, u32::MAX), None);
	}
}
