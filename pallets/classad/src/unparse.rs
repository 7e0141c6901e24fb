//! Text forms: expressions as HTCondor would print them (used by `explain`), and values as
//! `string()` converts them.

use crate::{
	ast::{Ad, Expr, Scope, UnaryOp},
	value::Value,
};
use alloc::{format, string::String};
use core::fmt::{self, Write};

impl fmt::Display for Expr {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write_expr(f, self, 0)
	}
}

impl fmt::Display for Ad {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str("[ ")?;
		for (i, (name, expr)) in self.iter().enumerate() {
			if i > 0 {
				f.write_str("; ")?;
			}
			write!(f, "{name} = {expr}")?;
		}
		f.write_str(" ]")
	}
}

impl fmt::Display for Value {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Value::Str(s) => write_quoted(f, s),
			other => f.write_str(&value_to_text(other)),
		}
	}
}

/// Writes `expr`, parenthesised when its operator binds looser than `context` requires.
fn write_expr(f: &mut fmt::Formatter<'_>, expr: &Expr, context: u8) -> fmt::Result {
	match expr {
		Expr::Undefined => f.write_str("undefined"),
		Expr::Error => f.write_str("error"),
		Expr::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
		Expr::Int(i) => write!(f, "{i}"),
		Expr::Real(bits) => f.write_str(&real_to_text(f64::from_bits(*bits))),
		Expr::Str(s) => write_quoted(f, s),
		Expr::List(items) => {
			f.write_str("{ ")?;
			for (i, item) in items.iter().enumerate() {
				if i > 0 {
					f.write_str(",")?;
				}
				write_expr(f, item, 0)?;
			}
			f.write_str(" }")
		}
		Expr::Attr(Scope::Bare, name) => f.write_str(name),
		Expr::Attr(Scope::My, name) => write!(f, "MY.{name}"),
		Expr::Attr(Scope::Target, name) => write!(f, "TARGET.{name}"),
		Expr::Unary(op, operand) => {
			// Postfix `[...]` binds tighter than a prefix operator.
			if context > 12 {
				f.write_char('(')?;
				write_expr(f, expr, 0)?;
				return f.write_char(')');
			}
			f.write_char(match op {
				UnaryOp::Neg => '-',
				UnaryOp::Plus => '+',
				UnaryOp::Not => '!',
				UnaryOp::BitNot => '~',
			})?;
			write_expr(f, operand, 12)
		}
		Expr::Binary(op, left, right) => {
			let p = op.precedence();
			let open = p < context;
			if open {
				f.write_char('(')?;
			}
			write_expr(f, left, p)?;
			write!(f, " {} ", op.symbol())?;
			write_expr(f, right, p + 1)?;
			if open {
				f.write_char(')')?;
			}
			Ok(())
		}
		// `?:` binds loosest: parenthesised anywhere but at the top or in a branch.
		Expr::Cond(..) | Expr::Elvis(..) if context > 1 => {
			f.write_char('(')?;
			write_expr(f, expr, 0)?;
			f.write_char(')')
		}
		Expr::Cond(c, a, b) => {
			write_expr(f, c, 2)?;
			f.write_str(" ? ")?;
			write_expr(f, a, 1)?;
			f.write_str(" : ")?;
			write_expr(f, b, 1)
		}
		Expr::Elvis(a, b) => {
			write_expr(f, a, 2)?;
			f.write_str(" ?: ")?;
			write_expr(f, b, 1)
		}
		Expr::Subscript(list, index) => {
			write_expr(f, list, 13)?;
			f.write_char('[')?;
			write_expr(f, index, 0)?;
			f.write_char(']')
		}
		Expr::Call(function, args) => {
			write!(f, "{}(", function.name())?;
			for (i, arg) in args.iter().enumerate() {
				if i > 0 {
					f.write_str(",")?;
				}
				write_expr(f, arg, 0)?;
			}
			f.write_char(')')
		}
	}
}

fn write_quoted(f: &mut impl Write, s: &str) -> fmt::Result {
	f.write_char('"')?;
	for c in s.chars() {
		match c {
			'"' => f.write_str("\\\"")?,
			'\\' => f.write_str("\\\\")?,
			'\n' => f.write_str("\\n")?,
			'\t' => f.write_str("\\t")?,
			'\r' => f.write_str("\\r")?,
			c => f.write_char(c)?,
		}
	}
	f.write_char('"')
}

/// A value as `string()` converts it: strings as they are, lists and the rest as HTCondor
/// unparses them.
pub(crate) fn value_to_text(value: &Value) -> String {
	match value {
		Value::Undefined => "undefined".into(),
		Value::Error => "error".into(),
		Value::Bool(b) => (if *b { "true" } else { "false" }).into(),
		Value::Int(i) => format!("{i}"),
		Value::Real(r) => real_to_text(*r),
		Value::Str(s) => s.clone(),
		Value::List(items) => {
			let mut out = String::from("{ ");
			for (i, item) in items.iter().enumerate() {
				if i > 0 {
					out.push(',');
				}
				// Inside a list, strings are quoted.
				let _ = write!(out, "{item}");
			}
			out.push_str(" }");
			out
		}
	}
}

/// A real as HTCondor prints one: C's `%.15G`, with `.0` added when that looks like an integer.
pub(crate) fn real_to_text(r: f64) -> String {
	if r.is_nan() {
		return "real(\"NaN\")".into();
	}
	if r.is_infinite() {
		return if r > 0.0 { "real(\"INF\")".into() } else { "real(\"-INF\")".into() };
	}
	if r == 0.0 {
		return if r.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
	}
	const PRECISION: i32 = 15;
	// Round to 15 significant digits first; the exponent of the rounded value decides the form.
	let scientific = format!("{:.*e}", (PRECISION - 1) as usize, r);
	let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
	let exponent: i32 = exponent.parse().unwrap_or(0);
	let mut text = if exponent < -4 || exponent >= PRECISION {
		let mantissa = trim_fraction(mantissa);
		let sign = if exponent < 0 { '-' } else { '+' };
		format!("{mantissa}E{sign}{:02}", exponent.abs())
	} else {
		let decimals = (PRECISION - 1 - exponent).max(0) as usize;
		trim_fraction(&format!("{r:.decimals$}")).into()
	};
	if !text.contains(['.', 'E']) {
		text.push_str(".0");
	}
	text
}

fn trim_fraction(text: &str) -> &str {
	if text.contains('.') {
		text.trim_end_matches('0').trim_end_matches('.')
	} else {
		text
	}
}
