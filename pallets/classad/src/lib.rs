//! # iexec-classad
//!
//! The matchmaking language of the iEx.ec sidechain: a subset of HTCondor's ClassAd language,
//! with HTCondor's semantics, so that `Requirements = TARGET.Memory >= 4096 && TARGET.GPUs >= 1`
//! means here what it means to anyone who has used HTCondor.
//!
//! - [`parse_expr`] and [`parse_ad`] turn text into an [`Expr`] or an [`Ad`]. Every input is
//!   bounded by [`Limits`] (source length, node count, nesting depth, attribute count); an input
//!   over a bound is refused with a [`ParseError`] that says what and where, never evaluated.
//! - [`evaluate`] computes a [`Value`] with three-valued logic (`undefined`, `error`), counting
//!   evaluation steps so that a caller can charge for them and stop at [`Limits::max_steps`].
//! - [`matching`] decides whether two ads match (each one's `Requirements` is `true` with itself
//!   as `MY` and the other as `TARGET`), computes `Rank`, and explains a failed match clause by
//!   clause.
//! - [`Expr`] and [`Ad`] are SCALE-encodable (with `scale-info`), so the runtime stores the
//!   parsed form and never re-parses on the hot path; [`decode_expr`] reads it back with the same
//!   bounds.
//!
//! The crate is `no_std` (with `alloc`); the `std` feature adds the conformance runner for
//! HTCondor-generated test vectors ([`conformance`]). Nothing in it panics on any input.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod ast;
#[cfg(feature = "std")]
pub mod conformance;
pub mod dense;
mod eval;
mod functions;
mod lexer;
pub mod matching;
mod parser;
mod unparse;
mod value;

pub use ast::{Ad, BinaryOp, Expr, Function, Scope, UnaryOp};
pub use eval::{evaluate, evaluate_attribute, Evaluation};
pub use parser::{decode_ad, decode_expr, parse_ad, parse_expr, ParseError, ParseErrorKind};
pub use value::Value;

/// Bounds on what is parsed and evaluated. Every entry point takes them, so the runtime and
/// the worker can choose their own; [`Limits::default`] suits orders on chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, codec::Encode, codec::Decode, scale_info::TypeInfo)]
pub struct Limits {
	/// Longest source text, in bytes.
	pub max_source_len: u32,
	/// Most nodes in one expression tree (literals, references, operators, calls).
	pub max_nodes: u32,
	/// Deepest nesting of one expression tree.
	pub max_depth: u32,
	/// Most attributes in one ad.
	pub max_attributes: u32,
	/// Most evaluation steps for one evaluation; past it the result is `error`.
	pub max_steps: u32,
	/// Longest string an evaluation may build, in bytes; past it the result is `error`.
	pub max_string_len: u32,
	/// Most attribute references followed inside one another (`A` refers to `B` refers to
	/// ...); past it the whole evaluation is `error`. Cycles end before it, as `undefined`.
	pub max_reference_depth: u32,
}

impl Default for Limits {
	fn default() -> Self {
		Limits {
			max_source_len: 4096,
			max_nodes: 512,
			max_depth: 32,
			max_attributes: 64,
			max_steps: 10_000,
			max_string_len: 4096,
			max_reference_depth: 16,
		}
	}
}
