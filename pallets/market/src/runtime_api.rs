//! What a client can ask the market before it pays anything: whether an ad parses (and where
//! it does not), which offers would serve a request and how they rank, and why four orders do
//! not match. Every type here is in the metadata, so `@polkadot/api` decodes the answers with
//! no custom types (`api.call.marketApi.*`).

use crate::{
	ads::{self, AdError},
	arrival::RankedOffer,
	dispatchable_impls::{pool_terms, request_terms, Loaded},
	matching::{architecture_mismatch, term_mismatches, Mismatch},
	BalanceOf, Config, Error, OrderId, Orders, Pallet,
};
use alloc::{format, string::String, string::ToString, vec::Vec};
use codec::{Codec, Decode, Encode};
use frame_support::traits::Get;
use iexec_classad::matching::{explain, Explanation};
use scale_info::TypeInfo;
use sp_runtime::traits::Saturating;

/// Where and why an ad was refused.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ClassAdError {
	/// 1-based line of the problem.
	pub line: u32,
	/// 1-based column (in bytes) of the problem.
	pub column: u32,
	/// Byte offset of the problem.
	pub offset: u32,
	/// What the parser expected or found.
	pub message: String,
}

/// A question the market cannot answer.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum QueryError {
	/// No open order has this identifier.
	UnknownOrder,
	/// An order is not of the kind its place asks for.
	WrongOrderKind,
}

/// One clause of a `Requirements` that is not true, and what it evaluated to.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ClauseReport {
	pub clause: String,
	pub value: String,
}

/// Why four orders do (not) match.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct MatchExplanation {
	/// Whether `match_orders` would accept them.
	pub matches: bool,
	/// Every check of the terms that fails (see `Mismatch`), and the failing side of the ads.
	pub mismatches: Vec<Mismatch>,
	/// The clauses of the job's `Requirements` that are not true against the pool's ad.
	pub job_clauses: Vec<ClauseReport>,
	/// The clauses of the pool's `Requirements` that are not true against the job ad.
	pub pool_clauses: Vec<ClauseReport>,
	/// The clauses of the app's registered host requirements that are not true against the
	/// pool's ad.
	pub app_clauses: Vec<ClauseReport>,
	/// The clauses of the data set's registered restrictions that are not true against the
	/// pool's ad.
	pub dataset_clauses: Vec<ClauseReport>,
}

sp_api::decl_runtime_apis! {
	/// The market's questions.
	pub trait MarketApi<Balance> where Balance: Codec {
		/// Parses `text` as an order's ClassAd (`[ Name = expr; … ]`), as submitting it
		/// would: `Ok` if it would be accepted, otherwise where and why not.
		fn check_classad(text: Vec<u8>) -> Result<(), ClassAdError>;
		/// The open pool orders (of the request's category, at most `RANK_SCAN_LIMIT` of them)
		/// that could serve request `request`, with the app and data set orders they would
		/// use, ranked by the request's weights: best first, with their net flows.
		fn rank_offers(request: OrderId) -> Result<Vec<RankedOffer<Balance>>, QueryError>;
		/// Why these four orders do or do not match: every failed check and, for the ads,
		/// each failing clause and what it evaluated to.
		fn explain_match(
			request: OrderId,
			pool_order: OrderId,
			app_order: OrderId,
			dataset_order: Option<OrderId>,
		) -> Result<MatchExplanation, QueryError>;
	}
}

/// The most pool orders `rank_offers` considers: it runs off chain, but a node still answers
/// in time.
pub const RANK_SCAN_LIMIT: usize = 2_000;

fn reports(explanation: Explanation) -> Vec<ClauseReport> {
	match explanation {
		Explanation::Satisfied => Vec::new(),
		Explanation::NoRequirements => alloc::vec![ClauseReport {
			clause: String::from("Requirements"),
			value: String::from("undefined"),
		}],
		Explanation::Failed(clauses) => clauses
			.into_iter()
			.map(|c| ClauseReport { clause: c.clause, value: c.value.to_string() })
			.collect(),
	}
}

impl<T: Config> Pallet<T> {
	/// [`MarketApi::check_classad`].
	pub fn check_classad(text: Vec<u8>) -> Result<(), ClassAdError> {
		let refusal = |offset: u32, message: String| {
			let (line, column) = ads::line_column(&text, offset);
			ClassAdError { line, column, offset, message }
		};
		match ads::parse_order_ad(&text) {
			Ok(ad) if ads::store::<T::MaxAdBytes>(&ad).is_none() => {
				Err(refusal(0, String::from("the parsed ad is larger than the chain stores")))
			}
			Ok(_) if text.len() > T::MaxAdText::get() as usize => Err(refusal(
				T::MaxAdText::get(),
				format!("the text is longer than {} bytes", T::MaxAdText::get()),
			)),
			Ok(_) => Ok(()),
			Err(AdError::NotUtf8 { valid_up_to }) => {
				Err(refusal(valid_up_to, String::from("the text is not UTF-8")))
			}
			Err(AdError::Parse(error)) => Err(refusal(error.offset, error.to_string())),
			Err(AdError::Problems(problems)) => Err(refusal(0, problems.join("; "))),
		}
	}

	/// The first block a transaction sent now can land in: what the answers are as of (a
	/// request due there is answered as expired).
	fn next_block() -> frame_system::pallet_prelude::BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number().saturating_add(1u32.into())
	}

	/// [`MarketApi::rank_offers`].
	pub fn rank_offers(request: OrderId) -> Result<Vec<RankedOffer<BalanceOf<T>>>, QueryError> {
		let order = Orders::<T>::get(request).ok_or(QueryError::UnknownOrder)?;
		let category = request_terms::<T>(&order).ok_or(QueryError::WrongOrderKind)?.category;
		let pools = Orders::<T>::iter()
			.filter(|(_, o)| pool_terms::<T>(o).is_some_and(|p| p.category == category))
			.take(RANK_SCAN_LIMIT)
			.map(|(id, _)| id);
		Self::rank_offers_for(request, pools, Self::next_block())
			.map(|ranking| ranking.offers)
			.map_err(|_| QueryError::UnknownOrder)
	}

	/// [`MarketApi::explain_match`].
	pub fn explain_match(
		request: OrderId,
		pool_order: OrderId,
		app_order: OrderId,
		dataset_order: Option<OrderId>,
	) -> Result<MatchExplanation, QueryError> {
		let mut loaded =
			Loaded::<T>::load(request, pool_order, app_order, dataset_order).map_err(|error| {
				if error == Error::<T>::UnknownOrder.into() {
					QueryError::UnknownOrder
				} else {
					QueryError::WrongOrderKind
				}
			})?;
		loaded.now = Self::next_block();
		let candidate = loaded.candidate().ok_or(QueryError::WrongOrderKind)?;
		let mut mismatches = term_mismatches(&candidate, true);
		let (Some(req), Some(pool)) =
			(request_terms::<T>(&loaded.request), pool_terms::<T>(&loaded.pool))
		else {
			return Err(QueryError::WrongOrderKind);
		};
		let (job, pool_ad, limits) = (ads::load(&req.job_ad), ads::load(&pool.ad), ads::limits());
		mismatches.extend(architecture_mismatch(req.determinism, &pool_ad));
		let job_clauses = reports(explain(&job, &pool_ad, &limits));
		let pool_clauses = reports(explain(&pool_ad, &job, &limits));
		if !job_clauses.is_empty() {
			mismatches.push(Mismatch::JobRequirementsNotMet);
		}
		if !pool_clauses.is_empty() {
			mismatches.push(Mismatch::PoolRequirementsNotMet);
		}
		let rules = loaded.host_rules();
		let rule_clauses = |rule: &Option<iexec_classad::Ad>| {
			rule.as_ref().map(|rule| reports(explain(rule, &pool_ad, &limits))).unwrap_or_default()
		};
		let (app_clauses, dataset_clauses) =
			(rule_clauses(&rules.app), rule_clauses(&rules.dataset));
		if !app_clauses.is_empty() {
			mismatches.push(Mismatch::AppRequirementsNotMet);
		}
		if !dataset_clauses.is_empty() {
			mismatches.push(Mismatch::DatasetRestrictionsNotMet);
		}
		Ok(MatchExplanation {
			matches: mismatches.is_empty(),
			mismatches,
			job_clauses,
			pool_clauses,
			app_clauses,
			dataset_clauses,
		})
	}
}
