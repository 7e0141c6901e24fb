//! A runtime with balances, the registry (root stands for governance), the escrow, the market
//! and Proof-of-Contribution, with test signatures (`TestSignature(signer, message)`), and
//! helpers that make deals and drive tasks.

use crate as pallet_poco;
use crate::{
	commitments::{attestation_hash, result_hash, result_seal, signed_bytes},
	Attestation, Commitment, Disclosure, DisclosureOf, ResourcesUsed, TaskId,
};
use frame_support::{
	assert_ok, derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Hooks},
	BoundedVec, PalletId,
};
use pallet_market::{Category, CriteriaWeights, DealId, RequestSpec, Restrictions};
use pallet_registry::{AppRuntime, ContractId, Rfc, Terms};
use sp_runtime::{testing::TestSignature, BuildStorage};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Registry: pallet_registry,
		Escrow: pallet_escrow,
		Market: pallet_market,
		Poco: pallet_poco,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u64>;
}

parameter_types! {
	pub const ExistentialDeposit: u64 = 2;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ExistentialDeposit = ExistentialDeposit;
}

impl pallet_registry::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type GovernanceOrigin = frame_system::EnsureRoot<u64>;
	type DepositBase = ConstU64<100>;
	type DepositPerByte = ConstU64<0>;
	type MaxUriLen = ConstU32<128>;
	type MaxTextLen = ConstU32<1024>;
	type Users = Market;
	type WeightInfo = ();
}

parameter_types! {
	pub const EscrowPalletId: PalletId = PalletId(*b"iex/escr");
}

impl pallet_escrow::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type PalletId = EscrowPalletId;
}

impl pallet_market::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = Registry;
	type Escrow = Escrow;
	type PoolStatistics = Poco;
	type Terms = Poco;
	type OrderDepositBase = ConstU64<10>;
	type OrderDepositPerByte = ConstU64<0>;
	type MaxCandidates = ConstU32<4>;
	type MaxIndexedPerPool = ConstU32<4>;
	type MaxWaiting = ConstU32<4>;
	type MaxExpiriesPerBlock = ConstU32<4>;
	type MaxExpiryChecksPerBlock = ConstU32<16>;
	type ExpiryPageSize = ConstU32<4>;
	type MaxBatchedRequests = ConstU32<8>;
	type RequestLifetime = ConstU64<10_000>;
	type MaxParamsLen = ConstU32<64>;
	type MaxAdText = ConstU32<4096>;
	type MaxAdBytes = ConstU32<16384>;
	type MaxUriLen = ConstU32<128>;
	type WeightInfo = ();
}

pub const MAX_CONTRIBUTORS: u32 = 6;
/// Six-second blocks: an XS task's `T` (300 s) is 50 blocks.
pub const T_XS: u64 = 50;
pub const KITTY_MINIMUM: u64 = 5;

impl pallet_poco::Config for Test {
	type DepositCurrency = Balances;
	type DepositReason = RuntimeHoldReason;
	type Signature = TestSignature;
	type EconomicsOrigin = frame_system::EnsureRoot<u64>;
	type InitialKittyMinimum = ConstU64<KITTY_MINIMUM>;
	type WorkerDepositBase = ConstU64<20>;
	type WorkerDepositPerByte = ConstU64<0>;
	type MaxContributors = ConstU32<MAX_CONTRIBUTORS>;
	type MaxBatch = ConstU32<4>;
	type MaxDuePerBlock = ConstU32<4>;
	type MaxInlineResult = ConstU32<64>;
	type MaxResultUri = ConstU32<64>;
	type MillisecsPerBlock = ConstU64<6_000>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = TestSigner;
}

/// Benchmark accounts 1,000 and up, signing with test signatures.
#[cfg(feature = "runtime-benchmarks")]
pub struct TestSigner;
#[cfg(feature = "runtime-benchmarks")]
impl crate::benchmarking::BenchmarkHelper<u64, TestSignature> for TestSigner {
	fn signer(index: u32) -> u64 {
		1_000 + u64::from(index)
	}
	fn sign(who: &u64, message: &[u8]) -> TestSignature {
		TestSignature(*who, message.to_vec())
	}
}

pub const REQUESTER: u64 = 1;
pub const APP_OWNER: u64 = 2;
pub const DATASET_OWNER: u64 = 3;
pub const POOL_OWNER: u64 = 4;
pub const OTHER_POOL_OWNER: u64 = 5;
/// Workers: 10 to 19.
pub const WORKERS: [u64; 10] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
/// Holds nothing.
pub const NOBODY: u64 = 99;
pub const START: u64 = 1_000_000;

pub fn new_test_ext() -> sp_io::TestExternalities {
	let balances: Vec<(u64, u64)> =
		[REQUESTER, APP_OWNER, DATASET_OWNER, POOL_OWNER, OTHER_POOL_OWNER]
			.into_iter()
			.chain(WORKERS)
			.map(|who| (who, START))
			.collect();
	let storage = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig { balances, ..Default::default() },
		..Default::default()
	}
	.build_storage()
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test`, then the pallets' checks.
pub fn checked(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		check();
	});
}

/// The escrow's, the market's and this pallet's `try_state`.
pub fn check() {
	pallet_escrow::Pallet::<Test>::do_try_state().expect("escrow books");
	pallet_market::Pallet::<Test>::do_try_state().expect("market state");
	crate::Pallet::<Test>::do_try_state().expect("poco state");
}

pub fn bounded<const N: u32>(text: &str) -> BoundedVec<u8, ConstU32<N>> {
	text.as_bytes().to_vec().try_into().unwrap()
}

fn approved(owner: u64, terms: Terms<ConstU32<128>, ConstU32<1024>>) -> ContractId {
	let id = pallet_registry::NextContractId::<Test>::get();
	let rfc = Rfc { document_hash: [7; 32], uri: bounded("https://example.org/rfc") };
	assert_ok!(Registry::propose(RuntimeOrigin::signed(owner), rfc, terms));
	assert_ok!(Registry::approve(RuntimeOrigin::root(), id));
	id
}

pub const CODE_HASH: [u8; 32] = [1; 32];
pub const CHECKSUM: [u8; 32] = [2; 32];

pub fn approved_app() -> ContractId {
	approved(
		APP_OWNER,
		Terms::App {
			runtime: AppRuntime::Wasm,
			code_uri: bounded("https://example.org/app.wasm"),
			code_hash: CODE_HASH,
			requirements: bounded("true"),
		},
	)
}

pub fn approved_dataset() -> ContractId {
	approved(
		DATASET_OWNER,
		Terms::Dataset {
			location: bounded("https://example.org/data"),
			checksum: CHECKSUM,
			restrictions: None,
		},
	)
}

/// A pool of `owner` whose workers stake 30 % and whose owner keeps `scheduler` %; workers
/// need `Cpus >= 2`.
pub fn approved_pool(owner: u64, scheduler: u8) -> ContractId {
	approved(
		owner,
		Terms::WorkerPool {
			description: bounded("a pool"),
			worker_stake_ratio: 30,
			scheduler_reward_ratio: scheduler,
			admission: bounded("TARGET.Cpus >= 2"),
		},
	)
}

pub const MACHINE_AD: &str = "[ Cpus = 4; Memory = 8192 ]";

pub fn join(worker: u64, pool: ContractId) {
	assert_ok!(Poco::join_pool(RuntimeOrigin::signed(worker), pool, bounded(MACHINE_AD)));
}

/// What a market made: the contracts and the deal.
pub struct Setup {
	pub pool: ContractId,
	pub deal: DealId,
}

pub const APP_PRICE: u64 = 100;
pub const DATASET_PRICE: u64 = 50;
pub const POOL_PRICE: u64 = 1_000;
/// What the requester pays per task.
pub const PER_TASK: u64 = APP_PRICE + DATASET_PRICE + POOL_PRICE;

/// Contracts, orders and a deal of `volume` XS tasks at `trust`, with a data set; the pool's
/// owner keeps 5 %. `workers` join the pool.
pub fn deal(volume: u32, trust: u32, workers: &[u64]) -> Setup {
	let (app, dataset, pool) = (approved_app(), approved_dataset(), approved_pool(POOL_OWNER, 5));
	for w in workers {
		join(*w, pool);
	}
	let none = Restrictions::default();
	assert_ok!(Market::publish_app_order(
		RuntimeOrigin::signed(APP_OWNER),
		app,
		APP_PRICE,
		volume,
		0,
		none.clone()
	));
	assert_ok!(Market::publish_dataset_order(
		RuntimeOrigin::signed(DATASET_OWNER),
		dataset,
		DATASET_PRICE,
		volume,
		0,
		none.clone()
	));
	assert_ok!(Market::publish_pool_order(
		RuntimeOrigin::signed(POOL_OWNER),
		pool,
		POOL_PRICE,
		volume,
		Category::XS,
		100,
		0,
		none,
		bounded("[ Cpus = 8 ]"),
	));
	let deal = pallet_market::NextDealId::<Test>::get();
	let spec = RequestSpec {
		app,
		dataset: Some(dataset),
		app_max_price: APP_PRICE,
		dataset_max_price: DATASET_PRICE,
		pool_max_price: POOL_PRICE,
		volume,
		category: Category::XS,
		trust,
		tag: 0,
		pool: None,
		params: bounded("--n 1000"),
		beneficiary: REQUESTER,
		job_ad: bounded("[ Requirements = TARGET.Cpus >= 2 ]"),
		weights: CriteriaWeights::default(),
		determinism: Default::default(),
	};
	assert_ok!(Market::submit_request(RuntimeOrigin::signed(REQUESTER), spec));
	assert!(pallet_market::Deals::<Test>::contains_key(deal), "the orders made a deal");
	Setup { pool, deal }
}

pub fn task(deal: DealId, index: u32) -> TaskId {
	TaskId { deal, index }
}

pub fn claim(worker: u64, id: TaskId) -> frame_support::dispatch::DispatchResult {
	Poco::claim(RuntimeOrigin::signed(worker), vec![id].try_into().unwrap())
		.map(|_| ())
		.map_err(|e| e.error)
}

pub fn attestation(worker: u64, id: TaskId, digest: [u8; 32]) -> Attestation<u64> {
	Attestation {
		task: id,
		worker,
		app_code_hash: CODE_HASH,
		dataset_checksum: Some(CHECKSUM),
		result_digest: digest,
		resources: ResourcesUsed { fuel: 1_000, wall_millis: 20, memory_mib: 3 },
		engine_version: 1,
	}
}

/// What an honest worker commits for `digest`.
pub fn commitment(worker: u64, id: TaskId, digest: [u8; 32]) -> Commitment {
	Commitment {
		task: id,
		result_hash: result_hash(id, &digest),
		result_seal: result_seal(&worker, id, &digest),
		attestation_hash: attestation_hash(&attestation(worker, id, digest)),
	}
}

pub fn contribute(
	worker: u64,
	id: TaskId,
	digest: [u8; 32],
) -> frame_support::dispatch::DispatchResult {
	Poco::contribute(
		RuntimeOrigin::signed(worker),
		vec![commitment(worker, id, digest)].try_into().unwrap(),
	)
}

/// An honest worker's disclosure of `digest`, signed.
pub fn disclosure(worker: u64, id: TaskId, digest: [u8; 32]) -> DisclosureOf<Test> {
	let attestation = attestation(worker, id, digest);
	let signature = TestSignature(worker, signed_bytes(&attestation));
	Disclosure { attestation, signature, location: None }
}

pub fn reveal(
	worker: u64,
	id: TaskId,
	digest: [u8; 32],
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	Poco::reveal(
		RuntimeOrigin::signed(worker),
		vec![disclosure(worker, id, digest)].try_into().unwrap(),
	)
}

pub fn submit(
	worker: u64,
	id: TaskId,
	digest: [u8; 32],
) -> frame_support::dispatch::DispatchResult {
	Poco::submit(
		RuntimeOrigin::signed(worker),
		vec![disclosure(worker, id, digest)].try_into().unwrap(),
	)
	.map(|_| ())
	.map_err(|e| e.error)
}

/// Moves to block `n`, running the hooks of each block on the way (with ample idle weight).
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Market::on_initialize(next);
		Poco::on_idle(next, frame_support::weights::Weight::from_parts(u64::MAX / 2, u64::MAX / 2));
	}
}

pub fn free(who: u64) -> u64 {
	<Balances as frame_support::traits::fungible::Inspect<u64>>::balance(&who)
}

pub fn kitty() -> u64 {
	free(Escrow::kitty_account())
}
