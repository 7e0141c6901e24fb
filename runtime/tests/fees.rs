//! The fee schedule docs/chain.md promises: 1 RLC per second of execution weight and
//! 0.000 01 RLC per byte, so that a transfer costs a fraction of a cent's worth of RLC.

use frame_support::{dispatch::GetDispatchInfo, weights::Weight};
use iexec_runtime::{Runtime, RuntimeCall, TransactionPayment, MILLI_RLC, RLC};
use sp_keyring::Sr25519Keyring;

#[test]
fn fees_follow_the_documented_schedule() {
	sp_io::TestExternalities::default().execute_with(|| {
		let one_second = Weight::from_parts(1_000_000_000_000, 0);
		assert_eq!(TransactionPayment::weight_to_fee(one_second), RLC);
		assert_eq!(TransactionPayment::length_to_fee(100_000), RLC);

		let transfer = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: Sr25519Keyring::Bob.to_account_id().into(),
			value: RLC,
		});
		let info = transfer.get_dispatch_info();
		// A signed transfer is about 150 bytes on the wire.
		let fee = pallet_transaction_payment::Pallet::<Runtime>::compute_fee(150, &info, 0);
		assert!((MILLI_RLC..3 * MILLI_RLC).contains(&fee), "transfer fee {fee}");
	});
}

/// The market's matching calls at their bounds (every ad at its most, a full batch, every
/// candidate or waiting request evaluated) are charged up front no more than one transaction
/// of the normal class may weigh, so that none is refused as too heavy for any block.
#[test]
fn the_market_calls_at_their_bounds_fit_in_a_block() {
	use frame_support::{dispatch::DispatchClass, traits::Get, BoundedVec};
	use iexec_runtime::configs::RuntimeBlockWeights;
	sp_io::TestExternalities::default().execute_with(|| {
		let limit = RuntimeBlockWeights::get()
			.get(DispatchClass::Normal)
			.max_extrinsic
			.expect("a normal transaction has a limit");
		let most: u32 =
			<iexec_runtime::Runtime as pallet_market::Config>::MaxBatchedRequests::get();
		let batch = RuntimeCall::Market(pallet_market::Call::match_batch {
			pool_order: 0,
			app_order: 1,
			dataset_order: Some(2),
			requests: BoundedVec::truncate_from(vec![3; most as usize]),
		});
		let single = RuntimeCall::Market(pallet_market::Call::match_orders {
			request: 3,
			pool_order: 0,
			app_order: 1,
			dataset_order: Some(2),
		});
		let publish = RuntimeCall::Market(pallet_market::Call::publish_pool_order {
			pool: 0,
			price: RLC,
			volume: 1,
			category: pallet_market::Category::S,
			trust: 1,
			tag: 0,
			restrictions: Default::default(),
			ad: Default::default(),
		});
		let submit = RuntimeCall::Market(pallet_market::Call::submit_request {
			spec: pallet_market::RequestSpec {
				app: 0,
				dataset: None,
				app_max_price: RLC,
				dataset_max_price: 0,
				pool_max_price: RLC,
				volume: 1,
				category: pallet_market::Category::S,
				trust: 1,
				tag: 0,
				pool: None,
				params: Default::default(),
				beneficiary: Sr25519Keyring::Bob.to_account_id(),
				job_ad: Default::default(),
				weights: Default::default(),
				determinism: Default::default(),
			},
		});
		// A client may submit as many requests in one `utility.batchAll` as the arrival
		// index holds candidates.
		let candidates: u32 =
			<iexec_runtime::Runtime as pallet_market::Config>::MaxCandidates::get();
		let requests = submit.get_dispatch_info().total_weight().saturating_mul(candidates.into());
		assert!(requests.all_lte(limit), "{candidates} requests: {requests} above {limit}");
		for call in [batch, single, publish, submit] {
			let weight = call.get_dispatch_info().total_weight();
			assert!(weight.all_lte(limit), "{call:?}: {weight} above {limit}");
		}
	});
}

/// The expiry hook at its bounds (every expiry it may make, every entry it may look at) takes
/// a small share of a block, so that a backlog of expiries never crowds out transactions.
#[test]
fn the_expiry_hook_at_its_bounds_takes_a_tenth_of_a_block_at_most() {
	use frame_support::traits::Get;
	use iexec_runtime::configs::RuntimeBlockWeights;
	use pallet_market::WeightInfo as _;
	type Market = <Runtime as pallet_market::Config>::WeightInfo;
	let expiries: u32 = <Runtime as pallet_market::Config>::MaxExpiriesPerBlock::get();
	let checks: u32 = <Runtime as pallet_market::Config>::MaxExpiryChecksPerBlock::get();
	let pages = u64::from(pallet_market::expiry::PAGE_OPS_PER_BLOCK);
	let most = Market::expire_requests(expiries)
		.saturating_add(Market::pass_over_ended(checks - expiries))
		.saturating_add(
			<Runtime as frame_system::Config>::DbWeight::get().reads_writes(pages, pages),
		);
	let block = RuntimeBlockWeights::get().max_block;
	assert!(most.ref_time() <= block.ref_time() / 10, "{most} above a tenth of {block}");
}
