//! Checks of a contract's terms that need no storage, so they are tested alone.

use crate::types::{ContractKind, Terms};
use frame_support::traits::Get;
use iexec_classad::{parse_expr, Limits};

/// Why terms are refused.
#[derive(Debug, PartialEq, Eq)]
pub enum TermsError {
	RatioAbove100,
	InvalidClassAd,
	EmptyField,
}

/// A ClassAd expression as the chain accepts it: UTF-8, within the default bounds, and
/// calling only known functions with the right number of arguments.
pub fn check_classad(text: &[u8]) -> Result<(), TermsError> {
	let text = core::str::from_utf8(text).map_err(|_| TermsError::InvalidClassAd)?;
	let expr = parse_expr(text, &Limits::default()).map_err(|_| TermsError::InvalidClassAd)?;
	if expr.problems().is_empty() {
		Ok(())
	} else {
		Err(TermsError::InvalidClassAd)
	}
}

/// Checks terms before they are stored.
pub fn check_terms<U: Get<u32>, T: Get<u32>>(
	terms: &Terms<U, T>,
) -> Result<ContractKind, TermsError> {
	match terms {
		Terms::App { code_uri, requirements, .. } => {
			if code_uri.is_empty() {
				return Err(TermsError::EmptyField);
			}
			check_classad(requirements)?;
		}
		Terms::Dataset { location, restrictions, .. } => {
			if location.is_empty() {
				return Err(TermsError::EmptyField);
			}
			if let Some(restrictions) = restrictions {
				check_classad(restrictions)?;
			}
		}
		Terms::WorkerPool { worker_stake_ratio, scheduler_reward_ratio, admission, .. } => {
			if *worker_stake_ratio > 100 || *scheduler_reward_ratio > 100 {
				return Err(TermsError::RatioAbove100);
			}
			check_classad(admission)?;
		}
	}
	Ok(terms.kind())
}

#[cfg(test)]
mod tests {
	use super::*;
	use frame_support::{traits::ConstU32, BoundedVec};

	type T = Terms<ConstU32<64>, ConstU32<256>>;

	fn text<const N: u32>(s: &str) -> BoundedVec<u8, ConstU32<N>> {
		s.as_bytes().to_vec().try_into().unwrap()
	}

	#[test]
	fn classads_are_parsed_and_linted() {
		assert_eq!(check_classad(b"TARGET.Memory >= 4096 && TARGET.GPUs >= 1"), Ok(()));
		assert_eq!(check_classad(b"TARGET.Memory >="), Err(TermsError::InvalidClassAd));
		assert_eq!(check_classad(b"frobnicate(1)"), Err(TermsError::InvalidClassAd));
		assert_eq!(check_classad(&[0xff, 0xfe]), Err(TermsError::InvalidClassAd));
		assert_eq!(check_classad(&b"(".repeat(100)), Err(TermsError::InvalidClassAd));
	}

	#[test]
	fn pool_ratios_are_percentages() {
		let pool = |w, s| T::WorkerPool {
			description: text("pool"),
			worker_stake_ratio: w,
			scheduler_reward_ratio: s,
			admission: text("TARGET.Cpus >= 1"),
		};
		assert_eq!(check_terms(&pool(30, 1)), Ok(ContractKind::WorkerPool));
		assert_eq!(check_terms(&pool(100, 100)), Ok(ContractKind::WorkerPool));
		assert_eq!(check_terms(&pool(101, 1)), Err(TermsError::RatioAbove100));
		assert_eq!(check_terms(&pool(30, 101)), Err(TermsError::RatioAbove100));
	}

	#[test]
	fn empty_locations_are_refused() {
		let dataset = T::Dataset { location: text(""), checksum: [0; 32], restrictions: None };
		assert_eq!(check_terms(&dataset), Err(TermsError::EmptyField));
	}
}
