//! Multi-criteria scheduling: PROMETHEE II (Brans and Vincke; the method of Moca et al.,
//! FGCS 55, 2016, the white paper authors' reference) in integer arithmetic.
//!
//! For each criterion `j` with weight `w_j`, the preference of `a` over `b` is linear in their
//! difference, scaled by the spread of that criterion among the candidates (the "V-shape"
//! preference with its threshold at the spread): `P_j(a, b) = max(0, d_j(a, b)) / range_j`,
//! where `d_j(a, b)` is `x_a - x_b` for a criterion to maximise and `x_b - x_a` for one to
//! minimise. The net flow of `a` among `n` candidates is
//!
//! `φ(a) = 1 / (n - 1) · Σ_b Σ_j (w_j / W) · (P_j(a, b) - P_j(b, a))`
//!
//! in millionths ([`SCALE`]). Net flows add up to zero (up to rounding); the best candidate
//! has the highest. A criterion on which every candidate is equal plays no part. A candidate
//! missing a value (a pool not measured yet) reads as the mean of the others on that
//! criterion: neither rewarded nor punished. With every weight zero all flows are zero and the
//! order is the tie-break: cheapest first, then the lowest order id.

use alloc::vec::Vec;

/// Net flows are in millionths.
pub const SCALE: i128 = 1_000_000;
/// Number of criteria.
pub const CRITERIA: usize = 6;

/// Which way a criterion is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
	Minimise,
	Maximise,
}

/// The criteria, in the order of [`Alternative::values`]: cost, performance (mean task time),
/// trust (reputation), reliability, energy, rank.
pub const DIRECTIONS: [Direction; CRITERIA] = [
	Direction::Minimise,
	Direction::Minimise,
	Direction::Maximise,
	Direction::Maximise,
	Direction::Minimise,
	Direction::Maximise,
];

/// One candidate: its value on each criterion, and what breaks ties.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alternative {
	pub values: [Option<i64>; CRITERIA],
	/// Total price per task: the first tie-break.
	pub price: u128,
	/// Order id: the last tie-break.
	pub id: u64,
}

/// Net flows of `alternatives` under `weights` with `directions`, in millionths.
pub fn net_flows(
	alternatives: &[Alternative],
	weights: &[u32; CRITERIA],
	directions: &[Direction; CRITERIA],
) -> Vec<i64> {
	let n = alternatives.len();
	let total_weight: i128 = weights.iter().map(|w| i128::from(*w)).sum();
	let mut flows = alloc::vec![0i128; n];
	if n < 2 || total_weight == 0 {
		return alloc::vec![0; n];
	}
	for j in 0..CRITERIA {
		if weights[j] == 0 {
			continue;
		}
		let values = filled(alternatives, j);
		let (Some(min), Some(max)) = (values.iter().min(), values.iter().max()) else { continue };
		let range = i128::from(*max) - i128::from(*min);
		if range == 0 {
			continue;
		}
		let sign = if directions[j] == Direction::Maximise { 1 } else { -1 };
		let sum: i128 = values.iter().map(|x| i128::from(*x)).sum();
		for (a, flow) in flows.iter_mut().enumerate() {
			// Σ_b (P(a, b) - P(b, a)) = Σ_b d(a, b) / range for the linear preference, and
			// Σ_b (x_a - x_b) = n·x_a - Σ x: linear in the number of candidates.
			let differences: i128 = n as i128 * i128::from(values[a]) - sum;
			let numerator = sign * differences * i128::from(weights[j]) * SCALE;
			*flow += numerator / (range * total_weight * (n as i128 - 1));
		}
	}
	flows.into_iter().map(|f| f.clamp(i64::MIN.into(), i64::MAX.into()) as i64).collect()
}

/// The values of criterion `j`, with each missing one replaced by the mean of those present
/// (all zero when none is).
fn filled(alternatives: &[Alternative], j: usize) -> Vec<i64> {
	let present: Vec<i128> =
		alternatives.iter().filter_map(|a| a.values[j]).map(i128::from).collect();
	let mean = if present.is_empty() {
		0
	} else {
		(present.iter().sum::<i128>() / present.len() as i128) as i64
	};
	alternatives.iter().map(|a| a.values[j].unwrap_or(mean)).collect()
}

/// Indices of `alternatives` from best to worst, with their net flows: highest flow first,
/// then cheapest, then lowest id. Deterministic for any input.
pub fn rank(alternatives: &[Alternative], weights: &[u32; CRITERIA]) -> Vec<(usize, i64)> {
	let flows = net_flows(alternatives, weights, &DIRECTIONS);
	let mut order: Vec<(usize, i64)> = flows.into_iter().enumerate().collect();
	order.sort_by(|(a, fa), (b, fb)| {
		fb.cmp(fa)
			.then(alternatives[*a].price.cmp(&alternatives[*b].price))
			.then(alternatives[*a].id.cmp(&alternatives[*b].id))
	});
	order
}

#[cfg(test)]
mod tests {
	use super::*;

	fn alt(id: u64, price: u128, values: [Option<i64>; CRITERIA]) -> Alternative {
		Alternative { values, price, id }
	}

	fn cost_only(costs: &[i64]) -> Vec<Alternative> {
		costs
			.iter()
			.enumerate()
			.map(|(i, c)| alt(i as u64, *c as u128, [Some(*c), None, None, None, None, None]))
			.collect()
	}

	#[test]
	fn one_criterion_by_hand() {
		// Costs 10, 20, 40: range 30, n - 1 = 2.
		// φ(10) = -((10-20) + (10-40)) / 30 / 2 = 40/60; φ(20) = 10/60; φ(40) = -50/60.
		let flows = net_flows(&cost_only(&[10, 20, 40]), &[1, 0, 0, 0, 0, 0], &DIRECTIONS);
		assert_eq!(flows, vec![666_666, 166_666, -833_333]);
	}

	/// The style of the paper's examples: four pools, three criteria with unequal weights.
	#[test]
	fn several_criteria_by_hand() {
		// cost (min, w 3): 10, 12, 8, 15 → range 7
		// trust (max, w 2): 50, 80, 20, 90 → range 70
		// energy (min, w 1): 300, 200, 400, 250 → range 200
		// W = 6, n - 1 = 3. For each a: Σ_b d(a, b) = 4 x_a - Σ x.
		// cost Σ = 45: d = -5, 3, -13, 15 → minimised: 5, -3, 13, -15
		// trust Σ = 240: d = -40, 80, -160, 120
		// energy Σ = 1150: d = 50, -350, 450, -150 → minimised: -50, 350, -450, 150
		// φ(a) = [3·c/7 + 2·t/70 + 1·e/200] / (6 · 3), in millionths, each term truncated:
		//   A: 3·5·1e6/(7·18) = 119047; 2·(-40)·1e6/(70·18) = -63492; -50e6/(200·18) = -13888
		//   B: -71428; 126984; 97222
		//   C: 309523; -253968; -125000
		//   D: -357142; 190476; 41666
		let pools = vec![
			alt(1, 10, [Some(10), None, Some(50), None, Some(300), None]),
			alt(2, 12, [Some(12), None, Some(80), None, Some(200), None]),
			alt(3, 8, [Some(8), None, Some(20), None, Some(400), None]),
			alt(4, 15, [Some(15), None, Some(90), None, Some(250), None]),
		];
		let weights = [3, 0, 2, 0, 1, 0];
		let flows = net_flows(&pools, &weights, &DIRECTIONS);
		assert_eq!(
			flows,
			vec![
				119_047 - 63_492 - 13_888,
				-71_428 + 126_984 + 97_222,
				309_523 - 253_968 - 125_000,
				-357_142 + 190_476 + 41_666,
			]
		);
		// B (152778) beats A (41667), C (-69445), D (-125000).
		let order: Vec<usize> = rank(&pools, &weights).into_iter().map(|(i, _)| i).collect();
		assert_eq!(order, vec![1, 0, 2, 3]);
		// Flows add up to zero, up to one unit of rounding per term.
		assert!(flows.iter().sum::<i64>().abs() <= 12);
	}

	#[test]
	fn all_weights_zero_is_cheapest_first_then_lowest_id() {
		let pools = vec![
			alt(5, 30, [Some(30); CRITERIA]),
			alt(3, 10, [Some(10); CRITERIA]),
			alt(1, 10, [Some(99); CRITERIA]),
			alt(2, 20, [None; CRITERIA]),
		];
		let order: Vec<(usize, i64)> = rank(&pools, &[0; CRITERIA]);
		assert_eq!(order, vec![(2, 0), (1, 0), (3, 0), (0, 0)]);
	}

	#[test]
	fn missing_values_read_as_the_mean_and_equal_values_play_no_part() {
		// Performance: 100 s, 300 s, unknown → the unknown one reads 200 s, in the middle.
		// φ(first) = ((300 - 100) + (200 - 100)) / 200 / 2 = 0.75.
		let pools = vec![
			alt(1, 1, [None, Some(100), None, None, None, None]),
			alt(2, 1, [None, Some(300), None, None, None, None]),
			alt(3, 1, [None, None, None, None, None, None]),
		];
		let flows = net_flows(&pools, &[0, 1, 0, 0, 0, 0], &DIRECTIONS);
		assert_eq!(flows, vec![750_000, -750_000, 0]);
		// Everyone equal on the only weighted criterion: all zero.
		let same = cost_only(&[7, 7, 7]);
		assert_eq!(net_flows(&same, &[4, 0, 0, 0, 0, 0], &DIRECTIONS), vec![0, 0, 0]);
		// One candidate: zero.
		assert_eq!(net_flows(&cost_only(&[7]), &[1; CRITERIA], &DIRECTIONS), vec![0]);
	}

	#[test]
	fn extreme_values_neither_overflow_nor_panic() {
		let pools = vec![
			alt(1, u128::MAX, [Some(i64::MAX); CRITERIA]),
			alt(2, 0, [Some(i64::MIN); CRITERIA]),
		];
		let flows = net_flows(&pools, &[u32::MAX; CRITERIA], &DIRECTIONS);
		assert_eq!(flows.len(), 2);
		assert_eq!(flows[0], -flows[1]);
	}
}
