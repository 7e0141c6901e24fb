//! Benchmarks of `pallet-market`, each at the worst case of its bounds: full indices, the
//! most candidates, every candidate making a deal, and ads whose `Requirements` take nearly the
//! whole evaluation budget before coming out true.

use super::*;
use alloc::{format, string::String, vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, Get, Hooks},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use pallet_registry::{BenchmarkContracts, ContractId, ContractKind};
use sp_runtime::traits::Bounded;

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account(name, index, 0);
	let _ = T::Currency::mint_into(&who, BalanceOf::<T>::max_value() / 1_000_000u32.into());
	who
}

/// The attributes of an ad whose `Requirements` doubles references eleven times (about 8,200
/// evaluation steps of the 10,000 allowed) before it comes out true, then `extra`. The
/// references name their own ad (`MY.`), so that its padding does not make lookups dearer.
fn dense_attributes(prefix: &str, extra: &[&str]) -> Vec<String> {
	let mut attributes: Vec<String> = vec![format!("{prefix}0 = 1")];
	for i in 1..=11 {
		attributes.push(format!("{prefix}{i} = MY.{prefix}{p} + MY.{prefix}{p}", p = i - 1));
	}
	attributes.push(format!("Requirements = MY.{prefix}11 > 0"));
	attributes.extend(extra.iter().map(|a| String::from(*a)));
	attributes
}

/// The attributes of an ad whose `Requirements` is `requirements`, then `extra`.
fn light_attributes(requirements: &str, extra: &[&str]) -> Vec<String> {
	let mut attributes = vec![format!("Requirements = {requirements}")];
	attributes.extend(extra.iter().map(|a| String::from(*a)));
	attributes
}

/// `attributes` as ad text filled up to `T::MaxAdText` with attributes nothing refers to:
/// balanced `&&` trees of one-letter references, at most 511 nodes each (an expression may
/// have 512). Many small nodes are what costs the most to parse and to read back per byte,
/// so the ad costs what its size allows however few steps its evaluation takes.
fn padded_ad<T: Config>(mut attributes: Vec<String>) -> BoundedVec<u8, T::MaxAdText> {
	// A tree of `n` leaves: `n` of them and `n - 1` times `(…&&…)`.
	let tree_len = |n: usize| n + (n - 1) * "(&&)".len();
	fn tree(leaves: usize) -> String {
		if leaves <= 1 {
			return String::from("a");
		}
		format!("({}&&{})", tree(leaves / 2), tree(leaves - leaves / 2))
	}
	let max = T::MaxAdText::get() as usize;
	let text = |attributes: &[String]| format!("[ {} ]", attributes.join("; "));
	loop {
		let name = format!("Q{}", attributes.len());
		// The room left for the tree after `; QN = `.
		let room = max.saturating_sub(text(&attributes).len() + name.len() + "; = ".len());
		let Some(leaves) = (1..=256).rev().find(|&n| tree_len(n) <= room) else { break };
		attributes.push(format!("{name} = {}", tree(leaves)));
	}
	BoundedVec::truncate_from(text(&attributes).into_bytes())
}

/// A job ad: `dense` takes about 8,200 steps to evaluate against a pool ad, otherwise a few;
/// `large` is padded to the largest text.
fn job_ad_of<T: Config>(dense: bool, large: bool) -> BoundedVec<u8, T::MaxAdText> {
	let extra = ["Rank = TARGET.Memory"];
	ad_text::<T>(
		match dense {
			true => dense_attributes("J", &extra),
			false => light_attributes("TARGET.Memory > 0", &extra),
		},
		large,
	)
}

/// A pool ad, likewise. The registry's benchmark rules read its `P11`, so they too take about
/// 8,200 steps each against the dense one, a few against the other.
fn pool_ad_of<T: Config>(dense: bool, large: bool) -> BoundedVec<u8, T::MaxAdText> {
	let extra = ["Memory = 65536", "EnergyWatts = 300"];
	ad_text::<T>(
		match dense {
			true => dense_attributes("P", &extra),
			false => light_attributes("true", &extra),
		},
		large,
	)
}

fn ad_text<T: Config>(attributes: Vec<String>, large: bool) -> BoundedVec<u8, T::MaxAdText> {
	match large {
		true => padded_ad::<T>(attributes),
		false => BoundedVec::truncate_from(format!("[ {} ]", attributes.join("; ")).into_bytes()),
	}
}

fn job_ad<T: Config>() -> BoundedVec<u8, T::MaxAdText> {
	job_ad_of::<T>(true, true)
}

fn pool_ad<T: Config>() -> BoundedVec<u8, T::MaxAdText> {
	pool_ad_of::<T>(true, true)
}

struct Market<T: Config> {
	app: ContractId,
	app_owner: T::AccountId,
	dataset: ContractId,
	dataset_owner: T::AccountId,
	pool: ContractId,
	pool_owner: T::AccountId,
}

fn market<T: Config>() -> Market<T>
where
	T::Currency: Mutate<T::AccountId>,
	T::Registry: BenchmarkContracts<T::AccountId>,
{
	market_with_rule_len::<T>(u32::MAX)
}

/// The market with an app and a data set whose rules are at most `rule_len` bytes.
fn market_with_rule_len<T: Config>(rule_len: u32) -> Market<T>
where
	T::Currency: Mutate<T::AccountId>,
	T::Registry: BenchmarkContracts<T::AccountId>,
{
	let (app_owner, dataset_owner, pool_owner) =
		(funded::<T>("app", 0), funded::<T>("dataset", 0), funded::<T>("pool", 0));
	Market {
		app: T::Registry::approved_with_rule_len(&app_owner, ContractKind::App, rule_len),
		dataset: T::Registry::approved_with_rule_len(
			&dataset_owner,
			ContractKind::Dataset,
			rule_len,
		),
		pool: T::Registry::approved(&pool_owner, ContractKind::WorkerPool),
		app_owner,
		dataset_owner,
		pool_owner,
	}
}

fn last_order<T: Config>() -> OrderId {
	NextOrderId::<T>::get() - 1
}

fn resource_order<T: Config>(
	owner: &T::AccountId,
	kind: OrderKind,
	resource: ContractId,
	price: u32,
	volume: u32,
) -> OrderId {
	resource_order_for::<T>(owner, kind, resource, price, volume, None)
}

/// A resource order that only `requester` may use (anyone, when `None`).
fn resource_order_for<T: Config>(
	owner: &T::AccountId,
	kind: OrderKind,
	resource: ContractId,
	price: u32,
	volume: u32,
	requester: Option<T::AccountId>,
) -> OrderId {
	let restrictions = Restrictions { requester, ..Default::default() };
	let offer = ResourceOffer { resource, price: price.into(), tag: 0, restrictions };
	Pallet::<T>::do_publish_resource(owner.clone(), kind, offer, volume).expect("publishes");
	last_order::<T>()
}

fn pool_order<T: Config>(m: &Market<T>, price: u32, volume: u32) -> OrderId {
	pool_order_with::<T>(m, price, volume, &pool_ad::<T>())
}

fn pool_order_with<T: Config>(m: &Market<T>, price: u32, volume: u32, ad: &[u8]) -> OrderId {
	Pallet::<T>::do_publish_pool(
		m.pool_owner.clone(),
		m.pool,
		price.into(),
		volume,
		Category::S,
		u32::MAX,
		u64::MAX,
		Default::default(),
		ad,
	)
	.expect("publishes");
	last_order::<T>()
}

fn spec<T: Config>(m: &Market<T>, requester: &T::AccountId, volume: u32) -> RequestSpecOf<T> {
	RequestSpec {
		app: m.app,
		dataset: Some(m.dataset),
		app_max_price: 1_000u32.into(),
		dataset_max_price: 1_000u32.into(),
		pool_max_price: 1_000u32.into(),
		volume,
		category: Category::S,
		trust: 1,
		tag: 0,
		pool: None,
		params: BoundedVec::truncate_from(vec![b'p'; T::MaxParamsLen::get() as usize]),
		beneficiary: requester.clone(),
		job_ad: job_ad::<T>(),
		weights: CriteriaWeights {
			cost: 1,
			performance: 1,
			trust: 1,
			reliability: 1,
			energy: 1,
			rank: 1,
		},
		determinism: Default::default(),
	}
}

/// A pool order of a pool of its own (`index` tells pools apart), so that the index's share
/// per pool does not keep it out; `ad` is the pool's machine ad.
fn own_pool_order<T: Config>(index: u32, price: u32, ad: &[u8]) -> OrderId
where
	T::Currency: Mutate<T::AccountId>,
	T::Registry: BenchmarkContracts<T::AccountId>,
{
	let owner = funded::<T>("other pool", index);
	let pool = T::Registry::approved(&owner, ContractKind::WorkerPool);
	Pallet::<T>::do_publish_pool(
		owner,
		pool,
		price.into(),
		1,
		Category::S,
		u32::MAX,
		u64::MAX,
		Default::default(),
		ad,
	)
	.expect("publishes");
	last_order::<T>()
}

/// A request that waits: submitted while no pool order fits.
fn waiting_request<T: Config>(m: &Market<T>, requester: &T::AccountId, volume: u32) -> OrderId {
	waiting_request_with::<T>(m, requester, volume, job_ad::<T>())
}

fn waiting_request_with<T: Config>(
	m: &Market<T>,
	requester: &T::AccountId,
	volume: u32,
	job_ad: BoundedVec<u8, T::MaxAdText>,
) -> OrderId {
	let request_spec = RequestSpec { job_ad, ..spec::<T>(m, requester, volume) };
	Pallet::<T>::do_submit_request(requester.clone(), request_spec).expect("submits");
	last_order::<T>()
}

/// Full app and data set indices in which only the dearest order of each serves anyone: the
/// others are kept for another requester, so that arrival tries every pair of them before
/// the one that fits.
fn crowded_resource_books<T: Config>(m: &Market<T>) {
	let someone_else: T::AccountId = account("someone else", 0, 0);
	for (owner, kind, resource) in
		[(&m.app_owner, OrderKind::App, m.app), (&m.dataset_owner, OrderKind::Dataset, m.dataset)]
	{
		for _ in 1..T::MaxCandidates::get() {
			let only = Some(someone_else.clone());
			resource_order_for::<T>(owner, kind, resource, 1, u32::MAX, only);
		}
		resource_order::<T>(owner, kind, resource, 2, u32::MAX);
		assert!(ResourceBook::<T>::get(resource).is_full());
	}
}

/// The market of an arrival benchmark: with the largest ads and the densest rules, or with
/// small ones (what larger ones add is charged by their work, `Pallet::arrival_weight`).
fn arrival_market<T: Config>(
	largest: bool,
) -> (Market<T>, BoundedVec<u8, T::MaxAdText>, BoundedVec<u8, T::MaxAdText>)
where
	T::Currency: Mutate<T::AccountId>,
	T::Registry: BenchmarkContracts<T::AccountId>,
{
	let m = market_with_rule_len::<T>(if largest { u32::MAX } else { 0 });
	(m, job_ad_of::<T>(largest, largest), pool_ad_of::<T>(largest, largest))
}

/// `w` waiting requests, each matched by the new pool order into a deal; the new order enters
/// a full pool index in which its pool holds its share, displacing its own dearest. Returns
/// the market and the new order's ad.
fn waiting_for_a_pool_order<T: Config>(
	w: u32,
	largest: bool,
) -> (Market<T>, BoundedVec<u8, T::MaxAdText>)
where
	T::Currency: Mutate<T::AccountId>,
	T::Registry: BenchmarkContracts<T::AccountId>,
{
	let (m, job_ad, pool_ad) = arrival_market::<T>(largest);
	crowded_resource_books::<T>(&m);
	for i in 0..w {
		waiting_request_with::<T>(&m, &funded::<T>("requester", i), 1, job_ad.clone());
	}
	// Orders that refuse every job, so that the waiting requests stay for the new one.
	let refusing = b"[ Memory = 65536; Requirements = false ]";
	let share = T::MaxIndexedPerPool::get().min(T::MaxCandidates::get());
	for i in 0..share {
		Pallet::<T>::do_publish_pool(
			m.pool_owner.clone(),
			m.pool,
			(10 + i).into(),
			1,
			Category::S,
			u32::MAX,
			u64::MAX,
			Default::default(),
			refusing,
		)
		.expect("publishes");
	}
	for i in share..T::MaxCandidates::get() {
		own_pool_order::<T>(i, 2, refusing);
	}
	assert!(PoolBook::<T>::get(Category::S).is_full());
	(m, pool_ad)
}

/// `c` pool orders in the index, each compatible, for a request of `c` tasks to come. Returns
/// the market and the request's job ad.
fn candidates_for_a_request<T: Config>(
	c: u32,
	largest: bool,
) -> (Market<T>, BoundedVec<u8, T::MaxAdText>)
where
	T::Currency: Mutate<T::AccountId>,
	T::Registry: BenchmarkContracts<T::AccountId>,
{
	let (m, job_ad, pool_ad) = arrival_market::<T>(largest);
	crowded_resource_books::<T>(&m);
	for i in 0..c {
		own_pool_order::<T>(i, 1 + i, &pool_ad);
	}
	(m, job_ad)
}

/// Four orders ready for a proposed match, and who proposes it.
struct ProposedMatch<T: Config> {
	caller: T::AccountId,
	request: OrderId,
	pool: OrderId,
	app: OrderId,
	dataset: OrderId,
}

/// Orders that match, not yet matched, with ads and rules `dense` to evaluate (at least
/// `DENSE_MATCH_STEPS` steps, else a few) and `large` (at least `LARGE_AD_BYTES` and
/// `LARGE_RULE_BYTES`, else small). The deal is of one task and uses up the first `ended` of
/// the request, the pool order, the app order and the data set order; the others have two.
fn proposed_match<T: Config>(dense: bool, large: bool, ended: u32) -> ProposedMatch<T>
where
	T::Currency: Mutate<T::AccountId>,
	T::Registry: BenchmarkContracts<T::AccountId>,
{
	assert!((1..=crate::match_weight::MAX_ORDERS_ENDED).contains(&ended));
	let volume = |place: u32| if place < ended { 1 } else { 2 };
	let m = market_with_rule_len::<T>(if large { u32::MAX } else { 0 });
	let requester = funded::<T>("requester", 0);
	let request_spec =
		RequestSpec { job_ad: job_ad_of::<T>(dense, large), ..spec::<T>(&m, &requester, 1) };
	Pallet::<T>::do_submit_request(requester.clone(), request_spec).expect("submits");
	let request = last_order::<T>();
	// Published after the request, and out of the index, so nothing matched them yet.
	let app = resource_order::<T>(&m.app_owner, OrderKind::App, m.app, 1, volume(2));
	let dataset =
		resource_order::<T>(&m.dataset_owner, OrderKind::Dataset, m.dataset, 1, volume(3));
	Waiting::<T>::remove(Category::S);
	let pool = pool_order_with::<T>(&m, 1, volume(1), &pool_ad_of::<T>(dense, large));
	let loaded = crate::dispatchable_impls::Loaded::<T>::load(request, pool, app, Some(dataset))
		.expect("orders");
	let steps = loaded.check_as(false, &loaded.host_rules()).expect("the orders match");
	let work = loaded.ad_work(steps);
	match dense {
		true => assert!(steps >= crate::match_weight::DENSE_MATCH_STEPS, "{work:?}"),
		false => assert!(steps < 100, "{work:?}"),
	}
	match large {
		true => assert!(
			work.ad_bytes >= crate::match_weight::LARGE_AD_BYTES
				&& work.rule_bytes >= crate::match_weight::LARGE_RULE_BYTES,
			"{work:?}"
		),
		false => assert!(work.ad_bytes < 1_000 && work.rule_bytes < 200, "{work:?}"),
	}
	ProposedMatch { caller: funded::<T>("matcher", 0), request, pool, app, dataset }
}

/// The due block of a request submitted now, with the expiry walk brought up to it (a chain
/// runs the hook in every block).
fn due_and_walked_to<T: Config>() -> BlockNumberFor<T> {
	let due = frame_system::Pallet::<T>::block_number() + T::RequestLifetime::get();
	ExpiryCursor::<T>::put((due, 0));
	due
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>, T::Registry: BenchmarkContracts<T::AccountId>)]
mod benchmarks {
	use super::*;

	/// Into a full index, at its cheapest end (the dearest entry is displaced).
	#[benchmark]
	fn publish_resource_order() {
		let m = market::<T>();
		for _ in 0..T::MaxCandidates::get() {
			resource_order::<T>(&m.app_owner, OrderKind::App, m.app, 10, 1);
		}
		#[extrinsic_call]
		publish_app_order(
			RawOrigin::Signed(m.app_owner.clone()),
			m.app,
			1u32.into(),
			1,
			0,
			Default::default(),
		);
		assert_eq!(ResourceBook::<T>::get(m.app)[0].1, last_order::<T>());
	}

	/// `w` waiting requests, each matched by the new pool order into a deal (the new order
	/// enters a full pool index in which its pool holds its share, displacing its own
	/// dearest). Small ads and rules: what larger ones add is charged by their work.
	#[benchmark]
	fn publish_pool_order(w: Linear<0, { T::MaxWaiting::get() }>) {
		let (m, pool_ad) = waiting_for_a_pool_order::<T>(w, false);
		#[extrinsic_call]
		_(
			RawOrigin::Signed(m.pool_owner.clone()),
			m.pool,
			1u32.into(),
			w.max(1),
			Category::S,
			u32::MAX,
			u64::MAX,
			Default::default(),
			pool_ad,
		);
		assert_eq!(NextDealId::<T>::get(), u64::from(w));
	}

	/// `publish_pool_order` with the largest ads and the densest rules: not charged, measured
	/// to check that charging larger ads by their work covers them (`arrival_model_checks`).
	#[benchmark]
	fn publish_pool_order_largest_ads(w: Linear<0, { T::MaxWaiting::get() }>) {
		let (m, pool_ad) = waiting_for_a_pool_order::<T>(w, true);
		#[block]
		{
			Pallet::<T>::publish_pool_order(
				RawOrigin::Signed(m.pool_owner.clone()).into(),
				m.pool,
				1u32.into(),
				w.max(1),
				Category::S,
				u32::MAX,
				u64::MAX,
				Default::default(),
				pool_ad,
			)
			.expect("publishes");
		}
		assert_eq!(NextDealId::<T>::get(), u64::from(w));
	}

	/// `c` pool orders in the index, each compatible: ranked, then each makes a deal. Small
	/// ads and rules: what larger ones add is charged by their work.
	#[benchmark]
	fn submit_request(c: Linear<0, { T::MaxCandidates::get() }>) {
		let (m, job_ad) = candidates_for_a_request::<T>(c, false);
		let requester = funded::<T>("requester", 0);
		let request_spec = RequestSpec { job_ad, ..spec::<T>(&m, &requester, c.max(1)) };
		#[extrinsic_call]
		_(RawOrigin::Signed(requester.clone()), request_spec);
		assert_eq!(NextDealId::<T>::get(), u64::from(c));
	}

	/// `submit_request` with the largest ads and the densest rules: not charged, measured to
	/// check that charging larger ads by their work covers them (`arrival_model_checks`).
	#[benchmark]
	fn submit_request_largest_ads(c: Linear<0, { T::MaxCandidates::get() }>) {
		let (m, job_ad) = candidates_for_a_request::<T>(c, true);
		let requester = funded::<T>("requester", 0);
		let request_spec = RequestSpec { job_ad, ..spec::<T>(&m, &requester, c.max(1)) };
		#[block]
		{
			Pallet::<T>::submit_request(RawOrigin::Signed(requester.clone()).into(), request_spec)
				.expect("submits");
		}
		assert_eq!(NextDealId::<T>::get(), u64::from(c));
	}

	/// A waiting request in a full waiting list, with payment held.
	#[benchmark]
	fn cancel_order() {
		let m = market::<T>();
		let requester = funded::<T>("requester", 0);
		let ids: Vec<OrderId> =
			(0..T::MaxWaiting::get()).map(|_| waiting_request::<T>(&m, &requester, 10)).collect();
		let id = ids[ids.len() - 1];
		#[extrinsic_call]
		_(RawOrigin::Signed(requester), id);
		assert!(Orders::<T>::get(id).is_none());
	}

	/// A pool order left by a former owner of the pool, last in a full index, ended by the
	/// pool's current owner (one more lookup than the order's owner needs).
	#[benchmark]
	fn cancel_offer() {
		use frame_support::traits::{fungible::MutateHold, tokens::Precision};
		let m = market::<T>();
		let last = T::MaxCandidates::get() - 1;
		for i in 0..last {
			own_pool_order::<T>(i, 10 + i, &pool_ad::<T>());
		}
		let id = pool_order::<T>(&m, 10 + last, 1);
		assert_eq!(PoolBook::<T>::get(Category::S).last().map(|(_, e)| *e), Some(id));
		let former = funded::<T>("former", 0);
		let deposit = Orders::<T>::get(id).expect("published").deposit;
		let reason = HoldReason::OrderDeposit.into();
		T::Currency::release(&reason, &m.pool_owner, deposit, Precision::Exact).expect("held");
		T::Currency::hold(&reason, &former, deposit).expect("funded");
		Orders::<T>::mutate(id, |order| order.as_mut().expect("published").owner = former);
		#[extrinsic_call]
		cancel_order(RawOrigin::Signed(m.pool_owner.clone()), id);
		assert!(Orders::<T>::get(id).is_none());
		assert_eq!(OpenOffers::<T>::get(m.pool), 0);
	}

	/// Four orders, a data set among them. `s = 1`: ads and host rules whose evaluation takes
	/// at least `DENSE_MATCH_STEPS` steps (a few at `s = 0`); `b = 1`: ads of the largest text
	/// and the registry's benchmark rules (at least `LARGE_AD_BYTES` and `LARGE_RULE_BYTES`;
	/// short ones at `b = 0`); `e`: orders the deal uses up, the request first. The call is
	/// charged between them by the work its ads take (`match_weight`) and refunded what
	/// ending the orders it leaves open would take.
	#[benchmark]
	fn match_orders(
		s: Linear<0, 1>,
		b: Linear<0, 1>,
		e: Linear<1, { crate::match_weight::MAX_ORDERS_ENDED }>,
	) {
		let proposed = proposed_match::<T>(s == 1, b == 1, e);
		let offers = [proposed.pool, proposed.app, proposed.dataset];
		#[extrinsic_call]
		_(
			RawOrigin::Signed(proposed.caller),
			proposed.request,
			proposed.pool,
			proposed.app,
			Some(proposed.dataset),
		);
		assert_eq!(NextDealId::<T>::get(), 1);
		assert!(DealRules::<T>::contains_key(0), "the host rules are kept with the deal");
		let open = offers.into_iter().filter(|id| Orders::<T>::contains_key(id)).count();
		assert_eq!(open as u32 + e, crate::match_weight::MAX_ORDERS_ENDED);
	}

	/// `match_orders` at `s = 0, b = 0` (every order used up), measured alone: the
	/// benchmarking CLI varies one component while it holds the others at their maximum, so
	/// the fit above never runs this corner. The charge's base is the larger of the two.
	#[benchmark]
	fn match_orders_small() {
		let proposed = proposed_match::<T>(false, false, crate::match_weight::MAX_ORDERS_ENDED);
		#[extrinsic_call]
		match_orders(
			RawOrigin::Signed(proposed.caller),
			proposed.request,
			proposed.pool,
			proposed.app,
			Some(proposed.dataset),
		);
		assert_eq!(NextDealId::<T>::get(), 1);
	}

	/// `n` requests of distinct requesters, proposed against one pool order, app order and
	/// data set order that the last request uses up. The ads and rules are small: what larger
	/// ones add is charged as in `match_orders`.
	#[benchmark]
	fn match_batch(n: Linear<1, { T::MaxBatchedRequests::get() }>) {
		let m = market_with_rule_len::<T>(0);
		let mut requests = Vec::new();
		for i in 0..n {
			let requester = funded::<T>("requester", i);
			let request_spec = RequestSpec {
				job_ad: job_ad_of::<T>(false, false),
				..spec::<T>(&m, &requester, 1)
			};
			Pallet::<T>::do_submit_request(requester, request_spec).expect("submits");
			requests.push(last_order::<T>());
		}
		// Published after the requests, and out of the index, so nothing matched them yet.
		let app = resource_order::<T>(&m.app_owner, OrderKind::App, m.app, 1, n);
		let dataset = resource_order::<T>(&m.dataset_owner, OrderKind::Dataset, m.dataset, 1, n);
		Waiting::<T>::remove(Category::S);
		let pool = pool_order_with::<T>(&m, 1, n, &pool_ad_of::<T>(false, false));
		let requests: BoundedVec<_, T::MaxBatchedRequests> =
			requests.try_into().expect("within the bound");
		#[extrinsic_call]
		_(RawOrigin::Signed(funded::<T>("matcher", 0)), pool, app, Some(dataset), requests);
		assert_eq!(NextDealId::<T>::get(), DealId::from(n));
		assert!(!Orders::<T>::contains_key(pool), "the last request used the pool order up");
	}

	/// `n` requests of `n` requesters expiring in one block, each with payment held and in the
	/// waiting list.
	#[benchmark]
	fn expire_requests(n: Linear<0, { T::MaxExpiriesPerBlock::get() }>) {
		let m = market::<T>();
		// Each of its own requester: each refund writes a balance of its own.
		for i in 0..n {
			waiting_request::<T>(&m, &funded::<T>("requester", i), 10);
		}
		let due = due_and_walked_to::<T>();
		#[block]
		{
			Pallet::<T>::on_initialize(due);
		}
		assert_eq!(Orders::<T>::iter().count(), 0);
		assert_eq!(ExpiryQueue::<T>::iter().count(), 0, "every entry was looked at");
	}

	/// `s` entries of one block's expiries whose requests were matched or cancelled before:
	/// the walk passes over each for a read. (Measured apart from `expire_requests`: one
	/// component each fits better than two on this machine's noisy timings.)
	#[benchmark]
	fn pass_over_ended(s: Linear<0, { T::MaxExpiryChecksPerBlock::get() / 2 }>) {
		let due = due_and_walked_to::<T>();
		for gone in 0..s {
			expiry::schedule::<T>(due, OrderId::MAX - OrderId::from(gone)).expect("room");
		}
		#[block]
		{
			Pallet::<T>::on_initialize(due);
		}
		assert_eq!(ExpiryQueue::<T>::iter().count(), 0, "every entry was looked at");
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}

/// Arrival is charged its benchmark with small ads plus what each pair of ads it evaluates
/// would add to a proposed match (`Pallet::arrival_weight`). These check that this charge
/// covers what the same calls measured with the largest ads and the densest rules, at every
/// number of candidates up to the runtime's bound (the mock's `()` weights are the runtime's).
#[cfg(test)]
mod arrival_model_checks {
	use super::*;
	use crate::{
		arrival::ArrivalWork,
		mock::{new_test_ext, Test},
	};
	use frame_support::weights::Weight;

	type Weights = <Test as Config>::WeightInfo;

	/// The runtime's `MaxCandidates` and `MaxWaiting` (the mock's are smaller).
	const RUNTIME_BOUND: u32 = 16;

	/// `charged(n)` against `measured(n)` for every `n` up to the runtime's bound, each pair
	/// of ads taking the work the mock's run took for one.
	fn covers(work: &ArrivalWork, charged: fn(u32) -> Weight, measured: fn(u32) -> Weight) {
		// What was recorded for each order looked at (the same ads for each).
		let each = work.ad_work.len() / work.looked_at as usize;
		let one = &work.ad_work[..each];
		assert!(work.ad_work.chunks(each).all(|chunk| chunk == one), "{work:?}");
		for n in 0..=RUNTIME_BOUND {
			let n_pairs =
				ArrivalWork { looked_at: n, ad_work: one.repeat(n as usize), ..work.clone() };
			let charged = Pallet::<Test>::arrival_weight(charged(n), &n_pairs);
			let measured = measured(n);
			assert!(
				charged.ref_time() >= measured.ref_time(),
				"{n} pairs: charged {charged}, measured {measured}"
			);
		}
	}

	#[test]
	fn a_request_with_the_largest_ads_is_charged_at_least_what_it_measured() {
		new_test_ext().execute_with(|| {
			let c: u32 = <Test as Config>::MaxCandidates::get();
			let (m, job_ad) = candidates_for_a_request::<Test>(c, true);
			let requester = funded::<Test>("requester", 0);
			let request_spec = RequestSpec { job_ad, ..spec::<Test>(&m, &requester, c) };
			let work = Pallet::<Test>::do_submit_request(requester, request_spec).expect("submits");
			assert_eq!(NextDealId::<Test>::get(), u64::from(c));
			assert!(work.ad_work[0].steps >= crate::match_weight::DENSE_MATCH_STEPS, "{work:?}");
			covers(&work, Weights::submit_request, Weights::submit_request_largest_ads);
		});
	}

	#[test]
	fn a_pool_order_with_the_largest_ads_is_charged_at_least_what_it_measured() {
		new_test_ext().execute_with(|| {
			let w: u32 = <Test as Config>::MaxWaiting::get();
			let (m, pool_ad) = waiting_for_a_pool_order::<Test>(w, true);
			let work = Pallet::<Test>::do_publish_pool(
				m.pool_owner.clone(),
				m.pool,
				1u32.into(),
				w,
				Category::S,
				u32::MAX,
				u64::MAX,
				Default::default(),
				&pool_ad,
			)
			.expect("publishes");
			assert_eq!(NextDealId::<Test>::get(), u64::from(w));
			covers(&work, Weights::publish_pool_order, Weights::publish_pool_order_largest_ads);
		});
	}
}
