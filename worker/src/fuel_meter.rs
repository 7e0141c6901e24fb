//! The host's side of a Wasm task's fuel and wall-clock limit (see [`crate::instrument`]).
//!
//! The rewritten module spends a counter kept at address 0 of a memory of its own and traps
//! once it is below zero. The host gives it the task's fuel before any code runs and reads
//! what is left afterwards. At the task's wall-time limit a watchdog thread writes a count far
//! below zero there: the next charge — at the latest the next loop iteration or function
//! call — then traps. So neither the fuel nor the clock costs a call-out in the task's loops.

use std::{
	sync::{
		atomic::{AtomicBool, AtomicI64, Ordering},
		mpsc, Arc,
	},
	thread::{Scope, ScopedJoinHandle},
	time::Duration,
};

/// What the watchdog writes: below zero whatever the task charges after it.
const STOPPED: i64 = i64::MIN / 2;
/// How often the watchdog writes again until the task has ended: a charge in flight (read,
/// subtract, write back) may overwrite one write.
const REPEAT: Duration = Duration::from_millis(1);

/// The counter's first value for a task allowed `limit` units.
pub fn initial(limit: u64) -> i64 {
	i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Units a task allowed `limit` spent, given what is left in the counter.
pub fn used(limit: u64, left: i64) -> u64 {
	let given = initial(limit);
	if left < 0 {
		return limit;
	}
	given.saturating_sub(left) as u64
}

/// A thread that stops a task at its wall-time limit.
pub struct Watchdog<'scope> {
	done: mpsc::Sender<()>,
	fired: Arc<AtomicBool>,
	thread: ScopedJoinHandle<'scope, ()>,
}

impl<'scope> Watchdog<'scope> {
	/// Watches the counter at `counter` for `limit`.
	///
	/// # Safety
	///
	/// `counter` must point to 8 aligned bytes that stay valid until [`Watchdog::stop`]
	/// returns: the first bytes of the module's meter memory, which never grows (its maximum
	/// is its one page) and lives as long as the task's store, which the caller keeps until
	/// then. The task's code reads and writes them meanwhile, as plain 8-byte accesses.
	pub unsafe fn start<'env>(
		scope: &'scope Scope<'scope, 'env>,
		counter: *mut i64,
		limit: Duration,
	) -> std::io::Result<Self> {
		let (done, wait) = mpsc::channel::<()>();
		let fired = Arc::new(AtomicBool::new(false));
		let address = counter as usize;
		let flag = fired.clone();
		let thread = std::thread::Builder::new().name("wasm-watchdog".into()).spawn_scoped(
			scope,
			move || {
				if wait.recv_timeout(limit) != Err(mpsc::RecvTimeoutError::Timeout) {
					return;
				}
				flag.store(true, Ordering::SeqCst);
				// SAFETY: the caller of `start` keeps the counter valid until `stop` has
				// joined this thread, and this loop ends when `stop` says so.
				let counter = unsafe { AtomicI64::from_ptr(address as *mut i64) };
				loop {
					counter.store(STOPPED, Ordering::SeqCst);
					if wait.recv_timeout(REPEAT) != Err(mpsc::RecvTimeoutError::Timeout) {
						return;
					}
				}
			},
		)?;
		Ok(Watchdog { done, fired, thread })
	}

	/// Ends the watch (the task has ended); whether the limit was reached first.
	pub fn stop(self) -> bool {
		let _ = self.done.send(());
		let _ = self.thread.join();
		self.fired.load(Ordering::SeqCst)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn what_was_used_is_what_left_the_counter() {
		assert_eq!(used(1_000, 1_000), 0);
		assert_eq!(used(1_000, 250), 750);
		assert_eq!(used(1_000, -3), 1_000, "ran out: all of it");
		assert_eq!(used(u64::MAX, i64::MAX - 5), 5);
		assert_eq!(initial(u64::MAX), i64::MAX);
	}

	#[test]
	fn the_watchdog_writes_a_stop_at_the_limit_and_not_before() {
		let mut counter = 500i64;
		std::thread::scope(|scope| {
			// SAFETY: `counter` outlives the watch, which is stopped within this scope.
			let quick = unsafe { Watchdog::start(scope, &mut counter, Duration::from_secs(60)) };
			assert!(!quick.unwrap().stop(), "stopped before its limit");
		});
		assert_eq!(counter, 500);
		std::thread::scope(|scope| {
			let late = unsafe { Watchdog::start(scope, &mut counter, Duration::from_millis(5)) };
			std::thread::sleep(Duration::from_millis(50));
			assert!(late.unwrap().stop());
		});
		assert!(counter < 0);
	}
}
