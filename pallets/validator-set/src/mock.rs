//! A runtime with only `frame-system` and this pallet, and a session-key registry that tests
//! fill by hand.

use crate as pallet_validator_set;
use core::cell::RefCell;
use frame_support::{derive_impl, parameter_types, traits::ValidatorRegistration};
use sp_runtime::BuildStorage;
use std::collections::BTreeSet;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		ValidatorSet: pallet_validator_set,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

parameter_types! {
	pub const MaxValidators: u32 = 8;
	pub const MinValidators: u32 = 1;
}

thread_local! {
	static REGISTERED: RefCell<BTreeSet<u64>> = RefCell::new(BTreeSet::new());
	static QUEUED: RefCell<Vec<u64>> = RefCell::new(Vec::new());
}

/// Stands for `pallet-session`'s queued validators.
pub struct MockQueue;
impl MockQueue {
	pub fn set(validators: Vec<u64>) {
		QUEUED.with(|q| *q.borrow_mut() = validators);
	}
}
impl frame_support::traits::Get<Vec<u64>> for MockQueue {
	fn get() -> Vec<u64> {
		QUEUED.with(|q| q.borrow().clone())
	}
}

/// Stands for `pallet-session`'s record of who has set session keys.
pub struct MockKeys;
impl MockKeys {
	pub fn register(who: u64) {
		REGISTERED.with(|r| r.borrow_mut().insert(who));
	}
	pub fn unregister(who: u64) {
		REGISTERED.with(|r| r.borrow_mut().remove(&who));
	}
}
impl ValidatorRegistration<u64> for MockKeys {
	fn is_registered(who: &u64) -> bool {
		REGISTERED.with(|r| r.borrow().contains(who))
	}
}
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for MockKeys {
	fn register_session_keys(who: &u64) {
		Self::register(*who)
	}
}

impl pallet_validator_set::Config for Test {
	type ManageOrigin = frame_system::EnsureRoot<u64>;
	type KeysRegistration = MockKeys;
	type QueuedValidators = MockQueue;
	type MaxValidators = MaxValidators;
	type MinValidators = MinValidators;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockKeys;
}

/// Genesis validators 3, 1 and 2 (given unsorted on purpose), all with keys; session length 10.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_validator_set::GenesisConfig::<Test> { validators: vec![3, 1, 2], session_length: 10 }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		for who in 1..=3 {
			MockKeys::register(who);
		}
		MockQueue::set(vec![1, 2, 3]);
	});
	ext
}
