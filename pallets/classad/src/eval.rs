//! Evaluation with HTCondor's semantics: strict operators propagate `error` before
//! `undefined`; `&&`, `||` and `?:` are not strict and short-circuit; attribute references are
//! resolved in the ad that holds them (`MY`) or in the other one (`TARGET`).

use crate::{
	ast::{Ad, BinaryOp, Expr, Scope, UnaryOp},
	functions,
	value::Value,
	Limits,
};
use alloc::vec::Vec;

/// A string costs one step per this many bytes copied, on top of the step of the node that
/// made it.
pub(crate) const BYTES_PER_STEP: usize = 64;

/// The result of an evaluation and what it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
	pub value: Value,
	/// Evaluation steps taken: the unit a weight is charged in.
	pub steps: u32,
	/// Whether [`Limits::max_steps`], [`Limits::max_string_len`] or
	/// [`Limits::max_reference_depth`] cut the evaluation short (the value is then `error`).
	pub limit_hit: bool,
}

/// Evaluates `expr` with `my` as the ad that holds it and `target` as the other ad.
pub fn evaluate(expr: &Expr, my: Option<&Ad>, target: Option<&Ad>, limits: &Limits) -> Evaluation {
	let mut evaluator = Evaluator::new(limits);
	let value = evaluator.eval(expr, Ads { my, target });
	evaluator.finish(value)
}

/// Evaluates attribute `name` of `holder` (`MY`) against `other` (`TARGET`); a missing
/// attribute is `undefined`.
pub fn evaluate_attribute(
	holder: &Ad,
	name: &str,
	other: Option<&Ad>,
	limits: &Limits,
) -> Evaluation {
	match holder.get(name) {
		Some(expr) => evaluate(expr, Some(holder), other, limits),
		None => Evaluation { value: Value::Undefined, steps: 0, limit_hit: false },
	}
}

#[derive(Clone, Copy)]
pub(crate) struct Ads<'a> {
	pub my: Option<&'a Ad>,
	pub target: Option<&'a Ad>,
}

impl<'a> Ads<'a> {
	fn swapped(self) -> Ads<'a> {
		Ads { my: self.target, target: self.my }
	}
}

pub(crate) struct Evaluator<'l> {
	pub limits: &'l Limits,
	pub steps: u32,
	pub limit_hit: bool,
	/// The attribute expressions being evaluated, innermost last: how cycles are found and
	/// how deep references go. The expression evaluated first is not on it, as in HTCondor.
	active: Vec<*const Expr>,
}

impl<'l> Evaluator<'l> {
	pub fn new(limits: &'l Limits) -> Self {
		Evaluator { limits, steps: 0, limit_hit: false, active: Vec::new() }
	}

	pub fn finish(self, value: Value) -> Evaluation {
		let value = if self.limit_hit { Value::Error } else { value };
		Evaluation { value, steps: self.steps, limit_hit: self.limit_hit }
	}

	/// Charges `n` steps; returns false (and remembers it) once the budget is spent.
	pub fn charge(&mut self, n: u32) -> bool {
		self.steps = self.steps.saturating_add(n);
		if self.steps > self.limits.max_steps {
			self.limit_hit = true;
		}
		!self.limit_hit
	}

	/// Charges for `len` bytes copied into a new value, so that `max_steps` bounds the bytes an
	/// evaluation moves as well as the nodes it visits.
	pub fn charge_bytes(&mut self, len: usize) -> bool {
		let steps = u32::try_from(len / BYTES_PER_STEP).unwrap_or(u32::MAX);
		self.charge(steps)
	}

	pub fn eval(&mut self, expr: &Expr, ads: Ads<'_>) -> Value {
		// Once the budget is spent, everything still pending unwinds at no further cost.
		if self.limit_hit || !self.charge(1) {
			return Value::Error;
		}
		match expr {
			Expr::Undefined => Value::Undefined,
			Expr::Error => Value::Error,
			Expr::Bool(b) => Value::Bool(*b),
			Expr::Int(i) => Value::Int(*i),
			Expr::Real(bits) => Value::Real(f64::from_bits(*bits)),
			Expr::Str(s) => {
				if !self.charge_bytes(s.len()) {
					return Value::Error;
				}
				Value::Str(s.clone())
			}
			Expr::List(items) => {
				let mut values = Vec::with_capacity(items.len());
				for item in items {
					values.push(self.eval(item, ads));
				}
				Value::List(values)
			}
			Expr::Attr(scope, name) => self.attribute(*scope, name, ads),
			Expr::Unary(op, operand) => {
				let value = self.eval(operand, ads);
				unary(*op, value)
			}
			Expr::Binary(op @ (BinaryOp::And | BinaryOp::Or), left, right) => {
				self.short_circuit(*op, left, right, ads)
			}
			Expr::Binary(op, left, right) => {
				let left = self.eval(left, ads);
				let right = self.eval(right, ads);
				binary(*op, left, right)
			}
			Expr::Cond(condition, then, otherwise) => match self.eval(condition, ads) {
				Value::Undefined => Value::Undefined,
				value => match value.as_condition() {
					Some(true) => self.eval(then, ads),
					Some(false) => self.eval(otherwise, ads),
					None => Value::Error,
				},
			},
			Expr::Elvis(value, fallback) => match self.eval(value, ads) {
				Value::Undefined => self.eval(fallback, ads),
				defined => defined,
			},
			Expr::Subscript(list, index) => {
				let list = self.eval(list, ads);
				let index = self.eval(index, ads);
				subscript(list, index)
			}
			Expr::Call(function, args) => functions::call(self, function, args, ads),
		}
	}

	fn attribute(&mut self, scope: Scope, name: &str, ads: Ads<'_>) -> Value {
		// A lookup compares `name` with the names of the ads it searches: charged by the bytes
		// it may compare, so that one step stays cheap however long the names.
		let searched = match scope {
			Scope::My => ads.my.map_or(0, Ad::len),
			Scope::Target => ads.target.map_or(0, Ad::len),
			Scope::Bare => ads.my.map_or(0, Ad::len) + ads.target.map_or(0, Ad::len),
		};
		if !self.charge_bytes(searched.saturating_mul(name.len())) {
			return Value::Error;
		}
		// A bare name is looked up in the ad that holds the expression, then in the other one.
		let (found, ads) = match scope {
			Scope::My => (ads.my.and_then(|ad| ad.get(name)), ads),
			Scope::Target => (ads.target.and_then(|ad| ad.get(name)), ads.swapped()),
			Scope::Bare => match ads.my.and_then(|ad| ad.get(name)) {
				Some(expr) => (Some(expr), ads),
				None => (ads.target.and_then(|ad| ad.get(name)), ads.swapped()),
			},
		};
		let Some(expr) = found else { return Value::Undefined };
		// A reference back into an attribute being evaluated is a cycle (`A = A + 1`,
		// `A = B; B = A`): `undefined`, as HTCondor (25.13 on) ends it. Attributes are told
		// apart by their expression, whatever the scope that reached them.
		if self.active.iter().any(|active| core::ptr::eq(*active, expr)) {
			return Value::Undefined;
		}
		// Past the bound the whole evaluation fails with `error`, as it does in HTCondor past
		// its recursion limit.
		if self.active.len() >= self.limits.max_reference_depth as usize {
			self.limit_hit = true;
			return Value::Error;
		}
		self.active.push(expr);
		let value = self.eval(expr, ads);
		self.active.pop();
		value
	}

	/// `&&` and `||`: the right side is evaluated only when the left does not decide.
	fn short_circuit(&mut self, op: BinaryOp, left: &Expr, right: &Expr, ads: Ads<'_>) -> Value {
		let decisive = op == BinaryOp::Or;
		let left = self.eval(left, ads);
		if left.as_condition() == Some(decisive) {
			return Value::Bool(decisive);
		}
		let right = self.eval(right, ads);
		logical(op, left, right)
	}
}

/// Booleans and numbers become booleans; `undefined` and `error` stay; the rest is `None`.
fn to_logical(value: Value) -> Option<Value> {
	match value {
		Value::Undefined | Value::Error => Some(value),
		other => other.as_condition().map(Value::Bool),
	}
}

/// `&&` and `||` once the left side did not decide alone.
fn logical(op: BinaryOp, left: Value, right: Value) -> Value {
	let (Some(left), Some(right)) = (to_logical(left), to_logical(right)) else {
		return Value::Error;
	};
	let decisive = op == BinaryOp::Or;
	match (left, right) {
		(Value::Error, _) => Value::Error,
		(Value::Bool(_), right) => right,
		// Left is undefined: only the decisive value on the right settles it.
		(_, Value::Bool(b)) if b == decisive => Value::Bool(decisive),
		(_, Value::Bool(_)) => Value::Undefined,
		(_, right) => right,
	}
}

fn unary(op: UnaryOp, value: Value) -> Value {
	match (op, value) {
		(_, Value::Error) => Value::Error,
		(_, Value::Undefined) => Value::Undefined,
		(UnaryOp::Plus, value @ (Value::Int(_) | Value::Real(_))) => value,
		(UnaryOp::Plus, _) => Value::Error,
		(UnaryOp::Neg, Value::Int(i)) => i.checked_neg().map_or(Value::Error, Value::Int),
		(UnaryOp::Neg, Value::Real(r)) => Value::Real(-r),
		// HTCondor negates a boolean with unary minus.
		(UnaryOp::Neg, Value::Bool(b)) => Value::Bool(!b),
		(UnaryOp::Neg, _) => Value::Error,
		(UnaryOp::Not, value) => value.as_condition().map_or(Value::Error, |b| Value::Bool(!b)),
		(UnaryOp::BitNot, Value::Int(i)) => Value::Int(!i),
		(UnaryOp::BitNot, _) => Value::Error,
	}
}

/// Operands of arithmetic and comparison after HTCondor's promotions: booleans become
/// integers, and an integer meeting a real becomes a real.
enum Numbers {
	Ints(i64, i64),
	Reals(f64, f64),
}

fn number(value: &Value) -> Option<Numbers> {
	match value {
		Value::Bool(b) => Some(Numbers::Ints(i64::from(*b), 0)),
		Value::Int(i) => Some(Numbers::Ints(*i, 0)),
		Value::Real(r) => Some(Numbers::Reals(*r, 0.0)),
		_ => None,
	}
}

fn promote(left: &Value, right: &Value) -> Option<Numbers> {
	Some(match (number(left)?, number(right)?) {
		(Numbers::Ints(a, _), Numbers::Ints(b, _)) => Numbers::Ints(a, b),
		(Numbers::Ints(a, _), Numbers::Reals(b, _)) => Numbers::Reals(a as f64, b),
		(Numbers::Reals(a, _), Numbers::Ints(b, _)) => Numbers::Reals(a, b as f64),
		(Numbers::Reals(a, _), Numbers::Reals(b, _)) => Numbers::Reals(a, b),
	})
}

pub(crate) fn binary(op: BinaryOp, left: Value, right: Value) -> Value {
	use BinaryOp::*;
	if matches!(op, MetaEq | MetaNe) {
		return meta_equal(op, &left, &right);
	}
	// Strict operators: `error` first, then `undefined`, left operand first.
	for value in [&left, &right] {
		if *value == Value::Error {
			return Value::Error;
		}
	}
	if left == Value::Undefined || right == Value::Undefined {
		return Value::Undefined;
	}
	match op {
		Eq | Ne | Lt | Le | Gt | Ge => compare(op, &left, &right),
		Add | Sub | Mul | Div | Mod => arithmetic(op, &left, &right),
		BitOr | BitXor | BitAnd | Shl | Shr | UShr => bitwise(op, &left, &right),
		And | Or => logical(op, left, right),
		MetaEq | MetaNe => Value::Error, // handled above
	}
}

fn ordering_holds(op: BinaryOp, ordering: core::cmp::Ordering) -> bool {
	use core::cmp::Ordering::*;
	match op {
		BinaryOp::Eq | BinaryOp::MetaEq => ordering == Equal,
		BinaryOp::Ne | BinaryOp::MetaNe => ordering != Equal,
		BinaryOp::Lt => ordering == Less,
		BinaryOp::Le => ordering != Greater,
		BinaryOp::Gt => ordering == Greater,
		BinaryOp::Ge => ordering != Less,
		_ => false,
	}
}

fn real_comparison(op: BinaryOp, a: f64, b: f64) -> bool {
	// Written out rather than through `partial_cmp`, so that NaN compares as in C.
	match op {
		BinaryOp::Eq | BinaryOp::MetaEq => a == b,
		BinaryOp::Ne | BinaryOp::MetaNe => a != b,
		BinaryOp::Lt => a < b,
		BinaryOp::Le => a <= b,
		BinaryOp::Gt => a > b,
		BinaryOp::Ge => a >= b,
		_ => false,
	}
}

/// Case-insensitive comparison of ASCII letters, byte by byte, as C's `strcasecmp`.
pub(crate) fn compare_ignoring_case(a: &str, b: &str) -> core::cmp::Ordering {
	a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

fn compare(op: BinaryOp, left: &Value, right: &Value) -> Value {
	match (left, right) {
		(Value::List(_), _) | (_, Value::List(_)) => Value::Error,
		(Value::Str(a), Value::Str(b)) => {
			Value::Bool(ordering_holds(op, compare_ignoring_case(a, b)))
		}
		(Value::Str(_), _) | (_, Value::Str(_)) => Value::Error,
		_ => match promote(left, right) {
			Some(Numbers::Ints(a, b)) => Value::Bool(ordering_holds(op, a.cmp(&b))),
			Some(Numbers::Reals(a, b)) => Value::Bool(real_comparison(op, a, b)),
			None => Value::Error,
		},
	}
}

/// `=?=` / `=!=`: same type and same value; never `undefined` or `error`, except on lists,
/// which HTCondor does not compare.
fn meta_equal(op: BinaryOp, left: &Value, right: &Value) -> Value {
	let same = match (left, right) {
		(Value::List(_), Value::List(_)) => return Value::Error,
		(Value::Undefined, Value::Undefined) | (Value::Error, Value::Error) => true,
		(Value::Bool(a), Value::Bool(b)) => a == b,
		(Value::Int(a), Value::Int(b)) => a == b,
		(Value::Real(a), Value::Real(b)) => a == b,
		(Value::Str(a), Value::Str(b)) => a == b,
		_ => false,
	};
	Value::Bool(if op == BinaryOp::MetaEq { same } else { !same })
}

fn arithmetic(op: BinaryOp, left: &Value, right: &Value) -> Value {
	match promote(left, right) {
		Some(Numbers::Ints(a, b)) => {
			// Overflow is `error`, never a wrapped value.
			let result = match op {
				BinaryOp::Add => a.checked_add(b),
				BinaryOp::Sub => a.checked_sub(b),
				BinaryOp::Mul => a.checked_mul(b),
				// Truncates toward zero; `/ 0`, `% 0` and MIN / -1 are `error`.
				BinaryOp::Div => a.checked_div(b),
				BinaryOp::Mod => a.checked_rem(b),
				_ => None,
			};
			result.map_or(Value::Error, Value::Int)
		}
		Some(Numbers::Reals(a, b)) => {
			let result = match op {
				BinaryOp::Add => a + b,
				BinaryOp::Sub => a - b,
				BinaryOp::Mul => a * b,
				BinaryOp::Div => a / b,
				// HTCondor has no real remainder.
				_ => return Value::Error,
			};
			// As HTCondor: a result of +infinity (overflow, x / 0) is `error`.
			if result == f64::INFINITY {
				Value::Error
			} else {
				Value::Real(result)
			}
		}
		None => Value::Error,
	}
}

fn bitwise(op: BinaryOp, left: &Value, right: &Value) -> Value {
	let (Value::Int(a), Value::Int(b)) = (left, right) else { return Value::Error };
	let (a, b) = (*a, *b);
	let shift = u32::try_from(b).ok().filter(|s| *s < 64);
	match op {
		BinaryOp::BitOr => Value::Int(a | b),
		BinaryOp::BitXor => Value::Int(a ^ b),
		BinaryOp::BitAnd => Value::Int(a & b),
		BinaryOp::Shl => shift.map_or(Value::Error, |s| Value::Int(a << s)),
		BinaryOp::Shr => shift.map_or(Value::Error, |s| Value::Int(a >> s)),
		BinaryOp::UShr => shift.map_or(Value::Error, |s| Value::Int(((a as u64) >> s) as i64)),
		_ => Value::Error,
	}
}

fn subscript(list: Value, index: Value) -> Value {
	match (list, index) {
		(Value::Error, _) | (_, Value::Error) => Value::Error,
		(Value::Undefined, _) | (_, Value::Undefined) => Value::Undefined,
		(Value::List(items), Value::Int(i)) => {
			usize::try_from(i).ok().and_then(|i| items.into_iter().nth(i)).unwrap_or(Value::Error)
		}
		_ => Value::Error,
	}
}
