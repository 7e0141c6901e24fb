//! The built-in functions, with HTCondor's treatment of `undefined`, `error` and conversions.

use crate::{
	ast::{BinaryOp, Expr, Function},
	eval::{binary, Ads, Evaluator, BYTES_PER_STEP},
	unparse::value_to_text,
	value::Value,
};
use alloc::{string::String, vec::Vec};

pub(crate) fn call(
	evaluator: &mut Evaluator<'_>,
	function: &Function,
	args: &[Expr],
	ads: Ads<'_>,
) -> Value {
	let (min, max) = function.arity();
	if args.len() < min || args.len() > max || matches!(function, Function::Unknown(_)) {
		return Value::Error;
	}
	// Lazy: only the chosen branch is evaluated.
	if *function == Function::IfThenElse {
		let condition = evaluator.eval(&args[0], ads);
		return match (&condition, condition.as_condition()) {
			(Value::Undefined, _) => Value::Undefined,
			(_, Some(true)) => evaluator.eval(&args[1], ads),
			(_, Some(false)) => evaluator.eval(&args[2], ads),
			(_, None) => Value::Error,
		};
	}
	let mut values = Vec::with_capacity(args.len());
	for arg in args {
		values.push(evaluator.eval(arg, ads));
	}
	let result = apply(evaluator, function, values);
	if let Value::Str(text) = &result {
		if text.len() > evaluator.limits.max_string_len as usize {
			evaluator.limit_hit = true;
			return Value::Error;
		}
		if !evaluator.charge_bytes(text.len()) {
			return Value::Error;
		}
	}
	result
}

fn apply(evaluator: &mut Evaluator<'_>, function: &Function, mut args: Vec<Value>) -> Value {
	// Moved out, not cloned: the functions that read `args` afterwards never read `first`.
	let first = match function {
		Function::Member | Function::StrCat | Function::Substr | Function::Pow => Value::Undefined,
		_ if args.is_empty() => Value::Undefined,
		_ => args.swap_remove(0),
	};
	match function {
		Function::IsUndefined => Value::Bool(first == Value::Undefined),
		Function::IsError => Value::Bool(first == Value::Error),
		Function::IsString => Value::Bool(matches!(first, Value::Str(_))),
		Function::IsInteger => Value::Bool(matches!(first, Value::Int(_))),
		Function::IsReal => Value::Bool(matches!(first, Value::Real(_))),
		Function::IsBoolean => Value::Bool(matches!(first, Value::Bool(_))),
		Function::IsList => Value::Bool(matches!(first, Value::List(_))),
		Function::Size => match first {
			Value::Undefined => Value::Undefined,
			Value::Str(s) => Value::Int(s.len() as i64),
			Value::List(items) => Value::Int(items.len() as i64),
			_ => Value::Error,
		},
		Function::Member => member(evaluator, args.swap_remove(0), args.swap_remove(0)),
		Function::StrCat => strcat(args, evaluator.limits.max_string_len as usize),
		Function::ToUpper | Function::ToLower => match to_text(first) {
			Ok(text) if *function == Function::ToUpper => Value::Str(text.to_ascii_uppercase()),
			Ok(text) => Value::Str(text.to_ascii_lowercase()),
			Err(exceptional) => exceptional,
		},
		Function::String => to_text(first).map_or_else(|v| v, Value::Str),
		Function::Substr => substr(&args),
		Function::Int => to_int(first),
		Function::Real => to_real(first),
		Function::Bool => match first {
			Value::Undefined => Value::Undefined,
			Value::Bool(b) => Value::Bool(b),
			Value::Int(i) => Value::Bool(i != 0),
			Value::Real(r) => Value::Bool(r != 0.0),
			Value::Str(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
			Value::Str(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
			Value::Str(_) => Value::Undefined,
			_ => Value::Error,
		},
		Function::Floor | Function::Ceiling | Function::Round => round(function, first),
		Function::Pow => pow(&args[0], &args[1]),
		Function::IfThenElse | Function::Unknown(_) => Value::Error,
	}
}

/// `member(m, list)`: whether an element equals `m` in the sense of `==`.
fn member(evaluator: &mut Evaluator<'_>, needle: Value, list: Value) -> Value {
	match (needle, list) {
		(Value::Error, _) | (_, Value::Error) => Value::Error,
		(Value::List(_), _) => Value::Error,
		(Value::Undefined, _) | (_, Value::Undefined) => Value::Undefined,
		(needle, Value::List(items)) => {
			// One step per comparison, plus the copy of the needle each comparison takes.
			let needle_len = match &needle {
				Value::Str(s) => s.len(),
				_ => 0,
			};
			let per_item = 1 + needle_len / BYTES_PER_STEP;
			let cost = items.len().saturating_mul(per_item);
			if !evaluator.charge(u32::try_from(cost).unwrap_or(u32::MAX)) {
				return Value::Error;
			}
			let found =
				items.into_iter().any(|item| binary(BinaryOp::Eq, needle.clone(), item).is_true());
			Value::Bool(found)
		}
		_ => Value::Error,
	}
}

/// A value as text, the way `string()` converts it; `undefined` and `error` come back as
/// themselves.
fn to_text(value: Value) -> Result<String, Value> {
	match value {
		Value::Undefined | Value::Error => Err(value),
		Value::Str(s) => Ok(s),
		other => Ok(value_to_text(&other)),
	}
}

/// `strcat`: an `error` argument makes `error`; an `undefined` one makes `undefined`.
fn strcat(args: Vec<Value>, max_len: usize) -> Value {
	let mut out = String::new();
	for arg in args {
		match to_text(arg) {
			Ok(text) => out.push_str(&text),
			Err(exceptional) => return exceptional,
		}
		if out.len() > max_len {
			// Stop building early; `call` turns the oversized result into `error`.
			return Value::Str(out);
		}
	}
	Value::Str(out)
}

/// `substr(s, offset [, length])`, Perl-like: negative offsets count from the end; a negative
/// length leaves that many characters off the end; out-of-range parts are clipped.
fn substr(args: &[Value]) -> Value {
	if args.iter().any(|a| *a == Value::Undefined) {
		return Value::Undefined;
	}
	let (Value::Str(text), Value::Int(offset)) = (&args[0], &args[1]) else {
		return Value::Error;
	};
	let length = match args.get(2) {
		None => None,
		Some(Value::Int(length)) => Some(*length),
		Some(_) => return Value::Error,
	};
	let len = text.len() as i64;
	let start = if *offset < 0 { (len + offset).max(0) } else { (*offset).min(len) };
	let count = match length {
		Some(0) => 0,
		Some(l) if l < 0 => (len - start + l).max(0),
		Some(l) => l.min(len - start),
		None => len - start,
	};
	let bytes = &text.as_bytes()[start as usize..(start + count) as usize];
	// Offsets count bytes, as in HTCondor; a cut inside a multi-byte character is mended.
	Value::Str(String::from_utf8_lossy(bytes).into_owned())
}

/// Leading number of a string, as C's `strtod` reads it: optional blanks and sign, digits,
/// fraction, exponent. `None` when there is no number at the start.
fn leading_number(text: &str) -> Option<f64> {
	let trimmed = text.trim_start();
	let bytes = trimmed.as_bytes();
	let mut end = 0;
	if matches!(bytes.first(), Some(b'+' | b'-')) {
		end += 1;
	}
	let digits_start = end;
	while bytes.get(end).is_some_and(u8::is_ascii_digit) {
		end += 1;
	}
	if bytes.get(end) == Some(&b'.') {
		end += 1;
		while bytes.get(end).is_some_and(u8::is_ascii_digit) {
			end += 1;
		}
	}
	if end == digits_start || (end == digits_start + 1 && bytes[digits_start] == b'.') {
		return None;
	}
	if matches!(bytes.get(end), Some(b'e' | b'E')) {
		let mut exp_end = end + 1;
		if matches!(bytes.get(exp_end), Some(b'+' | b'-')) {
			exp_end += 1;
		}
		let exp_digits = bytes[exp_end..].iter().take_while(|b| b.is_ascii_digit()).count();
		if exp_digits > 0 {
			end = exp_end + exp_digits;
		}
	}
	trimmed[..end].parse().ok()
}

/// Truncates a real toward zero into an integer; `None` when it does not fit (or is NaN).
fn real_to_int(r: f64) -> Option<i64> {
	let t = libm::trunc(r);
	(t >= -9.223_372_036_854_775_808e18 && t < 9.223_372_036_854_775_808e18).then_some(t as i64)
}

fn to_int(value: Value) -> Value {
	match value {
		Value::Undefined => Value::Undefined,
		Value::Int(i) => Value::Int(i),
		Value::Bool(b) => Value::Int(i64::from(b)),
		Value::Real(r) => real_to_int(r).map_or(Value::Error, Value::Int),
		Value::Str(s) => leading_number(&s).and_then(real_to_int).map_or(Value::Error, Value::Int),
		_ => Value::Error,
	}
}

fn to_real(value: Value) -> Value {
	match value {
		Value::Undefined => Value::Undefined,
		Value::Int(i) => Value::Real(i as f64),
		Value::Bool(b) => Value::Real(if b { 1.0 } else { 0.0 }),
		Value::Real(r) => Value::Real(r),
		Value::Str(s) => leading_number(&s).map_or(Value::Error, Value::Real),
		_ => Value::Error,
	}
}

/// `floor`, `ceiling`, `round` (to nearest, ties to even): integers pass through; anything
/// else goes through `real()`, and what does not convert is `error`.
fn round(function: &Function, value: Value) -> Value {
	if let Value::Int(i) = value {
		return Value::Int(i);
	}
	let Value::Real(r) = to_real(value) else { return Value::Error };
	let rounded = match function {
		Function::Floor => libm::floor(r),
		Function::Ceiling => libm::ceil(r),
		_ => libm::rint(r),
	};
	real_to_int(rounded).map_or(Value::Error, Value::Int)
}

/// `pow(base, exponent)`: an integer for integer operands with a non-negative exponent, a
/// real otherwise.
fn pow(base: &Value, exponent: &Value) -> Value {
	if let (Value::Int(b), Value::Int(e)) = (base, exponent) {
		if *e >= 0 {
			let Ok(e) = u32::try_from(*e) else { return Value::Error };
			return match b.checked_pow(e) {
				// HTCondor computes this in floating point and adds 0.5 before truncating,
				// which moves negative results one toward zero; kept for compatibility.
				Some(p) if p < 0 => Value::Int(p + 1),
				Some(p) => Value::Int(p),
				None => Value::Error,
			};
		}
	}
	match (to_real(base.clone()), to_real(exponent.clone())) {
		(Value::Real(b), Value::Real(e)) => Value::Real(libm::pow(b, e)),
		_ => Value::Error,
	}
}
