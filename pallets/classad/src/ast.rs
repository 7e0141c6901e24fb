//! The parsed form of expressions and ads, SCALE-encodable so the runtime can store it.

use alloc::{boxed::Box, string::String, vec::Vec};
use codec::{Decode, Encode};
use scale_info::TypeInfo;

/// Where an attribute reference looks: `MY.x`, `TARGET.x`, or a bare `x` (the ad that holds
/// the expression first, then the other ad, as HTCondor does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum Scope {
	Bare,
	My,
	Target,
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum UnaryOp {
	/// `-x`
	Neg,
	/// `+x`
	Plus,
	/// `!x`
	Not,
	/// `~x`
	BitNot,
}

/// Infix operators, from the loosest-binding to the tightest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum BinaryOp {
	Or,
	And,
	BitOr,
	BitXor,
	BitAnd,
	Eq,
	Ne,
	/// `=?=` and `is`: same type and same value, never `undefined`.
	MetaEq,
	/// `=!=` and `isnt`.
	MetaNe,
	Lt,
	Le,
	Gt,
	Ge,
	Shl,
	Shr,
	UShr,
	Add,
	Sub,
	Mul,
	Div,
	Mod,
}

impl BinaryOp {
	/// Binding strength; larger binds tighter. `?:` is 1.
	pub(crate) fn precedence(self) -> u8 {
		use BinaryOp::*;
		match self {
			Or => 2,
			And => 3,
			BitOr => 4,
			BitXor => 5,
			BitAnd => 6,
			Eq | Ne | MetaEq | MetaNe => 7,
			Lt | Le | Gt | Ge => 8,
			Shl | Shr | UShr => 9,
			Add | Sub => 10,
			Mul | Div | Mod => 11,
		}
	}

	pub(crate) fn symbol(self) -> &'static str {
		use BinaryOp::*;
		match self {
			Or => "||",
			And => "&&",
			BitOr => "|",
			BitXor => "^",
			BitAnd => "&",
			Eq => "==",
			Ne => "!=",
			MetaEq => "=?=",
			MetaNe => "=!=",
			Lt => "<",
			Le => "<=",
			Gt => ">",
			Ge => ">=",
			Shl => "<<",
			Shr => ">>",
			UShr => ">>>",
			Add => "+",
			Sub => "-",
			Mul => "*",
			Div => "/",
			Mod => "%",
		}
	}
}

/// The built-in functions. Names are case-insensitive; a name that is none of these parses
/// (as HTCondor's does) and evaluates to `error`; [`Expr::problems`] reports it so that a
/// caller can refuse it up front.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum Function {
	Member,
	Size,
	StrCat,
	ToUpper,
	ToLower,
	Substr,
	Int,
	Real,
	String,
	Bool,
	Floor,
	Ceiling,
	Round,
	Pow,
	IsUndefined,
	IsError,
	IsString,
	IsInteger,
	IsReal,
	IsBoolean,
	IsList,
	IfThenElse,
	Unknown(String),
}

impl Function {
	const KNOWN: [(&'static str, Function); 23] = [
		("member", Function::Member),
		("size", Function::Size),
		("strcat", Function::StrCat),
		("toupper", Function::ToUpper),
		("tolower", Function::ToLower),
		("substr", Function::Substr),
		("int", Function::Int),
		("real", Function::Real),
		("string", Function::String),
		("bool", Function::Bool),
		("floor", Function::Floor),
		("ceiling", Function::Ceiling),
		("ceil", Function::Ceiling),
		("round", Function::Round),
		("pow", Function::Pow),
		("isundefined", Function::IsUndefined),
		("iserror", Function::IsError),
		("isstring", Function::IsString),
		("isinteger", Function::IsInteger),
		("isreal", Function::IsReal),
		("isboolean", Function::IsBoolean),
		("islist", Function::IsList),
		("ifthenelse", Function::IfThenElse),
	];

	/// The function called `name`, case-insensitively.
	pub fn from_name(name: &str) -> Function {
		Self::KNOWN
			.iter()
			.find(|(known, _)| known.eq_ignore_ascii_case(name))
			.map(|(_, f)| f.clone())
			.unwrap_or_else(|| Function::Unknown(name.into()))
	}

	/// The name as HTCondor's documentation spells it.
	pub fn name(&self) -> &str {
		match self {
			Function::Member => "member",
			Function::Size => "size",
			Function::StrCat => "strcat",
			Function::ToUpper => "toUpper",
			Function::ToLower => "toLower",
			Function::Substr => "substr",
			Function::Int => "int",
			Function::Real => "real",
			Function::String => "string",
			Function::Bool => "bool",
			Function::Floor => "floor",
			Function::Ceiling => "ceiling",
			Function::Round => "round",
			Function::Pow => "pow",
			Function::IsUndefined => "isUndefined",
			Function::IsError => "isError",
			Function::IsString => "isString",
			Function::IsInteger => "isInteger",
			Function::IsReal => "isReal",
			Function::IsBoolean => "isBoolean",
			Function::IsList => "isList",
			Function::IfThenElse => "ifThenElse",
			Function::Unknown(name) => name,
		}
	}

	/// Accepted argument counts (inclusive range).
	pub fn arity(&self) -> (usize, usize) {
		match self {
			Function::StrCat => (0, usize::MAX),
			Function::Member | Function::Pow => (2, 2),
			Function::Substr => (2, 3),
			Function::IfThenElse => (3, 3),
			Function::Unknown(_) => (0, usize::MAX),
			_ => (1, 1),
		}
	}
}

/// An expression tree.
#[derive(Clone, Debug, PartialEq, Encode, Decode, TypeInfo)]
pub enum Expr {
	Undefined,
	Error,
	Bool(bool),
	Int(i64),
	/// A real, as the bits of an IEEE-754 double (SCALE has no floating-point type).
	Real(u64),
	Str(String),
	List(Vec<Expr>),
	/// An attribute reference; the name keeps the spelling it was written with.
	Attr(Scope, String),
	Unary(UnaryOp, Box<Expr>),
	Binary(BinaryOp, Box<Expr>, Box<Expr>),
	/// `c ? a : b`
	Cond(Box<Expr>, Box<Expr>, Box<Expr>),
	/// `a ?: b`: `a` unless it is `undefined`.
	Elvis(Box<Expr>, Box<Expr>),
	/// `list[index]`
	Subscript(Box<Expr>, Box<Expr>),
	Call(Function, Vec<Expr>),
}

impl Expr {
	/// A real literal.
	pub fn real(value: f64) -> Expr {
		Expr::Real(value.to_bits())
	}

	/// Nodes in the tree, counting this one.
	pub fn node_count(&self) -> usize {
		1 + self.children().map(Expr::node_count).sum::<usize>()
	}

	/// Depth of the tree: 1 for a leaf.
	pub fn depth(&self) -> usize {
		1 + self.children().map(Expr::depth).max().unwrap_or(0)
	}

	pub(crate) fn children(&self) -> impl Iterator<Item = &Expr> {
		let (slice, boxed): (&[Expr], [Option<&Expr>; 3]) = match self {
			Expr::List(items) | Expr::Call(_, items) => (items, [None, None, None]),
			Expr::Unary(_, a) => (&[], [Some(a), None, None]),
			Expr::Binary(_, a, b) | Expr::Elvis(a, b) | Expr::Subscript(a, b) => {
				(&[], [Some(a), Some(b), None])
			}
			Expr::Cond(a, b, c) => (&[], [Some(a), Some(b), Some(c)]),
			_ => (&[], [None, None, None]),
		};
		slice.iter().chain(boxed.into_iter().flatten())
	}

	/// What a strict caller (the chain) refuses although HTCondor would accept it: calls of
	/// unknown functions and calls with the wrong number of arguments, which can only ever
	/// evaluate to `error`. Empty when there is nothing to say.
	pub fn problems(&self) -> Vec<String> {
		let mut out = Vec::new();
		self.collect_problems(&mut out);
		out
	}

	fn collect_problems(&self, out: &mut Vec<String>) {
		use alloc::format;
		if let Expr::Call(function, args) = self {
			match function {
				Function::Unknown(name) => out.push(format!("unknown function `{name}`")),
				known => {
					let (min, max) = known.arity();
					if args.len() < min || args.len() > max {
						out.push(format!(
							"`{}` takes {} argument{}, not {}",
							known.name(),
							if min == max { format!("{min}") } else { format!("{min} to {max}") },
							if max == 1 { "" } else { "s" },
							args.len()
						));
					}
				}
			}
		}
		for child in self.children() {
			child.collect_problems(out);
		}
	}
}

/// A ClassAd: named expressions. Names are compared case-insensitively; when a name is given
/// twice, the last definition wins, as in HTCondor.
#[derive(Clone, Debug, Default, PartialEq, Encode, Decode, TypeInfo)]
pub struct Ad {
	attributes: Vec<(String, Expr)>,
}

impl Ad {
	/// An empty ad.
	pub fn new() -> Ad {
		Ad::default()
	}

	/// Sets `name` to `expr`, replacing an earlier definition of the same name.
	pub fn insert(&mut self, name: impl Into<String>, expr: Expr) {
		let name = name.into();
		match self.attributes.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
			Some(slot) => *slot = (name, expr),
			None => self.attributes.push((name, expr)),
		}
	}

	/// The expression of attribute `name` (case-insensitive).
	pub fn get(&self, name: &str) -> Option<&Expr> {
		self.attributes.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, e)| e)
	}

	/// The attributes, in the order they were first defined.
	pub fn iter(&self) -> impl Iterator<Item = (&str, &Expr)> {
		self.attributes.iter().map(|(n, e)| (n.as_str(), e))
	}

	/// Number of attributes.
	pub fn len(&self) -> usize {
		self.attributes.len()
	}

	/// Whether the ad has no attribute.
	pub fn is_empty(&self) -> bool {
		self.attributes.is_empty()
	}

	/// Nodes over all attribute expressions.
	pub fn node_count(&self) -> usize {
		self.attributes.iter().map(|(_, e)| e.node_count()).sum()
	}
}
