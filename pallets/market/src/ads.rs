//! ClassAds of orders: parsed and checked once when an order is submitted, stored in their
//! SCALE form, read back with the same bounds on the hot path.

use crate::{matching::HostRules, types::StoredHostRules};
use alloc::{string::String, vec::Vec};
use frame_support::{traits::Get, BoundedVec};
use iexec_classad::{
	decode_ad, evaluate_attribute, matching::REQUIREMENTS, parse_ad, Ad, Expr, Limits, ParseError,
	Value,
};
use pallet_registry::ContractDetails;

/// The bounds of order ads: the ClassAd crate's chain defaults.
pub fn limits() -> Limits {
	Limits::default()
}

/// Bounds a stored ad is read back with: one attribute more than a parsed one may have, for
/// the `Requirements = true` added to an ad without one.
fn stored_limits() -> Limits {
	let limits = limits();
	Limits { max_attributes: limits.max_attributes.saturating_add(1), ..limits }
}

/// Why an order's ad is refused.
#[derive(Clone, Debug, PartialEq)]
pub enum AdError {
	/// Not UTF-8 from this byte on.
	NotUtf8 { valid_up_to: u32 },
	/// The parser's refusal: what and where.
	Parse(ParseError),
	/// It parses, but calls an unknown function or a function with the wrong number of
	/// arguments: it could only ever evaluate to `error`.
	Problems(Vec<String>),
}

/// Parses an order's ad: `[ Name = expr; … ]`. An ad without `Requirements` gets
/// `Requirements = true`: it accepts whatever it meets.
pub fn parse_order_ad(text: &[u8]) -> Result<Ad, AdError> {
	let text = core::str::from_utf8(text)
		.map_err(|e| AdError::NotUtf8 { valid_up_to: e.valid_up_to() as u32 })?;
	let mut ad = parse_ad(text, &limits()).map_err(AdError::Parse)?;
	let problems: Vec<String> = ad.iter().flat_map(|(_, expr)| expr.problems()).collect();
	if !problems.is_empty() {
		return Err(AdError::Problems(problems));
	}
	if ad.get(REQUIREMENTS).is_none() {
		ad.insert(REQUIREMENTS, Expr::Bool(true));
	}
	Ok(ad)
}

/// The stored form of `ad`, or `None` when it is larger than `S`.
pub fn store<S: Get<u32>>(ad: &Ad) -> Option<BoundedVec<u8, S>> {
	codec::Encode::encode(ad).try_into().ok()
}

/// Reads a stored ad back. Stored ads were checked when submitted, so this only fails on a
/// corrupted store; such an ad is empty, and an empty ad's `Requirements` is never true.
pub fn load(bytes: &[u8]) -> Ad {
	decode_ad(bytes, &stored_limits()).unwrap_or_default()
}

/// A rule given as ClassAd text (a pool's admission rule, an app's host requirements, a data
/// set's restrictions) as an ad whose only attribute is its `Requirements`, so that it is
/// evaluated against a machine ad as a `Requirements` is. Rules were checked when their
/// contract was proposed; one that no longer parses is `false`: it admits nothing.
pub fn rule_ad(text: &[u8]) -> Ad {
	let rule = core::str::from_utf8(text)
		.ok()
		.and_then(|text| iexec_classad::parse_expr(text, &limits()).ok())
		.unwrap_or(Expr::Bool(false));
	let mut ad = Ad::new();
	ad.insert(REQUIREMENTS, rule);
	ad
}

/// The host rules an app and a data set were registered with, from their registry details.
/// An app without requirements text, or a data set without restrictions, adds none.
pub fn host_rules(app: Option<&ContractDetails>, dataset: Option<&ContractDetails>) -> HostRules {
	let app = match app {
		Some(ContractDetails::App { requirements, .. }) => demanding_rule(requirements),
		_ => None,
	};
	let dataset = match dataset {
		Some(ContractDetails::Dataset { restrictions: Some(rule), .. }) => demanding_rule(rule),
		_ => None,
	};
	HostRules { app, dataset }
}

/// The rule ad of `text`, unless the rule demands nothing (empty, or literally `true`).
fn demanding_rule(text: &[u8]) -> Option<Ad> {
	let ad = rule_ad(text);
	let trivial = text.is_empty() || matches!(ad.get(REQUIREMENTS), Some(Expr::Bool(true)));
	(!trivial).then_some(ad)
}

/// The stored form of `rules`, or `None` when a rule is larger than `S`.
pub fn store_rules<S: Get<u32>>(rules: &HostRules) -> Option<StoredHostRules<S>> {
	let store_one = |rule: &Option<Ad>| match rule {
		Some(ad) => store::<S>(ad).map(Some),
		None => Some(None),
	};
	Some(StoredHostRules { app: store_one(&rules.app)?, dataset: store_one(&rules.dataset)? })
}

/// Reads stored rules back.
pub fn load_rules<S: Get<u32>>(stored: &StoredHostRules<S>) -> HostRules {
	HostRules {
		app: stored.app.as_ref().map(|bytes| load(bytes)),
		dataset: stored.dataset.as_ref().map(|bytes| load(bytes)),
	}
}

/// A number from `holder`'s attribute `name` against `other`, in thousandths, for
/// scheduling (`None` when it is not a number), and the evaluation steps it took (what the
/// caller is charged for).
pub fn milli_number(holder: &Ad, name: &str, other: &Ad) -> (Option<i64>, u32) {
	let evaluation = evaluate_attribute(holder, name, Some(other), &limits());
	let number = match evaluation.value {
		Value::Int(i) => Some(i.saturating_mul(1000)),
		Value::Real(r) if r.is_finite() => Some((r * 1000.0) as i64),
		Value::Bool(b) => Some(i64::from(b) * 1000),
		_ => None,
	};
	(number, evaluation.steps)
}

/// 1-based line and column (in bytes) of byte `offset` of `text`.
pub fn line_column(text: &[u8], offset: u32) -> (u32, u32) {
	let before = &text[..(offset as usize).min(text.len())];
	let line = before.iter().filter(|b| **b == b'\n').count() as u32 + 1;
	let column = match before.iter().rposition(|b| *b == b'\n') {
		Some(newline) => before.len() - newline,
		None => before.len() + 1,
	} as u32;
	(line, column)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn ads_without_requirements_accept_everything_and_bad_ads_say_why() {
		let ad = parse_order_ad(b"[ Memory = 4096 ]").unwrap();
		assert_eq!(ad.get("requirements"), Some(&Expr::Bool(true)));
		let kept = parse_order_ad(b"[ Requirements = TARGET.Cpus > 1 ]").unwrap();
		assert_ne!(kept.get("Requirements"), Some(&Expr::Bool(true)));
		assert!(matches!(parse_order_ad(b"[ A = ]"), Err(AdError::Parse(_))));
		assert!(matches!(parse_order_ad(b"[ A = nope(1) ]"), Err(AdError::Problems(_))));
		assert_eq!(parse_order_ad(b"[ A = \xff ]"), Err(AdError::NotUtf8 { valid_up_to: 6 }));
	}

	#[test]
	fn a_full_ad_with_the_added_requirements_reads_back() {
		let attrs: Vec<String> =
			(0..limits().max_attributes).map(|i| format!("A{i} = {i}")).collect();
		let text = format!("[ {} ]", attrs.join("; "));
		let ad = parse_order_ad(text.as_bytes()).unwrap();
		let stored: BoundedVec<u8, frame_support::traits::ConstU32<100_000>> = store(&ad).unwrap();
		assert_eq!(load(&stored), ad);
		assert!(store::<frame_support::traits::ConstU32<8>>(&ad).is_none());
	}

	#[test]
	fn lines_and_columns() {
		assert_eq!(line_column(b"[ A = ]", 6), (1, 7));
		assert_eq!(line_column(b"[\n  A = \n]", 8), (2, 7));
		assert_eq!(line_column(b"ab", 99), (1, 3));
	}
}
