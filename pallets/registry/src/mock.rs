//! A runtime with balances (holds) and this pallet; root stands for governance.

use crate as pallet_registry;
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Registry: pallet_registry,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

parameter_types! {
	pub const DepositBase: u64 = 100;
	pub const DepositPerByte: u64 = 1;
}

impl pallet_registry::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type GovernanceOrigin = frame_system::EnsureRoot<u64>;
	type DepositBase = DepositBase;
	type DepositPerByte = DepositPerByte;
	type MaxUriLen = ConstU32<128>;
	type MaxTextLen = ConstU32<1024>;
	type Users = MockOffers;
	type WeightInfo = ();
}

/// Accounts 1 and 2 hold 10,000; account 3 holds 50 (too little for a deposit).
std::thread_local! {
	static OFFERS: core::cell::RefCell<std::collections::BTreeMap<crate::ContractId, u32>> =
		Default::default();
}

/// Stands for the market's count of open orders offering each contract.
pub struct MockOffers;
impl MockOffers {
	pub fn set(id: crate::ContractId, open: u32) {
		OFFERS.with(|o| o.borrow_mut().insert(id, open));
	}
}
impl crate::ContractUsers for MockOffers {
	fn open_offers(id: crate::ContractId) -> u32 {
		OFFERS.with(|o| o.borrow().get(&id).copied().unwrap_or(0))
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(1, 10_000), (2, 10_000), (3, 50)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}
