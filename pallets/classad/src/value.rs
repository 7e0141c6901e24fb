//! The results of evaluation.

use alloc::{string::String, vec::Vec};

/// A value: HTCondor's types, with `undefined` (something is missing) and `error` (something
/// is wrong) as values of their own.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
	Undefined,
	Error,
	Bool(bool),
	Int(i64),
	Real(f64),
	Str(String),
	List(Vec<Value>),
}

impl Value {
	/// `true` only for the boolean `true`: what a `Requirements` must be to match.
	pub fn is_true(&self) -> bool {
		matches!(self, Value::Bool(true))
	}

	/// The truth of a value used as a condition: booleans, and numbers (non-zero is true).
	pub(crate) fn as_condition(&self) -> Option<bool> {
		match self {
			Value::Bool(b) => Some(*b),
			Value::Int(i) => Some(*i != 0),
			Value::Real(r) => Some(*r != 0.0),
			_ => None,
		}
	}

	/// The type name used in messages and in the conformance vectors.
	pub fn type_name(&self) -> &'static str {
		match self {
			Value::Undefined => "undefined",
			Value::Error => "error",
			Value::Bool(_) => "bool",
			Value::Int(_) => "int",
			Value::Real(_) => "real",
			Value::Str(_) => "string",
			Value::List(_) => "list",
		}
	}
}
