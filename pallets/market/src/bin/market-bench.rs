//! Times the market's paths natively, in the mock runtime (in-memory storage), and prints the
//! figures. Not the on-chain weights (those come from the runtime benchmarks): this shows how
//! costs grow, against baselines measured in the same run. Last, it prints what the generated
//! weights charge each path and the throughput that implies.
//!
//! `cargo run --release -p pallet-market --features bench --bin market-bench`

use frame_support::{
	assert_ok,
	traits::{fungible::Mutate, ConstU32, Get},
	weights::Weight,
	BoundedVec,
};
use pallet_market::{
	mock::*, scheduling, Category, Config, CriteriaWeights, NextOrderId, OrderId, RequestSpec,
	RequestSpecOf, WeightInfo,
};
use std::time::Instant;

type Market = pallet_market::Pallet<Test>;

const JOB: &str = "[ RequestMemory = 4096; Requirements = TARGET.Memory >= RequestMemory && TARGET.Cpus >= 2; Rank = TARGET.Cpus ]";
const MACHINE: &str = "[ Memory = 16384; Cpus = 8; EnergyWatts = 300; Requirements = TARGET.RequestMemory <= Memory ]";

fn text<const N: u32>(s: &str) -> BoundedVec<u8, ConstU32<N>> {
	s.as_bytes().to_vec().try_into().unwrap()
}

fn last() -> OrderId {
	NextOrderId::<Test>::get() - 1
}

fn pool_order(pool: u64, price: u64, volume: u32, ad: &str) -> OrderId {
	pool_order_by(POOL_OWNER, pool, price, volume, ad)
}

fn pool_order_by(owner: u64, pool: u64, price: u64, volume: u32, ad: &str) -> OrderId {
	let result = Market::publish_pool_order(
		RuntimeOrigin::signed(owner),
		pool,
		price,
		volume,
		Category::S,
		3,
		0,
		Default::default(),
		text(ad),
	);
	if let Err(e) = result {
		panic!(
			"order {}: {e:?}; free {}",
			NextOrderId::<Test>::get(),
			Balances::free_balance(owner)
		);
	}
	last()
}

/// A request of `volume` tasks for `app` with this file's job ad.
fn request_spec(app: u64, volume: u32) -> RequestSpecOf<Test> {
	RequestSpec {
		app,
		dataset: None,
		app_max_price: 10,
		dataset_max_price: 0,
		pool_max_price: 100,
		volume,
		category: Category::S,
		trust: 1,
		tag: 0,
		pool: None,
		params: text("x"),
		beneficiary: REQUESTER,
		job_ad: text(JOB),
		weights: CriteriaWeights { cost: 1, rank: 1, energy: 1, ..Default::default() },
		determinism: Default::default(),
	}
}

fn request(app: u64) -> OrderId {
	assert_ok!(Market::submit_request(RuntimeOrigin::signed(REQUESTER), request_spec(app, 1)));
	last()
}

fn median(mut samples: Vec<f64>) -> (f64, f64) {
	samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
	let mid = samples[samples.len() / 2];
	let spread = samples[samples.len() * 9 / 10] - samples[samples.len() / 10];
	(mid, spread)
}

/// A proposed match with `book` standing pool orders: the first `MaxCandidates` (the index)
/// refuse every job, so requests wait; the rest fit, and are matched by proposal.
fn proposed_match(book: u32, runs: usize) -> (f64, f64) {
	new_test_ext().execute_with(|| {
		let app = approved_app(APP_OWNER);
		let pool = approved_pool(POOL_OWNER);
		// Deposits for 10,000 orders.
		assert_ok!(<Balances as Mutate<u64>>::mint_into(&POOL_OWNER, 1 << 40));
		assert_ok!(Market::publish_app_order(
			RuntimeOrigin::signed(APP_OWNER),
			app,
			1,
			u32::MAX,
			0,
			Default::default()
		));
		let app_order = last();
		for _ in 0..MAX_CANDIDATES {
			pool_order(pool, 1, 1, "[ Memory = 1; Requirements = false ]");
		}
		let mut fitting = Vec::new();
		for i in MAX_CANDIDATES..book.max(MAX_CANDIDATES + runs as u32) {
			let id = pool_order(pool, 10 + u64::from(i % 50), 1_000, MACHINE);
			if fitting.len() < runs {
				fitting.push(id);
			}
		}
		let mut samples = Vec::new();
		for pool_order in fitting {
			let r = request(app);
			let start = Instant::now();
			assert_ok!(Market::match_orders(
				RuntimeOrigin::signed(77),
				r,
				pool_order,
				app_order,
				None
			));
			samples.push(start.elapsed().as_secs_f64() * 1e6);
		}
		median(samples)
	})
}

/// A request arriving on `c` fitting pool orders in the index (each of volume 1), of two
/// pools (one pool holds at most `MAX_INDEXED_PER_POOL` entries): ranked, then `c` deals made.
fn arrival(c: u32, runs: usize) -> (f64, f64) {
	median((0..runs).map(|_| arrival_once(c).0).collect())
}

/// One request arriving on `c` fitting pool orders: how long it took (µs), what it was
/// charged.
fn arrival_once(c: u32) -> (f64, Weight) {
	assert!(c <= 2 * MAX_INDEXED_PER_POOL);
	new_test_ext().execute_with(|| {
		let app = approved_app(APP_OWNER);
		let pools = [POOL_OWNER, OTHER_POOL_OWNER].map(|owner| (owner, approved_pool(owner)));
		app_order(app, u32::MAX);
		for i in 0..c {
			let (owner, pool) = pools[(i / MAX_INDEXED_PER_POOL) as usize];
			pool_order_by(owner, pool, 10 + u64::from(i), 1, MACHINE);
		}
		let spec = request_spec(app, c.max(1));
		let start = Instant::now();
		let charged = actual(Market::submit_request(RuntimeOrigin::signed(REQUESTER), spec));
		let elapsed = start.elapsed().as_secs_f64() * 1e6;
		assert_eq!(pallet_market::NextDealId::<Test>::get(), u64::from(c));
		(elapsed, charged)
	})
}

/// What a pool order arriving on `w` waiting requests (each of one task) is charged.
fn pool_order_arriving(w: u32) -> Weight {
	new_test_ext().execute_with(|| {
		let app = approved_app(APP_OWNER);
		let pool = approved_pool(POOL_OWNER);
		app_order(app, u32::MAX);
		for _ in 0..w {
			request(app);
		}
		let charged = actual(Market::publish_pool_order(
			RuntimeOrigin::signed(POOL_OWNER),
			pool,
			10,
			w.max(1),
			Category::S,
			3,
			0,
			Default::default(),
			text(MACHINE),
		));
		assert_eq!(pallet_market::NextDealId::<Test>::get(), u64::from(w));
		charged
	})
}

fn promethee(n: usize, runs: usize) -> (f64, f64) {
	let alternatives: Vec<scheduling::Alternative> = (0..n)
		.map(|i| scheduling::Alternative {
			values: [
				Some(i as i64 * 7 % 101),
				Some(i as i64 * 13 % 97),
				None,
				Some(i as i64 % 50),
				Some(300 + i as i64 % 17),
				Some(i as i64 * 3),
			],
			price: (i * 7 % 101) as u128,
			id: i as u64,
		})
		.collect();
	let samples = (0..runs)
		.map(|_| {
			let start = Instant::now();
			let ranked = scheduling::rank(&alternatives, &[3, 2, 1, 1, 1, 1]);
			assert_eq!(ranked.len(), n);
			start.elapsed().as_secs_f64() * 1e6
		})
		.collect();
	median(samples)
}

/// The weight a dispatch reports after it ran.
fn actual(result: frame_support::dispatch::DispatchResultWithPostInfo) -> Weight {
	result.expect("dispatched").actual_weight.expect("a weight after the call")
}

fn app_order(app: u64, volume: u32) -> OrderId {
	assert_ok!(Market::publish_app_order(
		RuntimeOrigin::signed(APP_OWNER),
		app,
		1,
		volume,
		0,
		Default::default()
	));
	last()
}

/// What the generated weights charge each path, dispatched with this file's ads (the mock's
/// `()` weights are the runtime's, with ParityDB's database weights), and what that implies at
/// the normal-dispatch limit of a 6 s block: 1.5 s of weight.
fn charged() {
	let row = |what: &str, weight: Weight, deals: u32| {
		let per_deal = weight.ref_time() as f64 / 1e6 / f64::from(deals);
		let per_block = (1.5e6 / per_deal).floor();
		println!(
			"  {what:<58} {per_deal:>8.1} µs a deal  {per_block:>6} a block  {:>5.0}/s",
			per_block / 6.0
		);
	};
	new_test_ext().execute_with(|| {
		let app = approved_app(APP_OWNER);
		let pool = approved_pool(POOL_OWNER);
		assert_ok!(<Balances as Mutate<u64>>::mint_into(&POOL_OWNER, 1 << 40));
		// Out of the index, so that requests wait for proposals.
		for _ in 0..MAX_CANDIDATES {
			pool_order(pool, 1, 1, "[ Memory = 1; Requirements = false ]");
		}
		let (open_pool, open_app) = (pool_order(pool, 10, 1_000, MACHINE), app_order(app, 1_000));
		let signed = || RuntimeOrigin::signed(77);
		let r = request(app);
		let typical = actual(Market::match_orders(signed(), r, open_pool, open_app, None));
		let (one_pool, one_app) = (pool_order(pool, 10, 1, MACHINE), app_order(app, 1));
		let r = request(app);
		let used_up = actual(Market::match_orders(signed(), r, one_pool, one_app, None));
		let n: u32 = <Test as Config>::MaxBatchedRequests::get();
		let requests: Vec<OrderId> = (0..n).map(|_| request(app)).collect();
		let requests = requests.try_into().expect("within the bound");
		let batch = actual(Market::match_batch(signed(), open_pool, open_app, None, requests));
		assert_eq!(pallet_market::NextDealId::<Test>::get(), u64::from(n) + 2);
		// Arrival at the runtime's bounds (16 candidates, 16 waiting requests; the mock's are
		// 4): the charge is linear in the orders looked at, each evaluated pair of these ads
		// adding the same, so 4 of them give the slope.
		let (runtime_bound, mock_bound) = (16, 4);
		let at_bound = |none: Weight, four: Weight| {
			let per_order = four.saturating_sub(none) / u64::from(mock_bound);
			none.saturating_add(per_order.saturating_mul(runtime_bound))
		};
		let request = at_bound(arrival_once(0).1, arrival_once(mock_bound).1);
		let pool_order = at_bound(pool_order_arriving(0), pool_order_arriving(mock_bound));
		let candidates = runtime_bound as u32;
		row("matchOrders, the request alone used up (typical)", typical, 1);
		row("matchOrders, every order used up", used_up, 1);
		row("matchOrders, up front (ads at their most)", Market::match_orders_up_front(), 1);
		row(&format!("matchBatch of {n} requests, one offer"), batch, n);
		row(&format!("matchBatch of {n}, up front"), Market::match_batch_up_front(n), n);
		row(&format!("submitRequest on {candidates} candidates, a deal each"), request, candidates);
		row(
			&format!("submitRequest at the largest ads (benchmark, {candidates} deals)"),
			<<Test as Config>::WeightInfo as WeightInfo>::submit_request_largest_ads(candidates),
			candidates,
		);
		row(
			&format!("publishPoolOrder on {candidates} waiting, a deal each"),
			pool_order,
			candidates,
		);
		row(
			&format!("publishPoolOrder at the largest ads (benchmark, {candidates} deals)"),
			<<Test as Config>::WeightInfo as WeightInfo>::publish_pool_order_largest_ads(
				candidates,
			),
			candidates,
		);
	});
}

fn main() {
	println!(
		"market-bench: native, mock runtime, in-memory storage; median and 10-90 % spread, µs"
	);
	println!("\nproposed match (match_orders) against the number of standing pool orders:");
	for book in [10, 1_000, 10_000] {
		let (mid, spread) = proposed_match(book, 41);
		println!("  {book:>6} orders: {mid:>8.1} µs  (spread {spread:.1})");
	}
	println!("\nrequest arriving on c fitting pool orders (ranked, c deals made):");
	for c in [0, 1, 4] {
		let (mid, spread) = arrival(c, 21);
		println!("  c = {c:>2}: {mid:>8.1} µs  (spread {spread:.1})");
	}
	println!("\nPROMETHEE II ranking against the number of candidates:");
	for n in [4, 16, 64, 256, 1_024] {
		let (mid, spread) = promethee(n, 41);
		println!("  n = {n:>5}: {mid:>8.1} µs  (spread {spread:.1})");
	}
	println!(
		"\ncharged by the generated weights (docs/benchmarks.md), and the throughput implied:"
	);
	charged();
}
