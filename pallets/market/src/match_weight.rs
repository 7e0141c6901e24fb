//! What a proposed match ([`crate::Pallet::match_orders`]) is charged: its cost with small,
//! cheap ads, plus the share of two extra costs that its own ads stand for: evaluating them
//! (by the steps spent) and reading them (by their size).
//!
//! The call is benchmarked with two switches. `s = 1`: ads and host rules whose evaluation
//! takes at least [`DENSE_MATCH_STEPS`] steps, against a few. `b = 1`: ads of the largest text
//! (padded with the many small nodes that cost the most per byte to read back) and the
//! registry's densest benchmark rules, against short ones. The benchmarking CLI varies one
//! switch while it holds the other at its maximum, so the small corner is also measured alone
//! (`match_orders_small`) and the base is the larger of it and the fit's. Each extra cost is
//! linear in what it measures, so a match pays `steps / DENSE_MATCH_STEPS` of the first and,
//! of the second, the larger of its ads' share of [`LARGE_AD_BYTES`] and its rules' share of
//! [`LARGE_RULE_BYTES`] (each part of the cost is at most its share, so the larger share
//! covers both). It is charged up front for the most it may take and refunded the rest.
//!
//! A step is priced at the benchmark's mix (integer additions, short lookups); steps that copy
//! short strings or scan many attributes cost more than that, within the evaluation bound.

use frame_support::weights::Weight;
use sp_runtime::{helpers_128bit::multiply_by_rational_with_rounding, Rounding};

/// Steps the dense benchmark spends at the least, over its four evaluations (both
/// `Requirements`, both host rules); the benchmark checks that it spends at least as many.
pub const DENSE_MATCH_STEPS: u32 = 32_000;

/// Bytes of the stored job and pool ads of the large benchmark, at the least (checked there).
pub const LARGE_AD_BYTES: u32 = 9_000;

/// Bytes of the app's and the data set's rule text in the large benchmark, at the least
/// (checked there).
pub const LARGE_RULE_BYTES: u32 = 4_000;

/// The most orders a match uses up: the request, the pool order, the app order and the data
/// set order. `match_orders(s, b, e)` is benchmarked with `e` of them used up; a match that
/// leaves some open is refunded what ending them takes.
pub const MAX_ORDERS_ENDED: u32 = 4;

/// What a match's ads and host rules took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdWork {
	/// Evaluation steps: both `Requirements`, both host rules.
	pub steps: u32,
	/// The stored job and pool ads read back, in bytes.
	pub ad_bytes: u32,
	/// The app's and the data set's rule text parsed, in bytes.
	pub rule_bytes: u32,
}

impl AdWork {
	/// The most a match may take, with stored ads of at most `max_ad_bytes` each: four
	/// evaluations within the evaluation bound, two rules within the parser's text bound
	/// (a longer one is refused before it is parsed).
	pub fn most(max_ad_bytes: u32) -> Self {
		let limits = crate::ads::limits();
		AdWork {
			steps: limits.max_steps.saturating_mul(4),
			ad_bytes: max_ad_bytes.saturating_mul(2),
			rule_bytes: limits.max_source_len.saturating_mul(2),
		}
	}
}

/// The weights of the benchmark `match_orders(s, b)` at its corners.
pub struct MatchBenchmarks {
	/// `s = 0, b = 0`: small ads and rules, a few steps.
	pub base: Weight,
	/// `s = 1, b = 0`.
	pub dense: Weight,
	/// `s = 0, b = 1`.
	pub large: Weight,
}

/// `base + (dense − base) × steps / DENSE_MATCH_STEPS + (large − base) × bytes share`, for
/// ref time and proof size alike, rounded up. `work` is first held within `most`, so that no
/// match is charged more than the weight of `most`, which it was charged up front.
pub fn match_weight(benchmarks: &MatchBenchmarks, work: AdWork, most: AdWork) -> Weight {
	let steps = work.steps.min(most.steps);
	let (ad_bytes, rule_bytes) =
		(work.ad_bytes.min(most.ad_bytes), work.rule_bytes.min(most.rule_bytes));
	// The larger of two shares, compared as `ad_bytes / LARGE_AD_BYTES` against
	// `rule_bytes / LARGE_RULE_BYTES` by cross-multiplying.
	let bytes_share = match (ad_bytes as u64) * (LARGE_RULE_BYTES as u64)
		>= (rule_bytes as u64) * (LARGE_AD_BYTES as u64)
	{
		true => (ad_bytes, LARGE_AD_BYTES),
		false => (rule_bytes, LARGE_RULE_BYTES),
	};
	let part = |base: u64, extra_at: u64, (count, per): (u32, u32)| -> u64 {
		let extra = extra_at.saturating_sub(base) as u128;
		let scaled =
			multiply_by_rational_with_rounding(extra, count as u128, per as u128, Rounding::Up)
				.unwrap_or(u128::MAX);
		u64::try_from(scaled).unwrap_or(u64::MAX)
	};
	let component = |base: u64, dense: u64, large: u64| {
		base.saturating_add(part(base, dense, (steps, DENSE_MATCH_STEPS))).saturating_add(part(
			base,
			large,
			bytes_share,
		))
	};
	let MatchBenchmarks { base, dense, large } = benchmarks;
	Weight::from_parts(
		component(base.ref_time(), dense.ref_time(), large.ref_time()),
		component(base.proof_size(), dense.proof_size(), large.proof_size()),
	)
}

#[cfg(test)]
mod tests {
	use super::*;

	const BENCHMARKS: MatchBenchmarks = MatchBenchmarks {
		base: Weight::from_parts(1_000_000, 5_000),
		dense: Weight::from_parts(33_000_000, 5_000),
		large: Weight::from_parts(10_000_000, 6_000),
	};

	fn most() -> AdWork {
		AdWork::most(16_384)
	}

	fn weight(steps: u32, ad_bytes: u32, rule_bytes: u32) -> Weight {
		match_weight(&BENCHMARKS, AdWork { steps, ad_bytes, rule_bytes }, most())
	}

	#[test]
	fn nothing_costs_the_base_benchmark() {
		assert_eq!(weight(0, 0, 0), BENCHMARKS.base);
	}

	#[test]
	fn each_benchmarks_own_work_costs_that_benchmark() {
		assert_eq!(weight(DENSE_MATCH_STEPS, 0, 0), BENCHMARKS.dense);
		assert_eq!(weight(0, LARGE_AD_BYTES, 0), BENCHMARKS.large);
		assert_eq!(weight(0, 0, LARGE_RULE_BYTES), BENCHMARKS.large);
	}

	#[test]
	fn the_extra_costs_grow_with_the_work_and_round_up() {
		// 32,000,000 of extra ref time over 32,000 steps: 1,000 a step.
		assert_eq!(weight(1, 0, 0).ref_time(), 1_001_000);
		assert_eq!(weight(16_000, 0, 0).ref_time(), 17_000_000);
		// 9,000,000 over 9,000 ad bytes: 1,000 a byte; 1,000 extra of proof size, rounded up.
		assert_eq!(weight(0, 4_500, 0), Weight::from_parts(5_500_000, 5_500));
		assert_eq!(weight(0, 1, 0), Weight::from_parts(1_001_000, 5_001));
		// Both extras add up.
		assert_eq!(weight(16_000, 4_500, 0).ref_time(), 21_500_000);
	}

	#[test]
	fn the_larger_share_of_ads_and_rules_is_charged() {
		// A quarter of the ads' bytes and half of the rules': half of the extra.
		assert_eq!(weight(0, LARGE_AD_BYTES / 4, LARGE_RULE_BYTES / 2).ref_time(), 5_500_000);
		assert_eq!(weight(0, LARGE_AD_BYTES / 2, LARGE_RULE_BYTES / 4).ref_time(), 5_500_000);
	}

	#[test]
	fn work_past_the_most_costs_no_more_than_the_most() {
		let up_front = match_weight(&BENCHMARKS, most(), most());
		assert_eq!(weight(u32::MAX, u32::MAX, u32::MAX), up_front);
		// 40,000 steps and two stored ads of 16 KiB (3.64 times the large benchmark's).
		assert_eq!(up_front.ref_time(), 1_000_000 + 40_000_000 + 32_768_000);
	}

	#[test]
	fn a_benchmark_cheaper_than_the_base_adds_nothing() {
		let odd = MatchBenchmarks {
			base: BENCHMARKS.dense,
			dense: BENCHMARKS.base,
			large: BENCHMARKS.base,
		};
		assert_eq!(match_weight(&odd, most(), most()), BENCHMARKS.dense);
	}
}
