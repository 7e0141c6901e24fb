//! Runs conformance vectors: JSON files of cases whose expected results come from HTCondor's
//! own ClassAd library. Two kinds of case:
//!
//! - `eval`: `expr`, optional `my` and `target` ads (text), and the expected `result`;
//! - `match`: `left` and `right` ads, expected `symmetric_match`, `left_matches_right` (the
//!   right ad's `Requirements` holds with MY = right, TARGET = left), `left_rank` and
//!   `right_rank`.
//!
//! A result is `{"type": "int"|"real"|"string"|"bool"|"list"|"undefined"|"error", "value": ...}`.

use crate::{evaluate, matching, parse_ad, parse_expr, Ad, Limits, Value};
use serde_json::Value as Json;
use std::{fmt::Write, path::Path};

/// The outcome of a run: one line per failure, and the counts.
#[derive(Debug, Default)]
pub struct Report {
	pub passed: usize,
	pub failed: usize,
	pub failures: Vec<String>,
}

impl Report {
	/// `N passed, M failed`.
	pub fn summary(&self) -> String {
		format!("{} passed, {} failed", self.passed, self.failed)
	}
}

/// Reads and runs a vector file.
pub fn run_file(path: &Path) -> Result<Report, String> {
	let text = std::fs::read_to_string(path)
		.map_err(|e| format!("cannot read vectors from {}: {e}", path.display()))?;
	let json: Json = serde_json::from_str(&text)
		.map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
	run(&json)
}

/// Runs the vectors of an already-parsed file: `{"cases": [...]}` or a bare array.
pub fn run(json: &Json) -> Result<Report, String> {
	let cases = json
		.get("cases")
		.unwrap_or(json)
		.as_array()
		.ok_or("expected an array of cases, or an object with a `cases` array")?;
	let limits = Limits::default();
	let mut report = Report::default();
	for (index, case) in cases.iter().enumerate() {
		match run_case(case, &limits) {
			Ok(()) => report.passed += 1,
			Err(why) => {
				report.failed += 1;
				report.failures.push(format!("case {index}: {why}"));
			}
		}
	}
	Ok(report)
}

fn text<'j>(case: &'j Json, field: &str) -> Result<&'j str, String> {
	case.get(field).and_then(Json::as_str).ok_or_else(|| format!("missing string `{field}`"))
}

fn optional_ad(case: &Json, field: &str, limits: &Limits) -> Result<Option<Ad>, String> {
	match case.get(field) {
		None | Some(Json::Null) => Ok(None),
		Some(Json::String(source)) => {
			parse_ad(source, limits).map(Some).map_err(|e| format!("{field} ad {source:?}: {e}"))
		}
		Some(other) => Err(format!("`{field}` should be a string, not {other}")),
	}
}

fn run_case(case: &Json, limits: &Limits) -> Result<(), String> {
	match text(case, "kind")? {
		"eval" => {
			let source = text(case, "expr")?;
			let my = optional_ad(case, "my", limits)?;
			let target = optional_ad(case, "target", limits)?;
			let expected = case.get("result").ok_or("missing `result`")?;
			let expr = parse_expr(source, limits).map_err(|e| format!("{source:?}: {e}"))?;
			let got = evaluate(&expr, my.as_ref(), target.as_ref(), limits).value;
			check(&got, expected).map_err(|why| format!("{source:?}: {why}"))
		}
		"match" => {
			let left = optional_ad(case, "left", limits)?.ok_or("missing `left`")?;
			let right = optional_ad(case, "right", limits)?.ok_or("missing `right`")?;
			let outcome = matching::match_ads(&left, &right, limits);
			let mut problems = String::new();
			let mut expect_bool = |field: &str, got: bool| match case.get(field) {
				Some(Json::Bool(want)) if *want != got => {
					let _ = write!(problems, "{field}: expected {want}, got {got}; ");
				}
				Some(Json::Bool(_)) | None => {}
				Some(other) => {
					let _ = write!(problems, "{field}: not a boolean: {other}; ");
				}
			};
			expect_bool("symmetric_match", outcome.symmetric());
			expect_bool("left_matches_right", outcome.left_satisfies_right);
			for (field, holder, candidate) in
				[("left_rank", &left, &right), ("right_rank", &right, &left)]
			{
				if let Some(expected) = case.get(field) {
					let got = matching::rank(holder, candidate, limits).value;
					if let Err(why) = check(&got, expected) {
						let _ = write!(problems, "{field}: {why}; ");
					}
				}
			}
			if problems.is_empty() {
				Ok(())
			} else {
				Err(format!("match {left} with {right}: {problems}"))
			}
		}
		other => Err(format!("unknown kind `{other}`")),
	}
}

/// Compares a value with an expected JSON result.
fn check(got: &Value, expected: &Json) -> Result<(), String> {
	let want = expected_value(expected)?;
	if same(got, &want) {
		Ok(())
	} else {
		Err(format!("expected {} {want}, got {} {got}", want.type_name(), got.type_name()))
	}
}

fn expected_value(expected: &Json) -> Result<Value, String> {
	let kind = expected.get("type").and_then(Json::as_str).ok_or("result without `type`")?;
	let value = expected.get("value");
	let missing = || format!("`{kind}` result without a usable `value`");
	Ok(match kind {
		"undefined" => Value::Undefined,
		"error" => Value::Error,
		"bool" => Value::Bool(value.and_then(Json::as_bool).ok_or_else(missing)?),
		"int" => Value::Int(value.and_then(Json::as_i64).ok_or_else(missing)?),
		"real" => Value::Real(value.and_then(Json::as_f64).ok_or_else(missing)?),
		"string" => Value::Str(value.and_then(Json::as_str).ok_or_else(missing)?.into()),
		"list" => Value::List(
			value
				.and_then(Json::as_array)
				.ok_or_else(missing)?
				.iter()
				.map(expected_value)
				.collect::<Result<_, _>>()?,
		),
		other => return Err(format!("unknown result type `{other}`")),
	})
}

/// Equality for test purposes: reals equal within a relative 1e-12 (the oracle prints them in
/// decimal), NaN equal to NaN.
fn same(a: &Value, b: &Value) -> bool {
	match (a, b) {
		(Value::Real(x), Value::Real(y)) => {
			(x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
		}
		(Value::List(xs), Value::List(ys)) => {
			xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y))
		}
		_ => a == b,
	}
}

/// Where the vectors are read from when no path is given: `$CLASSAD_VECTORS`; else the
/// project's shared `classad-vectors.json` beside the repository; else the copy of it kept in
/// this crate (`vectors/htcondor-25.14.1.json`).
pub fn default_vectors_path() -> std::path::PathBuf {
	if let Some(path) = std::env::var_os("CLASSAD_VECTORS") {
		return path.into();
	}
	// Cargo sets `CARGO_MANIFEST_DIR` when it runs a test: prefer it to the directory this
	// binary was compiled in, which a target directory shared between checkouts can make stale.
	let crate_dir: std::path::PathBuf = std::env::var_os("CARGO_MANIFEST_DIR")
		.map(Into::into)
		.unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
	let shared = crate_dir.join("../../../shared/classad-vectors.json");
	if shared.is_file() {
		shared
	} else {
		crate_dir.join("vectors/htcondor-25.14.1.json")
	}
}
