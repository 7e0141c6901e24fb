//! Matchmaking: two ads match when each one's `Requirements` is `true` with itself as `MY` and
//! the other as `TARGET`. `Rank` says how much an ad likes the other. [`explain`] says why an
//! ad's `Requirements` is not satisfied, clause by clause.

use crate::{
	ast::{Ad, BinaryOp, Expr},
	eval::{evaluate, evaluate_attribute, Evaluation},
	value::Value,
	Limits,
};
use alloc::{string::String, vec::Vec};

/// The attribute that must be `true` for a match.
pub const REQUIREMENTS: &str = "Requirements";
/// The attribute that ranks candidates.
pub const RANK: &str = "Rank";

/// Whether `holder`'s `Requirements` is `true` against `candidate`; a missing or non-boolean
/// `Requirements` is not satisfied. Also returns the evaluation, for its cost.
pub fn requirements_met(holder: &Ad, candidate: &Ad, limits: &Limits) -> (bool, Evaluation) {
	let evaluation = evaluate_attribute(holder, REQUIREMENTS, Some(candidate), limits);
	(evaluation.value.is_true(), evaluation)
}

/// The outcome of matching two ads.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchOutcome {
	/// `left` satisfies `right`'s requirements.
	pub left_satisfies_right: bool,
	/// `right` satisfies `left`'s requirements.
	pub right_satisfies_left: bool,
	/// Evaluation steps spent on both `Requirements`.
	pub steps: u32,
}

impl MatchOutcome {
	/// Both ways: the ads match.
	pub fn symmetric(&self) -> bool {
		self.left_satisfies_right && self.right_satisfies_left
	}
}

/// Matches two ads both ways.
pub fn match_ads(left: &Ad, right: &Ad, limits: &Limits) -> MatchOutcome {
	let (right_satisfies_left, by_left) = requirements_met(left, right, limits);
	let (left_satisfies_right, by_right) = requirements_met(right, left, limits);
	MatchOutcome {
		left_satisfies_right,
		right_satisfies_left,
		steps: by_left.steps.saturating_add(by_right.steps),
	}
}

/// `holder`'s `Rank` of `candidate` (`undefined` when there is no `Rank`).
pub fn rank(holder: &Ad, candidate: &Ad, limits: &Limits) -> Evaluation {
	evaluate_attribute(holder, RANK, Some(candidate), limits)
}

/// One top-level clause of a `Requirements` that is not `true`.
#[derive(Clone, Debug, PartialEq)]
pub struct FailedClause {
	/// The clause as text, e.g. `TARGET.Memory >= 4096`.
	pub clause: String,
	/// What it evaluated to: `false`, `undefined` (usually a missing attribute), `error` or a
	/// non-boolean value.
	pub value: Value,
}

/// Why `holder`'s requirements reject (or accept) `candidate`.
#[derive(Clone, Debug, PartialEq)]
pub enum Explanation {
	/// `Requirements` is `true`: nothing to explain.
	Satisfied,
	/// `holder` has no `Requirements` attribute, so it matches nothing.
	NoRequirements,
	/// The top-level `&&` clauses of `Requirements` that are not `true`, in order. When every
	/// clause is `true` alone but the whole is not (a `||` at the top, say), this holds the
	/// whole expression and its value.
	Failed(Vec<FailedClause>),
}

/// Explains `holder`'s `Requirements` against `candidate`: what a requester or a worker sees
/// when asking "why doesn't this match?".
pub fn explain(holder: &Ad, candidate: &Ad, limits: &Limits) -> Explanation {
	let Some(requirements) = holder.get(REQUIREMENTS) else {
		return Explanation::NoRequirements;
	};
	let whole = evaluate(requirements, Some(holder), Some(candidate), limits);
	if whole.value.is_true() {
		return Explanation::Satisfied;
	}
	let mut clauses = Vec::new();
	top_level_clauses(requirements, &mut clauses);
	let mut failed: Vec<FailedClause> = clauses
		.into_iter()
		.filter_map(|clause| {
			let value = evaluate(clause, Some(holder), Some(candidate), limits).value;
			(!value.is_true()).then(|| FailedClause { clause: clause_text(clause), value })
		})
		.collect();
	if failed.is_empty() {
		failed.push(FailedClause { clause: clause_text(requirements), value: whole.value });
	}
	Explanation::Failed(failed)
}

fn top_level_clauses<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
	match expr {
		Expr::Binary(BinaryOp::And, left, right) => {
			top_level_clauses(left, out);
			top_level_clauses(right, out);
		}
		other => out.push(other),
	}
}

fn clause_text(expr: &Expr) -> String {
	use alloc::string::ToString;
	expr.to_string()
}
