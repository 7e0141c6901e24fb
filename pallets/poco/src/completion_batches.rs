//! What the completions of one batch of reveals weigh.
//!
//! A completion writes the same storage for every task of a deal (the requester's, the pool
//! owner's and the providers' balances, holds and books, the pool's record, the kitty) and
//! the same records for every worker of its crew (balance, hold, books, score, worker record).
//! Within one call those writes land on keys already written, so a batch of completions of one
//! deal by one crew costs those writes once, plus a task record and a result per task. The
//! `reveal_complete(n)` benchmark measures exactly that: `n` tasks of one deal, each with the
//! same crew of [`SHARED_CREW`] workers. Completions that fit it (same deal, a crew within
//! that bound) are charged as such a batch; any other completion is charged alone, at
//! `finalize(c)` for its `c` replicas, as before.

use alloc::vec::Vec;
use frame_support::weights::Weight;

/// The crew of the `reveal_complete` benchmark: the revealer and three winners that revealed
/// (winners cost more than losers). It covers the usual replicated tasks (two new workers, or
/// three with a liar).
pub const SHARED_CREW: usize = 4;

/// Completions of one deal charged together; `crew` is sorted and holds no duplicate.
struct DealBatch<AccountId> {
	deal: u64,
	crew: Vec<AccountId>,
	/// The replicas of each completion: charged alone instead, when that is less.
	replicas: Vec<u32>,
}

/// The completions of one call, sorted into batches that share their writes.
pub struct CompletionBatches<AccountId> {
	batches: Vec<DealBatch<AccountId>>,
	/// Replicas of each completion charged alone.
	alone: Vec<u32>,
}

impl<AccountId> Default for CompletionBatches<AccountId> {
	fn default() -> Self {
		Self { batches: Vec::new(), alone: Vec::new() }
	}
}

/// The sorted union of `crew` and `workers`.
fn union<AccountId: Ord + Clone>(crew: &[AccountId], workers: &[AccountId]) -> Vec<AccountId> {
	let mut all: Vec<AccountId> = crew.iter().chain(workers).cloned().collect();
	all.sort();
	all.dedup();
	all
}

impl<AccountId: Ord + Clone> CompletionBatches<AccountId> {
	/// Records the completion of a task of `deal` whose replicas were held by `workers`.
	pub fn add(&mut self, deal: u64, workers: &[AccountId]) {
		// The benchmark's tasks hold `SHARED_CREW` replicas each: more is charged alone.
		if workers.len() > SHARED_CREW {
			self.alone.push(workers.len() as u32);
			return;
		}
		let fitted = self.batches.iter_mut().find_map(|batch| {
			if batch.deal != deal {
				return None;
			}
			let crew = union(&batch.crew, workers);
			(crew.len() <= SHARED_CREW).then_some((batch, crew))
		});
		let replicas = workers.len() as u32;
		if let Some((batch, crew)) = fitted {
			batch.crew = crew;
			batch.replicas.push(replicas);
			return;
		}
		let crew = union(&[], workers);
		if crew.len() <= SHARED_CREW {
			self.batches.push(DealBatch { deal, crew, replicas: alloc::vec![replicas] });
		} else {
			self.alone.push(replicas);
		}
	}

	/// The weight of a call of `items` reveals with these completions. Each batch of `k`
	/// costs the lesser of two bounds: `reveal_complete(k)` (its reveals included), or its
	/// reveals' share of `reveal` and a `finalize(replicas)` each, as completions alone (less
	/// for a batch of one, whose crew's writes are not shared). The other reveals are charged
	/// at `reveal`, the other completions alone.
	pub fn weight(
		&self,
		items: u32,
		reveal: impl Fn(u32) -> Weight,
		reveal_complete: impl Fn(u32) -> Weight,
		finalize: impl Fn(u32) -> Weight,
	) -> Weight {
		let batched = self.batches.iter().map(|b| b.replicas.len() as u32).sum::<u32>();
		let mut total = reveal(items.saturating_sub(batched));
		for batch in &self.batches {
			let k = batch.replicas.len() as u32;
			let mut alone = reveal(k).saturating_sub(reveal(0));
			for replicas in &batch.replicas {
				alone.saturating_accrue(finalize(*replicas));
			}
			total.saturating_accrue(reveal_complete(k).min(alone));
		}
		for replicas in &self.alone {
			total.saturating_accrue(finalize(*replicas));
		}
		total
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	// Distinct round figures, so that each part of a sum can be told apart.
	fn reveal(n: u32) -> Weight {
		Weight::from_parts(1_000 + 10 * n as u64, 0)
	}
	fn reveal_complete(n: u32) -> Weight {
		Weight::from_parts(100_000 + 1_000 * n as u64, 0)
	}
	fn finalize(c: u32) -> Weight {
		Weight::from_parts(10_000_000 + 100_000 * c as u64, 0)
	}
	fn weigh(batches: &CompletionBatches<u32>, items: u32) -> u64 {
		batches.weight(items, reveal, reveal_complete, finalize).ref_time()
	}

	#[test]
	fn no_completion_weighs_the_reveals_alone() {
		let batches = CompletionBatches::<u32>::default();
		assert_eq!(weigh(&batches, 32), reveal(32).ref_time());
	}

	#[test]
	fn completions_of_one_deal_by_one_crew_form_one_batch() {
		let mut batches = CompletionBatches::default();
		for _ in 0..32 {
			batches.add(7, &[2, 1]);
		}
		assert_eq!(weigh(&batches, 32), reveal(0).ref_time() + reveal_complete(32).ref_time());
	}

	#[test]
	fn a_crew_grows_up_to_the_bound_then_completions_start_a_new_batch() {
		let mut batches = CompletionBatches::default();
		batches.add(7, &[1, 2]);
		batches.add(7, &[1, 3]);
		batches.add(7, &[4, 1]); // crew {1, 2, 3, 4}: the bound
		batches.add(7, &[1, 5]); // would make five: a batch of its own
		batches.add(7, &[5, 1]);
		let expected =
			reveal(0).ref_time() + reveal_complete(3).ref_time() + reveal_complete(2).ref_time();
		assert_eq!(weigh(&batches, 5), expected);
	}

	#[test]
	fn other_deals_are_other_batches() {
		let mut batches = CompletionBatches::default();
		batches.add(1, &[1, 2]);
		batches.add(2, &[1, 2]);
		batches.add(1, &[2, 1]);
		// Four reveals, one of them not completing its task.
		let expected =
			reveal(1).ref_time() + reveal_complete(2).ref_time() + reveal_complete(1).ref_time();
		assert_eq!(weigh(&batches, 4), expected);
	}

	#[test]
	fn a_crew_over_the_bound_is_charged_alone_per_completion() {
		let mut batches = CompletionBatches::default();
		let crowd: Vec<u32> = (0..20).collect();
		batches.add(3, &crowd);
		batches.add(3, &crowd);
		assert_eq!(weigh(&batches, 2), reveal(2).ref_time() + 2 * finalize(20).ref_time());
	}

	#[test]
	fn a_batch_costs_no_more_than_its_completions_alone() {
		// Here a lone completion is cheaper than the batch benchmark's fixed part.
		let dear_batch = |n: u32| Weight::from_parts(50_000_000 + 1_000 * n as u64, 0);
		let mut batches = CompletionBatches::default();
		batches.add(7, &[1, 2]);
		let weight = batches.weight(1, reveal, dear_batch, finalize).ref_time();
		assert_eq!(weight, reveal(1).ref_time() + finalize(2).ref_time());
		// Many completions share enough for the batch to be cheaper again.
		for _ in 0..31 {
			batches.add(7, &[2, 1]);
		}
		let weight = batches.weight(32, reveal, dear_batch, finalize).ref_time();
		assert_eq!(weight, reveal(0).ref_time() + dear_batch(32).ref_time());
	}

	#[test]
	fn a_task_with_more_replicas_than_the_crew_is_charged_alone() {
		let mut batches = CompletionBatches::default();
		// Four distinct workers, but eight replicas (the chain never gives a worker two
		// replicas of a task; the charge does not rely on it).
		batches.add(9, &[1, 1, 2, 2, 3, 3, 4, 4]);
		assert_eq!(weigh(&batches, 1), reveal(1).ref_time() + finalize(8).ref_time());
	}
}
