//! A runtime with balances, the registry (root stands for governance), the escrow and the
//! market; pool figures that tests can set.

use crate as pallet_market;
use crate::{PoolFigures, PoolStatistics};
use frame_support::{
	assert_ok, derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
	BoundedVec, PalletId,
};
use pallet_registry::{AppRuntime, ContractId, Rfc, Terms};
use sp_runtime::BuildStorage;
use std::{cell::RefCell, collections::BTreeMap};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Registry: pallet_registry,
		Escrow: pallet_escrow,
		Market: pallet_market,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u64>;
	// The runtime's, so that what the market adds to its benchmarks' reads costs here too.
	type DbWeight = frame_support::weights::constants::ParityDbWeight;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

impl pallet_registry::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type GovernanceOrigin = frame_system::EnsureRoot<u64>;
	type DepositBase = ConstU64<100>;
	type DepositPerByte = ConstU64<0>;
	type MaxUriLen = ConstU32<128>;
	// The runtime's: the market's benchmarks register the longest rules it allows.
	type MaxTextLen = ConstU32<4096>;
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

thread_local! {
	static FIGURES: RefCell<BTreeMap<ContractId, PoolFigures>> = RefCell::new(BTreeMap::new());
}

/// Pool figures set by the tests; unknown pools read neutral.
pub struct TestStatistics;
impl PoolStatistics for TestStatistics {
	fn figures(pool: ContractId) -> PoolFigures {
		FIGURES.with(|f| f.borrow().get(&pool).copied().unwrap_or_default())
	}
}

pub fn set_figures(pool: ContractId, figures: PoolFigures) {
	FIGURES.with(|f| f.borrow_mut().insert(pool, figures));
}

pub const MAX_CANDIDATES: u32 = 4;
pub const MAX_INDEXED_PER_POOL: u32 = 2;
pub const LIFETIME: u64 = 10;

impl pallet_market::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = Registry;
	type Escrow = Escrow;
	type PoolStatistics = TestStatistics;
	type OrderDepositBase = ConstU64<10>;
	type OrderDepositPerByte = ConstU64<1>;
	type Terms = ();
	type MaxCandidates = ConstU32<MAX_CANDIDATES>;
	type MaxIndexedPerPool = ConstU32<MAX_INDEXED_PER_POOL>;
	type MaxWaiting = ConstU32<4>;
	type MaxExpiriesPerBlock = ConstU32<3>;
	type MaxExpiryChecksPerBlock = ConstU32<16>;
	type ExpiryPageSize = ConstU32<2>;
	type MaxBatchedRequests = ConstU32<64>;
	type RequestLifetime = ConstU64<LIFETIME>;
	type MaxParamsLen = ConstU32<64>;
	type MaxAdText = ConstU32<4096>;
	type MaxAdBytes = ConstU32<16384>;
	type MaxUriLen = ConstU32<128>;
	type WeightInfo = ();
}

pub const REQUESTER: u64 = 1;
pub const APP_OWNER: u64 = 2;
pub const DATASET_OWNER: u64 = 3;
pub const POOL_OWNER: u64 = 4;
pub const OTHER_POOL_OWNER: u64 = 5;
/// Holds 200: enough for a deposit, not for much else.
pub const POOR: u64 = 9;
/// Holds enough to register a pool and publish an order, and little more.
pub const WEAK_POOL_OWNER: u64 = 6;
pub const START: u64 = 1_000_000;

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut balances: Vec<(u64, u64)> =
		[REQUESTER, APP_OWNER, DATASET_OWNER, POOL_OWNER, OTHER_POOL_OWNER]
			.into_iter()
			.map(|who| (who, START))
			.collect();
	balances.push((POOR, 200));
	balances.push((WEAK_POOL_OWNER, 400));
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

pub fn bounded<const N: u32>(text: &str) -> BoundedVec<u8, ConstU32<N>> {
	text.as_bytes().to_vec().try_into().unwrap()
}

/// Proposes a contract with `terms` for `owner` and approves it (root is governance here).
fn approved(owner: u64, terms: Terms<ConstU32<128>, ConstU32<4096>>) -> ContractId {
	let id = pallet_registry::NextContractId::<Test>::get();
	let rfc = Rfc { document_hash: [7; 32], uri: bounded("https://example.org/rfc") };
	assert_ok!(Registry::propose(RuntimeOrigin::signed(owner), rfc, terms));
	assert_ok!(Registry::approve(RuntimeOrigin::root(), id));
	id
}

pub fn approved_app(owner: u64) -> ContractId {
	approved_app_requiring(owner, "true")
}

/// An app registered with host `requirements` (ClassAd text).
pub fn approved_app_requiring(owner: u64, requirements: &str) -> ContractId {
	approved(
		owner,
		Terms::App {
			runtime: AppRuntime::Wasm,
			code_uri: bounded("https://example.org/app.wasm"),
			code_hash: [1; 32],
			requirements: bounded(requirements),
		},
	)
}

pub fn approved_dataset(owner: u64) -> ContractId {
	approved_dataset_restricted(owner, None)
}

/// A data set registered with `restrictions` (ClassAd text), if any.
pub fn approved_dataset_restricted(owner: u64, restrictions: Option<&str>) -> ContractId {
	approved(
		owner,
		Terms::Dataset {
			location: bounded("https://example.org/data"),
			checksum: [2; 32],
			restrictions: restrictions.map(bounded),
		},
	)
}

pub fn approved_pool(owner: u64) -> ContractId {
	approved(
		owner,
		Terms::WorkerPool {
			description: bounded("a pool"),
			worker_stake_ratio: 30,
			scheduler_reward_ratio: 5,
			admission: bounded("true"),
		},
	)
}
