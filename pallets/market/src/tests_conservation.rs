//! Property test: random sequences of orders, requests, cancels, proposed matches (single and
//! batched) and expiries.
//! After every step: total issuance is unchanged; every hold equals the escrow's books and the
//! market's records (both pallets' `try_state`); no order gives more tasks than its volume;
//! and every deal made in the step satisfies every rule of `check_match`, checked here against
//! what its orders were published with, not with the pallet's own code.

use crate::{expiry::Walk, mock::*, *};
use frame_support::traits::Hooks;
use pallet_registry::ContractId;
use proptest::prelude::*;
use std::collections::BTreeMap;

type Market = crate::Pallet<Test>;

/// What each order was published with: the oracle's memory.
#[derive(Clone, Debug)]
enum Published {
	App {
		price: u64,
		volume: u32,
		tag: Tag,
		only_requester: Option<u64>,
	},
	Dataset {
		price: u64,
		volume: u32,
	},
	Pool {
		owner: u64,
		pool: ContractId,
		price: u64,
		volume: u32,
		category: Category,
		trust: u32,
		tag: Tag,
		memory: u32,
		limit: u32,
	},
	Request {
		dataset: bool,
		maxima: (u64, u64, u64),
		volume: u32,
		category: Category,
		trust: u32,
		tag: Tag,
		memory: u32,
		priority: u32,
		/// The block it was submitted in.
		submitted_at: u64,
	},
}

#[derive(Clone, Debug)]
enum Op {
	App {
		price: u64,
		volume: u32,
		tag: Tag,
		restricted: bool,
	},
	Dataset {
		price: u64,
		volume: u32,
	},
	Pool {
		second: bool,
		price: u64,
		volume: u32,
		category: Category,
		trust: u32,
		tag: Tag,
		memory: u32,
		limit: u32,
	},
	Request {
		dataset: bool,
		maxima: (u64, u64, u64),
		volume: u32,
		category: Category,
		trust: u32,
		tag: Tag,
		memory: u32,
		priority: u32,
		weights: (u16, u16),
	},
	Cancel(OrderId),
	Match(OrderId, OrderId, OrderId, Option<OrderId>),
	/// A batch: pool order, app order, data set order, requests.
	Batch(OrderId, OrderId, Option<OrderId>, Vec<OrderId>),
	Advance(u64),
	/// Blocks pass with the hook behind (as when more fall due than it may expire a block).
	Stall(u64),
}

fn category() -> impl Strategy<Value = Category> {
	prop_oneof![Just(Category::XS), Just(Category::S)]
}

fn op() -> impl Strategy<Value = Op> {
	let id = 0u64..24;
	prop_oneof![
		2 => (0u64..10, 1u32..6, 0u64..4, any::<bool>())
			.prop_map(|(price, volume, tag, restricted)| Op::App { price, volume, tag, restricted }),
		1 => (0u64..6, 1u32..6).prop_map(|(price, volume)| Op::Dataset { price, volume }),
		3 => (any::<bool>(), 0u64..25, 1u32..6, category(), 1u32..4, 0u64..8, 1000u32..9000, 0u32..8).prop_map(
			|(second, price, volume, category, trust, tag, memory, limit)| Op::Pool { second, price, volume, category, trust, tag, memory, limit }
		),
		3 => (any::<bool>(), (0u64..12, 0u64..6, 0u64..25), 1u32..8, category(), 1u32..4, 0u64..4, 1000u32..9000, 0u32..8, (0u16..3, 0u16..3))
			.prop_map(|(dataset, maxima, volume, category, trust, tag, memory, priority, weights)| Op::Request { dataset, maxima, volume, category, trust, tag, memory, priority, weights }),
		1 => id.clone().prop_map(Op::Cancel),
		2 => (id.clone(), id.clone(), id.clone(), proptest::option::of(id.clone())).prop_map(|(r, p, a, d)| Op::Match(r, p, a, d)),
		2 => (id.clone(), id.clone(), proptest::option::of(id.clone()), proptest::collection::vec(id, 0..5))
			.prop_map(|(p, a, d, requests)| Op::Batch(p, a, d, requests)),
		1 => (1u64..8).prop_map(Op::Advance),
		1 => (1u64..12).prop_map(Op::Stall),
	]
}

struct World {
	app: ContractId,
	dataset: ContractId,
	pools: [(u64, ContractId); 2],
}

fn run(world: &World, op: &Op, published: &mut BTreeMap<OrderId, Published>) {
	let next = NextOrderId::<Test>::get();
	let (result, record) = match op.clone() {
		Op::App { price, volume, tag, restricted } => {
			let only_requester = restricted.then_some(REQUESTER + 100);
			let restrictions = Restrictions { requester: only_requester, ..Default::default() };
			(
				Market::publish_app_order(
					RuntimeOrigin::signed(APP_OWNER),
					world.app,
					price,
					volume,
					tag,
					restrictions,
				),
				Published::App { price, volume, tag, only_requester },
			)
		}
		Op::Dataset { price, volume } => (
			Market::publish_dataset_order(
				RuntimeOrigin::signed(DATASET_OWNER),
				world.dataset,
				price,
				volume,
				0,
				Default::default(),
			),
			Published::Dataset { price, volume },
		),
		Op::Pool { second, price, volume, category, trust, tag, memory, limit } => {
			let (owner, pool) = world.pools[second as usize];
			let ad = format!("[ Memory = {memory}; Requirements = TARGET.Priority < {limit} ]");
			(
				Market::publish_pool_order(
					RuntimeOrigin::signed(owner),
					pool,
					price,
					volume,
					category,
					trust,
					tag,
					Default::default(),
					bounded(&ad),
				)
				.map(|_| ())
				.map_err(|e| e.error),
				Published::Pool { owner, pool, price, volume, category, trust, tag, memory, limit },
			)
		}
		Op::Request {
			dataset,
			maxima,
			volume,
			category,
			trust,
			tag,
			memory,
			priority,
			weights,
		} => {
			let spec = RequestSpec {
				app: world.app,
				dataset: dataset.then_some(world.dataset),
				app_max_price: maxima.0,
				dataset_max_price: maxima.1,
				pool_max_price: maxima.2,
				volume,
				category,
				trust,
				tag,
				pool: None,
				params: bounded("p"),
				beneficiary: REQUESTER,
				job_ad: bounded(&format!("[ Priority = {priority}; Requirements = TARGET.Memory >= {memory}; Rank = TARGET.Memory ]")),
				weights: CriteriaWeights { cost: weights.0, rank: weights.1, ..Default::default() },
				determinism: Default::default(),
			};
			(
				Market::submit_request(RuntimeOrigin::signed(REQUESTER), spec)
					.map(|_| ())
					.map_err(|e| e.error),
				Published::Request {
					dataset,
					maxima,
					volume,
					category,
					trust,
					tag,
					memory,
					priority,
					submitted_at: System::block_number(),
				},
			)
		}
		Op::Cancel(id) => {
			let owner = Orders::<Test>::get(id).map_or(REQUESTER, |o| o.owner);
			let _ = Market::cancel_order(RuntimeOrigin::signed(owner), id);
			return;
		}
		Op::Match(r, p, a, d) => {
			let _ = Market::match_orders(RuntimeOrigin::signed(77), r, p, a, d);
			return;
		}
		Op::Batch(p, a, d, requests) => {
			let requests = requests.try_into().expect("within the mock's bound");
			let _ = Market::match_batch(RuntimeOrigin::signed(77), p, a, d, requests);
			return;
		}
		Op::Advance(blocks) => {
			for _ in 0..blocks {
				let now = System::block_number() + 1;
				System::set_block_number(now);
				Market::on_initialize(now);
				// A block with room for a couple of expiries more.
				let base = Market::expiry_weight(Walk::default());
				let one = Market::expiry_weight(Walk { expired: 1, ..Default::default() }) - base;
				Market::on_idle(now, base + one * 6);
			}
			return;
		}
		Op::Stall(blocks) => {
			System::set_block_number(System::block_number() + blocks);
			return;
		}
	};
	if result.is_ok() {
		published.insert(next, record);
	}
}

/// The world's app runs on pools with this much memory, and its data set may go only to pools
/// with at most that much (pool ads give 1,000 to 9,000).
const APP_REQUIREMENTS: &str = "TARGET.Memory >= 3000";
const DATASET_RESTRICTIONS: &str = "TARGET.Memory <= 7000";

/// Every rule of `check_match`, from what the orders were published with.
fn deal_obeys_the_rules(
	deal: &DealOf<Test>,
	published: &BTreeMap<OrderId, Published>,
) -> Result<(), TestCaseError> {
	let Some(Published::Request {
		dataset,
		maxima,
		category,
		trust,
		tag,
		memory,
		priority,
		submitted_at,
		..
	}) = published.get(&deal.request).cloned()
	else {
		return Err(TestCaseError::fail("a deal's request was never published"));
	};
	let Some(Published::Pool {
		owner,
		pool,
		price: pool_price,
		category: pool_category,
		trust: pool_trust,
		tag: pool_tag,
		memory: pool_memory,
		limit,
		..
	}) = published.get(&deal.pool_order).cloned()
	else {
		return Err(TestCaseError::fail("a deal's pool order is not a pool order"));
	};
	let Some(Published::App { price: app_price, tag: app_tag, only_requester, .. }) =
		published.get(&deal.app_order).cloned()
	else {
		return Err(TestCaseError::fail("a deal's app order is not an app order"));
	};
	prop_assert!(deal.created_at < submitted_at + LIFETIME, "a deal for an expired request");
	prop_assert_eq!(category, pool_category);
	prop_assert!(pool_trust >= trust);
	prop_assert!(app_price <= maxima.0 && pool_price <= maxima.2);
	prop_assert_eq!(
		(deal.app_price, deal.pool_price, deal.pool_owner, deal.pool),
		(app_price, pool_price, owner, pool)
	);
	prop_assert!(only_requester.map_or(true, |who| who == deal.requester));
	// Both ads: the job wants memory, the pool a priority under its limit.
	prop_assert!(pool_memory >= memory);
	prop_assert!(priority < limit);
	// The app's and the data set's registered rules.
	prop_assert!(pool_memory >= 3000);
	prop_assert!(deal.dataset.is_none() || pool_memory <= 7000);
	// Data set orders are published without tags here.
	let demanded = tag | app_tag;
	match (&deal.dataset, dataset) {
		(Some(d), true) => {
			let Some(Published::Dataset { price, .. }) = published.get(&d.order).cloned() else {
				return Err(TestCaseError::fail("a deal's data set order is not one"));
			};
			prop_assert!(price <= maxima.1);
			prop_assert_eq!(d.price, price);
		}
		(None, false) => {}
		_ => return Err(TestCaseError::fail("a deal's data set differs from its request's")),
	}
	prop_assert_eq!(demanded & !pool_tag, 0);
	prop_assert_eq!(deal.pool_stake, pool_price * u64::from(deal.volume) * 30 / 100);
	Ok(())
}

fn volume_of(published: &Published) -> u32 {
	match published {
		Published::App { volume, .. }
		| Published::Dataset { volume, .. }
		| Published::Pool { volume, .. }
		| Published::Request { volume, .. } => *volume,
	}
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 120, .. ProptestConfig::default() })]

	#[test]
	fn the_market_conserves_funds_and_every_deal_obeys_the_rules(ops in proptest::collection::vec(op(), 1..50)) {
		new_test_ext().execute_with(|| {
			let world = World {
				app: approved_app_requiring(APP_OWNER, APP_REQUIREMENTS),
				dataset: approved_dataset_restricted(DATASET_OWNER, Some(DATASET_RESTRICTIONS)),
				pools: [(POOL_OWNER, approved_pool(POOL_OWNER)), (OTHER_POOL_OWNER, approved_pool(OTHER_POOL_OWNER))],
			};
			let issuance = Balances::total_issuance();
			let mut published = BTreeMap::new();
			let mut consumed: BTreeMap<OrderId, u32> = BTreeMap::new();
			for (step, op) in ops.iter().enumerate() {
				let deals_before = NextDealId::<Test>::get();
				run(&world, op, &mut published);
				prop_assert_eq!(Balances::total_issuance(), issuance, "step {}: {:?}", step, op);
				Market::do_try_state().map_err(|e| TestCaseError::fail(format!("step {step} {op:?}: {e:?}")))?;
				pallet_escrow::Pallet::<Test>::do_try_state()
					.map_err(|e| TestCaseError::fail(format!("step {step} {op:?}: {e:?}")))?;
				for deal_id in deals_before..NextDealId::<Test>::get() {
					let deal = Deals::<Test>::get(deal_id).expect("deal stored");
					deal_obeys_the_rules(&deal, &published)?;
					let orders = [Some(deal.request), Some(deal.pool_order), Some(deal.app_order), deal.dataset.as_ref().map(|d| d.order)];
					for id in orders.into_iter().flatten() {
						let used = consumed.entry(id).or_default();
						*used += deal.volume;
						prop_assert!(*used <= volume_of(&published[&id]), "order {} over-consumed", id);
					}
				}
				// An open order has exactly what the deals left of it.
				for (id, order) in Orders::<Test>::iter() {
					let used = consumed.get(&id).copied().unwrap_or(0);
					prop_assert_eq!(order.remaining, volume_of(&published[&id]) - used, "order {}", id);
				}
			}
			Ok(())
		})?;
	}
}
