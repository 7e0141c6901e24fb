//! GPUs of their own for the daemon's GPU tasks. A rig runs several replicas at once (its
//! slots); two tasks given the same GPU would share its memory and time, so one could fail or
//! time out because of the other. Each GPU task takes a lease on `per_task` of the host's
//! GPUs (device indices, as NVML and the NVIDIA container runtime number them) and waits
//! while none are free; dropping the lease gives them back.

use std::{
	collections::BTreeSet,
	sync::{Arc, Mutex},
};
use tokio::sync::Notify;

/// The host's GPUs, shared by the tasks of one daemon.
#[derive(Clone, Debug)]
pub struct GpuLeases {
	shared: Arc<Shared>,
	count: usize,
	per_task: usize,
}

#[derive(Debug, Default)]
struct Shared {
	free: Mutex<BTreeSet<usize>>,
	returned: Notify,
}

/// GPUs held by one task until dropped.
#[derive(Debug)]
pub struct GpuLease {
	devices: Vec<usize>,
	shared: Arc<Shared>,
}

impl GpuLeases {
	/// `count` GPUs shared by up to `slots` tasks at once: each task gets an equal share,
	/// `count / slots` of them, and at least one (tasks then wait for each other).
	pub fn new(count: usize, slots: usize) -> Self {
		let per_task = (count / slots.max(1)).max(1);
		let shared = Shared { free: Mutex::new((0..count).collect()), returned: Notify::new() };
		GpuLeases { shared: Arc::new(shared), count, per_task }
	}

	/// How many GPUs each task gets.
	pub fn per_task(&self) -> usize {
		self.per_task
	}

	/// A lease on GPUs free now, the lowest-numbered first, if there are enough.
	pub fn try_acquire(&self) -> Option<GpuLease> {
		let mut free = self.shared.free.lock().unwrap_or_else(|e| e.into_inner());
		if free.len() < self.per_task {
			return None;
		}
		let devices: Vec<usize> = free.iter().copied().take(self.per_task).collect();
		for device in &devices {
			free.remove(device);
		}
		Some(GpuLease { devices, shared: self.shared.clone() })
	}

	/// A lease, once enough GPUs are free. `None` only when the host has fewer GPUs than a
	/// task gets (none at all): waiting would never end.
	pub async fn acquire(&self) -> Option<GpuLease> {
		loop {
			// Registered before looking, so that a lease dropped in between still wakes us.
			let returned = self.shared.returned.notified();
			if let Some(lease) = self.try_acquire() {
				return Some(lease);
			}
			if self.count < self.per_task {
				return None;
			}
			returned.await;
		}
	}
}

impl GpuLease {
	/// The device indices, as Docker's device request takes them.
	pub fn device_ids(&self) -> Vec<String> {
		self.devices.iter().map(usize::to_string).collect()
	}
}

impl Drop for GpuLease {
	fn drop(&mut self) {
		let mut free = self.shared.free.lock().unwrap_or_else(|e| e.into_inner());
		free.extend(self.devices.drain(..));
		drop(free);
		self.shared.returned.notify_waiters();
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::time::Duration;

	#[test]
	fn each_task_gets_an_equal_share_and_at_least_one() {
		assert_eq!(GpuLeases::new(8, 2).per_task(), 4);
		assert_eq!(GpuLeases::new(8, 3).per_task(), 2);
		assert_eq!(GpuLeases::new(2, 4).per_task(), 1);
		assert_eq!(GpuLeases::new(1, 0).per_task(), 1);
	}

	#[test]
	fn leases_never_share_a_gpu_and_come_back_when_dropped() {
		let leases = GpuLeases::new(4, 2);
		let first = leases.try_acquire().expect("four free");
		let second = leases.try_acquire().expect("two free");
		assert_eq!(
			(first.device_ids(), second.device_ids()),
			(vec!["0".into(), "1".into()], vec!["2".into(), "3".into()])
		);
		assert!(leases.try_acquire().is_none(), "all four leased");
		drop(first);
		assert_eq!(leases.try_acquire().expect("two back").device_ids(), ["0", "1"]);
	}

	#[tokio::test]
	async fn a_task_waits_for_a_gpu_and_gets_it_when_one_is_given_back() {
		let leases = GpuLeases::new(1, 4);
		let held = leases.acquire().await.expect("one GPU");
		let waiting = tokio::spawn({
			let leases = leases.clone();
			async move { leases.acquire().await.map(|lease| lease.device_ids()) }
		});
		tokio::time::sleep(Duration::from_millis(50)).await;
		assert!(!waiting.is_finished(), "the only GPU is leased");
		drop(held);
		let got = tokio::time::timeout(Duration::from_secs(5), waiting).await;
		assert_eq!(got.expect("woken").expect("joined"), Some(vec!["0".to_string()]));
	}

	#[tokio::test]
	async fn a_host_without_gpus_gives_no_lease_rather_than_waiting() {
		assert!(GpuLeases::new(0, 2).acquire().await.is_none());
	}
}
