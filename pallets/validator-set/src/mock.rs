//! A runtime with only `frame-system` and this pallet, and a session-key registry and a
//! session (active set, disabled list, pruned roots) that tests fill and read by hand.

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
	pub const HistoryDepth: u32 = 4;
}

thread_local! {
	static KEYS: RefCell<std::collections::BTreeMap<u64, Vec<u8>>> = RefCell::new(Default::default());
	static SESSION: RefCell<u32> = RefCell::new(0);
	static QUEUED: RefCell<Vec<(u64, Vec<u8>)>> = RefCell::new(Vec::new());
	static ACTIVE: RefCell<Vec<u64>> = RefCell::new(Vec::new());
	static DISABLED: RefCell<BTreeSet<u64>> = RefCell::new(BTreeSet::new());
	static PRUNED_UP_TO: RefCell<Option<u32>> = RefCell::new(None);
}

/// Stands for `pallet-session`'s active set, its disabled list and its historical roots.
pub struct MockSession;
impl MockSession {
	/// A new active set, which (as in `pallet-session`) clears the disabled list.
	pub fn activate(validators: Vec<u64>) {
		ACTIVE.with(|a| *a.borrow_mut() = validators);
		DISABLED.with(|d| d.borrow_mut().clear());
	}
	pub fn disabled() -> Vec<u64> {
		DISABLED.with(|d| d.borrow().iter().copied().collect())
	}
	pub fn pruned_up_to() -> Option<u32> {
		PRUNED_UP_TO.with(|p| *p.borrow())
	}
}
impl pallet_session::SessionInterface for MockSession {
	type ValidatorId = u64;
	type AccountId = u64;
	type Keys = sp_runtime::testing::UintAuthorityId;

	fn validators() -> Vec<u64> {
		ACTIVE.with(|a| a.borrow().clone())
	}
	fn prune_up_to(index: u32) {
		PRUNED_UP_TO.with(|p| *p.borrow_mut() = Some(index));
	}
	/// Disables active validators only, like `pallet-session`'s disabling strategies.
	fn report_offence(offender: u64, _severity: sp_staking::offence::OffenceSeverity) {
		if Self::validators().contains(&offender) {
			DISABLED.with(|d| d.borrow_mut().insert(offender));
		}
	}
	fn set_keys(_: &u64, _: Self::Keys) -> sp_runtime::DispatchResult {
		Ok(())
	}
	fn purge_keys(_: &u64) -> sp_runtime::DispatchResult {
		Ok(())
	}
	fn set_keys_weight() -> frame_support::weights::Weight {
		Default::default()
	}
	fn purge_keys_weight() -> frame_support::weights::Weight {
		Default::default()
	}
}

/// Stands for `pallet-session`'s queue and current session index.
pub struct MockQueue;
impl MockQueue {
	/// The session queues `validators` with the keys they have now.
	pub fn set(validators: Vec<u64>) {
		let queued = validators
			.into_iter()
			.map(|v| (v, KEYS.with(|k| k.borrow().get(&v).cloned().unwrap_or_default())))
			.collect();
		QUEUED.with(|q| *q.borrow_mut() = queued);
	}
	pub fn set_session(index: u32) {
		SESSION.with(|s| *s.borrow_mut() = index);
	}
}
impl crate::SessionQueue<u64> for MockQueue {
	fn queued() -> Vec<(u64, Vec<u8>)> {
		QUEUED.with(|q| q.borrow().clone())
	}
	fn next_keys(who: &u64) -> Option<Vec<u8>> {
		KEYS.with(|k| k.borrow().get(who).cloned())
	}
	fn current_index() -> u32 {
		SESSION.with(|s| *s.borrow())
	}
}

/// Stands for `pallet-session`'s record of who has set session keys.
pub struct MockKeys;
impl MockKeys {
	pub fn register(who: u64) {
		Self::set(who, vec![who as u8]);
	}
	/// New keys for `who`, as `session.setKeys` would register.
	pub fn set(who: u64, keys: Vec<u8>) {
		KEYS.with(|k| k.borrow_mut().insert(who, keys));
	}
	pub fn unregister(who: u64) {
		KEYS.with(|k| k.borrow_mut().remove(&who));
	}
}
impl ValidatorRegistration<u64> for MockKeys {
	fn is_registered(who: &u64) -> bool {
		KEYS.with(|k| k.borrow().contains_key(who))
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
	type Queue = MockQueue;
	type MaxValidators = MaxValidators;
	type MinValidators = MinValidators;
	type Session = MockSession;
	type HistoryDepth = HistoryDepth;
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
		MockSession::activate(vec![1, 2, 3]);
	});
	ext
}
