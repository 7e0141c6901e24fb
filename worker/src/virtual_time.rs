//! Virtual time for Wasm tasks: clocks that start at zero and move only when the task sleeps,
//! and a `poll_oneoff` that never blocks. A real sleep would hold a worker thread beyond the
//! task's wall limit (epoch interruption stops Wasm code, not a host call), and a real clock
//! would make two replicas see different times. Here a sleep returns at once and advances the
//! task's clock by what it asked, so every replica sees the same times in the same order.

use std::{
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc,
	},
	time::Duration,
};
use wasmtime::{Caller, Extern, Linker};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

/// A task's clock, in nanoseconds since it started; the wall clock reads the same (the epoch).
#[derive(Clone, Default)]
pub struct VirtualClock(Arc<AtomicU64>);

impl VirtualClock {
	pub fn nanos(&self) -> u64 {
		self.0.load(Ordering::SeqCst)
	}

	/// Moves the clock forward to `to` (never back).
	fn advance_to(&self, to: u64) {
		self.0.fetch_max(to, Ordering::SeqCst);
	}
}

impl HostWallClock for VirtualClock {
	fn resolution(&self) -> Duration {
		Duration::from_nanos(1)
	}
	fn now(&self) -> Duration {
		Duration::from_nanos(self.nanos())
	}
}

impl HostMonotonicClock for VirtualClock {
	fn resolution(&self) -> u64 {
		1
	}
	fn now(&self) -> u64 {
		self.nanos()
	}
}

/// WASI preview 1 errno values used here.
const ERRNO_SUCCESS: i32 = 0;
const ERRNO_FAULT: i32 = 21;
const ERRNO_INVAL: i32 = 28;

const SUBSCRIPTION_SIZE: usize = 48;
const EVENT_SIZE: usize = 32;
const TAG_CLOCK: u8 = 0;
const SUBCLOCKFLAGS_ABSTIME: u16 = 1;

/// One subscription, as the task wrote it.
#[derive(Debug, PartialEq)]
enum Subscription {
	/// Wake at `deadline` (virtual nanoseconds).
	Clock { userdata: u64, deadline: u64 },
	/// Wake when `fd` is ready to read (tag 1) or write (tag 2): in the sandbox every
	/// descriptor is a file or an in-memory pipe, always ready.
	Fd { userdata: u64, tag: u8 },
}

fn parse(bytes: &[u8], now: u64) -> Result<Subscription, i32> {
	let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
	let userdata = u64_at(0);
	match bytes[8] {
		TAG_CLOCK => {
			let timeout = u64_at(24);
			let flags = u16::from_le_bytes([bytes[40], bytes[41]]);
			let deadline = if flags & SUBCLOCKFLAGS_ABSTIME != 0 {
				timeout
			} else {
				now.saturating_add(timeout)
			};
			Ok(Subscription::Clock { userdata, deadline })
		}
		tag @ (1 | 2) => Ok(Subscription::Fd { userdata, tag }),
		_ => Err(ERRNO_INVAL),
	}
}

/// Which subscriptions fire, and the clock after: ready descriptors fire at once; otherwise
/// the clock jumps to the earliest deadline and every clock due by then fires.
fn fire(subscriptions: &[Subscription], now: u64) -> (Vec<&Subscription>, u64) {
	let ready: Vec<&Subscription> =
		subscriptions.iter().filter(|s| matches!(s, Subscription::Fd { .. })).collect();
	if !ready.is_empty() {
		return (ready, now);
	}
	let earliest = subscriptions
		.iter()
		.filter_map(|s| match s {
			Subscription::Clock { deadline, .. } => Some(*deadline),
			Subscription::Fd { .. } => None,
		})
		.min()
		.unwrap_or(now)
		.max(now);
	let due = subscriptions
		.iter()
		.filter(|s| matches!(s, Subscription::Clock { deadline, .. } if *deadline <= earliest))
		.collect();
	(due, earliest)
}

fn event(subscription: &Subscription) -> [u8; EVENT_SIZE] {
	let mut out = [0u8; EVENT_SIZE];
	let (userdata, kind) = match subscription {
		Subscription::Clock { userdata, .. } => (*userdata, TAG_CLOCK),
		Subscription::Fd { userdata, tag } => (*userdata, *tag),
	};
	out[0..8].copy_from_slice(&userdata.to_le_bytes());
	// error (u16) stays 0; type at byte 10; nbytes and flags stay 0.
	out[10] = kind;
	out
}

/// Replaces WASI's `poll_oneoff` in `linker` (which must already hold WASI) with the virtual
/// one, reading the task's clock through `clock`.
pub fn add_poll_oneoff<T: 'static>(
	linker: &mut Linker<T>,
	clock: fn(&T) -> &VirtualClock,
) -> anyhow::Result<()> {
	linker.allow_shadowing(true);
	linker.func_wrap(
		"wasi_snapshot_preview1",
		"poll_oneoff",
		move |mut caller: Caller<'_, T>,
		      input: i32,
		      output: i32,
		      count: i32,
		      nevents: i32|
		      -> i32 {
			let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
				return ERRNO_FAULT;
			};
			let virtual_clock = clock(caller.data()).clone();
			let now = virtual_clock.nanos();
			let (input, output, nevents) =
				(input as u32 as usize, output as u32 as usize, nevents as u32 as usize);
			let count = count as u32 as usize;
			if count == 0 {
				return ERRNO_INVAL;
			}
			let data = memory.data_mut(&mut caller);
			let Some(end) = count.checked_mul(SUBSCRIPTION_SIZE).and_then(|n| n.checked_add(input))
			else {
				return ERRNO_FAULT;
			};
			let Some(raw) = data.get(input..end) else { return ERRNO_FAULT };
			let subscriptions: Result<Vec<_>, i32> =
				raw.chunks_exact(SUBSCRIPTION_SIZE).map(|s| parse(s, now)).collect();
			let subscriptions = match subscriptions {
				Ok(s) => s,
				Err(errno) => return errno,
			};
			let (fired, after) = fire(&subscriptions, now);
			let Some(out_end) =
				fired.len().checked_mul(EVENT_SIZE).and_then(|n| n.checked_add(output))
			else {
				return ERRNO_FAULT;
			};
			if data.len() < out_end || data.len() < nevents.saturating_add(4) {
				return ERRNO_FAULT;
			}
			for (i, subscription) in fired.iter().enumerate() {
				let at = output + i * EVENT_SIZE;
				data[at..at + EVENT_SIZE].copy_from_slice(&event(subscription));
			}
			data[nevents..nevents + 4].copy_from_slice(&(fired.len() as u32).to_le_bytes());
			virtual_clock.advance_to(after);
			ERRNO_SUCCESS
		},
	)?;
	linker.allow_shadowing(false);
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn clock_sub(userdata: u64, timeout: u64, absolute: bool) -> [u8; SUBSCRIPTION_SIZE] {
		let mut s = [0u8; SUBSCRIPTION_SIZE];
		s[0..8].copy_from_slice(&userdata.to_le_bytes());
		s[8] = TAG_CLOCK;
		s[24..32].copy_from_slice(&timeout.to_le_bytes());
		s[40] = u8::from(absolute);
		s
	}

	#[test]
	fn sleeps_jump_the_clock_to_the_earliest_deadline() {
		let subs = [
			parse(&clock_sub(1, 5_000, false), 1_000).unwrap(),
			parse(&clock_sub(2, 3_000, true), 1_000).unwrap(),
			parse(&clock_sub(3, 9_000, false), 1_000).unwrap(),
		];
		let (fired, after) = fire(&subs, 1_000);
		assert_eq!(after, 3_000);
		assert_eq!(fired, vec![&subs[1]]);
		// An absolute deadline in the past fires at once, without moving the clock back.
		let past = [parse(&clock_sub(4, 10, true), 1_000).unwrap()];
		assert_eq!(fire(&past, 1_000), (vec![&past[0]], 1_000));
	}

	#[test]
	fn descriptors_are_always_ready() {
		let mut fd = [0u8; SUBSCRIPTION_SIZE];
		fd[0] = 7;
		fd[8] = 1;
		let subs = [parse(&fd, 0).unwrap(), parse(&clock_sub(1, 5, false), 0).unwrap()];
		let (fired, after) = fire(&subs, 0);
		assert_eq!((fired, after), (vec![&subs[0]], 0));
		assert_eq!(event(&subs[0])[10], 1);
		let mut bad = fd;
		bad[8] = 9;
		assert_eq!(parse(&bad, 0), Err(ERRNO_INVAL));
	}
}
