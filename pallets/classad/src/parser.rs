//! Recursive-descent parser with HTCondor's operator precedence, bounded by [`Limits`].

use crate::{
	ast::{Ad, BinaryOp, Expr, Function, Scope, UnaryOp},
	lexer::{tokenize, Token},
	Limits,
};
use alloc::{boxed::Box, string::String, vec::Vec};
use core::fmt;

/// Why a text was refused, and at which byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
	/// Byte offset in the source where the problem was found.
	pub offset: u32,
	pub kind: ParseErrorKind,
}

/// What was wrong with the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
	/// The source is longer than [`Limits::max_source_len`].
	SourceTooLong {
		len: u32,
		max: u32,
	},
	/// More nodes than [`Limits::max_nodes`].
	TooManyNodes {
		max: u32,
	},
	/// Nested deeper than [`Limits::max_depth`].
	TooDeep {
		max: u32,
	},
	/// More attributes than [`Limits::max_attributes`].
	TooManyAttributes {
		max: u32,
	},
	/// Something else was expected here.
	Expected {
		expected: &'static str,
		found: String,
	},
	UnexpectedCharacter(char),
	UnterminatedString,
	UnterminatedComment,
	BadEscape,
	BadNumber,
	IntegerTooLarge,
	/// A stored (SCALE) form that does not decode.
	BadEncoding,
}

impl fmt::Display for ParseError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		use ParseErrorKind::*;
		match &self.kind {
			SourceTooLong { len, max } => {
				write!(f, "expression of {len} bytes is longer than the limit of {max}")
			}
			TooManyNodes { max } => {
				write!(f, "expression has more than {max} nodes (at byte {})", self.offset)
			}
			TooDeep { max } => {
				write!(f, "expression nests deeper than {max} levels (at byte {})", self.offset)
			}
			TooManyAttributes { max } => {
				write!(f, "ad has more than {max} attributes (at byte {})", self.offset)
			}
			Expected { expected, found } => {
				write!(f, "expected {expected} at byte {}, found {found}", self.offset)
			}
			UnexpectedCharacter(c) => {
				write!(f, "unexpected character {c:?} at byte {}", self.offset)
			}
			UnterminatedString => write!(f, "unterminated string starting at byte {}", self.offset),
			UnterminatedComment => {
				write!(f, "unterminated comment starting at byte {}", self.offset)
			}
			BadEscape => write!(f, "invalid escape sequence at byte {}", self.offset),
			BadNumber => write!(f, "malformed number at byte {}", self.offset),
			IntegerTooLarge => write!(f, "integer at byte {} does not fit in 64 bits", self.offset),
			BadEncoding => write!(f, "stored expression does not decode"),
		}
	}
}

#[cfg(feature = "std")]
impl std::error::Error for ParseError {}

/// Parses one expression.
pub fn parse_expr(source: &str, limits: &Limits) -> Result<Expr, ParseError> {
	let mut parser = Parser::new(source, limits)?;
	let expr = parser.bounded_expr()?;
	parser.expect_end()?;
	Ok(expr)
}

/// Parses an ad: `[ Name = expr; Other = expr ]` (a trailing `;` is allowed).
pub fn parse_ad(source: &str, limits: &Limits) -> Result<Ad, ParseError> {
	let mut parser = Parser::new(source, limits)?;
	let ad = parser.ad()?;
	parser.expect_end()?;
	Ok(ad)
}

/// Decodes a stored expression and checks it against `limits`, so that a stored form can
/// never hold more than a parsed one could.
pub fn decode_expr(mut bytes: &[u8], limits: &Limits) -> Result<Expr, ParseError> {
	use codec::DecodeLimit;
	let bad = || ParseError { offset: 0, kind: ParseErrorKind::BadEncoding };
	let expr = Expr::decode_with_depth_limit(limits.max_depth.saturating_mul(2), &mut bytes)
		.map_err(|_| bad())?;
	check_tree(&expr, limits)?;
	Ok(expr)
}

/// Decodes a stored ad and checks it against `limits`.
pub fn decode_ad(mut bytes: &[u8], limits: &Limits) -> Result<Ad, ParseError> {
	use codec::DecodeLimit;
	let bad = || ParseError { offset: 0, kind: ParseErrorKind::BadEncoding };
	let ad = Ad::decode_with_depth_limit(limits.max_depth.saturating_mul(2) + 4, &mut bytes)
		.map_err(|_| bad())?;
	if ad.len() > limits.max_attributes as usize {
		return Err(ParseError {
			offset: 0,
			kind: ParseErrorKind::TooManyAttributes { max: limits.max_attributes },
		});
	}
	for (_, expr) in ad.iter() {
		check_tree(expr, limits)?;
	}
	Ok(ad)
}

/// The bounds a finished tree must meet, whether parsed or decoded: the one rule that makes
/// `parse_expr` and `decode_expr` accept the same trees.
fn check_tree(expr: &Expr, limits: &Limits) -> Result<(), ParseError> {
	check_tree_at(expr, limits, 0)
}

fn check_tree_at(expr: &Expr, limits: &Limits, offset: u32) -> Result<(), ParseError> {
	if expr.depth() > limits.max_depth as usize {
		return Err(ParseError { offset, kind: ParseErrorKind::TooDeep { max: limits.max_depth } });
	}
	if expr.node_count() > limits.max_nodes as usize {
		return Err(ParseError {
			offset,
			kind: ParseErrorKind::TooManyNodes { max: limits.max_nodes },
		});
	}
	Ok(())
}

struct Parser<'l> {
	tokens: Vec<(Token, u32)>,
	at: usize,
	limits: &'l Limits,
	/// Nodes built so far in the current expression.
	nodes: u32,
	/// Current recursion depth.
	depth: u32,
}

impl<'l> Parser<'l> {
	fn new(source: &str, limits: &'l Limits) -> Result<Self, ParseError> {
		let len = u32::try_from(source.len()).unwrap_or(u32::MAX);
		if len > limits.max_source_len {
			return Err(ParseError {
				offset: limits.max_source_len,
				kind: ParseErrorKind::SourceTooLong { len, max: limits.max_source_len },
			});
		}
		Ok(Parser { tokens: tokenize(source)?, at: 0, limits, nodes: 0, depth: 0 })
	}

	fn peek(&self) -> &Token {
		&self.tokens[self.at.min(self.tokens.len() - 1)].0
	}

	fn peek_at(&self, ahead: usize) -> &Token {
		&self.tokens[(self.at + ahead).min(self.tokens.len() - 1)].0
	}

	fn offset(&self) -> u32 {
		self.tokens[self.at.min(self.tokens.len() - 1)].1
	}

	fn advance(&mut self) -> Token {
		let token = self.peek().clone();
		if self.at < self.tokens.len() - 1 {
			self.at += 1;
		}
		token
	}

	fn is_sym(&self, sym: &str) -> bool {
		matches!(self.peek(), Token::Sym(s) if *s == sym)
	}

	fn error(&self, expected: &'static str) -> ParseError {
		ParseError {
			offset: self.offset(),
			kind: ParseErrorKind::Expected { expected, found: self.peek().describe() },
		}
	}

	fn expect_sym(&mut self, sym: &'static str, expected: &'static str) -> Result<(), ParseError> {
		if self.is_sym(sym) {
			self.advance();
			Ok(())
		} else {
			Err(self.error(expected))
		}
	}

	fn expect_end(&self) -> Result<(), ParseError> {
		match self.peek() {
			Token::End => Ok(()),
			_ => Err(self.error("an operator or the end of the input")),
		}
	}

	/// Counts one more node, refusing the input past the bound.
	fn node(&mut self, expr: Expr) -> Result<Expr, ParseError> {
		self.nodes += 1;
		if self.nodes > self.limits.max_nodes {
			return Err(ParseError {
				offset: self.offset(),
				kind: ParseErrorKind::TooManyNodes { max: self.limits.max_nodes },
			});
		}
		Ok(expr)
	}

	/// Runs `inner` one recursion level deeper, refusing the input past the bound before any
	/// deeper recursion happens. This guards the parser's stack (`((((1))))` nests the parser
	/// but not the tree); the tree's own depth is checked exactly by [`check_tree`]. Writing a
	/// tree level takes at most two recursion levels (a parenthesis, and an operand), so every
	/// tree within `max_depth` can be written within this bound.
	fn nested<T>(
		&mut self,
		inner: impl FnOnce(&mut Self) -> Result<T, ParseError>,
	) -> Result<T, ParseError> {
		self.depth += 1;
		if self.depth > self.limits.max_depth.saturating_mul(3).saturating_add(2) {
			return Err(ParseError {
				offset: self.offset(),
				kind: ParseErrorKind::TooDeep { max: self.limits.max_depth },
			});
		}
		let result = inner(self);
		self.depth -= 1;
		result
	}

	fn ad(&mut self) -> Result<Ad, ParseError> {
		self.expect_sym("[", "`[` to open an ad")?;
		let mut ad = Ad::new();
		loop {
			if self.is_sym("]") {
				self.advance();
				return Ok(ad);
			}
			let offset = self.offset();
			let Token::Ident(name) = self.peek().clone() else {
				return Err(self.error("an attribute name or `]`"));
			};
			self.advance();
			self.expect_sym("=", "`=` after the attribute name")?;
			self.nodes = 0;
			let expr = self.bounded_expr()?;
			ad.insert(name, expr);
			if ad.len() > self.limits.max_attributes as usize {
				return Err(ParseError {
					offset,
					kind: ParseErrorKind::TooManyAttributes { max: self.limits.max_attributes },
				});
			}
			if self.is_sym(";") {
				self.advance();
			} else if !self.is_sym("]") {
				return Err(self.error("`;` or `]` after the attribute"));
			}
		}
	}

	/// A whole expression, checked as a finished tree. The recursion counter bounds the
	/// parser's own stack, but chains built in loops (`a && b && c`, `x[0][1]`) nest one level
	/// per iteration without recursing, so the tree's real depth is checked here, exactly as
	/// [`decode_expr`] checks a stored one.
	fn bounded_expr(&mut self) -> Result<Expr, ParseError> {
		let start = self.offset();
		let expr = self.expr()?;
		check_tree_at(&expr, self.limits, start)?;
		Ok(expr)
	}

	/// expr := or ( `?` expr `:` expr | `?:` expr )?
	fn expr(&mut self) -> Result<Expr, ParseError> {
		self.nested(|p| {
			let condition = p.binary(BinaryOp::Or.precedence())?;
			if !p.is_sym("?") {
				return Ok(condition);
			}
			p.advance();
			if p.is_sym(":") {
				p.advance();
				let fallback = p.expr()?;
				return p.node(Expr::Elvis(Box::new(condition), Box::new(fallback)));
			}
			let then = p.expr()?;
			p.expect_sym(":", "`:` in a conditional expression")?;
			let otherwise = p.expr()?;
			p.node(Expr::Cond(Box::new(condition), Box::new(then), Box::new(otherwise)))
		})
	}

	fn binary_op(&self) -> Option<BinaryOp> {
		use BinaryOp::*;
		Some(match self.peek() {
			Token::Sym(s) => match *s {
				"||" => Or,
				"&&" => And,
				"|" => BitOr,
				"^" => BitXor,
				"&" => BitAnd,
				"==" => Eq,
				"!=" => Ne,
				"=?=" => MetaEq,
				"=!=" => MetaNe,
				"<" => Lt,
				"<=" => Le,
				">" => Gt,
				">=" => Ge,
				"<<" => Shl,
				">>" => Shr,
				">>>" => UShr,
				"+" => Add,
				"-" => Sub,
				"*" => Mul,
				"/" => Div,
				"%" => Mod,
				_ => return None,
			},
			Token::Ident(word) if word.eq_ignore_ascii_case("is") => MetaEq,
			Token::Ident(word) if word.eq_ignore_ascii_case("isnt") => MetaNe,
			_ => return None,
		})
	}

	/// Left-associative binary operators binding at least as tight as `min`.
	fn binary(&mut self, min: u8) -> Result<Expr, ParseError> {
		let mut left = self.unary()?;
		while let Some(op) = self.binary_op().filter(|op| op.precedence() >= min) {
			self.advance();
			let right = self.nested(|p| p.binary(op.precedence() + 1))?;
			left = self.node(Expr::Binary(op, Box::new(left), Box::new(right)))?;
		}
		Ok(left)
	}

	fn unary(&mut self) -> Result<Expr, ParseError> {
		let op = match self.peek() {
			Token::Sym("-") => UnaryOp::Neg,
			Token::Sym("+") => UnaryOp::Plus,
			Token::Sym("!") => UnaryOp::Not,
			Token::Sym("~") => UnaryOp::BitNot,
			_ => return self.postfix(),
		};
		self.advance();
		let operand = self.nested(|p| p.unary())?;
		self.node(Expr::Unary(op, Box::new(operand)))
	}

	fn postfix(&mut self) -> Result<Expr, ParseError> {
		let mut expr = self.primary()?;
		while self.is_sym("[") {
			self.advance();
			let index = self.expr()?;
			self.expect_sym("]", "`]` after the subscript")?;
			expr = self.node(Expr::Subscript(Box::new(expr), Box::new(index)))?;
		}
		Ok(expr)
	}

	fn primary(&mut self) -> Result<Expr, ParseError> {
		let token = self.peek().clone();
		if matches!(token, Token::End | Token::Sym(_)) && !self.is_sym("(") && !self.is_sym("{") {
			return Err(self.error("a value, an attribute, `(`, `{` or a function call"));
		}
		self.advance();
		match token {
			Token::Int(i) => self.node(Expr::Int(i)),
			Token::Real(r) => self.node(Expr::real(r)),
			Token::Str(s) => self.node(Expr::Str(s)),
			Token::Sym("(") => {
				let inner = self.expr()?;
				self.expect_sym(")", "`)` to close the parenthesis")?;
				Ok(inner)
			}
			Token::Ident(word) => self.word(word),
			// Only `{` is left.
			_ => self.list(),
		}
	}

	/// Comma-separated expressions up to the closing symbol `close` (consumed).
	fn comma_separated(
		&mut self,
		close: &'static str,
		expected: &'static str,
	) -> Result<Vec<Expr>, ParseError> {
		let mut items = Vec::new();
		if !self.is_sym(close) {
			loop {
				items.push(self.expr()?);
				if !self.is_sym(",") {
					break;
				}
				self.advance();
			}
		}
		self.expect_sym(close, expected)?;
		Ok(items)
	}

	fn list(&mut self) -> Result<Expr, ParseError> {
		let items = self.comma_separated("}", "`,` or `}` in a list")?;
		self.node(Expr::List(items))
	}

	/// A keyword literal, a scoped or bare attribute reference, or a function call.
	fn word(&mut self, word: String) -> Result<Expr, ParseError> {
		let lower = word.to_ascii_lowercase();
		match lower.as_str() {
			"true" => return self.node(Expr::Bool(true)),
			"false" => return self.node(Expr::Bool(false)),
			"undefined" => return self.node(Expr::Undefined),
			"error" => return self.node(Expr::Error),
			_ => {}
		}
		if self.is_sym("(") {
			self.advance();
			let args = self.comma_separated(")", "`,` or `)` in the argument list")?;
			return self.node(Expr::Call(Function::from_name(&word), args));
		}
		let scope = match lower.as_str() {
			"my" => Some(Scope::My),
			"target" => Some(Scope::Target),
			_ => None,
		};
		if let (Some(scope), Token::Sym("."), Token::Ident(_)) =
			(scope, self.peek(), self.peek_at(1))
		{
			self.advance();
			let Token::Ident(name) = self.advance() else {
				return Err(self.error("an attribute name after the scope"));
			};
			return self.node(Expr::Attr(scope, name));
		}
		self.node(Expr::Attr(Scope::Bare, word))
	}
}
