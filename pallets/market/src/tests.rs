//! The market's calls, each error, both matching paths, ranking, cancelling, expiry and the
//! runtime API, in the mock runtime with the real registry and escrow.

use crate::{expiry::Walk, mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::InspectHold, Hooks},
	weights::Weight,
};
use pallet_escrow::{Escrow as _, HoldReason as Escrowed, Ledger};
use pallet_registry::ContractId;

type Market = crate::Pallet<Test>;
type Error = crate::Error<Test>;

pub const MACHINE: &str = "[ Memory = 8192; Cpus = 4; EnergyWatts = 300 ]";
pub const JOB: &str = "[ Requirements = TARGET.Memory >= 4096 ]";

/// An approved app, data set and pool.
pub struct World {
	pub app: ContractId,
	pub dataset: ContractId,
	pub pool: ContractId,
}

pub fn world() -> World {
	World {
		app: approved_app(APP_OWNER),
		dataset: approved_dataset(DATASET_OWNER),
		pool: approved_pool(POOL_OWNER),
	}
}

fn last_order() -> OrderId {
	NextOrderId::<Test>::get() - 1
}

pub fn app_order(app: ContractId, price: u64, volume: u32) -> OrderId {
	assert_ok!(Market::publish_app_order(
		RuntimeOrigin::signed(APP_OWNER),
		app,
		price,
		volume,
		0,
		Default::default()
	));
	last_order()
}

pub fn dataset_order(dataset: ContractId, price: u64, volume: u32) -> OrderId {
	assert_ok!(Market::publish_dataset_order(
		RuntimeOrigin::signed(DATASET_OWNER),
		dataset,
		price,
		volume,
		0,
		Default::default()
	));
	last_order()
}

pub fn pool_order_by(owner: u64, pool: ContractId, price: u64, volume: u32, ad: &str) -> OrderId {
	assert_ok!(Market::publish_pool_order(
		RuntimeOrigin::signed(owner),
		pool,
		price,
		volume,
		Category::S,
		3,
		0b11,
		Default::default(),
		bounded(ad),
	));
	last_order()
}

pub fn spec(app: ContractId, dataset: Option<ContractId>, volume: u32) -> RequestSpecOf<Test> {
	RequestSpec {
		app,
		dataset,
		app_max_price: 10,
		dataset_max_price: 5,
		pool_max_price: 20,
		volume,
		category: Category::S,
		trust: 2,
		tag: 0b01,
		pool: None,
		params: bounded("--seed 7"),
		beneficiary: 42,
		job_ad: bounded(JOB),
		weights: Default::default(),
		determinism: Default::default(),
	}
}

fn request(spec: RequestSpecOf<Test>) -> OrderId {
	assert_ok!(Market::submit_request(RuntimeOrigin::signed(REQUESTER), spec));
	last_order()
}

fn free(who: u64) -> u64 {
	Balances::free_balance(who)
}

fn deposit_of(id: OrderId) -> u64 {
	Orders::<Test>::get(id).expect("open order").deposit
}

fn check() {
	Market::do_try_state().expect("market try_state");
	pallet_escrow::Pallet::<Test>::do_try_state().expect("escrow try_state");
}

fn deals_made() -> Vec<(DealId, u32)> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Market(Event::DealMade { deal, volume, .. }) => Some((deal, volume)),
			_ => None,
		})
		.collect()
}

#[test]
fn a_request_arriving_on_standing_offers_makes_a_deal_with_exact_holds() {
	new_test_ext().execute_with(|| {
		let w = world();
		let a = app_order(w.app, 8, 10);
		let d = dataset_order(w.dataset, 4, 10);
		let p = pool_order_by(POOL_OWNER, w.pool, 15, 3, MACHINE);
		let pool_deposit = deposit_of(p);
		let (requester_before, pool_owner_before) = (free(REQUESTER), free(POOL_OWNER));
		let r = request(spec(w.app, Some(w.dataset), 3));
		// The pool order is used up by the deal: its deposit went back, it is gone.
		assert_eq!(deals_made(), vec![(0, 3)]);
		assert!(Orders::<Test>::get(p).is_none());
		assert!(Orders::<Test>::get(r).is_none(), "the request is used up too");
		assert_eq!(
			(Orders::<Test>::get(a).unwrap().remaining, Orders::<Test>::get(d).unwrap().remaining),
			(7, 7)
		);
		// The requester pays (8 + 4 + 15) × 3 = 81 into the deal; nothing else is held.
		assert_eq!(Escrow::locked(Ledger::Deal(0), &REQUESTER, Escrowed::RequesterPayment), 81);
		assert_eq!(Escrow::locked(Ledger::Order(r), &REQUESTER, Escrowed::RequesterPayment), 0);
		assert_eq!(free(REQUESTER), requester_before - 81);
		// The pool owner stakes 30 % of 15 × 3 = 13 (rounded down); its order's deposit is back.
		assert_eq!(Escrow::locked(Ledger::Deal(0), &POOL_OWNER, Escrowed::PoolStake), 13);
		assert_eq!(free(POOL_OWNER), pool_owner_before + pool_deposit - 13);
		let deal = Deals::<Test>::get(0).unwrap();
		assert_eq!((deal.app_price, deal.pool_price, deal.volume, deal.trust), (8, 15, 3, 2));
		assert!(DealRules::<Test>::get(0).is_none(), "an app requiring `true` demands nothing");
		assert_eq!(
			(deal.requester, deal.beneficiary, deal.pool_owner, deal.app_owner),
			(REQUESTER, 42, POOL_OWNER, APP_OWNER)
		);
		assert_eq!(deal.code_hash, [1; 32]);
		let dataset = deal.dataset.unwrap();
		assert_eq!((dataset.checksum, dataset.price, dataset.owner), ([2; 32], 4, DATASET_OWNER));
		assert_eq!(&dataset.location[..], b"https://example.org/data");
		assert_eq!(deal.limits, Category::S.limits(1_200));
		assert_eq!(deal.terms, DealTerms::design(Category::S));
		assert_eq!(deal.limits.wall_seconds, 1_200);
		assert_eq!(&deal.params[..], b"--seed 7");
		check();
	});
}

#[test]
fn a_pool_order_arriving_takes_the_oldest_waiting_request() {
	new_test_ext().execute_with(|| {
		let w = world();
		app_order(w.app, 8, 10);
		let first = request(spec(w.app, None, 2));
		let second = request(spec(w.app, None, 2));
		assert_eq!(deals_made(), vec![]);
		assert_eq!(Waiting::<Test>::get(Category::S).to_vec(), vec![first, second]);
		// Held: (10 + 5 + 20) × 2 for each.
		assert_eq!(
			Escrow::locked(Ledger::Order(first), &REQUESTER, Escrowed::RequesterPayment),
			70
		);
		pool_order_by(POOL_OWNER, w.pool, 15, 3, MACHINE);
		// The first request takes 2, the second the last 1 and waits for 1 more.
		assert_eq!(deals_made(), vec![(0, 2), (1, 1)]);
		assert!(Orders::<Test>::get(first).is_none());
		assert_eq!(Orders::<Test>::get(second).unwrap().remaining, 1);
		assert_eq!(Waiting::<Test>::get(Category::S).to_vec(), vec![second]);
		// The rest of the second request's payment is still held for its last task.
		assert_eq!(
			Escrow::locked(Ledger::Order(second), &REQUESTER, Escrowed::RequesterPayment),
			35
		);
		assert_eq!(Escrow::locked(Ledger::Deal(1), &REQUESTER, Escrowed::RequesterPayment), 23);
		check();
	});
}

#[test]
fn a_large_request_takes_several_pools_best_ranked_first() {
	new_test_ext().execute_with(|| {
		let w = world();
		let other = approved_pool(OTHER_POOL_OWNER);
		app_order(w.app, 8, 100);
		let dear = pool_order_by(POOL_OWNER, w.pool, 19, 2, MACHINE);
		let cheap = pool_order_by(OTHER_POOL_OWNER, other, 11, 2, MACHINE);
		let r = request(spec(w.app, None, 5));
		let deals: Vec<_> = deals_made();
		assert_eq!(deals, vec![(0, 2), (1, 2)]);
		// All weights zero: cheapest first.
		assert_eq!(Deals::<Test>::get(0).unwrap().pool_order, cheap);
		assert_eq!(Deals::<Test>::get(1).unwrap().pool_order, dear);
		assert_eq!(Orders::<Test>::get(r).unwrap().remaining, 1);
		check();
	});
}

#[test]
fn the_requesters_weights_choose_the_pool() {
	new_test_ext().execute_with(|| {
		let w = world();
		let other = approved_pool(OTHER_POOL_OWNER);
		app_order(w.app, 8, 100);
		// The cheap pool is slow and unreliable; the dear one fast and reliable.
		set_figures(
			other,
			PoolFigures {
				mean_task_seconds: Some(900),
				reputation: Some(1),
				reliability_ppm: Some(500_000),
			},
		);
		set_figures(
			w.pool,
			PoolFigures {
				mean_task_seconds: Some(60),
				reputation: Some(50),
				reliability_ppm: Some(990_000),
			},
		);
		let dear = pool_order_by(POOL_OWNER, w.pool, 19, 1, MACHINE);
		let cheap = pool_order_by(OTHER_POOL_OWNER, other, 11, 1, MACHINE);
		let mut performance_first = spec(w.app, None, 1);
		performance_first.weights =
			CriteriaWeights { cost: 1, performance: 3, reliability: 3, ..Default::default() };
		let r = request(performance_first);
		assert_eq!(Deals::<Test>::get(0).unwrap().pool_order, dear);
		assert!(Orders::<Test>::get(r).is_none());
		// Cost alone: the cheap one.
		let mut cost_first = spec(w.app, None, 1);
		cost_first.weights = CriteriaWeights { cost: 1, ..Default::default() };
		request(cost_first);
		assert_eq!(Deals::<Test>::get(1).unwrap().pool_order, cheap);
		check();
	});
}

#[test]
fn rank_and_energy_come_from_the_ads() {
	new_test_ext().execute_with(|| {
		let w = world();
		let other = approved_pool(OTHER_POOL_OWNER);
		app_order(w.app, 8, 100);
		let hungry =
			pool_order_by(POOL_OWNER, w.pool, 11, 5, "[ Memory = 8192; EnergyWatts = 900 ]");
		let frugal =
			pool_order_by(OTHER_POOL_OWNER, other, 19, 5, "[ Memory = 5000; EnergyWatts = 100 ]");
		let mut energy = spec(w.app, None, 1);
		energy.weights = CriteriaWeights { energy: 1, ..Default::default() };
		request(energy);
		assert_eq!(Deals::<Test>::get(0).unwrap().pool_order, frugal);
		// A job that ranks by memory prefers the big machine.
		let mut memory = spec(w.app, None, 1);
		memory.job_ad = bounded("[ Requirements = TARGET.Memory >= 4096; Rank = TARGET.Memory ]");
		memory.weights = CriteriaWeights { rank: 1, ..Default::default() };
		request(memory);
		assert_eq!(Deals::<Test>::get(1).unwrap().pool_order, hungry);
		check();
	});
}

#[test]
fn proposed_matches_are_checked_like_any_other() {
	new_test_ext().execute_with(|| {
		let w = world();
		let a = app_order(w.app, 8, 10);
		// A request that waits: no pool yet.
		let mut wants_gpu = spec(w.app, None, 2);
		wants_gpu.job_ad = bounded("[ Requirements = TARGET.GPUs >= 1 ]");
		let r = request(wants_gpu);
		let p = pool_order_by(POOL_OWNER, w.pool, 15, 5, MACHINE);
		assert_eq!(deals_made(), vec![], "the pool has no GPU");
		let anyone = RuntimeOrigin::signed(77);
		assert_noop!(
			Market::match_orders(anyone.clone(), r, p, a, None),
			Error::JobRequirementsNotMet
		);
		assert_noop!(Market::match_orders(anyone.clone(), 999, p, a, None), Error::UnknownOrder);
		assert_noop!(Market::match_orders(anyone.clone(), p, r, a, None), Error::WrongOrderKind);
		assert_noop!(Market::match_orders(anyone.clone(), r, p, a, Some(a)), Error::WrongOrderKind);
		let gpu = pool_order_by(POOL_OWNER, w.pool, 25, 5, "[ Memory = 1; GPUs = 2 ]");
		// Above the request's pool maximum of 20: at arrival nothing happened either.
		assert_noop!(
			Market::match_orders(anyone.clone(), r, gpu, a, None),
			Error::PriceAboveMaximum
		);
		let fair = pool_order_by(
			POOL_OWNER,
			w.pool,
			20,
			5,
			"[ Memory = 1; GPUs = 2; Requirements = TARGET.Wanted =?= undefined ]",
		);
		// The arrival found it.
		assert_eq!(deals_made(), vec![(0, 2)]);
		assert_eq!(Deals::<Test>::get(0).unwrap().pool_order, fair);
		check();
	});
}

#[test]
fn the_registered_app_requirements_and_data_set_restrictions_bind_every_path() {
	new_test_ext().execute_with(|| {
		let app = approved_app_requiring(APP_OWNER, "TARGET.GPUs >= 1");
		let dataset = approved_dataset_restricted(DATASET_OWNER, Some("TARGET.Region == \"eu\""));
		let (pool, gpu_pool) = (approved_pool(POOL_OWNER), approved_pool(OTHER_POOL_OWNER));
		let a = app_order(app, 8, 10);
		let d = dataset_order(dataset, 2, 10);
		// Cheapest first: without the rules, arrival would take the CPU pool.
		let cpu = pool_order_by(POOL_OWNER, pool, 5, 5, "[ Memory = 8192; Region = \"eu\" ]");
		let us =
			pool_order_by(POOL_OWNER, pool, 6, 5, "[ Memory = 8192; GPUs = 1; Region = \"us\" ]");
		let eu_ad = "[ Memory = 8192; GPUs = 1; Region = \"eu\" ]";
		let eu = pool_order_by(OTHER_POOL_OWNER, gpu_pool, 7, 1, eu_ad);
		let first = request(spec(app, Some(dataset), 1));
		assert_eq!(deals_made(), vec![(0, 1)]);
		assert_eq!(Deals::<Test>::get(0).unwrap().pool_order, eu, "the one pool both rules allow");
		assert!(Orders::<Test>::get(first).is_none());
		// The rules are kept with the deal, for the claims: a worker's ad is held to them.
		let kept = ads::load_rules(&DealRules::<Test>::get(0).expect("kept"));
		let limits = ads::limits();
		let worker = |text: &str| iexec_classad::parse_ad(text, &limits).unwrap();
		let (eu_gpu, us_gpu) = (worker(eu_ad), worker("[ GPUs = 1; Region = \"us\" ]"));
		assert_eq!(kept.unmet(&eu_gpu, &limits).0, None);
		assert_eq!(
			kept.unmet(&us_gpu, &limits).0,
			Some(matching::Mismatch::DatasetRestrictionsNotMet)
		);

		// The only fitting pool order is used up: the next request waits.
		let second = request(spec(app, Some(dataset), 1));
		assert_eq!(deals_made().len(), 1);
		let anyone = RuntimeOrigin::signed(77);
		assert_noop!(
			Market::match_orders(anyone.clone(), second, cpu, a, Some(d)),
			Error::AppRequirementsNotMet
		);
		assert_noop!(
			Market::match_orders(anyone.clone(), second, us, a, Some(d)),
			Error::DatasetRestrictionsNotMet
		);
		let explanation = Market::explain_match(second, us, a, Some(d)).unwrap();
		assert!(!explanation.matches);
		assert_eq!(explanation.mismatches, vec![matching::Mismatch::DatasetRestrictionsNotMet]);
		assert!(explanation.app_clauses.is_empty());
		let clauses: Vec<(String, String)> = explanation
			.dataset_clauses
			.iter()
			.map(|c| (c.clause.clone(), c.value.clone()))
			.collect();
		assert_eq!(clauses, vec![("TARGET.Region == \"eu\"".into(), "false".into())]);
		let explanation = Market::explain_match(second, cpu, a, Some(d)).unwrap();
		assert_eq!(explanation.mismatches, vec![matching::Mismatch::AppRequirementsNotMet]);
		assert_eq!(explanation.app_clauses.len(), 1);
		assert!(
			Market::rank_offers(second).unwrap().is_empty(),
			"nothing in the book may serve it"
		);

		// A pool order arriving is held to the same rules.
		pool_order_by(POOL_OWNER, pool, 5, 5, "[ Memory = 8192; GPUs = 4; Region = \"us\" ]");
		assert_eq!(deals_made().len(), 1);
		let eu2 = pool_order_by(OTHER_POOL_OWNER, gpu_pool, 9, 5, eu_ad);
		assert_eq!(deals_made(), vec![(0, 1), (1, 1)]);
		assert_eq!(Deals::<Test>::get(1).unwrap().pool_order, eu2);
		check();
	});
}

#[test]
fn proposed_matches_reach_orders_beyond_the_indices() {
	new_test_ext().execute_with(|| {
		let w = world();
		let a = app_order(w.app, 8, 10);
		// The index is full of cheaper orders that refuse every job.
		let p = pool_order_out_of_the_index(POOL_OWNER, w.pool, 15, 5);
		let r = request(spec(w.app, None, 2));
		assert_eq!(deals_made(), vec![], "arrival sees only the index");
		assert_ok!(Market::match_orders(RuntimeOrigin::signed(77), r, p, a, None));
		assert_eq!(deals_made(), vec![(0, 2)]);
		check();
	});
}

/// A job ad whose `Requirements` reads `X{depth}`, an attribute doubling references `depth`
/// times: its evaluation takes about `4 × 2^depth` steps.
fn doubling_job_ad(depth: u32) -> String {
	let mut attributes = vec![String::from("X0 = 1")];
	attributes.extend((1..=depth).map(|i| format!("X{i} = X{p} + X{p}", p = i - 1)));
	attributes.push(format!("Requirements = X{depth} > 0"));
	format!("[ {} ]", attributes.join("; "))
}

/// `ad` with a `Note` string that makes its stored form exactly `bytes` long.
fn stored_in(ad: &str, bytes: usize) -> String {
	let with_note = |len: usize| ad.replace(" ]", &format!("; Note = \"{}\" ]", "x".repeat(len)));
	let stored = |text: &str| {
		let parsed = ads::parse_order_ad(text.as_bytes()).expect("parses");
		ads::store::<frame_support::traits::ConstU32<16_384>>(&parsed).expect("fits").len()
	};
	// Past 63 bytes a string's length prefix stays two bytes: the note grows byte for byte.
	let text = with_note(100 + bytes - stored(&with_note(100)));
	assert_eq!(stored(&text), bytes);
	text
}

#[test]
fn a_proposed_match_is_charged_for_the_work_its_ads_take() {
	new_test_ext().execute_with(|| {
		let w = world();
		let a = app_order(w.app, 8, 10);
		let p = pool_order_out_of_the_index(POOL_OWNER, w.pool, 15, 10);
		let mut charged = Vec::new();
		// Three ads of growing evaluation cost, stored in as many bytes, then the cheapest with
		// 2,000 bytes more to read.
		let ads = [
			stored_in(&doubling_job_ad(0), 600),
			stored_in(&doubling_job_ad(6), 600),
			stored_in(&doubling_job_ad(10), 600),
			stored_in(&doubling_job_ad(0), 2_600),
		];
		for ad in &ads {
			let mut job = spec(w.app, None, 1);
			job.job_ad = bounded(ad);
			let r = request(job);
			let call = crate::Call::<Test>::match_orders {
				request: r,
				pool_order: p,
				app_order: a,
				dataset_order: None,
			};
			let up_front =
				frame_support::dispatch::GetDispatchInfo::get_dispatch_info(&call).call_weight;
			let post = Market::match_orders(RuntimeOrigin::signed(77), r, p, a, None)
				.expect("the orders match");
			let actual = post.actual_weight.expect("a weight after the match");
			assert!(actual.all_lte(up_front), "never more than charged up front");
			charged.push(actual.ref_time());
		}
		assert_eq!(deals_made().len(), 4);
		assert!(charged[0] < charged[1] && charged[1] < charged[2], "{charged:?}");
		assert!(charged[0] < charged[3], "a longer ad costs more to read: {charged:?}");
		// Up front: the most the ads may take; these took far less.
		let most = Market::match_orders_up_front().ref_time();
		assert!(charged.iter().all(|c| *c < most), "{charged:?} against {most}");
		check();
	});
}

/// A pool order of `owner`'s `pool` out of the arrival index, which two other pools fill
/// with cheaper orders that refuse every job: only proposals match it.
fn pool_order_out_of_the_index(owner: u64, pool: ContractId, price: u64, volume: u32) -> OrderId {
	let refusing = "[ Memory = 8192; Requirements = false ]";
	for filler in [POOL_OWNER, OTHER_POOL_OWNER] {
		let filler_pool = approved_pool(filler);
		for _ in 0..MAX_INDEXED_PER_POOL {
			pool_order_by(filler, filler_pool, 1, 1, refusing);
		}
	}
	assert_eq!(pool_book().len() as u32, MAX_CANDIDATES, "the index is full");
	let p = pool_order_by(owner, pool, price, volume, MACHINE);
	assert!(!pool_book().contains(&p));
	p
}

fn batch(
	ids: &[OrderId],
) -> frame_support::BoundedVec<OrderId, <Test as Config>::MaxBatchedRequests> {
	ids.to_vec().try_into().expect("within the bound")
}

fn market_events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Market(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The orders of a batch: shared offers with a data set, two requests that match, one whose
/// job wants a GPU the pool lacks, one for another app. Returns (pool, app, data set orders),
/// the requests in that order.
fn batch_market() -> ((OrderId, OrderId, OrderId), [OrderId; 4]) {
	let w = world();
	let other_app = approved_app(APP_OWNER);
	let a = app_order(w.app, 8, 10);
	let d = dataset_order(w.dataset, 2, 10);
	let p = pool_order_out_of_the_index(POOL_OWNER, w.pool, 15, 10);
	let first = request(spec(w.app, Some(w.dataset), 2));
	let mut wants_gpu = spec(w.app, Some(w.dataset), 1);
	wants_gpu.job_ad = bounded("[ Requirements = TARGET.GPUs >= 1 ]");
	let wants_gpu = request(wants_gpu);
	let other = request(spec(other_app, Some(w.dataset), 1));
	let last = request(spec(w.app, Some(w.dataset), 3));
	assert_eq!(deals_made(), vec![], "nothing matched at arrival");
	((p, a, d), [first, wants_gpu, other, last])
}

/// Everything a match changes: orders, deals, kept rules, balances and holds of every party.
fn market_state() -> impl PartialEq + core::fmt::Debug {
	let accounts = [REQUESTER, APP_OWNER, DATASET_OWNER, POOL_OWNER, 77];
	(
		Orders::<Test>::iter().collect::<std::collections::BTreeMap<_, _>>(),
		Deals::<Test>::iter().collect::<std::collections::BTreeMap<_, _>>(),
		DealRules::<Test>::iter().collect::<std::collections::BTreeMap<_, _>>(),
		accounts.map(|who| (free(who), Balances::total_balance_on_hold(&who))),
		(Waiting::<Test>::get(Category::S), NextDealId::<Test>::get()),
	)
}

#[test]
fn a_batch_makes_the_deals_single_proposals_make_and_skips_the_rest() {
	// The same market twice: single proposals of the two requests that match, then one batch
	// of all four.
	let singles = new_test_ext().execute_with(|| {
		let ((p, a, d), [first, _, _, last]) = batch_market();
		for r in [first, last] {
			assert_ok!(Market::match_orders(RuntimeOrigin::signed(77), r, p, a, Some(d)));
		}
		check();
		market_state()
	});
	let batched = new_test_ext().execute_with(|| {
		let ((p, a, d), [first, wants_gpu, other, last]) = batch_market();
		let held_before =
			|r| Escrow::locked(Ledger::Order(r), &REQUESTER, Escrowed::RequesterPayment);
		let (gpu_held, other_held) = (held_before(wants_gpu), held_before(other));
		assert_ok!(Market::match_batch(
			RuntimeOrigin::signed(77),
			p,
			a,
			Some(d),
			batch(&[first, wants_gpu, other, last])
		));
		assert_eq!(deals_made(), vec![(0, 2), (1, 3)]);
		let events = market_events();
		let skipped =
			|request, error: Error| Event::RequestSkipped { request, error: error.into() };
		assert!(events.contains(&skipped(wants_gpu, Error::JobRequirementsNotMet)), "{events:?}");
		assert!(events.contains(&skipped(other, Error::OtherApp)), "{events:?}");
		assert_eq!(
			events.last(),
			Some(&Event::BatchMatched { pool_order: p, deals: 2, skipped: 2, untried: 0 })
		);
		// The skipped requests are as they were: open, their payment still held.
		for (r, held) in [(wants_gpu, gpu_held), (other, other_held)] {
			assert_eq!(Orders::<Test>::get(r).unwrap().remaining, 1);
			assert_eq!(held_before(r), held);
		}
		assert_eq!(Orders::<Test>::get(p).unwrap().remaining, 5);
		check();
		market_state()
	});
	assert_eq!(singles, batched);
}

#[test]
fn a_batch_stops_when_a_shared_order_is_used_up() {
	new_test_ext().execute_with(|| {
		let w = world();
		let a = app_order(w.app, 8, 10);
		let p = pool_order_out_of_the_index(POOL_OWNER, w.pool, 15, 3);
		let rs = [1, 2, 3].map(|_| request(spec(w.app, None, 2)));
		let third_before = Orders::<Test>::get(rs[2]).unwrap();
		assert_ok!(Market::match_batch(RuntimeOrigin::signed(77), p, a, None, batch(&rs)));
		// Two deals take the pool's three tasks: the second request keeps one task waiting.
		assert_eq!(deals_made(), vec![(0, 2), (1, 1)]);
		assert!(Orders::<Test>::get(p).is_none(), "the pool order is used up");
		assert_eq!(Orders::<Test>::get(rs[1]).unwrap().remaining, 1);
		assert_eq!(Orders::<Test>::get(rs[2]).unwrap(), third_before, "not tried");
		assert_eq!(
			market_events().last(),
			Some(&Event::BatchMatched { pool_order: p, deals: 2, skipped: 0, untried: 1 })
		);
		check();
	});
}

#[test]
fn a_proposed_match_is_refunded_the_ending_of_orders_it_leaves_open() {
	new_test_ext().execute_with(|| {
		let w = world();
		let used_up_pool = pool_order_out_of_the_index(POOL_OWNER, w.pool, 15, 1);
		let open_pool = pool_order_by(POOL_OWNER, w.pool, 15, 5, MACHINE);
		assert!(!pool_book().contains(&open_pool));
		let (used_up_app, open_app) = (app_order(w.app, 8, 1), app_order(w.app, 8, 5));
		let charged = |pool, app| {
			let r = request(spec(w.app, None, 1));
			let post = Market::match_orders(RuntimeOrigin::signed(77), r, pool, app, None)
				.expect("the orders match");
			post.actual_weight.expect("a weight after the match").ref_time()
		};
		// The same ads: only the orders the deal ends differ.
		let three_ended = charged(used_up_pool, used_up_app);
		assert!(
			Orders::<Test>::get(used_up_pool).is_none()
				&& Orders::<Test>::get(used_up_app).is_none()
		);
		let one_ended = charged(open_pool, open_app);
		assert_eq!(Orders::<Test>::get(open_pool).unwrap().remaining, 4);
		assert!(one_ended < three_ended, "{one_ended} against {three_ended}");
		check();
	});
}

#[test]
fn arrival_is_charged_by_the_work_its_ads_take() {
	new_test_ext().execute_with(|| {
		let w = world();
		app_order(w.app, 8, 100);
		let pool = pool_order_by(POOL_OWNER, w.pool, 15, 100, MACHINE);
		let submit = |job_ad: &str, category| {
			let mut job = spec(w.app, None, 1);
			(job.job_ad, job.category) = (bounded(job_ad), category);
			let post =
				Market::submit_request(RuntimeOrigin::signed(REQUESTER), job).expect("submits");
			post.actual_weight.expect("a weight after the call")
		};
		// A request arriving on the pool order: a light job ad, then one 4,000 steps dense,
		// then one whose `Rank` (evaluated to rank the pool) is that dense.
		// Each stored in as many bytes, so that only their evaluation differs.
		let light = submit(&stored_in(&doubling_job_ad(0), 600), Category::S);
		let dense = submit(&stored_in(&doubling_job_ad(10), 600), Category::S);
		let rank_ad = doubling_job_ad(10).replace("Requirements", "Rank");
		let dense_rank = submit(&stored_in(&rank_ad, 600), Category::S);
		assert_eq!(deals_made().len(), 3);
		assert_eq!(Deals::<Test>::get(1).unwrap().pool_order, pool);
		assert!(light.ref_time() < dense.ref_time(), "{light} against {dense}");
		assert!(light.ref_time() < dense_rank.ref_time(), "{light} against {dense_rank}");
		let up_front = Market::submit_request_up_front();
		assert!(dense.all_lte(up_front), "{dense} above {up_front}");
		// A pool order arriving on a waiting request (category XS has no pool order yet).
		let publish = |ad: &str| {
			let post = Market::publish_pool_order(
				RuntimeOrigin::signed(POOL_OWNER),
				w.pool,
				15,
				1,
				Category::XS,
				3,
				0b11,
				Default::default(),
				bounded(ad),
			)
			.expect("publishes");
			post.actual_weight.expect("a weight after the call")
		};
		submit(&doubling_job_ad(0), Category::XS);
		let light = publish(MACHINE);
		submit(&doubling_job_ad(10), Category::XS);
		let dense = publish(MACHINE);
		assert_eq!(deals_made().len(), 5, "each pool order met its waiting request");
		assert!(light.ref_time() < dense.ref_time(), "{light} against {dense}");
		// A longer ad of the pool's own costs more to parse and store.
		submit(&doubling_job_ad(0), Category::XS);
		let long = publish(&stored_in(MACHINE, 2_000));
		assert!(light.ref_time() < long.ref_time(), "{light} against {long}");
		assert!(dense.all_lte(Market::publish_pool_order_up_front()));
		check();
	});
}

#[test]
fn a_pool_order_arriving_is_charged_the_reads_of_each_waiting_requests_offers() {
	new_test_ext().execute_with(|| {
		let w = world();
		let crowded = approved_app(APP_OWNER);
		app_order(w.app, 8, 10);
		for _ in 0..3 {
			app_order(crowded, 8, 10);
		}
		// One request waits (category XS has no pool order), then a pool order meets it.
		let charged = |app| {
			let mut job = spec(app, None, 1);
			job.category = Category::XS;
			assert_ok!(Market::submit_request(RuntimeOrigin::signed(REQUESTER), job));
			let post = Market::publish_pool_order(
				RuntimeOrigin::signed(POOL_OWNER),
				w.pool,
				15,
				1,
				Category::XS,
				3,
				0b11,
				Default::default(),
				bounded(MACHINE),
			)
			.expect("publishes");
			post.actual_weight.expect("a weight after the call")
		};
		let one_app_order = charged(w.app);
		let three_app_orders = charged(crowded);
		assert_eq!(deals_made().len(), 2);
		// The same ads and one waiting request each time: only the app orders read differ.
		let read = <Test as frame_system::Config>::DbWeight::get().reads(1).ref_time();
		assert_eq!(three_app_orders.ref_time() - one_app_order.ref_time(), 2 * read);
		check();
	});
}

#[test]
fn a_request_that_fails_late_in_a_batch_leaves_nothing_behind() {
	new_test_ext().execute_with(|| {
		let w = world();
		let weak_pool = approved_pool(WEAK_POOL_OWNER);
		let a = app_order(w.app, 1, 100);
		let p = pool_order_out_of_the_index(WEAK_POOL_OWNER, weak_pool, 20, 100);
		let left = free(WEAK_POOL_OWNER);
		// 30 tasks: a stake of 30 % × 20 × 30 = 180, more than the owner has left. It fails
		// after the requester's payment was moved, when the stake is held.
		assert!(left < 180, "{left}");
		let big = request(spec(w.app, None, 30));
		let small = request(spec(w.app, None, 2));
		assert_eq!(deals_made(), vec![]);
		let held = |r| Escrow::locked(Ledger::Order(r), &REQUESTER, Escrowed::RequesterPayment);
		let (big_held, requester_free, small_deposit) =
			(held(big), free(REQUESTER), deposit_of(small));
		assert_ok!(Market::match_batch(
			RuntimeOrigin::signed(77),
			p,
			a,
			None,
			batch(&[big, small])
		));
		assert_eq!(deals_made(), vec![(0, 2)]);
		assert_eq!(Deals::<Test>::get(0).unwrap().request, small);
		let error = Error::PoolOwnerCannotStake.into();
		assert!(market_events().contains(&Event::RequestSkipped { request: big, error }));
		assert_eq!(Orders::<Test>::get(big).unwrap().remaining, 30);
		assert_eq!(held(big), big_held, "nothing of the failed deal is kept");
		// The small request's surplus came back: (10 + 5 + 20) − (1 + 20) a task, and its
		// deposit; nothing of the big one's.
		assert_eq!(free(REQUESTER), requester_free + 14 * 2 + small_deposit);
		assert_eq!(free(WEAK_POOL_OWNER), left - 12);
		check();
	});
}

#[test]
fn batch_errors() {
	new_test_ext().execute_with(|| {
		let w = world();
		let a = app_order(w.app, 8, 10);
		let d = dataset_order(w.dataset, 2, 10);
		let p = pool_order_out_of_the_index(POOL_OWNER, w.pool, 15, 10);
		let mut wants_gpu = spec(w.app, None, 1);
		wants_gpu.job_ad = bounded("[ Requirements = TARGET.GPUs >= 1 ]");
		let r = request(wants_gpu);
		let anyone = RuntimeOrigin::signed(77);
		// (A refused call's changes are rolled back by FRAME; what a failing request leaves
		// is checked in `a_request_that_fails_late_in_a_batch_leaves_nothing_behind`.)
		let refused = |p, a, d, requests: &[OrderId]| {
			Market::match_batch(anyone.clone(), p, a, d, batch(requests)).expect_err("refused")
		};
		assert_eq!(refused(p, a, None, &[]).error, Error::EmptyBatch.into());
		assert_eq!(refused(999, a, None, &[r]).error, Error::UnknownOrder.into());
		assert_eq!(refused(r, a, None, &[r]).error, Error::WrongOrderKind.into());
		assert_eq!(refused(p, p, None, &[r]).error, Error::WrongOrderKind.into());
		assert_eq!(refused(p, a, Some(a), &[r]).error, Error::WrongOrderKind.into());
		// No request makes a deal: the first one's own error, as a single proposal gives it,
		// and the work done is charged: three requests tried, each at its most.
		let error = refused(p, a, None, &[r, 999, p]);
		assert_eq!(error.error, Error::JobRequirementsNotMet.into());
		let charged = error.post_info.actual_weight.expect("the work done is charged");
		let (one, three) = (Market::match_batch_up_front(1), Market::match_batch_up_front(3));
		assert!(one.ref_time() < charged.ref_time(), "{charged} against one request's {one}");
		assert!(charged.all_lte(three), "{charged} above {three}");
		assert_eq!(refused(p, a, Some(d), &[r]).error, Error::DatasetNotRequested.into());
		check();
	});
}

#[test]
fn a_batch_is_charged_by_its_requests_and_less_per_deal_than_single_proposals() {
	new_test_ext().execute_with(|| {
		let w = world();
		let a = app_order(w.app, 8, 100);
		let p = pool_order_out_of_the_index(POOL_OWNER, w.pool, 15, 100);
		let anyone = || RuntimeOrigin::signed(77);
		let charged = |requests: &[OrderId]| {
			let call = crate::Call::<Test>::match_batch {
				pool_order: p,
				app_order: a,
				dataset_order: None,
				requests: batch(requests),
			};
			let up_front =
				frame_support::dispatch::GetDispatchInfo::get_dispatch_info(&call).call_weight;
			let post = Market::match_batch(anyone(), p, a, None, batch(requests)).expect("matches");
			let actual = post.actual_weight.expect("a weight after the batch");
			assert!(actual.all_lte(up_front), "never more than charged up front");
			actual.ref_time()
		};
		let requests = |n: usize| (0..n).map(|_| request(spec(w.app, None, 1))).collect::<Vec<_>>();
		let one = charged(&requests(1));
		let eight = charged(&requests(8));
		// Each request adds at least the benchmark's cost of one more request.
		let benchmark = <<Test as Config>::WeightInfo as WeightInfo>::match_batch;
		let per_request = benchmark(2).ref_time() - benchmark(1).ref_time();
		assert!(eight >= one + 7 * per_request, "{one}, {eight}, {per_request}");
		// A request whose ads take more is charged more.
		let mut dense = spec(w.app, None, 1);
		dense.job_ad = bounded(&doubling_job_ad(10));
		let dense = request(dense);
		let with_dense = charged(&[&requests(7)[..], &[dense]].concat());
		assert!(eight < with_dense, "{eight} against {with_dense}");
		// Eight single proposals cost more than one batch of eight.
		let r = request(spec(w.app, None, 1));
		let single = Market::match_orders(anyone(), r, p, a, None)
			.expect("matches")
			.actual_weight
			.expect("a weight")
			.ref_time();
		assert!(eight < 8 * single, "{eight} against 8 × {single}");
		assert_eq!(deals_made().len(), 1 + 8 + 8 + 1);
		check();
	});
}

fn pool_book() -> Vec<OrderId> {
	PoolBook::<Test>::get(Category::S).iter().map(|(_, id)| *id).collect()
}

#[test]
fn a_cheaper_pool_order_displaces_the_dearest_from_a_full_index() {
	new_test_ext().execute_with(|| {
		let w = world();
		let other = approved_pool(OTHER_POOL_OWNER);
		let mine: Vec<OrderId> =
			(0..2).map(|i| pool_order_by(POOL_OWNER, w.pool, 10 + i, 1, MACHINE)).collect();
		let theirs: Vec<OrderId> =
			(0..2).map(|i| pool_order_by(OTHER_POOL_OWNER, other, 20 + i, 1, MACHINE)).collect();
		assert_eq!(pool_book(), vec![mine[0], mine[1], theirs[0], theirs[1]], "full");
		let third = approved_pool(POOL_OWNER);
		let cheapest = pool_order_by(POOL_OWNER, third, 5, 1, MACHINE);
		assert_eq!(pool_book(), vec![cheapest, mine[0], mine[1], theirs[0]]);
		assert!(Orders::<Test>::get(theirs[1]).is_some(), "left out of the index, still open");
		let dearest = pool_order_by(POOL_OWNER, third, 50, 1, MACHINE);
		assert!(!pool_book().contains(&dearest), "dearer than every entry: left out");
		check();
	});
}

#[test]
fn one_pool_cannot_crowd_the_others_out_of_the_index() {
	new_test_ext().execute_with(|| {
		let w = world();
		let other = approved_pool(OTHER_POOL_OWNER);
		app_order(w.app, 8, 10);
		// The pool's owner publishes as many cheap orders as the index holds, all refusing
		// every job; the pool keeps its share (2 of 4), its cheapest.
		let junk: Vec<OrderId> = (0..MAX_CANDIDATES)
			.map(|i| {
				let ad = "[ Memory = 8192; Requirements = false ]";
				pool_order_by(POOL_OWNER, w.pool, 1 + u64::from(i), 1, ad)
			})
			.collect();
		assert_eq!(pool_book(), junk[..MAX_INDEXED_PER_POOL as usize].to_vec());
		// A cheaper order of the same pool takes the place of its own dearest entry only.
		let cheaper = pool_order_by(POOL_OWNER, w.pool, 0, 1, "[ Requirements = false ]");
		assert_eq!(pool_book(), vec![cheaper, junk[0]]);
		// Another pool's order enters, dearer as it is, and arrival finds it.
		let honest = pool_order_by(OTHER_POOL_OWNER, other, 15, 5, MACHINE);
		assert_eq!(pool_book(), vec![cheaper, junk[0], honest]);
		request(spec(w.app, None, 2));
		assert_eq!(deals_made(), vec![(0, 2)]);
		assert_eq!(Deals::<Test>::get(0).unwrap().pool_order, honest);
		check();
	});
}

#[test]
fn a_new_request_always_enters_the_waiting_list() {
	new_test_ext().execute_with(|| {
		let w = world();
		app_order(w.app, 8, 10);
		// Requests no pool can pay fill the list (4 long here).
		let mut unpayable = spec(w.app, None, 1);
		unpayable.pool_max_price = 0;
		let junk: Vec<OrderId> = (0..4).map(|_| request(unpayable.clone())).collect();
		let honest = request(spec(w.app, None, 2));
		// The oldest made room; it is still open, and still expires when due.
		let waiting = Waiting::<Test>::get(Category::S).into_inner();
		assert_eq!(waiting, vec![junk[1], junk[2], junk[3], honest]);
		assert!(Orders::<Test>::get(junk[0]).is_some());
		// A pool order arriving meets it.
		let p = pool_order_by(POOL_OWNER, w.pool, 15, 5, MACHINE);
		assert_eq!(deals_made(), vec![(0, 2)]);
		assert_eq!(Deals::<Test>::get(0).unwrap().pool_order, p);
		assert!(!Waiting::<Test>::get(Category::S).contains(&honest));
		check();
	});
}

#[test]
fn publishing_errors() {
	new_test_ext().execute_with(|| {
		let w = world();
		let proposed = pallet_registry::NextContractId::<Test>::get();
		assert_ok!(Registry::propose(
			RuntimeOrigin::signed(APP_OWNER),
			pallet_registry::Rfc { document_hash: [0; 32], uri: bounded("u") },
			pallet_registry::Terms::App {
				runtime: pallet_registry::AppRuntime::Docker,
				code_uri: bounded("u"),
				code_hash: [0; 32],
				requirements: bounded("true"),
			}
		));
		let app_owner = RuntimeOrigin::signed(APP_OWNER);
		let publish = |origin: RuntimeOrigin, app, volume| {
			Market::publish_app_order(origin, app, 1, volume, 0, Default::default())
		};
		assert_noop!(publish(app_owner.clone(), 999, 1), Error::UnknownContract);
		assert_noop!(publish(app_owner.clone(), w.pool, 1), Error::WrongContractKind);
		assert_noop!(publish(RuntimeOrigin::signed(REQUESTER), w.app, 1), Error::NotContractOwner);
		assert_noop!(publish(app_owner.clone(), proposed, 1), Error::ContractNotApproved);
		assert_noop!(publish(app_owner.clone(), w.app, 0), Error::ZeroVolume);
		assert_noop!(
			Market::publish_dataset_order(app_owner.clone(), w.app, 1, 1, 0, Default::default()),
			Error::WrongContractKind
		);
		let pool = |ad: &str| {
			Market::publish_pool_order(
				RuntimeOrigin::signed(POOL_OWNER),
				w.pool,
				1,
				1,
				Category::S,
				1,
				0,
				Default::default(),
				bounded(ad),
			)
		};
		assert_noop!(pool("[ Memory = ]"), Error::InvalidClassAd);
		assert_noop!(pool("[ Memory = frob(1) ]"), Error::InvalidClassAd);
		assert_noop!(pool("Memory = 1"), Error::InvalidClassAd);
		assert_ok!(pool(MACHINE));
		check();
	});
}

#[test]
fn request_errors() {
	new_test_ext().execute_with(|| {
		let w = world();
		let submit = |who: u64, spec| Market::submit_request(RuntimeOrigin::signed(who), spec);
		let with = |f: fn(&mut RequestSpecOf<Test>)| {
			let mut s = spec(w.app, None, 1);
			f(&mut s);
			s
		};
		assert_noop!(submit(REQUESTER, with(|s| s.volume = 0)), Error::ZeroVolume);
		assert_noop!(submit(REQUESTER, with(|s| s.trust = 0)), Error::ZeroTrust);
		assert_noop!(submit(REQUESTER, with(|s| s.app = 999)), Error::UnknownContract);
		assert_noop!(submit(REQUESTER, spec(w.pool, None, 1)), Error::WrongContractKind);
		assert_noop!(submit(REQUESTER, spec(w.app, Some(w.app), 1)), Error::WrongContractKind);
		assert_noop!(
			submit(REQUESTER, with(|s| s.job_ad = bounded("[ Requirements = ((( ]"))),
			Error::InvalidClassAd
		);
		assert_noop!(submit(REQUESTER, with(|s| s.app_max_price = u64::MAX)), Error::PriceOverflow);
		assert_noop!(
			submit(
				REQUESTER,
				with(|s| {
					s.pool_max_price = u64::MAX / 4;
					s.volume = 5
				})
			),
			Error::PriceOverflow
		);
		assert_noop!(
			submit(REQUESTER, with(|s| s.pool_max_price = START)),
			Error::CannotHoldPayment
		);
		assert_noop!(
			submit(POOR, with(|s| s.params = bounded(&"x".repeat(64)))),
			Error::CannotHoldDeposit
		);
		check();
	});
}

#[test]
fn a_pool_owner_who_cannot_stake_is_passed_over() {
	new_test_ext().execute_with(|| {
		let w = world();
		let weak_pool = approved_pool(WEAK_POOL_OWNER);
		let a = app_order(w.app, 1, 100);
		let p = pool_order_by(WEAK_POOL_OWNER, weak_pool, 20, 100, MACHINE);
		let left = free(WEAK_POOL_OWNER);
		// 30 tasks: a stake of 30 % × 20 × 30 = 180, more than the owner has left.
		assert!(left < 180, "{left}");
		let r = request(spec(w.app, None, 30));
		assert_eq!(deals_made(), vec![], "the candidate is skipped, nothing of it kept");
		assert_eq!(Orders::<Test>::get(r).unwrap().remaining, 30);
		assert_eq!(free(WEAK_POOL_OWNER), left);
		assert_noop!(
			Market::match_orders(RuntimeOrigin::signed(77), r, p, a, None),
			Error::PoolOwnerCannotStake
		);
		// 2 tasks: a stake of 12, which it has.
		request(spec(w.app, None, 2));
		assert_eq!(deals_made(), vec![(0, 2)]);
		assert_eq!(free(WEAK_POOL_OWNER), left - 12);
		check();
	});
}

#[test]
fn cancelling_gives_back_what_no_deal_took() {
	new_test_ext().execute_with(|| {
		let w = world();
		app_order(w.app, 8, 10);
		pool_order_by(POOL_OWNER, w.pool, 15, 1, MACHINE);
		let before = free(REQUESTER);
		let r = request(spec(w.app, None, 3));
		// One task went into a deal at 23; two wait with 35 each held, and the deposit.
		let deposit = deposit_of(r);
		assert_eq!(free(REQUESTER), before - 23 - 70 - deposit);
		assert_noop!(
			Market::cancel_order(RuntimeOrigin::signed(APP_OWNER), r),
			Error::NotOrderOwner
		);
		assert_noop!(
			Market::cancel_order(RuntimeOrigin::signed(REQUESTER), 999),
			Error::UnknownOrder
		);
		assert_ok!(Market::cancel_order(RuntimeOrigin::signed(REQUESTER), r));
		System::assert_last_event(
			Event::OrderCancelled {
				id: r,
				kind: OrderKind::Request,
				deposit_refunded: deposit,
				payment_refunded: 70,
			}
			.into(),
		);
		assert_eq!(free(REQUESTER), before - 23);
		assert!(Waiting::<Test>::get(Category::S).is_empty());
		check();
	});
}

/// Moves to block `n`, running the market's hook in each block on the way, as a chain does.
/// Returns the weight the hook took in block `n`.
fn run_hooks_to(n: u64) -> Weight {
	let mut taken = Weight::zero();
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		taken = Market::on_initialize(next);
	}
	taken
}

/// `n` requests of one task each for `app`, submitted now; their due block.
fn requests_due_together(app: ContractId, n: usize) -> (Vec<OrderId>, u64) {
	let ids = (0..n).map(|_| request(spec(app, None, 1))).collect();
	(ids, System::block_number() + LIFETIME)
}

fn expired_events() -> Vec<OrderId> {
	market_events()
		.into_iter()
		.filter_map(|e| match e {
			Event::RequestExpired { id, .. } => Some(id),
			_ => None,
		})
		.collect()
}

fn expiry_pages(at: u64) -> Vec<Vec<OrderId>> {
	(0..ExpiryPages::<Test>::get(at))
		.map(|page| ExpiryQueue::<Test>::get(at, page).to_vec())
		.collect()
}

#[test]
fn unmatched_requests_expire_with_everything_returned() {
	new_test_ext().execute_with(|| {
		let w = world();
		let before = free(REQUESTER);
		let r = request(spec(w.app, None, 2));
		let deposit = deposit_of(r);
		assert_eq!(free(REQUESTER), before - 70 - deposit);
		let due = 1 + LIFETIME;
		assert_eq!(expiry_pages(due), vec![vec![r]]);
		run_hooks_to(due - 1);
		assert!(Orders::<Test>::get(r).is_some());
		run_hooks_to(due);
		System::assert_last_event(
			Event::RequestExpired { id: r, deposit_refunded: deposit, payment_refunded: 70 }.into(),
		);
		assert_eq!(free(REQUESTER), before);
		assert_eq!(
			Balances::balance_on_hold(
				&RuntimeHoldReason::Market(HoldReason::OrderDeposit),
				&REQUESTER
			),
			0
		);
		assert!(Waiting::<Test>::get(Category::S).is_empty());
		assert!(expiry_pages(due).is_empty(), "the walk took the block's pages");
		assert_eq!(ExpiryCursor::<Test>::get(), (due + 1, 0));
		check();
	});
}

#[test]
fn any_number_of_requests_may_fall_due_at_one_block() {
	new_test_ext().execute_with(|| {
		let w = world();
		// The old per-block lists took `MaxExpiriesPerBlock` (3) a block for 16 blocks: 48.
		let (ids, due) = requests_due_together(w.app, 60);
		for id in &ids {
			match &Orders::<Test>::get(id).unwrap().terms {
				OrderTerms::Request(r) => assert_eq!(r.expires_at, due),
				_ => panic!("a request"),
			}
		}
		let pages = expiry_pages(due);
		assert_eq!(pages.len(), 30, "pages of `ExpiryPageSize` (2)");
		assert_eq!(pages.concat(), ids, "listed in the order they were submitted");
		check();
	});
}

#[test]
fn the_hook_expires_a_bounded_number_a_block_and_goes_on_in_the_next() {
	new_test_ext().execute_with(|| {
		let w = world();
		let (ids, due) = requests_due_together(w.app, 7);
		run_hooks_to(due);
		// `MaxExpiriesPerBlock` is 3: the oldest three expire; the rest of a page waits.
		assert_eq!(expired_events(), ids[..3].to_vec());
		assert_eq!(ExpiryCursor::<Test>::get(), (due, 1));
		assert_eq!(ExpiryQueue::<Test>::get(due, 1).to_vec(), vec![ids[3]]);
		check();
		// What is due and not yet expired is not matched by any path.
		let a = app_order(w.app, 8, 10);
		let p = pool_order_by(POOL_OWNER, w.pool, 15, 10, MACHINE);
		assert_eq!(deals_made(), vec![], "an arriving pool order passes the expired over");
		let refused = Market::match_orders(RuntimeOrigin::signed(77), ids[3], p, a, None);
		assert_eq!(refused.expect_err("expired").error, Error::RequestExpired.into());
		let explained = Market::explain_match(ids[4], p, a, None).unwrap();
		assert_eq!(explained.mismatches, vec![matching::Mismatch::RequestExpired]);
		assert!(Market::rank_offers(ids[4]).unwrap().is_empty());
		let refused = Market::match_batch(RuntimeOrigin::signed(77), p, a, None, batch(&ids[3..5]));
		assert_eq!(refused.expect_err("expired").error, Error::RequestExpired.into());
		// Its owner may still cancel it; the walk then passes its entry over.
		assert_ok!(Market::cancel_order(RuntimeOrigin::signed(REQUESTER), ids[5]));
		// A block's unused weight goes on with the walk: none when too little is left.
		let read = <Test as frame_system::Config>::DbWeight::get().reads(1);
		assert_eq!(Market::on_idle(due, read), read);
		assert!(Orders::<Test>::contains_key(ids[3]));
		// Room for two expiries (a third of the rest each for expiries, looks and pages).
		let base = Market::expiry_weight(Walk::default());
		let per_expiry = Market::expiry_weight(Walk { expired: 1, ..Default::default() }) - base;
		// (Proof size is no bound on this chain: its blocks have no limit of it.)
		let budget = (base + per_expiry * 6).set_proof_size(u64::MAX / 2);
		let used = Market::on_idle(due, budget);
		assert_eq!(expired_events(), ids[..5].to_vec());
		assert!(used.all_lte(budget), "{used} above {budget}");
		let remaining = Weight::from_parts(1_000_000_000_000, u64::MAX);
		Market::on_idle(due, remaining);
		assert_eq!(expired_events(), [&ids[..5], &ids[6..]].concat());
		assert_eq!(Market::on_idle(due, remaining), read, "nothing left due");
		assert!(ids.iter().all(|id| !Orders::<Test>::contains_key(id)));
		check();
	});
}

#[test]
fn matched_and_cancelled_requests_leave_entries_the_hook_passes_over_for_a_read() {
	new_test_ext().execute_with(|| {
		let w = world();
		let (ids, due) = requests_due_together(w.app, 4);
		app_order(w.app, 8, 10);
		pool_order_by(POOL_OWNER, w.pool, 15, 1, MACHINE);
		assert_eq!(deals_made(), vec![(0, 1)], "the oldest waiting request is matched");
		assert_ok!(Market::cancel_order(RuntimeOrigin::signed(REQUESTER), ids[1]));
		assert_eq!(expiry_pages(due).concat(), ids, "ended requests keep their entries");
		check();
		run_hooks_to(due - 1);
		let taken = run_hooks_to(due);
		assert_eq!(expired_events(), ids[2..].to_vec());
		// Looked at: the page count three times (two pages, then the end), four entries;
		// two pages taken and the block's page count removed.
		let expected = Market::expiry_weight(Walk { looked: 7, expired: 2, pages: 3 });
		assert_eq!(taken, expected);
		check();
	});
}

#[test]
fn the_hook_catches_up_over_empty_blocks_a_bounded_number_at_a_time() {
	new_test_ext().execute_with(|| {
		let w = world();
		// As on a chain whose hook did not run for a while: the cursor is far behind.
		System::set_block_number(30);
		let r = request(spec(w.app, None, 1));
		let due = 30 + LIFETIME;
		System::set_block_number(due - 1);
		let taken = run_hooks_to(due);
		// `MaxExpiryChecksPerBlock` is 16: sixteen blocks' page counts, then it stops.
		assert_eq!(ExpiryCursor::<Test>::get(), (16, 0));
		assert_eq!(taken, Market::expiry_weight(Walk { looked: 16, ..Default::default() }));
		assert!(Orders::<Test>::contains_key(r));
		run_hooks_to(due + 2);
		assert_eq!(expired_events(), vec![r]);
		check();
	});
}

#[test]
fn orders_of_an_earlier_owner_bind_nobody() {
	new_test_ext().execute_with(|| {
		let w = world();
		let a = app_order(w.app, 8, 10);
		let p = pool_order_by(POOL_OWNER, w.pool, 15, 10, MACHINE);
		// The pool changes hands: its old owner's order must not stake the new owner's funds.
		assert_ok!(Registry::transfer(RuntimeOrigin::signed(POOL_OWNER), w.pool, OTHER_POOL_OWNER));
		let before = free(OTHER_POOL_OWNER);
		let r = request(spec(w.app, None, 2));
		assert_eq!(deals_made(), vec![]);
		assert_noop!(
			Market::match_orders(RuntimeOrigin::signed(77), r, p, a, None),
			Error::OwnerChanged
		);
		assert_eq!(free(OTHER_POOL_OWNER), before);
		// The old owner can still cancel and recover the deposit; the new owner publishes anew.
		assert_ok!(Market::cancel_order(RuntimeOrigin::signed(POOL_OWNER), p));
		pool_order_by(OTHER_POOL_OWNER, w.pool, 15, 10, MACHINE);
		assert_eq!(deals_made(), vec![(0, 2)]);
		assert_eq!(Deals::<Test>::get(0).unwrap().pool_owner, OTHER_POOL_OWNER);
		check();
	});
}

#[test]
fn a_contract_retires_only_when_no_order_offers_it() {
	new_test_ext().execute_with(|| {
		use pallet_registry::{ContractRegistry, ContractUsers};
		let w = world();
		let a1 = app_order(w.app, 8, 10);
		let a2 = app_order(w.app, 9, 1);
		pool_order_by(POOL_OWNER, w.pool, 15, 1, MACHINE);
		assert_eq!((Market::open_offers(w.app), Market::open_offers(w.pool)), (2, 1));
		// A request takes the pool order's one task: it is used up and no longer counts.
		request(spec(w.app, None, 1));
		assert_eq!(deals_made().len(), 1);
		assert_eq!(Market::open_offers(w.pool), 0);
		assert_ok!(Registry::retire(RuntimeOrigin::signed(POOL_OWNER), w.pool));

		assert_noop!(
			Registry::retire(RuntimeOrigin::signed(APP_OWNER), w.app),
			pallet_registry::Error::<Test>::ContractInUse
		);
		// The app changes hands; the new owner ends the orders the old owner left, whose
		// deposits go back to the old owner, and retires it.
		assert_ok!(Registry::transfer(RuntimeOrigin::signed(APP_OWNER), w.app, REQUESTER));
		let (deposit, before) = (deposit_of(a2), free(APP_OWNER));
		assert_noop!(
			Market::cancel_order(RuntimeOrigin::signed(POOL_OWNER), a2),
			Error::NotOrderOwner
		);
		assert_ok!(Market::cancel_order(RuntimeOrigin::signed(REQUESTER), a2));
		assert_eq!(free(APP_OWNER), before + deposit);
		assert_eq!(Market::open_offers(w.app), 1);
		assert_ok!(Market::cancel_order(RuntimeOrigin::signed(APP_OWNER), a1));
		assert_eq!(Market::open_offers(w.app), 0);
		assert_ok!(Registry::retire(RuntimeOrigin::signed(REQUESTER), w.app));
		assert!(!Registry::is_usable(w.app));
		check();
		pallet_registry::Pallet::<Test>::do_try_state().unwrap();
	});
}

#[test]
fn the_runtime_api_says_where_an_ad_is_wrong() {
	new_test_ext().execute_with(|| {
		assert_eq!(Market::check_classad(MACHINE.as_bytes().to_vec()), Ok(()));
		let error =
			Market::check_classad(b"[\n  Memory = 4096;\n  Cpus = * 2\n]".to_vec()).unwrap_err();
		assert_eq!((error.line, error.column), (3, 10));
		assert!(error.message.contains("expected"), "{}", error.message);
		let error = Market::check_classad(b"[ A = frob(1) ]".to_vec()).unwrap_err();
		assert!(error.message.contains("unknown function `frob`"), "{}", error.message);
	});
}

#[test]
fn the_runtime_api_explains_a_mismatch_clause_by_clause() {
	new_test_ext().execute_with(|| {
		let w = world();
		let a = app_order(w.app, 8, 10);
		let mut s = spec(w.app, None, 1);
		s.trust = 5;
		s.job_ad = bounded("[ Requirements = TARGET.Memory >= 4096 && TARGET.GPUs >= 1 ]");
		let r = request(s);
		let p = pool_order_by(
			POOL_OWNER,
			w.pool,
			25,
			1,
			"[ Memory = 8192; Requirements = TARGET.Owner == \"me\" ]",
		);
		let explanation = Market::explain_match(r, p, a, None).unwrap();
		assert!(!explanation.matches);
		assert_eq!(
			explanation.mismatches,
			vec![
				matching::Mismatch::TrustTooLow { requested: 5, offered: 3 },
				matching::Mismatch::PriceAboveMaximum(OrderKind::Pool),
				matching::Mismatch::JobRequirementsNotMet,
				matching::Mismatch::PoolRequirementsNotMet,
			]
		);
		let clauses: Vec<(String, String)> =
			explanation.job_clauses.iter().map(|c| (c.clause.clone(), c.value.clone())).collect();
		assert_eq!(clauses, vec![("TARGET.GPUs >= 1".into(), "undefined".into())]);
		assert_eq!(explanation.pool_clauses.len(), 1);
		assert_eq!(
			Market::explain_match(999, p, a, None),
			Err(runtime_api::QueryError::UnknownOrder)
		);
		assert_eq!(
			Market::explain_match(p, p, a, None),
			Err(runtime_api::QueryError::WrongOrderKind)
		);
	});
}

#[test]
fn the_runtime_api_ranks_every_compatible_offer() {
	new_test_ext().execute_with(|| {
		let w = world();
		let other = approved_pool(OTHER_POOL_OWNER);
		let a = app_order(w.app, 8, 10);
		// Fill the waiting list with requests nothing fits (no pool price at all).
		let mut unpayable = spec(w.app, None, 1);
		unpayable.pool_max_price = 0;
		let first = request(unpayable.clone());
		for _ in 1..4 {
			request(unpayable.clone());
		}
		assert_eq!(Market::rank_offers(first), Ok(vec![]));
		// A request for a GPU, pushed out of the waiting list by four more requests: the pool
		// orders published after it do not see it, so it can be asked about offers it has
		// not met.
		let mut gpu = spec(w.app, None, 1);
		gpu.job_ad = bounded("[ Requirements = TARGET.GPUs >= 1 ]");
		gpu.weights = CriteriaWeights { cost: 1, ..Default::default() };
		let r = request(gpu);
		for _ in 0..4 {
			request(unpayable.clone());
		}
		assert!(!Waiting::<Test>::get(Category::S).contains(&r));
		pool_order_by(POOL_OWNER, w.pool, 15, 5, "[ GPUs = 1; Requirements = false ]");
		let dear = pool_order_by(POOL_OWNER, w.pool, 19, 5, "[ GPUs = 1 ]");
		let cheap = pool_order_by(OTHER_POOL_OWNER, other, 12, 5, "[ GPUs = 2 ]");
		pool_order_by(OTHER_POOL_OWNER, other, 11, 5, "[ GPUs = 0 ]");
		assert_eq!(deals_made(), vec![]);
		let ranked = Market::rank_offers(r).unwrap();
		// Only the two that fit, cheapest first by the request's cost weight.
		let pools: Vec<OrderId> = ranked.iter().map(|o| o.pool_order).collect();
		assert_eq!(pools, vec![cheap, dear]);
		assert_eq!((ranked[0].net_flow, ranked[1].net_flow), (1_000_000, -1_000_000));
		assert_eq!((ranked[0].app_order, ranked[0].dataset_order), (a, None));
		assert_eq!((ranked[0].price_per_task, ranked[1].price_per_task), (20, 27));
		assert_eq!(Market::rank_offers(999), Err(runtime_api::QueryError::UnknownOrder));
		assert_eq!(Market::rank_offers(a), Err(runtime_api::QueryError::WrongOrderKind));
	});
}

#[test]
fn a_request_pinned_to_an_architecture_is_served_only_by_pools_that_can() {
	new_test_ext().execute_with(|| {
		let w = world();
		let a = app_order(w.app, 8, 10);
		let arm = pool_order_by(POOL_OWNER, w.pool, 12, 5, "[ Memory = 8192; Arch = \"aarch64\" ]");
		let x86 = pool_order_by(POOL_OWNER, w.pool, 15, 1, "[ Memory = 8192; Arch = \"X86_64\" ]");
		let pinned = Determinism::SameArchitecture(Architecture::X86_64);
		let mut s = spec(w.app, None, 1);
		s.determinism = pinned;
		// The cheaper pool names another architecture: the deal goes to the dearer one.
		request(s.clone());
		assert_eq!(deals_made(), vec![(0, 1)]);
		let deal = Deals::<Test>::get(0).unwrap();
		assert_eq!((deal.pool_order, deal.pool_price, deal.determinism), (x86, 15, pinned));
		assert!(Orders::<Test>::get(x86).is_none(), "used up");
		// Now nothing fits: the request waits; proposing the other pool says why.
		let waiting = request(s);
		assert_eq!(deals_made().len(), 1);
		assert_noop!(
			Market::match_orders(RuntimeOrigin::signed(REQUESTER), waiting, arm, a, None),
			Error::ArchitectureNotOffered
		);
		let explanation = Market::explain_match(waiting, arm, a, None).unwrap();
		assert_eq!(
			explanation.mismatches,
			vec![matching::Mismatch::ArchitectureNotOffered { pinned: Architecture::X86_64 }]
		);
		// A portable request (the default) takes the cheaper pool.
		request(spec(w.app, None, 1));
		let deal = Deals::<Test>::get(1).unwrap();
		assert_eq!((deal.pool_order, deal.determinism), (arm, Determinism::Portable));
		check();
	});
}

#[test]
fn the_v1_migration_gives_requests_and_deals_from_before_it_a_portable_determinism() {
	use codec::Encode;
	use frame_support::{
		storage::unhashed,
		traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
	};
	new_test_ext().execute_with(|| {
		let w = world();
		let a = app_order(w.app, 8, 10);
		pool_order_by(POOL_OWNER, w.pool, 15, 1, MACHINE);
		request(spec(w.app, None, 1));
		let waiting = request(spec(w.app, None, 2));
		let (deal, order, app) = (
			Deals::<Test>::get(0).unwrap(),
			Orders::<Test>::get(waiting).unwrap(),
			Orders::<Test>::get(a).unwrap(),
		);
		// Stored as version 0 did: without the last byte (`Portable`).
		let deal_key = Deals::<Test>::hashed_key_for(0);
		let order_key = Orders::<Test>::hashed_key_for(waiting);
		for key in [&deal_key, &order_key] {
			let mut raw = unhashed::get_raw(key).unwrap();
			assert_eq!(raw.pop(), Some(0));
			unhashed::put_raw(key, &raw);
		}
		assert!(Deals::<Test>::get(0).is_none() && Orders::<Test>::get(waiting).is_none());
		StorageVersion::new(0).put::<Market>();
		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Market::on_chain_storage_version(), 1);
		assert_eq!(Deals::<Test>::get(0), Some(deal.clone()));
		assert_eq!(Orders::<Test>::get(waiting), Some(order));
		assert_eq!(Orders::<Test>::get(a).unwrap().encode(), app.encode(), "left as it was");
		// At version 1 it does nothing, even to a short value.
		let mut raw = unhashed::get_raw(&deal_key).unwrap();
		raw.pop();
		unhashed::put_raw(&deal_key, &raw);
		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert!(Deals::<Test>::get(0).is_none());
		unhashed::put_raw(&deal_key, &deal.encode());
		check();
	});
}

#[test]
fn the_v2_migration_keeps_each_pools_cheapest_entries_within_its_share() {
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	new_test_ext().execute_with(|| {
		let w = world();
		let other = approved_pool(OTHER_POOL_OWNER);
		let mine: Vec<OrderId> =
			(0..3).map(|i| pool_order_by(POOL_OWNER, w.pool, 10 + i, 1, MACHINE)).collect();
		let theirs = pool_order_by(OTHER_POOL_OWNER, other, 5, 1, MACHINE);
		// An index as version 1 kept it: three entries of one pool (its share is 2).
		let v1 = vec![(5, theirs), (10, mine[0]), (11, mine[1]), (12, mine[2])];
		PoolBook::<Test>::insert(Category::S, frame_support::BoundedVec::truncate_from(v1));
		assert!(Market::do_try_state().is_err(), "try_state sees the crowding");
		StorageVersion::new(1).put::<Market>();
		crate::migrations::v2::MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(Market::on_chain_storage_version(), 2);
		assert_eq!(pool_book(), vec![theirs, mine[0], mine[1]]);
		assert!(Orders::<Test>::get(mine[2]).is_some(), "out of the index, still open");
		check();
	});
}

#[test]
fn the_v3_migration_moves_the_per_block_expiry_lists_into_the_paged_queue() {
	use crate::migrations::v3::{Expiries, MigrateV2ToV3};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	new_test_ext().execute_with(|| {
		let w = world();
		let ids: Vec<OrderId> = (0..3).map(|_| request(spec(w.app, None, 1))).collect();
		System::set_block_number(2);
		let late = request(spec(w.app, None, 1));
		let due = 1 + LIFETIME;
		// The layout of version 2: one list a block, spilling into the next when full.
		let _ = ExpiryQueue::<Test>::clear(u32::MAX, None);
		let _ = ExpiryPages::<Test>::clear(u32::MAX, None);
		ExpiryCursor::<Test>::kill();
		Expiries::<Test>::insert(due, ids.clone());
		Expiries::<Test>::insert(due + 1, vec![late]);
		assert!(Market::do_try_state().is_err(), "the requests are in no queue");
		StorageVersion::new(2).put::<Market>();
		MigrateV2ToV3::<Test>::on_runtime_upgrade();
		assert_eq!(Market::on_chain_storage_version(), 3);
		assert_eq!(Expiries::<Test>::iter().count(), 0, "the old lists are gone");
		assert_eq!(expiry_pages(due), vec![vec![ids[0], ids[1]], vec![ids[2]]]);
		assert_eq!(expiry_pages(due + 1), vec![vec![late]]);
		assert_eq!(ExpiryCursor::<Test>::get(), (2, 0), "the present block: none is older");
		check();
		run_hooks_to(due + 1);
		assert_eq!(expired_events(), [ids, vec![late]].concat());
		check();
	});
}

#[test]
fn the_runtime_api_answers_as_of_the_next_block() {
	new_test_ext().execute_with(|| {
		let w = world();
		let a = app_order(w.app, 8, 10);
		let p = pool_order_out_of_the_index(POOL_OWNER, w.pool, 15, 10);
		let r = request(spec(w.app, None, 1));
		let due = 1 + LIFETIME;
		assert!(Orders::<Test>::contains_key(r), "it waits: the offer is out of the index");
		run_hooks_to(due - 2);
		assert_eq!(Market::rank_offers(r).unwrap().len(), 1);
		assert!(Market::explain_match(r, p, a, None).unwrap().matches);
		// In the block before it is due, a transaction sent now lands too late.
		run_hooks_to(due - 1);
		assert!(Market::rank_offers(r).unwrap().is_empty());
		let explained = Market::explain_match(r, p, a, None).unwrap();
		assert_eq!(explained.mismatches, vec![matching::Mismatch::RequestExpired]);
		// The chain itself, in this block, still matches it.
		assert_ok!(Market::match_orders(RuntimeOrigin::signed(77), r, p, a, None));
		check();
	});
}
