//! The rules of Proof-of-Contribution that need no storage (design section 5): worker weights
//! from scores, Sarmenta's credibility with integer weights, when enough replicas are out, how
//! a task's pot is shared, how scores move, how a deal's stake splits over its tasks, and which
//! economic parameters make sense. Tested alone, and used as they are by `sabotage-sim`.

use crate::types::Economics;
use alloc::vec::Vec;
use sp_runtime::traits::AtLeast32BitUnsigned;

/// A worker's weight from its score: `max(score / 3, 3) - 1`, so at least 2.
pub fn worker_weight(score: u32) -> u64 {
	u64::from((score / 3).max(3)) - 1
}

/// A result group's weight once a worker of `weight` joins it (`group` 0: a new group). A
/// group's weight is the product of its members' weights; it saturates at `u64::MAX`, where it
/// is credible beyond any trust a request can ask.
pub fn joined(group: u64, weight: u64) -> u64 {
	if group == 0 {
		weight
	} else {
		group.saturating_mul(weight)
	}
}

/// Whether a group of weight `group` has consensus among contributions whose `total` is 1 +
/// the sum of every group's weight: `group × trust > total × (trust - 1)`. Trust 1 (or 0) is
/// reached by any contribution. Exact in `u128`: `group < 2^64`, `trust < 2^32`, and a
/// product `total × (trust - 1)` too large for `u128` is far above any group.
pub fn consensus(group: u64, total: u128, trust: u32) -> bool {
	let trust = u128::from(trust.max(1));
	let needed = total.saturating_mul(trust - 1);
	u128::from(group) * trust > needed && needed != u128::MAX
}

/// Whether the replicas already out can reach consensus without another: the best group
/// (`best`, 0 when there is none) joined by every worker still computing (`pending`
/// weights). While they cannot, another replica is handed out.
pub fn enough_in_flight(
	best: u64,
	total: u128,
	pending: impl IntoIterator<Item = u64>,
	trust: u32,
) -> bool {
	let mut pending = pending.into_iter().peekable();
	if best == 0 && pending.peek().is_none() {
		return false;
	}
	let grown = pending.fold(best, joined);
	let total = total - u128::from(best) + u128::from(grown);
	consensus(grown, total, trust)
}

/// A winner's share of the reward: `floor(log2(weight))`, at least 1.
pub fn log_weight(weight: u64) -> u32 {
	weight.max(2).ilog2()
}

/// What a worker stakes per contribution: `ratio_percent` % (at most 100) of the pool price.
pub fn worker_stake<B: AtLeast32BitUnsigned + Copy>(pool_price: B, ratio_percent: u8) -> B {
	fraction(pool_price, u32::from(ratio_percent.min(100)), 100)
}

/// `floor(amount × numerator / denominator)` without overflow, for small factors.
pub fn fraction<B: AtLeast32BitUnsigned + Copy>(amount: B, numerator: u32, denominator: u32) -> B {
	if denominator == 0 {
		return B::zero();
	}
	let (n, d) = (B::from(numerator), B::from(denominator));
	(amount / d) * n + (amount % d) * n / d
}

/// How a task's pot (the pool price plus the seized stakes) is shared: the pool owner keeps
/// `scheduler_percent`; the winners share the rest in proportion to their `log_weights`;
/// rounding leftovers go to the pool owner. Returns each winner's reward and the pool
/// owner's part; they add up to `pot` exactly.
pub fn share_pot<B: AtLeast32BitUnsigned + Copy>(
	pot: B,
	scheduler_percent: u8,
	log_weights: &[u32],
) -> (Vec<B>, B) {
	let total_log: u32 = log_weights.iter().sum();
	if total_log == 0 {
		return (log_weights.iter().map(|_| B::zero()).collect(), pot);
	}
	let for_workers = fraction(pot, 100 - u32::from(scheduler_percent.min(100)), 100);
	let rewards: Vec<B> =
		log_weights.iter().map(|l| fraction(for_workers, *l, total_log)).collect();
	let paid = rewards.iter().fold(B::zero(), |sum, r| sum + *r);
	(rewards, pot - paid)
}

/// Matches amounts owed (`payees`) with amounts available (`sources`), in order: each
/// `(source, payee, amount)` moves part of a source to a payee. Both sides add up to the same
/// sum; at most `sources + payees - 1` transfers, none of zero.
pub fn transfers<B: AtLeast32BitUnsigned + Copy>(
	sources: &[B],
	payees: &[B],
) -> Vec<(usize, usize, B)> {
	let mut out = Vec::new();
	let (mut s, mut p) = (0, 0);
	let (mut left_in_source, mut left_for_payee) = (
		sources.first().copied().unwrap_or_else(B::zero),
		payees.first().copied().unwrap_or_else(B::zero),
	);
	while s < sources.len() && p < payees.len() {
		let amount = left_in_source.min(left_for_payee);
		if !amount.is_zero() {
			out.push((s, p, amount));
		}
		left_in_source -= amount;
		left_for_payee -= amount;
		if left_in_source.is_zero() {
			s += 1;
			left_in_source = sources.get(s).copied().unwrap_or_else(B::zero);
		}
		if left_for_payee.is_zero() {
			p += 1;
			left_for_payee = payees.get(p).copied().unwrap_or_else(B::zero);
		}
	}
	out
}

/// A winner's new score: +1 when another worker's contribution checked it.
pub fn winner_score(score: u32, replicated: bool) -> u32 {
	if replicated {
		score.saturating_add(1)
	} else {
		score
	}
}

/// A loser's (or a winner's that did not reveal) new score: two thirds of it.
pub fn loser_score(score: u32) -> u32 {
	// `score × 2` cannot overflow in u64.
	(u64::from(score) * 2 / 3) as u32
}

/// Task `index`'s share of an amount staked for a whole deal of `volume` tasks: equal shares,
/// the last task taking the remainder, so the shares add up to `total` exactly.
pub fn task_share<B: AtLeast32BitUnsigned + Copy>(total: B, volume: u32, index: u32) -> B {
	if volume == 0 || index >= volume {
		return B::zero();
	}
	let each = total / B::from(volume);
	if index + 1 == volume {
		total - each * B::from(volume - 1)
	} else {
		each
	}
}

/// The shares of tasks `from..volume` together.
pub fn shares_from<B: AtLeast32BitUnsigned + Copy>(total: B, volume: u32, from: u32) -> B {
	if from >= volume {
		return B::zero();
	}
	total - total / B::from(volume) * B::from(from)
}

/// Blocks that cover `ratio × task_seconds` seconds at `millis_per_block`, rounded up.
pub fn blocks_for(task_seconds: u32, ratio: u32, millis_per_block: u64) -> u64 {
	let millis = u64::from(task_seconds) * u64::from(ratio) * 1_000;
	millis.div_ceil(millis_per_block.max(1))
}

/// Why governance's economic parameters are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EconomicsProblem {
	/// A category's task time is under a minute or over a week.
	TaskTimeOutOfRange,
	/// Task times must grow strictly from XS to XL.
	TaskTimesNotIncreasing,
	/// The ratios must satisfy `1 ≤ replica ≤ contribution`, `1 ≤ reveal` and
	/// `contribution + reveal ≤ final ≤ 100`.
	DeadlineRatiosInconsistent,
	/// A pool stake above 100 % of the pool price.
	PoolStakeAboveHundredPercent,
}

/// The shortest and longest task time a category may have, in seconds.
pub const TASK_SECONDS_RANGE: (u32, u32) = (60, 7 * 24 * 3_600);

/// Checks governance's economic parameters.
pub fn check_economics<B>(e: &Economics<B>) -> Result<(), EconomicsProblem> {
	let (low, high) = TASK_SECONDS_RANGE;
	if e.task_seconds.iter().any(|s| *s < low || *s > high) {
		return Err(EconomicsProblem::TaskTimeOutOfRange);
	}
	if e.task_seconds.windows(2).any(|w| w[0] >= w[1]) {
		return Err(EconomicsProblem::TaskTimesNotIncreasing);
	}
	let ratios_ok = e.replica_ratio >= 1
		&& e.replica_ratio <= e.contribution_ratio
		&& e.reveal_ratio >= 1
		&& e.contribution_ratio.saturating_add(e.reveal_ratio) <= e.final_ratio
		&& e.final_ratio <= 100;
	if !ratios_ok {
		return Err(EconomicsProblem::DeadlineRatiosInconsistent);
	}
	if e.pool_stake_percent > 100 {
		return Err(EconomicsProblem::PoolStakeAboveHundredPercent);
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	#[test]
	fn weights_follow_the_reference_formula() {
		assert_eq!(worker_weight(0), 2);
		assert_eq!(worker_weight(11), 2);
		assert_eq!(worker_weight(12), 3);
		assert_eq!(worker_weight(15), 4);
		assert_eq!(worker_weight(300), 99);
		assert_eq!(worker_weight(u32::MAX), u64::from(u32::MAX / 3) - 1);
	}

	#[test]
	fn consensus_is_sarmentas_rule_with_integer_weights() {
		// Trust 1: any contribution.
		assert!(consensus(2, 3, 1));
		// Trust 3, new workers (weight 2): one is not enough (6 > 6 is false), two agreeing are
		// (12 > 10).
		assert!(!consensus(2, 3, 3));
		assert!(consensus(4, 5, 3));
		// Two new workers disagreeing at trust 3: neither group.
		assert!(!consensus(2, 5, 3));
		// Trust 10 needs four agreeing new workers: 8 × 10 > 9 × 9 is false, 16 × 10 > 17 × 9.
		assert!(!consensus(8, 9, 10));
		assert!(consensus(16, 17, 10));
		// Saturated groups: two of them never agree on one, one alone wins.
		let max = u64::MAX;
		assert!(!consensus(max, 1 + 2 * u128::from(max), 3));
		assert!(consensus(max, 1 + u128::from(max), 3));
		// A total so large that `total × (trust - 1)` overflows is never outweighed.
		assert!(!consensus(max, u128::MAX / 2, u32::MAX));
	}

	#[test]
	fn replicas_go_out_until_those_in_flight_could_reach_consensus() {
		// Nothing out: hand one out.
		assert!(!enough_in_flight(0, 1, [], 3));
		// Trust 1: one pending replica is enough.
		assert!(enough_in_flight(0, 1, [2], 1));
		// Trust 3: one new worker pending is not, two are.
		assert!(!enough_in_flight(0, 1, [2], 3));
		assert!(enough_in_flight(0, 1, [2, 2], 3));
		// A group of 2 committed against one of 2 (total 5): one more agreeing worker gives 4
		// of 7 (12 > 14 false), so still not enough.
		assert!(!enough_in_flight(2, 5, [2], 3));
		assert!(enough_in_flight(2, 5, [2, 2], 3));
	}

	#[test]
	fn the_pot_is_shared_by_log_weights_and_adds_up() {
		// 1,000 with 5 % for the pool owner: 950 for winners of weights 2 and 8 (logs 1 and 3).
		let (rewards, owner) = share_pot(1_000u64, 5, &[1, 3]);
		assert_eq!(rewards, vec![237, 712]);
		assert_eq!(owner, 51);
		// No winner: all to the pool owner.
		assert_eq!(share_pot(10u64, 5, &[]), (vec![], 10));
		assert_eq!(log_weight(2), 1);
		assert_eq!(log_weight(3), 1);
		assert_eq!(log_weight(4), 2);
		assert_eq!(log_weight(u64::MAX), 63);
	}

	#[test]
	fn transfers_pair_sources_with_payees_in_order() {
		assert_eq!(transfers(&[5u64, 10], &[3, 0, 12]), vec![(0, 0, 3), (0, 2, 2), (1, 2, 10)]);
		assert_eq!(transfers::<u64>(&[], &[]), vec![]);
	}

	#[test]
	fn scores_move_as_the_reference_says() {
		assert_eq!(winner_score(4, true), 5);
		assert_eq!(winner_score(4, false), 4);
		assert_eq!(winner_score(u32::MAX, true), u32::MAX);
		assert_eq!(loser_score(9), 6);
		assert_eq!(loser_score(1), 0);
		assert_eq!(loser_score(u32::MAX), 2_863_311_530);
	}

	#[test]
	fn deadlines_round_up_to_whole_blocks() {
		assert_eq!(blocks_for(300, 7, 6_000), 350);
		assert_eq!(blocks_for(100, 1, 6_000), 17);
		assert_eq!(blocks_for(0, 7, 6_000), 0);
	}

	#[test]
	fn economics_are_checked() {
		let good = Economics::<u64>::design(7);
		assert_eq!(check_economics(&good), Ok(()));
		let bad = |f: fn(&mut Economics<u64>)| {
			let mut e = good;
			f(&mut e);
			check_economics(&e)
		};
		use EconomicsProblem::*;
		assert_eq!(bad(|e| e.task_seconds[0] = 59), Err(TaskTimeOutOfRange));
		assert_eq!(bad(|e| e.task_seconds[4] = 8 * 24 * 3_600), Err(TaskTimeOutOfRange));
		assert_eq!(bad(|e| e.task_seconds[1] = 300), Err(TaskTimesNotIncreasing));
		assert_eq!(bad(|e| e.replica_ratio = 0), Err(DeadlineRatiosInconsistent));
		assert_eq!(bad(|e| e.replica_ratio = 8), Err(DeadlineRatiosInconsistent));
		assert_eq!(bad(|e| e.reveal_ratio = 0), Err(DeadlineRatiosInconsistent));
		assert_eq!(bad(|e| e.final_ratio = 8), Err(DeadlineRatiosInconsistent));
		assert_eq!(bad(|e| e.final_ratio = 101), Err(DeadlineRatiosInconsistent));
		assert_eq!(bad(|e| e.pool_stake_percent = 101), Err(PoolStakeAboveHundredPercent));
	}

	proptest! {
		#[test]
		fn shares_add_up(total in 0u64..1_000_000_000, volume in 1u32..500, scheduler in 0u8..=100,
			logs in proptest::collection::vec(1u32..64, 0..20), pot in 0u64..u64::MAX / 2) {
			let all: u64 = (0..volume).map(|i| task_share(total, volume, i)).sum();
			prop_assert_eq!(all, total);
			let from = volume / 2;
			let tail: u64 = (from..volume).map(|i| task_share(total, volume, i)).sum();
			prop_assert_eq!(shares_from(total, volume, from), tail);
			let (rewards, owner) = share_pot(pot, scheduler, &logs);
			prop_assert_eq!(rewards.iter().sum::<u64>() + owner, pot);
			// The pool owner gets at least its percentage.
			prop_assert!(owner >= fraction(pot, u32::from(scheduler), 100));
		}

		#[test]
		fn transfers_move_exactly_what_is_owed(sources in proptest::collection::vec(0u64..1_000, 0..8),
			cuts in proptest::collection::vec(0u64..1_000, 0..8)) {
			// Payees owe the same sum as the sources hold.
			let sum: u64 = sources.iter().sum();
			let mut payees = Vec::new();
			let mut left = sum;
			for c in cuts { let c = c.min(left); payees.push(c); left -= c; }
			payees.push(left);
			let moves = transfers(&sources, &payees);
			let mut from = vec![0u64; sources.len()];
			let mut to = vec![0u64; payees.len()];
			for (s, p, a) in &moves { prop_assert!(*a > 0); from[*s] += a; to[*p] += a; }
			prop_assert_eq!(from, sources.clone());
			prop_assert_eq!(to, payees.clone());
			prop_assert!(moves.len() < sources.len() + payees.len());
		}
	}
}
