//! Bodies of the calls declared in `lib.rs`, and the making of deals that every matching path
//! shares.

use super::*;
use crate::arrival::{saturated, ArrivalWork};
use crate::match_weight::{match_weight, AdWork, MatchBenchmarks, MAX_ORDERS_ENDED};
use crate::matching::{
	check_match_counted, term_mismatches, Candidate, HostRules, Mismatch, PoolView, RequestView,
	ResourceView,
};
use codec::Encode;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision},
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_escrow::{Escrow, HoldReason as Escrowed, Ledger};
use pallet_registry::{ContractDetails, ContractId, ContractInfo, ContractKind, ContractRegistry};
use sp_runtime::{
	traits::{CheckedAdd, CheckedMul, CheckedSub, Saturating, Zero},
	DispatchError, DispatchErrorWithPostInfo, DispatchResult,
};

impl<T: Config> From<Mismatch> for Error<T> {
	fn from(mismatch: Mismatch) -> Self {
		match mismatch {
			Mismatch::UsedUp(_) => Error::OrderUsedUp,
			Mismatch::WrongKind(_) => Error::WrongOrderKind,
			Mismatch::OtherApp => Error::OtherApp,
			Mismatch::OtherDataset => Error::OtherDataset,
			Mismatch::DatasetOrderMissing => Error::DatasetOrderMissing,
			Mismatch::DatasetNotRequested => Error::DatasetNotRequested,
			Mismatch::OtherPool => Error::OtherPool,
			Mismatch::NotApproved(_) => Error::MatchNotApproved,
			Mismatch::OwnerChanged(_) => Error::OwnerChanged,
			Mismatch::CategoryDiffers { .. } => Error::CategoryDiffers,
			Mismatch::TrustTooLow { .. } => Error::TrustTooLow,
			Mismatch::PriceAboveMaximum(_) => Error::PriceAboveMaximum,
			Mismatch::TagsNotOffered { .. } => Error::TagsNotOffered,
			Mismatch::Restricted { .. } => Error::Restricted,
			Mismatch::JobRequirementsNotMet => Error::JobRequirementsNotMet,
			Mismatch::PoolRequirementsNotMet => Error::PoolRequirementsNotMet,
			Mismatch::ArchitectureNotOffered { .. } => Error::ArchitectureNotOffered,
			Mismatch::AppRequirementsNotMet => Error::AppRequirementsNotMet,
			Mismatch::DatasetRestrictionsNotMet => Error::DatasetRestrictionsNotMet,
			Mismatch::RequestExpired => Error::RequestExpired,
		}
	}
}

/// The four orders of a possible deal, loaded, with what the registry says of their
/// contracts.
pub(crate) struct Loaded<T: Config> {
	pub request_id: OrderId,
	pub request: OrderOf<T>,
	pub app_info: Option<ContractInfo<T::AccountId>>,
	pub pool_id: OrderId,
	pub pool: OrderOf<T>,
	pub pool_info: Option<ContractInfo<T::AccountId>>,
	pub app_id: OrderId,
	pub app: OrderOf<T>,
	pub dataset: Option<(OrderId, OrderOf<T>, Option<ContractInfo<T::AccountId>>)>,
	/// The block they were loaded in.
	pub now: BlockNumberFor<T>,
}

pub(crate) fn request_terms<T: Config>(order: &OrderOf<T>) -> Option<&RequestOf<T>> {
	match &order.terms {
		OrderTerms::Request(request) => Some(request),
		_ => None,
	}
}

pub(crate) fn pool_terms<T: Config>(order: &OrderOf<T>) -> Option<&PoolOfferOf<T>> {
	match &order.terms {
		OrderTerms::Pool(pool) => Some(pool),
		_ => None,
	}
}

pub(crate) fn resource_terms<T: Config>(
	order: &OrderOf<T>,
	kind: OrderKind,
) -> Option<&ResourceOfferOf<T>> {
	match (&order.terms, kind) {
		(OrderTerms::App(offer), OrderKind::App) => Some(offer),
		(OrderTerms::Dataset(offer), OrderKind::Dataset) => Some(offer),
		_ => None,
	}
}

/// The view `check_match` takes of four orders and what the registry says of their
/// contracts (the request's app, the pool, the data set). `None` if an order is of the wrong
/// kind.
pub(crate) fn candidate_view<'a, T: Config>(
	request: &'a OrderOf<T>,
	app_info: &Option<ContractInfo<T::AccountId>>,
	pool: &'a OrderOf<T>,
	pool_info: &Option<ContractInfo<T::AccountId>>,
	app: &'a OrderOf<T>,
	dataset: Option<(&'a OrderOf<T>, &Option<ContractInfo<T::AccountId>>)>,
	now: BlockNumberFor<T>,
) -> Option<Candidate<'a, T::AccountId, BalanceOf<T>>> {
	let req = request_terms::<T>(request)?;
	let pool_offer = pool_terms::<T>(pool)?;
	let app_offer = resource_terms::<T>(app, OrderKind::App)?;
	let approved = |info: &Option<ContractInfo<T::AccountId>>, kind: ContractKind| {
		info.as_ref().is_some_and(|i| i.usable && i.details.kind() == kind)
	};
	// An order binds its contract's owner only while the publisher still owns the contract.
	let owned = |info: &Option<ContractInfo<T::AccountId>>, order: &OrderOf<T>| {
		info.as_ref().is_some_and(|i| i.owner == order.owner)
	};
	let dataset = match dataset {
		Some((order, info)) => {
			let offer = resource_terms::<T>(order, OrderKind::Dataset)?;
			Some(ResourceView {
				resource: offer.resource,
				price: offer.price,
				tag: offer.tag,
				restrictions: &offer.restrictions,
				remaining: order.remaining,
				approved: approved(info, ContractKind::Dataset),
				published_by_owner: owned(info, order),
			})
		}
		None => None,
	};
	let app_approved = approved(app_info, ContractKind::App);
	Some(Candidate {
		request: RequestView {
			requester: &request.owner,
			app: req.app,
			dataset: req.dataset,
			app_max_price: req.app_max_price,
			dataset_max_price: req.dataset_max_price,
			pool_max_price: req.pool_max_price,
			category: req.category,
			trust: req.trust,
			tag: req.tag,
			pool: req.pool,
			remaining: request.remaining,
			determinism: req.determinism,
			expired: req.expires_at <= now,
		},
		app_approved,
		pool: PoolView {
			pool: pool_offer.pool,
			price: pool_offer.price,
			category: pool_offer.category,
			trust: pool_offer.trust,
			tag: pool_offer.tag,
			restrictions: &pool_offer.restrictions,
			remaining: pool.remaining,
			approved: approved(pool_info, ContractKind::WorkerPool),
			published_by_owner: owned(pool_info, pool),
		},
		// The app order's contract is the request's app when they agree; `check_match`
		// refuses them when they do not.
		app: ResourceView {
			resource: app_offer.resource,
			price: app_offer.price,
			tag: app_offer.tag,
			restrictions: &app_offer.restrictions,
			remaining: app.remaining,
			approved: app_approved,
			published_by_owner: owned(app_info, app),
		},
		dataset,
	})
}

/// The length of the host rule an app or a data set was registered with (none: 0).
pub(crate) fn rule_text_len(details: Option<&ContractDetails>) -> usize {
	match details {
		Some(ContractDetails::App { requirements, .. }) => requirements.len(),
		Some(ContractDetails::Dataset { restrictions: Some(rule), .. }) => rule.len(),
		_ => 0,
	}
}

/// Whether the ads of a match were evaluated earlier in the same call, with the host rules
/// they were evaluated with. An order's ad never changes and a contract's rules neither, so an
/// evaluation made moments before in the same call still holds; the terms (volumes left,
/// approvals, owners) are checked again always.
pub(crate) enum AdsChecked<'a, S: Get<u32>> {
	/// Not evaluated; the host rules are still to be parsed.
	No,
	/// Not evaluated; the host rules were parsed and stored already (a batch does it once).
	Pending(&'a KeptRules<S>),
	/// Evaluated already, with these host rules.
	Already(&'a KeptRules<S>),
}

/// Host rules parsed, and the form a deal keeps them in (`DealRules`), made once for all
/// the deals of a call that share them.
pub(crate) struct KeptRules<S: Get<u32>> {
	pub parsed: HostRules,
	/// `None` when the rules demand nothing; `Err` when they are too large to keep.
	stored: Result<Option<StoredHostRules<S>>, ()>,
}

impl<S: Get<u32>> KeptRules<S> {
	pub fn new(parsed: HostRules) -> Self {
		let stored = match parsed.is_empty() {
			true => Ok(None),
			false => ads::store_rules::<S>(&parsed).map(Some).ok_or(()),
		};
		KeptRules { parsed, stored }
	}
}

impl<T: Config> Loaded<T> {
	/// Loads the orders, checking each is of the kind its place asks for.
	pub fn load(
		request_id: OrderId,
		pool_id: OrderId,
		app_id: OrderId,
		dataset_id: Option<OrderId>,
	) -> Result<Self, DispatchError> {
		let get = |id| Orders::<T>::get(id).ok_or(Error::<T>::UnknownOrder);
		let request = get(request_id)?;
		let pool = get(pool_id)?;
		let app = get(app_id)?;
		let dataset = dataset_id.map(|id| get(id).map(|order| (id, order))).transpose()?;
		let req = request_terms::<T>(&request).ok_or(Error::<T>::WrongOrderKind)?;
		let pool_offer = pool_terms::<T>(&pool).ok_or(Error::<T>::WrongOrderKind)?;
		ensure!(app.kind() == OrderKind::App, Error::<T>::WrongOrderKind);
		ensure!(
			dataset.as_ref().map_or(true, |(_, d)| d.kind() == OrderKind::Dataset),
			Error::<T>::WrongOrderKind
		);
		let app_info = T::Registry::info(req.app);
		let pool_info = T::Registry::info(pool_offer.pool);
		let dataset = dataset.map(|(id, order)| {
			let info = resource_terms::<T>(&order, OrderKind::Dataset)
				.and_then(|offer| T::Registry::info(offer.resource));
			(id, order, info)
		});
		let now = frame_system::Pallet::<T>::block_number();
		Ok(Loaded {
			request_id,
			request,
			app_info,
			pool_id,
			pool,
			pool_info,
			app_id,
			app,
			dataset,
			now,
		})
	}

	/// The view `check_match` takes. `None` if an order is of the wrong kind (checked by
	/// `load`).
	pub fn candidate(&self) -> Option<Candidate<'_, T::AccountId, BalanceOf<T>>> {
		candidate_view::<T>(
			&self.request,
			&self.app_info,
			&self.pool,
			&self.pool_info,
			&self.app,
			self.dataset.as_ref().map(|(_, order, info)| (order, info)),
			self.now,
		)
	}

	/// `check_match` on these orders, or only its terms when the ads were evaluated
	/// already. Returns the evaluation steps it spent on the ads.
	pub fn check_as(&self, ads_evaluated: bool, rules: &HostRules) -> Result<u32, Mismatch> {
		if !ads_evaluated {
			return self.check_with(rules);
		}
		let candidate = self.candidate().ok_or(Mismatch::WrongKind(OrderKind::Request))?;
		term_mismatches(&candidate, false).into_iter().next().map_or(Ok(0), Err)
	}

	/// `check_match` on these orders, with the host rules of their app and data set; the
	/// evaluation steps it spent.
	fn check_with(&self, rules: &HostRules) -> Result<u32, Mismatch> {
		let candidate = self.candidate().ok_or(Mismatch::WrongKind(OrderKind::Request))?;
		let (Some(req), Some(pool)) =
			(request_terms::<T>(&self.request), pool_terms::<T>(&self.pool))
		else {
			return Err(Mismatch::WrongKind(OrderKind::Pool));
		};
		check_match_counted(
			&candidate,
			&ads::load(&req.job_ad),
			&ads::load(&pool.ad),
			rules,
			&ads::limits(),
		)
	}

	/// The bytes a check of these orders' ads reads: the stored job and pool ads, and the
	/// app's and the data set's rule text (with `steps`, what [`crate::match_weight`] charges).
	pub fn ad_work(&self, steps: u32) -> AdWork {
		let stored = |order: &OrderOf<T>| match &order.terms {
			OrderTerms::Request(req) => req.job_ad.len(),
			OrderTerms::Pool(pool) => pool.ad.len(),
			_ => 0,
		};
		let dataset_info = self.dataset.as_ref().and_then(|(_, _, info)| info.as_ref());
		AdWork {
			steps,
			ad_bytes: saturated(stored(&self.request).saturating_add(stored(&self.pool))),
			rule_bytes: saturated(
				rule_text_len(self.app_info.as_ref().map(|info| &info.details))
					.saturating_add(rule_text_len(dataset_info.map(|info| &info.details))),
			),
		}
	}

	/// What the app and the data set were registered to demand of a host.
	pub fn host_rules(&self) -> HostRules {
		ads::host_rules(
			self.app_info.as_ref().map(|info| &info.details),
			self.dataset.as_ref().and_then(|(_, _, info)| info.as_ref()).map(|info| &info.details),
		)
	}
}

impl<T: Config> Pallet<T> {
	/// What [`Pallet::match_orders`] costs after `work` on its ads ([`crate::match_weight`])
	/// and with `orders_ended` of its orders used up (the rest stay open, and the writes
	/// that ending them takes are refunded).
	pub fn match_orders_weight(work: AdWork, orders_ended: u32) -> Weight {
		let at = |s, b| T::WeightInfo::match_orders(s, b, MAX_ORDERS_ENDED);
		// The fit's base is inferred from the other corners; the small corner is also
		// measured alone, and the larger of the two is charged.
		let fitted = at(0, 0);
		let base = fitted.max(T::WeightInfo::match_orders_small());
		let lift = base.saturating_sub(fitted);
		let benchmarks = MatchBenchmarks {
			base,
			dense: at(1, 0).saturating_add(lift),
			large: at(0, 1).saturating_add(lift),
		};
		let per_order_ended = T::WeightInfo::match_orders(0, 0, 1)
			.saturating_sub(T::WeightInfo::match_orders(0, 0, 0));
		let open = MAX_ORDERS_ENDED.saturating_sub(orders_ended);
		match_weight(&benchmarks, work, AdWork::most(T::MaxAdBytes::get()))
			.saturating_sub(per_order_ended.saturating_mul(open.into()))
	}

	/// What [`Pallet::match_orders`] is charged up front: the most its ads may take, every
	/// order used up.
	pub fn match_orders_up_front() -> Weight {
		Self::match_orders_weight(AdWork::most(T::MaxAdBytes::get()), MAX_ORDERS_ENDED)
	}

	/// What `work` on ads adds to a call whose benchmark has small ads and rules: the same
	/// extra as in a proposed match ([`crate::match_weight`]).
	fn ad_extra(work: AdWork) -> Weight {
		Self::match_orders_weight(work, MAX_ORDERS_ENDED)
			.saturating_sub(Self::match_orders_weight(AdWork::default(), MAX_ORDERS_ENDED))
	}

	/// The most one request's ads may add to a batch (the host rules are parsed and stored
	/// once for the batch).
	fn batch_request_most() -> AdWork {
		AdWork { rule_bytes: 0, ..AdWork::most(T::MaxAdBytes::get()) }
	}

	/// What [`Pallet::match_batch`] of `requests` requests is charged up front: each request
	/// at the most its ads may take, and the host rules at their largest.
	pub fn match_batch_up_front(requests: u32) -> Weight {
		let rules = AdWork { rule_bytes: AdWork::most(0).rule_bytes, ..AdWork::default() };
		T::WeightInfo::match_batch(requests)
			.saturating_add(
				Self::ad_extra(Self::batch_request_most()).saturating_mul(requests.into()),
			)
			.saturating_add(Self::ad_extra(rules))
	}

	/// What a call that parses and stores a submitted ad, then matches its order at arrival,
	/// costs: `benchmark`, its weight with small ads and rules, plus what `work` adds, each
	/// part priced as in a proposed match ([`crate::match_weight`]): the submitted ad's text
	/// as a rule's text of that length (parsing it) and its stored form as an ad of that size
	/// (writing it); what is read back or parsed once (`setup`); for each pair of ads
	/// evaluated, its steps and what is read back or parsed for that pair alone; and the
	/// storage reads the benchmark counted once (`reads`).
	pub(crate) fn arrival_weight(benchmark: Weight, work: &ArrivalWork) -> Weight {
		let (text_len, stored_len) = work.submitted;
		let parsed = Self::ad_extra(AdWork { rule_bytes: text_len, ..AdWork::default() });
		let stored = Self::ad_extra(AdWork { ad_bytes: stored_len, ..AdWork::default() });
		let once = benchmark
			.saturating_add(parsed)
			.saturating_add(stored)
			.saturating_add(Self::ad_extra(work.setup))
			.saturating_add(T::DbWeight::get().reads(work.reads.into()));
		work.ad_work.iter().fold(once, |weight, pair| weight.saturating_add(Self::ad_extra(*pair)))
	}

	/// What a call matching at arrival is charged up front: `benchmark` at its most orders
	/// looked at, and [`Pallet::arrival_weight`] of `most_work`, in which every part is at
	/// its most and `ad_work` holds what one order looked at may take.
	fn arrival_up_front(benchmark: Weight, most_work: ArrivalWork) -> Weight {
		let per_order = most_work
			.ad_work
			.iter()
			.fold(Weight::zero(), |weight, work| weight.saturating_add(Self::ad_extra(*work)));
		let once = ArrivalWork { ad_work: alloc::vec::Vec::new(), ..most_work.clone() };
		Self::arrival_weight(benchmark, &once)
			.saturating_add(per_order.saturating_mul(most_work.looked_at.into()))
	}

	/// What [`Pallet::submit_request`] is charged up front: for each candidate, the match's
	/// four evaluations and its pool ad read back, and ranking's two evaluations; once, the
	/// job ad read back and the host rules parsed and stored.
	pub fn submit_request_up_front() -> Weight {
		let (most, max_ad_bytes) = (T::MaxCandidates::get(), T::MaxAdBytes::get());
		let all = AdWork::most(max_ad_bytes);
		let ranking =
			AdWork { steps: ads::limits().max_steps.saturating_mul(2), ..AdWork::default() };
		Self::arrival_up_front(
			T::WeightInfo::submit_request(most),
			ArrivalWork {
				looked_at: most,
				submitted: (T::MaxAdText::get(), max_ad_bytes),
				setup: AdWork { steps: 0, ad_bytes: max_ad_bytes, rule_bytes: all.rule_bytes },
				ad_work: alloc::vec![
					AdWork { ad_bytes: max_ad_bytes, rule_bytes: 0, ..all },
					ranking
				],
				reads: 0,
			},
		)
	}

	/// What [`Pallet::publish_pool_order`] is charged up front: for each waiting request, the
	/// match's four evaluations, its job ad read back, its host rules parsed and stored, and
	/// its app and data set orders read; once, the new order's ad read back.
	pub fn publish_pool_order_up_front() -> Weight {
		let (most, max_ad_bytes) = (T::MaxWaiting::get(), T::MaxAdBytes::get());
		let all = AdWork::most(max_ad_bytes);
		let offers_read = T::MaxCandidates::get().saturating_mul(2).saturating_add(4);
		Self::arrival_up_front(
			T::WeightInfo::publish_pool_order(most),
			ArrivalWork {
				looked_at: most,
				submitted: (T::MaxAdText::get(), max_ad_bytes),
				setup: AdWork { ad_bytes: max_ad_bytes, ..AdWork::default() },
				ad_work: alloc::vec![AdWork { ad_bytes: max_ad_bytes, ..all }],
				reads: most.saturating_mul(offers_read),
			},
		)
	}

	/// `OrderDepositBase + OrderDepositPerByte × bytes`.
	pub fn deposit_for(bytes: usize) -> BalanceOf<T> {
		let bytes: BalanceOf<T> = (bytes as u32).into();
		T::OrderDepositBase::get()
			.saturating_add(T::OrderDepositPerByte::get().saturating_mul(bytes))
	}

	/// The contract `id`, checked to be of `kind`, owned by `owner` (when given) and approved.
	fn usable_contract(
		id: ContractId,
		kind: ContractKind,
		owner: Option<&T::AccountId>,
	) -> Result<ContractInfo<T::AccountId>, Error<T>> {
		let info = T::Registry::info(id).ok_or(Error::<T>::UnknownContract)?;
		ensure!(info.details.kind() == kind, Error::<T>::WrongContractKind);
		ensure!(owner.map_or(true, |o| *o == info.owner), Error::<T>::NotContractOwner);
		ensure!(info.usable, Error::<T>::ContractNotApproved);
		Ok(info)
	}

	/// Stores a new order and holds its storage deposit.
	fn store_order(
		owner: T::AccountId,
		volume: u32,
		terms: OrderTerms<
			T::AccountId,
			BalanceOf<T>,
			BlockNumberFor<T>,
			T::MaxParamsLen,
			T::MaxAdBytes,
		>,
	) -> Result<(OrderId, BalanceOf<T>), DispatchError> {
		ensure!(volume > 0, Error::<T>::ZeroVolume);
		let id = NextOrderId::<T>::get();
		let next = id.checked_add(1).ok_or(Error::<T>::IdsExhausted)?;
		let mut order = Order { owner, volume, remaining: volume, deposit: Zero::zero(), terms };
		// What the order takes in storage: its encoding and its whole key (the pallet's and
		// the map's prefixes, the hash and the id).
		let stored = order.encoded_size() + Orders::<T>::hashed_key_for(id).len();
		let deposit = Self::deposit_for(stored);
		T::Currency::hold(&HoldReason::OrderDeposit.into(), &order.owner, deposit)
			.map_err(|_| Error::<T>::CannotHoldDeposit)?;
		order.deposit = deposit;
		if let Some(contract) = order.offered_contract() {
			OpenOffers::<T>::mutate(contract, |open| *open = open.saturating_add(1));
		}
		Orders::<T>::insert(id, order);
		NextOrderId::<T>::put(next);
		Ok((id, deposit))
	}

	pub(crate) fn do_publish_resource(
		who: T::AccountId,
		kind: OrderKind,
		offer: ResourceOfferOf<T>,
		volume: u32,
	) -> DispatchResult {
		let contract_kind =
			if kind == OrderKind::App { ContractKind::App } else { ContractKind::Dataset };
		Self::usable_contract(offer.resource, contract_kind, Some(&who))?;
		let (resource, price) = (offer.resource, offer.price);
		let terms = match kind {
			OrderKind::App => OrderTerms::App(offer),
			_ => OrderTerms::Dataset(offer),
		};
		let (id, deposit) = Self::store_order(who.clone(), volume, terms)?;
		book::insert_resource::<T>(resource, price, id);
		Self::deposit_event(Event::OrderPublished { id, owner: who, kind, volume, deposit });
		Ok(())
	}

	/// Publishes a pool order, then matches it against waiting requests; returns what the
	/// matching looked at.
	#[allow(clippy::too_many_arguments)]
	pub(crate) fn do_publish_pool(
		who: T::AccountId,
		pool: ContractId,
		price: BalanceOf<T>,
		volume: u32,
		category: Category,
		trust: u32,
		tag: Tag,
		restrictions: RestrictionsOf<T>,
		ad_text: &[u8],
	) -> Result<ArrivalWork, DispatchError> {
		Self::usable_contract(pool, ContractKind::WorkerPool, Some(&who))?;
		let ad = ads::parse_order_ad(ad_text).map_err(|_| Error::<T>::InvalidClassAd)?;
		let ad = ads::store(&ad).ok_or(Error::<T>::AdTooLarge)?;
		let submitted = (saturated(ad_text.len()), saturated(ad.len()));
		let offer = PoolOffer { pool, price, category, trust, tag, restrictions, ad };
		let (id, deposit) = Self::store_order(who.clone(), volume, OrderTerms::Pool(offer))?;
		book::insert_pool::<T>(category, price, id, pool);
		Self::deposit_event(Event::OrderPublished {
			id,
			owner: who,
			kind: OrderKind::Pool,
			volume,
			deposit,
		});
		Ok(ArrivalWork { submitted, ..Self::match_waiting(id, category) })
	}

	/// Submits a request, holds its payment, matches it; returns what the matching looked at.
	pub(crate) fn do_submit_request(
		who: T::AccountId,
		spec: RequestSpecOf<T>,
	) -> Result<ArrivalWork, DispatchError> {
		ensure!(spec.volume > 0, Error::<T>::ZeroVolume);
		ensure!(spec.trust > 0, Error::<T>::ZeroTrust);
		Self::usable_contract(spec.app, ContractKind::App, None)?;
		if let Some(dataset) = spec.dataset {
			Self::usable_contract(dataset, ContractKind::Dataset, None)?;
		}
		let job_ad = ads::parse_order_ad(&spec.job_ad).map_err(|_| Error::<T>::InvalidClassAd)?;
		let job_ad = ads::store(&job_ad).ok_or(Error::<T>::AdTooLarge)?;
		let submitted = (saturated(spec.job_ad.len()), saturated(job_ad.len()));
		let per_task = spec
			.app_max_price
			.checked_add(&spec.dataset_max_price)
			.and_then(|p| p.checked_add(&spec.pool_max_price))
			.ok_or(Error::<T>::PriceOverflow)?;
		let payment = per_task.checked_mul(&spec.volume.into()).ok_or(Error::<T>::PriceOverflow)?;
		let now = frame_system::Pallet::<T>::block_number();
		let expires_at = now.saturating_add(T::RequestLifetime::get());
		let request = Request {
			app: spec.app,
			dataset: spec.dataset,
			app_max_price: spec.app_max_price,
			dataset_max_price: spec.dataset_max_price,
			pool_max_price: spec.pool_max_price,
			category: spec.category,
			trust: spec.trust,
			tag: spec.tag,
			pool: spec.pool,
			params: spec.params,
			beneficiary: spec.beneficiary,
			job_ad,
			weights: spec.weights,
			expires_at,
			determinism: spec.determinism,
		};
		let (id, deposit) =
			Self::store_order(who.clone(), spec.volume, OrderTerms::Request(request))?;
		T::Escrow::lock(Ledger::Order(id), &who, Escrowed::RequesterPayment, payment)
			.map_err(|_| Error::<T>::CannotHoldPayment)?;
		expiry::schedule::<T>(expires_at, id)?;
		Self::deposit_event(Event::RequestSubmitted {
			id,
			requester: who,
			volume: spec.volume,
			payment,
			deposit,
			expires_at,
		});
		let work = ArrivalWork { submitted, ..Self::match_arrival(id) };
		if let Some(order) = Orders::<T>::get(id) {
			book::push_waiting::<T>(spec.category, id);
			Self::deposit_event(Event::RequestWaiting {
				id,
				remaining: order.remaining,
				expires_at,
			});
		}
		Ok(work)
	}

	pub(crate) fn do_cancel(who: T::AccountId, id: OrderId) -> DispatchResult {
		let order = Orders::<T>::get(id).ok_or(Error::<T>::UnknownOrder)?;
		let owns_contract =
			|| order.offered_contract().and_then(T::Registry::owner).is_some_and(|o| o == who);
		ensure!(order.owner == who || owns_contract(), Error::<T>::NotOrderOwner);
		let (deposit_refunded, payment_refunded) = Self::end_order(id, &order)?;
		Self::deposit_event(Event::OrderCancelled {
			id,
			kind: order.kind(),
			deposit_refunded,
			payment_refunded,
		});
		Ok(())
	}

	/// Removes an order and everything that points at it, and gives back its deposit and (for
	/// a request) the payment still held for it.
	pub(crate) fn end_order(
		id: OrderId,
		order: &OrderOf<T>,
	) -> Result<(BalanceOf<T>, BalanceOf<T>), DispatchError> {
		let payment = match &order.terms {
			OrderTerms::Request(request) => {
				book::remove_waiting::<T>(request.category, id);
				// Its expiry entry stays: the hook passes over it (see `expiry`).
				T::Escrow::refund(Ledger::Order(id), &order.owner, Escrowed::RequesterPayment)?
			}
			OrderTerms::Pool(offer) => {
				book::remove_pool::<T>(offer.category, id);
				Zero::zero()
			}
			OrderTerms::App(offer) | OrderTerms::Dataset(offer) => {
				book::remove_resource::<T>(offer.resource, id);
				Zero::zero()
			}
		};
		let deposit = T::Currency::release(
			&HoldReason::OrderDeposit.into(),
			&order.owner,
			order.deposit,
			Precision::BestEffort,
		)?;
		if let Some(contract) = order.offered_contract() {
			OpenOffers::<T>::mutate_exists(contract, |open| {
				*open = open.and_then(|n| n.checked_sub(1)).filter(|n| *n > 0);
			});
		}
		Orders::<T>::remove(id);
		Ok((deposit, payment))
	}

	/// Matches `requests` in turn against the shared offers (see [`Pallet::match_batch`]).
	/// Each request's deal is made in a storage layer of its own, so that a request that
	/// fails changes nothing.
	pub(crate) fn do_match_batch(
		pool_order: OrderId,
		app_order: OrderId,
		dataset_order: Option<OrderId>,
		requests: &[OrderId],
	) -> DispatchResultWithPostInfo {
		ensure!(!requests.is_empty(), Error::<T>::EmptyBatch);
		// The shared offers, each of the kind its place asks for, and their contracts.
		let offer = |id, kind| {
			let order = Orders::<T>::get(id).ok_or(Error::<T>::UnknownOrder)?;
			ensure!(order.kind() == kind, Error::<T>::WrongOrderKind);
			Ok::<_, Error<T>>(order.offered_contract().and_then(T::Registry::info))
		};
		offer(pool_order, OrderKind::Pool)?;
		let app_info = offer(app_order, OrderKind::App)?;
		let dataset_info = match dataset_order {
			Some(id) => offer(id, OrderKind::Dataset)?,
			None => None,
		};
		// Every request that can match names the app and the data set these orders offer,
		// so their host rules are parsed once (a request naming others fails its terms).
		let (app_details, dataset_details) = (
			app_info.as_ref().map(|info| &info.details),
			dataset_info.as_ref().map(|info| &info.details),
		);
		let rules = KeptRules::<T::MaxAdBytes>::new(ads::host_rules(app_details, dataset_details));
		let rule_bytes = rule_text_len(app_details).saturating_add(rule_text_len(dataset_details));
		let rule_work = AdWork { rule_bytes: saturated(rule_bytes), ..AdWork::default() };
		let shared_open = || {
			[Some(pool_order), Some(app_order), dataset_order]
				.into_iter()
				.flatten()
				.all(Orders::<T>::contains_key)
		};
		let (mut tried, mut deals) = (0u32, 0u32);
		let mut extra = Self::ad_extra(rule_work);
		let mut first_error = None;
		for &request in requests {
			if !shared_open() {
				break;
			}
			tried = tried.saturating_add(1);
			let made = frame_support::storage::with_storage_layer(|| {
				let loaded = Loaded::<T>::load(request, pool_order, app_order, dataset_order)?;
				Self::make_deal(loaded, AdsChecked::Pending(&rules))
			});
			match made {
				Ok((work, _)) => {
					deals = deals.saturating_add(1);
					extra = extra.saturating_add(Self::ad_extra(work));
				}
				Err(error) => {
					extra = extra.saturating_add(Self::ad_extra(Self::batch_request_most()));
					first_error.get_or_insert(error);
					Self::deposit_event(Event::RequestSkipped { request, error });
				}
			}
		}
		// Never above the up-front weight: `tried` is at most the batch's length, and each
		// request's extra at most `batch_request_most`'s (the tests check it).
		let charged = T::WeightInfo::match_batch(tried).saturating_add(extra);
		if deals == 0 {
			let error = first_error.unwrap_or_else(|| Error::<T>::OrderUsedUp.into());
			return Err(DispatchErrorWithPostInfo { post_info: Some(charged).into(), error });
		}
		let skipped = tried.saturating_sub(deals);
		let untried = (requests.len() as u32).saturating_sub(tried);
		Self::deposit_event(Event::BatchMatched { pool_order, deals, skipped, untried });
		Ok(Some(charged).into())
	}

	/// Loads the four orders and makes the deal. `ads` says whether this call has evaluated
	/// their ads already (arrival ranks candidates by them first). Returns the work its ads
	/// and rules took here, and how many of the orders the deal used up.
	pub(crate) fn do_match(
		request: OrderId,
		pool_order: OrderId,
		app_order: OrderId,
		dataset_order: Option<OrderId>,
		ads: AdsChecked<T::MaxAdBytes>,
	) -> Result<(AdWork, u32), DispatchError> {
		let loaded = Loaded::<T>::load(request, pool_order, app_order, dataset_order)?;
		Self::make_deal(loaded, ads)
	}

	/// Checks the orders with `check_match` and makes a deal of as many tasks as they all
	/// have left: the requester's payment for them moves to the deal, the rest of what was
	/// held for them goes back, the pool owner's stake is held, used-up orders end. The app's
	/// and the data set's host rules are kept with the deal, for the claims. Returns the work
	/// the ads and rules took (none when `ads` says they were evaluated), and how many of the
	/// orders it used up.
	pub(crate) fn make_deal(
		loaded: Loaded<T>,
		ads: AdsChecked<T::MaxAdBytes>,
	) -> Result<(AdWork, u32), DispatchError> {
		let kept;
		let (rules, evaluated) = match ads {
			AdsChecked::Already(rules) => (rules, true),
			AdsChecked::Pending(rules) => (rules, false),
			AdsChecked::No => {
				kept = KeptRules::new(loaded.host_rules());
				(&kept, false)
			}
		};
		let ad_steps = loaded.check_as(evaluated, &rules.parsed).map_err(Error::<T>::from)?;
		let ad_work = match ads {
			AdsChecked::No => loaded.ad_work(ad_steps),
			// The rules were parsed and stored once for the call, and are charged there.
			AdsChecked::Pending(_) => AdWork { rule_bytes: 0, ..loaded.ad_work(ad_steps) },
			AdsChecked::Already(_) => AdWork::default(),
		};
		let stored_rules = rules.stored.clone().map_err(|()| Error::<T>::HostRulesTooLarge)?;
		let req = request_terms::<T>(&loaded.request).ok_or(Error::<T>::WrongOrderKind)?;
		let pool = pool_terms::<T>(&loaded.pool).ok_or(Error::<T>::WrongOrderKind)?;
		let app =
			resource_terms::<T>(&loaded.app, OrderKind::App).ok_or(Error::<T>::WrongOrderKind)?;
		let dataset_offer = match &loaded.dataset {
			Some((_, order, _)) => Some(
				resource_terms::<T>(order, OrderKind::Dataset).ok_or(Error::<T>::WrongOrderKind)?,
			),
			None => None,
		};
		let volume = [loaded.request.remaining, loaded.pool.remaining, loaded.app.remaining]
			.into_iter()
			.chain(loaded.dataset.as_ref().map(|(_, order, _)| order.remaining))
			.min()
			.unwrap_or(0);
		let tasks: BalanceOf<T> = volume.into();
		let dataset_price = dataset_offer.map_or(Zero::zero(), |d| d.price);
		let per_task = app
			.price
			.checked_add(&dataset_price)
			.and_then(|p| p.checked_add(&pool.price))
			.ok_or(Error::<T>::PriceOverflow)?;
		// The request's maxima add up without overflow: checked when it was submitted.
		let max_per_task = req
			.app_max_price
			.saturating_add(req.dataset_max_price)
			.saturating_add(req.pool_max_price);
		let cost = per_task.checked_mul(&tasks).ok_or(Error::<T>::PriceOverflow)?;
		let surplus = max_per_task
			.checked_sub(&per_task)
			.and_then(|s| s.checked_mul(&tasks))
			.ok_or(Error::<T>::PriceOverflow)?;
		let terms = T::Terms::terms(req.category);
		let pool_stake = pool
			.price
			.checked_mul(&tasks)
			.and_then(|p| p.checked_mul(&terms.pool_stake_percent.into()))
			.ok_or(Error::<T>::PriceOverflow)?
			/ 100u32.into();
		let deal_id = NextDealId::<T>::get();
		let next_deal = deal_id.checked_add(1).ok_or(Error::<T>::IdsExhausted)?;

		let (Some(app_info), Some(pool_info)) = (&loaded.app_info, &loaded.pool_info) else {
			return Err(Error::<T>::UnknownContract.into());
		};
		let ContractDetails::App { runtime, code_hash, .. } = app_info.details else {
			return Err(Error::<T>::WrongContractKind.into());
		};
		let ContractDetails::WorkerPool { worker_stake_ratio, scheduler_reward_ratio, .. } =
			pool_info.details
		else {
			return Err(Error::<T>::WrongContractKind.into());
		};
		let dataset = match (&loaded.dataset, dataset_offer) {
			(Some((order_id, _, Some(info))), Some(offer)) => {
				let ContractDetails::Dataset { checksum, location, .. } = &info.details else {
					return Err(Error::<T>::WrongContractKind.into());
				};
				Some(DealDataset {
					id: offer.resource,
					order: *order_id,
					owner: info.owner.clone(),
					price: offer.price,
					checksum: *checksum,
					location: location
						.clone()
						.try_into()
						.map_err(|_| Error::<T>::LocationTooLong)?,
				})
			}
			_ => None,
		};

		let requester = &loaded.request.owner;
		let from = Ledger::Order(loaded.request_id);
		let to = Ledger::Deal(deal_id);
		T::Escrow::rebook(from, to, requester, Escrowed::RequesterPayment, cost)?;
		T::Escrow::release(from, requester, Escrowed::RequesterPayment, surplus)?;
		T::Escrow::lock(to, &pool_info.owner, Escrowed::PoolStake, pool_stake)
			.map_err(|_| Error::<T>::PoolOwnerCannotStake)?;

		let deal = Deal {
			request: loaded.request_id,
			requester: requester.clone(),
			beneficiary: req.beneficiary.clone(),
			app: req.app,
			app_order: loaded.app_id,
			app_owner: app_info.owner.clone(),
			app_price: app.price,
			app_runtime: runtime,
			code_hash,
			dataset,
			pool: pool.pool,
			pool_order: loaded.pool_id,
			pool_owner: pool_info.owner.clone(),
			pool_price: pool.price,
			pool_stake,
			worker_stake_ratio,
			scheduler_reward_ratio,
			category: req.category,
			trust: req.trust,
			tag: req.tag | app.tag | dataset_offer.map_or(0, |d| d.tag),
			volume,
			params: req.params.clone(),
			job_ad: req.job_ad.clone(),
			limits: req.category.limits(terms.task_seconds),
			terms,
			created_at: frame_system::Pallet::<T>::block_number(),
			determinism: req.determinism,
		};
		Deals::<T>::insert(deal_id, deal);
		if let Some(rules) = stored_rules {
			DealRules::<T>::insert(deal_id, rules);
		}
		NextDealId::<T>::put(next_deal);
		Self::deposit_event(Event::DealMade {
			deal: deal_id,
			request: loaded.request_id,
			pool_order: loaded.pool_id,
			app_order: loaded.app_id,
			dataset_order: loaded.dataset.as_ref().map(|(id, _, _)| *id),
			volume,
			price_per_task: per_task,
			pool_stake,
		});
		let Loaded { request_id, request, pool_id, pool, app_id, app, dataset, .. } = loaded;
		let mut ended = 0u32;
		for (id, order) in [(request_id, request), (pool_id, pool), (app_id, app)]
			.into_iter()
			.chain(dataset.map(|(id, order, _)| (id, order)))
		{
			ended = ended.saturating_add(Self::consume(id, order, volume)? as u32);
		}
		Ok((ad_work, ended))
	}

	/// Takes `volume` tasks from an order; a used-up order ends and its deposit goes back.
	/// Returns whether it ended.
	fn consume(id: OrderId, mut order: OrderOf<T>, volume: u32) -> Result<bool, DispatchError> {
		order.remaining = order.remaining.saturating_sub(volume);
		if order.remaining > 0 {
			Orders::<T>::insert(id, order);
			return Ok(false);
		}
		let (deposit_refunded, _) = Self::end_order(id, &order)?;
		Self::deposit_event(Event::OrderUsedUp { id, kind: order.kind(), deposit_refunded });
		Ok(true)
	}

	/// Checks that everything the market holds is accounted for, and its indices.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut offers: BTreeMap<ContractId, u32> = BTreeMap::new();
		for (id, order) in Orders::<T>::iter() {
			if let Some(contract) = order.offered_contract() {
				*offers.entry(contract).or_default() += 1;
			}
			ensure!(order.remaining > 0, "a used-up order is kept");
			ensure!(order.remaining <= order.volume, "an order has more left than its volume");
			ensure!(id < NextOrderId::<T>::get(), "an order id is not below NextOrderId");
			let entry = deposits.entry(order.owner.clone()).or_insert_with(Zero::zero);
			*entry = entry.saturating_add(order.deposit);
			if let OrderTerms::Request(request) = &order.terms {
				let max_per_task = request
					.app_max_price
					.saturating_add(request.dataset_max_price)
					.saturating_add(request.pool_max_price);
				let expected = max_per_task.saturating_mul(order.remaining.into());
				let held =
					T::Escrow::locked(Ledger::Order(id), &order.owner, Escrowed::RequesterPayment);
				ensure!(
					held == expected,
					"a request's held payment differs from its remaining tasks"
				);
			}
		}
		for (who, deposit) in deposits {
			let held = T::Currency::balance_on_hold(&HoldReason::OrderDeposit.into(), &who);
			ensure!(held == deposit, "an account's order deposits differ from what it holds");
		}
		ensure!(
			OpenOffers::<T>::iter().collect::<BTreeMap<_, _>>() == offers,
			"the count of open offers of a contract differs from the orders"
		);
		for (id, deal) in Deals::<T>::iter() {
			let per_task = deal
				.app_price
				.saturating_add(deal.dataset.as_ref().map_or(Zero::zero(), |d| d.price))
				.saturating_add(deal.pool_price);
			let paid =
				T::Escrow::locked(Ledger::Deal(id), &deal.requester, Escrowed::RequesterPayment);
			// Proof-of-Contribution releases these task by task and checks them exactly; the
			// market checks that no deal holds more than it was made with.
			ensure!(
				paid <= per_task.saturating_mul(deal.volume.into()),
				"a deal holds more payment than its price"
			);
			let staked = T::Escrow::locked(Ledger::Deal(id), &deal.pool_owner, Escrowed::PoolStake);
			ensure!(staked <= deal.pool_stake, "a deal holds more pool stake than its record");
		}
		for (id, rules) in DealRules::<T>::iter() {
			ensure!(Deals::<T>::contains_key(id), "host rules kept for no deal");
			ensure!(!ads::load_rules(&rules).is_empty(), "empty host rules kept for a deal");
		}
		expiry::try_state::<T>()?;
		book::try_state::<T>()
	}
}

impl<T: Config> pallet_registry::ContractUsers for Pallet<T> {
	fn open_offers(id: ContractId) -> u32 {
		OpenOffers::<T>::get(id)
	}
}
