//! Accepted expressions of a given length that are dear to parse, each in its own way. Callers
//! that parse untrusted text on chain (the registry's `propose`) benchmark every shape and
//! charge the dearest; `classad-bench` compares them natively.

use crate::Limits;
use alloc::{string::String, vec::Vec};

/// The ways a text can be dense.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenseShape {
	/// `(TARGET.Cpus >= 1) && (…)` clauses in a balanced tree, up to the node bound, then
	/// blanks: realistic requirements at their densest.
	Clauses,
	/// `{1,1,…}` — a node every two bytes up to the node bound — then one string literal.
	List,
	/// `{int(1),int(1),…}` — function calls, each looked up and checked — then one string
	/// literal.
	Calls,
	/// One string literal: every byte lexed inside a literal.
	String,
}

impl DenseShape {
	/// Every shape.
	pub const ALL: [DenseShape; 4] =
		[DenseShape::Clauses, DenseShape::List, DenseShape::Calls, DenseShape::String];
}

/// `n` clauses joined by `&&` as a balanced tree, which stays within the depth bound however
/// many clauses it has (a left-deep chain would be as deep as it is long).
fn balanced_clauses(n: usize) -> String {
	if n <= 1 {
		return String::from("TARGET.Cpus >= 1");
	}
	let mut text = String::from("(");
	text.push_str(&balanced_clauses(n / 2));
	text.push_str(") && (");
	text.push_str(&balanced_clauses(n - n / 2));
	text.push(')');
	text
}

/// `{item,item,…,"xx…"}` of exactly `len` bytes: as many items (of `nodes` nodes each) as the
/// node bound and the length allow, the rest inside the string literal.
fn list_of(item: &str, nodes: usize, len: usize, limits: &Limits) -> String {
	// `{`, the literal's two quotes and `}`; the list and the literal are a node each.
	let fixed = 4;
	let room_nodes = (limits.max_nodes as usize).saturating_sub(2) / nodes;
	let items = room_nodes.min(len.saturating_sub(fixed) / (item.len() + 1));
	let mut text = String::with_capacity(len);
	text.push('{');
	for _ in 0..items {
		text.push_str(item);
		text.push(',');
	}
	let fill = len.saturating_sub(fixed + text.len() - 1);
	text.push('"');
	text.extend(core::iter::repeat('x').take(fill));
	text.push_str("\"}");
	text
}

/// An expression of `shape`, `len` bytes long (at least 20), that parses within `limits`.
pub fn dense_text(shape: DenseShape, len: usize, limits: &Limits) -> String {
	let len = len.max(20);
	match shape {
		DenseShape::Clauses => {
			// Each clause is 3 nodes and each `&&` one more.
			let most = (limits.max_nodes as usize).saturating_sub(12) / 4;
			let mut clauses = 1;
			let mut text = balanced_clauses(1);
			while clauses < most {
				let more = balanced_clauses(clauses + 1);
				if more.len() > len {
					break;
				}
				clauses += 1;
				text = more;
			}
			let pad = len.saturating_sub(text.len());
			text.extend(core::iter::repeat(' ').take(pad));
			text
		}
		DenseShape::List => list_of("1", 1, len, limits),
		DenseShape::Calls => list_of("int(1)", 2, len, limits),
		DenseShape::String => {
			let mut text = String::from("\"");
			text.extend(core::iter::repeat('x').take(len - 2));
			text.push('"');
			text
		}
	}
}

/// Every shape at `len` bytes.
pub fn dense_texts(len: usize, limits: &Limits) -> Vec<(DenseShape, String)> {
	DenseShape::ALL.iter().map(|shape| (*shape, dense_text(*shape, len, limits))).collect()
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::parse_expr;

	#[test]
	fn every_shape_has_its_length_and_parses_within_the_bounds() {
		let limits = Limits::default();
		for len in [20, 64, 500, 1_500, limits.max_source_len as usize] {
			for (shape, text) in dense_texts(len, &limits) {
				assert_eq!(text.len(), len, "{shape:?} at {len}");
				let expr = parse_expr(&text, &limits)
					.unwrap_or_else(|e| panic!("{shape:?} at {len} does not parse: {e:?}"));
				assert!(expr.problems().is_empty(), "{shape:?} at {len}");
			}
		}
	}

	#[test]
	fn node_shapes_reach_the_node_bound_at_full_length() {
		let limits = Limits::default();
		let full = limits.max_source_len as usize;
		// One item more would exceed the node bound.
		for (shape, item, nodes) in [(DenseShape::List, "1", 1), (DenseShape::Calls, "int(1)", 2)] {
			let text = dense_text(shape, full, &limits);
			let items = text.matches(&alloc::format!("{item},")).count();
			assert!((items + 1) * nodes + 2 > limits.max_nodes as usize, "{shape:?}: {items}");
		}
	}
}
