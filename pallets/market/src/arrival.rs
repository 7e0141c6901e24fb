//! Matching at arrival, and the ranking of compatible offers that it shares with the runtime
//! API. Every read here is bounded by the indices of [`book`](crate::book), so the cost does
//! not grow with the size of the book.

use super::*;
use crate::{
	dispatchable_impls::{
		candidate_view, pool_terms, request_terms, rule_text_len, AdsChecked, KeptRules,
	},
	match_weight::AdWork,
	matching::{ads_mismatch, term_mismatches, HostRules},
	scheduling::{Alternative, CRITERIA},
};
use alloc::vec::Vec;
use frame_support::storage::with_storage_layer;
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_registry::{ContractInfo, ContractRegistry};
use sp_runtime::{
	traits::{Saturating, UniqueSaturatedInto},
	DispatchError,
};

/// A compatible offer for a request, with its PROMETHEE net flow (millionths).
#[derive(Clone, Debug, PartialEq, Eq, codec::Encode, codec::Decode, scale_info::TypeInfo)]
pub struct RankedOffer<Balance> {
	pub pool_order: OrderId,
	pub app_order: OrderId,
	pub dataset_order: Option<OrderId>,
	/// App, data set and pool prices per task, together.
	pub price_per_task: Balance,
	pub net_flow: i64,
}

/// The compatible offers for a request, best first, with the host rules they were checked
/// with, the work of reading the job ad back and parsing the rules, and the work each
/// candidate's ads took to evaluate.
pub(crate) struct Ranking<Balance> {
	pub offers: Vec<RankedOffer<Balance>>,
	pub rules: HostRules,
	pub setup: AdWork,
	pub ad_work: Vec<AdWork>,
}

/// What a call that matches at arrival did with ads, for its weight
/// (`Pallet::arrival_weight`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ArrivalWork {
	/// Orders looked at: candidates, or waiting requests.
	pub looked_at: u32,
	/// The submitted ad: its text's length and its stored form's.
	pub submitted: (u32, u32),
	/// Work done once before looking at orders (a request's job ad read back and its host
	/// rules parsed and stored; a pool order's ad read back).
	pub setup: AdWork,
	/// One entry per pair of ads evaluated.
	pub ad_work: Vec<AdWork>,
	/// Storage reads the benchmark may have counted only once: the app and data set orders
	/// (and their indices and contracts) of each waiting request, which in the benchmark
	/// all name one app and one data set.
	pub reads: u32,
}

pub(crate) fn saturated(n: usize) -> u32 {
	u32::try_from(n).unwrap_or(u32::MAX)
}

/// The app and data set orders a request could use, loaded once.
struct Offers<T: Config> {
	apps: Vec<(OrderId, OrderOf<T>)>,
	app_info: Option<ContractInfo<T::AccountId>>,
	datasets: Vec<(OrderId, OrderOf<T>)>,
	dataset_info: Option<ContractInfo<T::AccountId>>,
	/// The block, read once: every pair tried asks whether the request is due.
	now: BlockNumberFor<T>,
}

impl<T: Config> Offers<T> {
	/// The storage reads that loading these took: two indices, their orders, two contracts.
	fn reads(&self) -> u32 {
		saturated(self.apps.len().saturating_add(self.datasets.len()).saturating_add(4))
	}

	/// The length of the app's and the data set's rule text.
	fn rule_bytes(&self) -> u32 {
		let rule_len = |info: &Option<ContractInfo<T::AccountId>>| {
			rule_text_len(info.as_ref().map(|i| &i.details))
		};
		saturated(rule_len(&self.app_info).saturating_add(rule_len(&self.dataset_info)))
	}

	/// What the request's app and data set demand of a host.
	fn host_rules(&self) -> HostRules {
		ads::host_rules(
			self.app_info.as_ref().map(|info| &info.details),
			self.dataset_info.as_ref().map(|info| &info.details),
		)
	}

	/// The offers of `request`'s app and data set, to be checked as of block `now`.
	fn for_request(request: &RequestOf<T>, now: BlockNumberFor<T>) -> Self {
		let load = |resource| -> Vec<(OrderId, OrderOf<T>)> {
			ResourceBook::<T>::get(resource)
				.into_iter()
				.filter_map(|(_, id)| Orders::<T>::get(id).map(|order| (id, order)))
				.collect()
		};
		Offers {
			apps: load(request.app),
			app_info: T::Registry::info(request.app),
			datasets: request.dataset.map(load).unwrap_or_default(),
			dataset_info: request.dataset.and_then(T::Registry::info),
			now,
		}
	}

	/// The cheapest app order and data set order whose terms fit `request` and `pool` (the
	/// ads are not looked at).
	fn pick(
		&self,
		request: &OrderOf<T>,
		requested_dataset: bool,
		pool: &OrderOf<T>,
		pool_info: &Option<ContractInfo<T::AccountId>>,
	) -> Option<(OrderId, Option<OrderId>)> {
		let datasets: Vec<Option<&(OrderId, OrderOf<T>)>> = if requested_dataset {
			self.datasets.iter().map(Some).collect()
		} else {
			alloc::vec![None]
		};
		for (app_id, app) in &self.apps {
			for dataset in &datasets {
				let view = candidate_view::<T>(
					request,
					&self.app_info,
					pool,
					pool_info,
					app,
					dataset.map(|(_, order)| (order, &self.dataset_info)),
					self.now,
				)?;
				if term_mismatches(&view, false).is_empty() {
					return Some((*app_id, dataset.map(|(id, _)| *id)));
				}
			}
		}
		None
	}
}

impl<T: Config> Pallet<T> {
	/// The offers among `pool_orders` that can serve request `request_id`, best first by the
	/// requester's weights, and the host rules of its app and data set they were checked with,
	/// as of block `now` (a request due by then matches nothing).
	pub(crate) fn rank_offers_for(
		request_id: OrderId,
		pool_orders: impl Iterator<Item = OrderId>,
		now: BlockNumberFor<T>,
	) -> Result<Ranking<BalanceOf<T>>, DispatchError> {
		let request = Orders::<T>::get(request_id).ok_or(Error::<T>::UnknownOrder)?;
		let req = request_terms::<T>(&request).ok_or(Error::<T>::WrongOrderKind)?;
		let job_ad = ads::load(&req.job_ad);
		let offers = Offers::<T>::for_request(req, now);
		let rules = offers.host_rules();
		let setup = AdWork {
			steps: 0,
			ad_bytes: saturated(req.job_ad.len()),
			rule_bytes: offers.rule_bytes(),
		};
		let limits = ads::limits();
		let mut found: Vec<(RankedOffer<BalanceOf<T>>, Alternative)> = Vec::new();
		let mut ad_work = Vec::new();
		for pool_id in pool_orders {
			let Some(pool) = Orders::<T>::get(pool_id) else { continue };
			let Some(offer) = pool_terms::<T>(&pool) else { continue };
			let pool_info = T::Registry::info(offer.pool);
			let Some((app_order, dataset_order)) =
				offers.pick(&request, req.dataset.is_some(), &pool, &pool_info)
			else {
				continue;
			};
			let pool_ad = ads::load(&offer.ad);
			let (mismatch, steps) =
				ads_mismatch(&job_ad, &pool_ad, req.determinism, &rules, &limits);
			// The job ad was read back and the rules parsed and stored once (`setup`).
			ad_work.push(AdWork { steps, ad_bytes: saturated(offer.ad.len()), rule_bytes: 0 });
			if mismatch.is_some() {
				continue;
			}
			let price_of = |id: Option<OrderId>, list: &[(OrderId, OrderOf<T>)]| {
				list.iter()
					.find(|(entry, _)| Some(*entry) == id)
					.and_then(|(_, order)| match &order.terms {
						OrderTerms::App(o) | OrderTerms::Dataset(o) => Some(o.price),
						_ => None,
					})
					.unwrap_or_default()
			};
			let price_per_task = offer
				.price
				.saturating_add(price_of(Some(app_order), &offers.apps))
				.saturating_add(price_of(dataset_order, &offers.datasets));
			let price: u128 = price_per_task.unique_saturated_into();
			let figures = T::PoolStatistics::figures(offer.pool);
			let (energy, energy_steps) = ads::milli_number(&pool_ad, "EnergyWatts", &job_ad);
			let (rank, rank_steps) =
				ads::milli_number(&job_ad, iexec_classad::matching::RANK, &pool_ad);
			// Ranking's two evaluations, apart from the match's four (each within its bound).
			ad_work.push(AdWork {
				steps: energy_steps.saturating_add(rank_steps),
				..AdWork::default()
			});
			let values: [Option<i64>; CRITERIA] = [
				Some(i64::try_from(price).unwrap_or(i64::MAX)),
				figures.mean_task_seconds.map(i64::from),
				figures.reputation.map(i64::from),
				figures.reliability_ppm.map(i64::from),
				energy,
				rank,
			];
			found.push((
				RankedOffer {
					pool_order: pool_id,
					app_order,
					dataset_order,
					price_per_task,
					net_flow: 0,
				},
				Alternative { values, price, id: pool_id },
			));
		}
		let w = req.weights;
		let weights =
			[w.cost, w.performance, w.trust, w.reliability, w.energy, w.rank].map(u32::from);
		let alternatives: Vec<Alternative> = found.iter().map(|(_, a)| a.clone()).collect();
		let ranked = scheduling::rank(&alternatives, &weights)
			.into_iter()
			.map(|(index, net_flow)| RankedOffer { net_flow, ..found[index].0.clone() })
			.collect();
		Ok(Ranking { offers: ranked, rules, setup, ad_work })
	}

	/// Matches a new request against the cheapest pool orders of its category, best ranked
	/// first, until it has no task left. Returns what it looked at.
	pub(crate) fn match_arrival(request_id: OrderId) -> ArrivalWork {
		let Some(category) = Orders::<T>::get(request_id)
			.and_then(|order| request_terms::<T>(&order).map(|r| r.category))
		else {
			return ArrivalWork::default();
		};
		let book = PoolBook::<T>::get(category);
		let looked_at = book.len() as u32;
		let Ok(Ranking { offers: ranked, rules, setup, ad_work }) = Self::rank_offers_for(
			request_id,
			book.into_iter().map(|(_, id)| id),
			frame_system::Pallet::<T>::block_number(),
		) else {
			return ArrivalWork { looked_at, ..Default::default() };
		};
		// Parsed and stored once, for every deal of this request.
		let rules = KeptRules::<T::MaxAdBytes>::new(rules);
		for offer in ranked {
			if !Orders::<T>::contains_key(request_id) {
				break;
			}
			// A candidate that fails now (an order used up by the deal before, a pool owner
			// who cannot stake) is skipped, with nothing of its attempt kept.
			let _ = with_storage_layer(|| {
				Self::do_match(
					request_id,
					offer.pool_order,
					offer.app_order,
					offer.dataset_order,
					AdsChecked::Already(&rules),
				)
			});
		}
		ArrivalWork { looked_at, setup, ad_work, ..Default::default() }
	}

	/// Matches a new pool order against the oldest waiting requests of its category, until it
	/// has no task left. Returns what it looked at.
	pub(crate) fn match_waiting(pool_id: OrderId, category: Category) -> ArrivalWork {
		let waiting = Waiting::<T>::get(category);
		let limits = ads::limits();
		let mut ad_work = Vec::new();
		// The new order's ad, read back once: an order's ad never changes.
		let Some(stored_ad) =
			Orders::<T>::get(pool_id).and_then(|pool| pool_terms::<T>(&pool).map(|o| o.ad.clone()))
		else {
			return ArrivalWork::default();
		};
		let pool_ad = ads::load(&stored_ad);
		let setup = AdWork { ad_bytes: saturated(stored_ad.len()), ..AdWork::default() };
		let mut reads = 0u32;
		let now = frame_system::Pallet::<T>::block_number();
		for request_id in waiting.iter().copied() {
			let Some(pool) = Orders::<T>::get(pool_id) else { break };
			let Some(offer) = pool_terms::<T>(&pool) else { break };
			let Some(request) = Orders::<T>::get(request_id) else { continue };
			let Some(req) = request_terms::<T>(&request) else { continue };
			if req.expires_at <= now {
				// `check_match` would refuse it; its offers need not be read first.
				continue;
			}
			let pool_info = T::Registry::info(offer.pool);
			let offers = Offers::<T>::for_request(req, now);
			reads = reads.saturating_add(offers.reads());
			let Some((app_order, dataset_order)) =
				offers.pick(&request, req.dataset.is_some(), &pool, &pool_info)
			else {
				continue;
			};
			let job_ad = ads::load(&req.job_ad);
			// Each request has its own app and data set, so their rules are parsed for it.
			let rules = offers.host_rules();
			let (mismatch, steps) =
				ads_mismatch(&job_ad, &pool_ad, req.determinism, &rules, &limits);
			ad_work.push(AdWork {
				steps,
				ad_bytes: saturated(req.job_ad.len()),
				rule_bytes: offers.rule_bytes(),
			});
			if mismatch.is_some() {
				continue;
			}
			let rules = KeptRules::<T::MaxAdBytes>::new(rules);
			let _ = with_storage_layer(|| {
				Self::do_match(
					request_id,
					pool_id,
					app_order,
					dataset_order,
					AdsChecked::Already(&rules),
				)
			});
		}
		ArrivalWork { looked_at: waiting.len() as u32, setup, ad_work, reads, ..Default::default() }
	}
}
