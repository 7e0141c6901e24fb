//! A runtime with balances (holds) and the escrow.

use crate as pallet_escrow;
use frame_support::{derive_impl, parameter_types, PalletId};
use sp_runtime::{BuildStorage, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Escrow: pallet_escrow,
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
	type ExistentialDeposit = ExistentialDeposit;
}

parameter_types! {
	pub const ExistentialDeposit: u64 = 2;
	pub const EscrowPalletId: PalletId = PalletId(*b"iex/escr");
	pub const KittyShare: Perbill = Perbill::from_percent(10);
	pub const KittyMinimum: u64 = 5;
}

impl pallet_escrow::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type PalletId = EscrowPalletId;
}

/// Accounts 1 to 4 hold 1,000 each; account 9 holds nothing.
pub const FUNDED: [u64; 4] = [1, 2, 3, 4];
pub const START: u64 = 1_000;

pub fn new_test_ext() -> sp_io::TestExternalities {
	let storage = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig {
			balances: FUNDED.iter().map(|who| (*who, START)).collect(),
			..Default::default()
		},
		..Default::default()
	}
	.build_storage()
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}
