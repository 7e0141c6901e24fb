//! What a proposed match ([`crate::Pallet::match_orders`]) is charged: its cost with the
//! lightest ads, plus the share of the densest ads' extra cost that the evaluation steps it
//! spent stand for.
//!
//! The call is benchmarked over ads of the largest size, so that reading and parsing them cost
//! the most either way: once with ads whose evaluation takes a few steps (`s = 0`), once with
//! ads and host rules that take at least [`DENSE_MATCH_STEPS`] (`s = 1`). The difference is
//! the cost of evaluation, linear in the steps; a match is charged up front for the most its
//! four evaluations may spend and refunded what it did not spend.

use frame_support::weights::Weight;
use sp_runtime::{helpers_128bit::multiply_by_rational_with_rounding, Rounding};

/// Steps the dense benchmark spends at the least, over its four evaluations (both
/// `Requirements`, both host rules); the benchmark checks that it spends at least as many.
pub const DENSE_MATCH_STEPS: u32 = 32_000;

/// The most a match may spend: four evaluations, each within the evaluation bound.
pub fn max_match_steps() -> u32 {
	crate::ads::limits().max_steps.saturating_mul(4)
}

/// `light + (dense − light) × steps / DENSE_MATCH_STEPS`, for ref time and proof size alike,
/// rounded up. Steps past [`max_match_steps`] count as that most, so that no match is charged
/// more than it was charged up front.
pub fn match_weight(light: Weight, dense: Weight, steps: u32) -> Weight {
	let steps = steps.min(max_match_steps()) as u128;
	let share = |light: u64, dense: u64| {
		let extra = dense.saturating_sub(light) as u128;
		let scaled = multiply_by_rational_with_rounding(
			extra,
			steps,
			DENSE_MATCH_STEPS as u128,
			Rounding::Up,
		)
		.unwrap_or(u128::MAX);
		light.saturating_add(u64::try_from(scaled).unwrap_or(u64::MAX))
	};
	Weight::from_parts(
		share(light.ref_time(), dense.ref_time()),
		share(light.proof_size(), dense.proof_size()),
	)
}

#[cfg(test)]
mod tests {
	use super::*;

	const LIGHT: Weight = Weight::from_parts(1_000_000, 5_000);
	const DENSE: Weight = Weight::from_parts(33_000_000, 5_000);

	#[test]
	fn no_steps_cost_the_light_benchmark() {
		assert_eq!(match_weight(LIGHT, DENSE, 0), LIGHT);
	}

	#[test]
	fn the_dense_benchmarks_steps_cost_the_dense_benchmark() {
		assert_eq!(match_weight(LIGHT, DENSE, DENSE_MATCH_STEPS), DENSE);
	}

	#[test]
	fn the_extra_cost_grows_with_the_steps_and_rounds_up() {
		// 32,000,000 of extra ref time over 32,000 steps: 1,000 a step.
		assert_eq!(match_weight(LIGHT, DENSE, 1).ref_time(), 1_001_000);
		assert_eq!(match_weight(LIGHT, DENSE, 16_000).ref_time(), 17_000_000);
		let odd = Weight::from_parts(1_000_001, 5_000);
		assert_eq!(match_weight(LIGHT, odd, 1).ref_time(), 1_000_001, "1/32,000 rounds up");
		assert_eq!(match_weight(LIGHT, DENSE, 16_000).proof_size(), 5_000);
	}

	#[test]
	fn steps_past_the_bound_cost_no_more_than_the_bound() {
		let most = match_weight(LIGHT, DENSE, max_match_steps());
		assert_eq!(most.ref_time(), 1_000_000 + 40_000 * 1_000);
		assert_eq!(match_weight(LIGHT, DENSE, u32::MAX), most);
	}

	#[test]
	fn a_dense_benchmark_cheaper_than_the_light_one_adds_nothing() {
		assert_eq!(match_weight(DENSE, LIGHT, 40_000), DENSE);
	}
}
