//! `check_match`: whether a request, a worker-pool order, an app order and (when the request
//! names one) a data set order can make a deal. Pure: callers load the orders and ask the
//! registry which contracts are usable; every path that makes a deal goes through here.
//!
//! The checks, cheapest first: nothing used up; each offer is for what the request names;
//! the contracts are approved; same category; the pool's trust reaches the request's; each
//! price within the request's maximum; every tag bit demanded by the app, the data set or the
//! request offered by the pool; every order's restrictions satisfied; then both
//! `Requirements`, the request's against the pool's ad and the pool's against the job ad; then
//! the host rules the app and the data set were registered with, against the pool's ad.

use crate::types::{Architecture, Category, Determinism, OrderKind, Party, Restrictions, Tag};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use iexec_classad::{matching::requirements_met, Ad, Expr, Limits};
use pallet_registry::ContractId;
use scale_info::TypeInfo;

/// Why orders do not match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Mismatch {
	/// The order has no task left.
	UsedUp(OrderKind),
	/// The order is not the kind its place asks for.
	WrongKind(OrderKind),
	/// The app order offers another app than the request names.
	OtherApp,
	/// The data set order offers another data set than the request names.
	OtherDataset,
	/// The request names a data set and no data set order was given.
	DatasetOrderMissing,
	/// A data set order was given for a request that names no data set.
	DatasetNotRequested,
	/// The request accepts only another pool.
	OtherPool,
	/// The contract behind this order is not approved (or was revoked).
	NotApproved(OrderKind),
	/// The order was published by an earlier owner of its contract: it cannot commit the
	/// present owner's stake or prices.
	OwnerChanged(OrderKind),
	/// The pool serves another category.
	CategoryDiffers { requested: Category, offered: Category },
	/// The pool's trust is below the request's.
	TrustTooLow { requested: u32, offered: u32 },
	/// The order's price is above the request's maximum for it.
	PriceAboveMaximum(OrderKind),
	/// Tag bits demanded by the app, the data set or the request that the pool does not
	/// offer.
	TagsNotOffered { missing: Tag },
	/// `by`'s restrictions exclude the `excluded` party of the deal.
	Restricted { by: OrderKind, excluded: OrderKind },
	/// The request's `Requirements` is not true against the pool's ad.
	JobRequirementsNotMet,
	/// The pool's `Requirements` is not true against the job ad.
	PoolRequirementsNotMet,
	/// The request pins its replicas to an architecture, and the pool's ad gives its `Arch`
	/// as another.
	ArchitectureNotOffered { pinned: Architecture },
	/// The host requirements the app was registered with are not true against the pool's ad.
	AppRequirementsNotMet,
	/// The restrictions the data set was registered with are not true against the pool's ad.
	DatasetRestrictionsNotMet,
	/// The request's time is up (the block hook has not yet given its payment back).
	RequestExpired,
}

/// What the registry's app and data set demand of a host, each as a rule ad
/// ([`crate::ads::rule_ad`]): a pool's machine ad must satisfy them for a match, and each
/// worker's ad for a claim.
#[derive(Clone, Debug, Default)]
pub struct HostRules {
	/// The app's host requirements.
	pub app: Option<Ad>,
	/// The data set's restrictions, when it has any.
	pub dataset: Option<Ad>,
}

impl HostRules {
	/// Whether it demands nothing.
	pub fn is_empty(&self) -> bool {
		self.app.is_none() && self.dataset.is_none()
	}

	/// The first rule `host` does not satisfy, if any, and the evaluation steps spent.
	pub fn unmet(&self, host: &Ad, limits: &Limits) -> (Option<Mismatch>, u32) {
		let mut steps = 0u32;
		let rules = [
			(&self.app, Mismatch::AppRequirementsNotMet),
			(&self.dataset, Mismatch::DatasetRestrictionsNotMet),
		];
		for (rule, mismatch) in rules {
			let Some(rule) = rule else { continue };
			let (met, evaluation) = requirements_met(rule, host, limits);
			steps = steps.saturating_add(evaluation.steps);
			if !met {
				return (Some(mismatch), steps);
			}
		}
		(None, steps)
	}
}

/// A request, as matching sees it.
pub struct RequestView<'a, AccountId: Party, Balance> {
	pub requester: &'a AccountId,
	pub app: ContractId,
	pub dataset: Option<ContractId>,
	pub app_max_price: Balance,
	pub dataset_max_price: Balance,
	pub pool_max_price: Balance,
	pub category: Category,
	pub trust: u32,
	pub tag: Tag,
	pub pool: Option<ContractId>,
	pub remaining: u32,
	pub determinism: Determinism,
	/// The request's time is up.
	pub expired: bool,
}

/// An app or data set order.
pub struct ResourceView<'a, AccountId: Party, Balance> {
	pub resource: ContractId,
	pub price: Balance,
	pub tag: Tag,
	pub restrictions: &'a Restrictions<AccountId>,
	pub remaining: u32,
	pub approved: bool,
	/// The order's publisher still owns the contract.
	pub published_by_owner: bool,
}

/// A worker-pool order.
pub struct PoolView<'a, AccountId: Party, Balance> {
	pub pool: ContractId,
	pub price: Balance,
	pub category: Category,
	pub trust: u32,
	pub tag: Tag,
	pub restrictions: &'a Restrictions<AccountId>,
	pub remaining: u32,
	pub approved: bool,
	/// The order's publisher still owns the pool.
	pub published_by_owner: bool,
}

/// The four orders of a candidate deal.
pub struct Candidate<'a, AccountId: Party, Balance> {
	pub request: RequestView<'a, AccountId, Balance>,
	/// Whether the request's app is approved.
	pub app_approved: bool,
	pub pool: PoolView<'a, AccountId, Balance>,
	pub app: ResourceView<'a, AccountId, Balance>,
	pub dataset: Option<ResourceView<'a, AccountId, Balance>>,
}

// Views hold references and prices only: copying one never copies an account or a string, so
// they are `Copy` whatever the account type is.
macro_rules! copy_view {
	($($view:ident),*) => {$(
		impl<'a, AccountId: Party, Balance: Copy> Clone for $view<'a, AccountId, Balance> {
			fn clone(&self) -> Self {
				*self
			}
		}
		impl<'a, AccountId: Party, Balance: Copy> Copy for $view<'a, AccountId, Balance> {}
	)*};
}
copy_view!(RequestView, ResourceView, PoolView, Candidate);

/// Checks everything but the ClassAds. With `all`, every mismatch is collected (for an
/// explanation); otherwise it stops at the first.
pub fn term_mismatches<AccountId: Party, Balance: PartialOrd + Copy>(
	c: &Candidate<'_, AccountId, Balance>,
	all: bool,
) -> Vec<Mismatch> {
	let mut found = Vec::new();
	let mut fail = |m: Mismatch| {
		found.push(m);
		!all
	};
	let r = &c.request;
	// Each closure returns true when the caller should stop.
	let mut checks = || -> bool {
		for (kind, remaining) in [
			(OrderKind::Request, r.remaining),
			(OrderKind::Pool, c.pool.remaining),
			(OrderKind::App, c.app.remaining),
		]
		.into_iter()
		.chain(c.dataset.map(|d| (OrderKind::Dataset, d.remaining)))
		{
			if remaining == 0 && fail(Mismatch::UsedUp(kind)) {
				return true;
			}
		}
		if r.expired && fail(Mismatch::RequestExpired) {
			return true;
		}
		if c.app.resource != r.app && fail(Mismatch::OtherApp) {
			return true;
		}
		match (r.dataset, &c.dataset) {
			(Some(wanted), Some(offer)) if offer.resource != wanted => {
				if fail(Mismatch::OtherDataset) {
					return true;
				}
			}
			(Some(_), None) => {
				if fail(Mismatch::DatasetOrderMissing) {
					return true;
				}
			}
			(None, Some(_)) => {
				if fail(Mismatch::DatasetNotRequested) {
					return true;
				}
			}
			_ => {}
		}
		if r.pool.is_some_and(|p| p != c.pool.pool) && fail(Mismatch::OtherPool) {
			return true;
		}
		let approvals = [
			(OrderKind::App, c.app_approved && c.app.approved),
			(OrderKind::Pool, c.pool.approved),
			(OrderKind::Dataset, c.dataset.map_or(true, |d| d.approved)),
		];
		for (kind, approved) in approvals {
			if !approved && fail(Mismatch::NotApproved(kind)) {
				return true;
			}
		}
		let ownership = [
			(OrderKind::App, c.app.published_by_owner),
			(OrderKind::Pool, c.pool.published_by_owner),
			(OrderKind::Dataset, c.dataset.map_or(true, |d| d.published_by_owner)),
		];
		for (kind, owned) in ownership {
			if !owned && fail(Mismatch::OwnerChanged(kind)) {
				return true;
			}
		}
		if c.pool.category != r.category
			&& fail(Mismatch::CategoryDiffers { requested: r.category, offered: c.pool.category })
		{
			return true;
		}
		if c.pool.trust < r.trust
			&& fail(Mismatch::TrustTooLow { requested: r.trust, offered: c.pool.trust })
		{
			return true;
		}
		let prices = [
			(OrderKind::App, c.app.price, r.app_max_price),
			(OrderKind::Pool, c.pool.price, r.pool_max_price),
		]
		.into_iter()
		.chain(c.dataset.map(|d| (OrderKind::Dataset, d.price, r.dataset_max_price)));
		for (kind, price, max) in prices {
			if price > max && fail(Mismatch::PriceAboveMaximum(kind)) {
				return true;
			}
		}
		let demanded = r.tag | c.app.tag | c.dataset.map_or(0, |d| d.tag);
		let missing = demanded & !c.pool.tag;
		if missing != 0 && fail(Mismatch::TagsNotOffered { missing }) {
			return true;
		}
		for (by, restrictions) in [
			(OrderKind::App, Some(c.app.restrictions)),
			(OrderKind::Dataset, c.dataset.map(|d| d.restrictions)),
			(OrderKind::Pool, Some(c.pool.restrictions)),
		] {
			let Some(restrictions) = restrictions else { continue };
			for excluded in excluded_parties(restrictions, c) {
				if fail(Mismatch::Restricted { by, excluded }) {
					return true;
				}
			}
		}
		false
	};
	checks();
	found
}

/// The parties of candidate `c` that `restrictions` exclude.
fn excluded_parties<AccountId: Party, Balance: Copy>(
	restrictions: &Restrictions<AccountId>,
	c: &Candidate<'_, AccountId, Balance>,
) -> impl Iterator<Item = OrderKind> {
	let requester = restrictions.requester.as_ref().is_some_and(|who| who != c.request.requester);
	let app = restrictions.app.is_some_and(|app| app != c.app.resource);
	let dataset = restrictions.dataset.is_some_and(|d| Some(d) != c.dataset.map(|d| d.resource));
	let pool = restrictions.pool.is_some_and(|p| p != c.pool.pool);
	[
		(requester, OrderKind::Request),
		(app, OrderKind::App),
		(dataset, OrderKind::Dataset),
		(pool, OrderKind::Pool),
	]
	.into_iter()
	.filter_map(|(excluded, kind)| excluded.then_some(kind))
}

/// The attribute `Arch` of a machine ad, when it is a string literal (as machine ads give it):
/// read in constant time, with no expression to evaluate.
pub fn architecture_of(ad: &Ad) -> Option<&str> {
	match ad.get("Arch") {
		Some(Expr::Str(arch)) => Some(arch.as_str()),
		_ => None,
	}
}

/// Whether `arch` (an ad's `Arch`) names `pinned`; case aside, as ClassAd strings compare.
pub fn is_architecture(arch: Option<&str>, pinned: Architecture) -> bool {
	arch.is_some_and(|arch| arch.eq_ignore_ascii_case(pinned.classad_name()))
}

/// Whether a pool whose ad is `pool` can serve a request of `determinism`: an ad that names
/// another architecture than the pinned one cannot. An ad that names none may (its workers
/// are checked one by one when they claim).
pub fn architecture_mismatch(determinism: Determinism, pool: &Ad) -> Option<Mismatch> {
	let pinned = determinism.architecture()?;
	let offered = architecture_of(pool)?;
	(!is_architecture(Some(offered), pinned)).then_some(Mismatch::ArchitectureNotOffered { pinned })
}

/// The ads' checks: the pinned architecture, if any, against the pool's `Arch`; both
/// `Requirements`, the job's against the pool's ad and the pool's against the job ad; then
/// the app's and the data set's host rules against the pool's ad. Returns the first check
/// that fails, if any, and the evaluation steps spent.
pub fn ads_mismatch(
	job: &Ad,
	pool: &Ad,
	determinism: Determinism,
	rules: &HostRules,
	limits: &Limits,
) -> (Option<Mismatch>, u32) {
	if let Some(mismatch) = architecture_mismatch(determinism, pool) {
		return (Some(mismatch), 0);
	}
	let (job_ok, by_job) = requirements_met(job, pool, limits);
	if !job_ok {
		return (Some(Mismatch::JobRequirementsNotMet), by_job.steps);
	}
	let (pool_ok, by_pool) = requirements_met(pool, job, limits);
	let steps = by_job.steps.saturating_add(by_pool.steps);
	if !pool_ok {
		return (Some(Mismatch::PoolRequirementsNotMet), steps);
	}
	let (unmet, by_rules) = rules.unmet(pool, limits);
	(unmet, steps.saturating_add(by_rules))
}

/// The one check every path uses: the terms, then the ads.
pub fn check_match<AccountId: Party, Balance: PartialOrd + Copy>(
	c: &Candidate<'_, AccountId, Balance>,
	job: &Ad,
	pool: &Ad,
	rules: &HostRules,
	limits: &Limits,
) -> Result<(), Mismatch> {
	check_match_counted(c, job, pool, rules, limits).map(drop)
}

/// [`check_match`], also returning the evaluation steps it spent on the ads (what a proposed
/// match is charged for).
pub fn check_match_counted<AccountId: Party, Balance: PartialOrd + Copy>(
	c: &Candidate<'_, AccountId, Balance>,
	job: &Ad,
	pool: &Ad,
	rules: &HostRules,
	limits: &Limits,
) -> Result<u32, Mismatch> {
	if let Some(first) = term_mismatches(c, false).into_iter().next() {
		return Err(first);
	}
	match ads_mismatch(job, pool, c.request.determinism, rules, limits) {
		(Some(mismatch), _) => Err(mismatch),
		(None, steps) => Ok(steps),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use iexec_classad::parse_ad;

	type R = Restrictions<u64>;
	const ANY: R = Restrictions { requester: None, app: None, dataset: None, pool: None };
	const REQUESTER: u64 = 7;
	const APP: ContractId = 1;
	const DATASET: ContractId = 2;
	const POOL: ContractId = 3;
	const NO_RULES: HostRules = HostRules { app: None, dataset: None };

	fn candidate<'a>(pool_r: &'a R, app_r: &'a R, data_r: &'a R) -> Candidate<'a, u64, u64> {
		Candidate {
			request: RequestView {
				requester: &REQUESTER,
				app: APP,
				dataset: Some(DATASET),
				app_max_price: 10,
				dataset_max_price: 5,
				pool_max_price: 20,
				category: Category::S,
				trust: 3,
				tag: 0b0001,
				pool: None,
				remaining: 4,
				determinism: Determinism::Portable,
				expired: false,
			},
			app_approved: true,
			pool: PoolView {
				pool: POOL,
				price: 20,
				category: Category::S,
				trust: 3,
				tag: 0b0111,
				restrictions: pool_r,
				remaining: 2,
				approved: true,
				published_by_owner: true,
			},
			app: ResourceView {
				resource: APP,
				price: 10,
				tag: 0b0010,
				restrictions: app_r,
				remaining: 9,
				approved: true,
				published_by_owner: true,
			},
			dataset: Some(ResourceView {
				resource: DATASET,
				price: 5,
				tag: 0b0100,
				restrictions: data_r,
				remaining: 1,
				approved: true,
				published_by_owner: true,
			}),
		}
	}

	fn first(c: &Candidate<'_, u64, u64>) -> Option<Mismatch> {
		term_mismatches(c, false).into_iter().next()
	}

	#[test]
	fn a_fitting_candidate_passes_at_every_bound() {
		let c = candidate(&ANY, &ANY, &ANY);
		assert_eq!(term_mismatches(&c, true), vec![]);
	}

	#[test]
	fn each_check_alone() {
		use Mismatch::*;
		let cases: Vec<(Mismatch, fn(&mut Candidate<'_, u64, u64>))> = vec![
			(UsedUp(OrderKind::Request), |c| c.request.remaining = 0),
			(UsedUp(OrderKind::Pool), |c| c.pool.remaining = 0),
			(UsedUp(OrderKind::App), |c| c.app.remaining = 0),
			(UsedUp(OrderKind::Dataset), |c| c.dataset.as_mut().unwrap().remaining = 0),
			(OtherApp, |c| c.app.resource = 99),
			(OtherDataset, |c| c.dataset.as_mut().unwrap().resource = 99),
			(DatasetOrderMissing, |c| c.dataset = None),
			(DatasetNotRequested, |c| c.request.dataset = None),
			(OtherPool, |c| c.request.pool = Some(99)),
			(NotApproved(OrderKind::App), |c| c.app_approved = false),
			(NotApproved(OrderKind::App), |c| c.app.approved = false),
			(NotApproved(OrderKind::Pool), |c| c.pool.approved = false),
			(NotApproved(OrderKind::Dataset), |c| c.dataset.as_mut().unwrap().approved = false),
			(OwnerChanged(OrderKind::App), |c| c.app.published_by_owner = false),
			(OwnerChanged(OrderKind::Pool), |c| c.pool.published_by_owner = false),
			(OwnerChanged(OrderKind::Dataset), |c| {
				c.dataset.as_mut().unwrap().published_by_owner = false
			}),
			(CategoryDiffers { requested: Category::S, offered: Category::M }, |c| {
				c.pool.category = Category::M
			}),
			(TrustTooLow { requested: 3, offered: 2 }, |c| c.pool.trust = 2),
			(PriceAboveMaximum(OrderKind::App), |c| c.app.price = 11),
			(PriceAboveMaximum(OrderKind::Pool), |c| c.pool.price = 21),
			(PriceAboveMaximum(OrderKind::Dataset), |c| c.dataset.as_mut().unwrap().price = 6),
			(TagsNotOffered { missing: 0b1000 }, |c| c.request.tag = 0b1001),
			(TagsNotOffered { missing: 0b0010 }, |c| c.pool.tag = 0b0101),
			(TagsNotOffered { missing: 0b0100 }, |c| c.pool.tag = 0b0011),
		];
		for (expected, spoil) in cases {
			let mut c = candidate(&ANY, &ANY, &ANY);
			spoil(&mut c);
			assert_eq!(first(&c), Some(expected), "{expected:?}");
		}
	}

	#[test]
	fn each_restriction_alone() {
		let only = |f: fn(&mut R)| {
			let mut r = ANY;
			f(&mut r);
			r
		};
		let other_requester = only(|r| r.requester = Some(8));
		let this_requester = only(|r| r.requester = Some(REQUESTER));
		let other_app = only(|r| r.app = Some(98));
		let other_dataset = only(|r| r.dataset = Some(98));
		let other_pool = only(|r| r.pool = Some(98));
		let all_right = Restrictions {
			requester: Some(REQUESTER),
			app: Some(APP),
			dataset: Some(DATASET),
			pool: Some(POOL),
		};
		let restricted = |by, excluded| Some(Mismatch::Restricted { by, excluded });
		assert_eq!(
			first(&candidate(&ANY, &other_requester, &ANY)),
			restricted(OrderKind::App, OrderKind::Request)
		);
		assert_eq!(first(&candidate(&ANY, &this_requester, &ANY)), None);
		assert_eq!(
			first(&candidate(&other_app, &ANY, &ANY)),
			restricted(OrderKind::Pool, OrderKind::App)
		);
		assert_eq!(
			first(&candidate(&ANY, &other_dataset, &ANY)),
			restricted(OrderKind::App, OrderKind::Dataset)
		);
		assert_eq!(
			first(&candidate(&ANY, &ANY, &other_pool)),
			restricted(OrderKind::Dataset, OrderKind::Pool)
		);
		assert_eq!(first(&candidate(&all_right, &all_right, &all_right)), None);
		// A data set restriction excludes a request without a data set too.
		let mut c = candidate(&ANY, &other_dataset, &ANY);
		c.request.dataset = None;
		c.dataset = None;
		assert_eq!(first(&c), restricted(OrderKind::App, OrderKind::Dataset));
	}

	#[test]
	fn an_explanation_lists_every_failed_check() {
		let other_pool = Restrictions { pool: Some(98), ..ANY };
		let mut c = candidate(&ANY, &other_pool, &ANY);
		c.pool.trust = 1;
		c.pool.price = 30;
		assert_eq!(
			term_mismatches(&c, true),
			vec![
				Mismatch::TrustTooLow { requested: 3, offered: 1 },
				Mismatch::PriceAboveMaximum(OrderKind::Pool),
				Mismatch::Restricted { by: OrderKind::App, excluded: OrderKind::Pool },
			]
		);
	}

	#[test]
	fn both_requirements_must_hold() {
		let limits = Limits::default();
		let ad = |s: &str| parse_ad(s, &limits).unwrap();
		let job = ad("[ RequestMemory = 2048; Requirements = TARGET.Memory >= RequestMemory ]");
		let big = ad("[ Memory = 4096; Requirements = TARGET.RequestMemory <= 4096 ]");
		let small = ad("[ Memory = 1024; Requirements = true ]");
		let picky = ad("[ Memory = 8192; Requirements = TARGET.RequestMemory >= 4096 ]");
		let c = candidate(&ANY, &ANY, &ANY);
		assert_eq!(check_match(&c, &job, &big, &NO_RULES, &limits), Ok(()));
		assert_eq!(
			check_match(&c, &job, &small, &NO_RULES, &limits),
			Err(Mismatch::JobRequirementsNotMet)
		);
		assert_eq!(
			check_match(&c, &job, &picky, &NO_RULES, &limits),
			Err(Mismatch::PoolRequirementsNotMet)
		);
		let (mismatch, steps) = ads_mismatch(&job, &big, Determinism::Portable, &NO_RULES, &limits);
		assert_eq!(mismatch, None);
		assert!(steps > 0);
	}

	#[test]
	fn the_registered_host_rules_must_hold_against_the_pool() {
		use crate::ads::rule_ad;
		let limits = Limits::default();
		let ad = |s: &str| parse_ad(s, &limits).unwrap();
		let job = ad("[ Requirements = true ]");
		let gpu_pool = ad("[ GPUs = 2; Region = \"eu-west\"; Requirements = true ]");
		let cpu_pool = ad("[ GPUs = 0; Region = \"us-east\"; Requirements = true ]");
		let c = candidate(&ANY, &ANY, &ANY);
		let rules = |app: &str, dataset: Option<&str>| HostRules {
			app: Some(rule_ad(app.as_bytes())),
			dataset: dataset.map(|d| rule_ad(d.as_bytes())),
		};
		let gpus = rules("TARGET.GPUs >= 1", None);
		assert_eq!(check_match(&c, &job, &gpu_pool, &gpus, &limits), Ok(()));
		assert_eq!(
			check_match(&c, &job, &cpu_pool, &gpus, &limits),
			Err(Mismatch::AppRequirementsNotMet)
		);
		// An attribute the pool does not give is `undefined`: not met.
		let undefined = rules("TARGET.Disk >= 1", None);
		assert_eq!(
			check_match(&c, &job, &gpu_pool, &undefined, &limits),
			Err(Mismatch::AppRequirementsNotMet)
		);
		let eu_only = rules("true", Some("TARGET.Region == \"eu-west\""));
		assert_eq!(check_match(&c, &job, &gpu_pool, &eu_only, &limits), Ok(()));
		assert_eq!(
			check_match(&c, &job, &cpu_pool, &eu_only, &limits),
			Err(Mismatch::DatasetRestrictionsNotMet)
		);
		// The app's rule is checked first; both are charged for.
		let both = rules("TARGET.GPUs >= 1", Some("TARGET.Region == \"eu-west\""));
		assert_eq!(both.unmet(&cpu_pool, &limits).0, Some(Mismatch::AppRequirementsNotMet));
		let (met, steps) = both.unmet(&gpu_pool, &limits);
		assert_eq!(met, None);
		assert!(steps > eu_only.unmet(&gpu_pool, &limits).1, "two rules cost more than one");
		// A rule that does not parse admits nothing.
		let broken = rules("TARGET.GPUs >=", None);
		assert_eq!(
			check_match(&c, &job, &gpu_pool, &broken, &limits),
			Err(Mismatch::AppRequirementsNotMet)
		);
		// The job's own Requirements are checked before the host rules.
		let no = ad("[ Requirements = false ]");
		assert_eq!(
			check_match(&c, &no, &cpu_pool, &gpus, &limits),
			Err(Mismatch::JobRequirementsNotMet)
		);
	}

	#[test]
	fn a_pinned_architecture_excludes_pools_that_name_another() {
		let limits = Limits::default();
		let ad = |s: &str| parse_ad(s, &limits).unwrap();
		let job = ad("[ Requirements = true ]");
		let x86 = ad("[ Arch = \"X86_64\"; Requirements = true ]");
		let arm = ad("[ Arch = \"AArch64\"; Requirements = true ]");
		let silent = ad("[ Requirements = true ]");
		let mut c = candidate(&ANY, &ANY, &ANY);
		for pool in [&x86, &arm, &silent] {
			assert_eq!(
				check_match(&c, &job, pool, &NO_RULES, &limits),
				Ok(()),
				"portable fits any pool"
			);
		}
		c.request.determinism = Determinism::SameArchitecture(Architecture::X86_64);
		assert_eq!(check_match(&c, &job, &x86, &NO_RULES, &limits), Ok(()));
		assert_eq!(
			check_match(&c, &job, &silent, &NO_RULES, &limits),
			Ok(()),
			"its workers decide"
		);
		assert_eq!(
			check_match(&c, &job, &arm, &NO_RULES, &limits),
			Err(Mismatch::ArchitectureNotOffered { pinned: Architecture::X86_64 })
		);
		c.request.determinism = Determinism::SameArchitecture(Architecture::Aarch64);
		assert_eq!(check_match(&c, &job, &arm, &NO_RULES, &limits), Ok(()), "case aside");
		assert!(check_match(&c, &job, &x86, &NO_RULES, &limits).is_err());
		// Only a literal counts: an expression is not evaluated (nor charged for).
		let computed = ad("[ Arch = strcat(\"X86\", \"_64\"); Requirements = true ]");
		assert_eq!(architecture_of(&computed), None);
	}
}
