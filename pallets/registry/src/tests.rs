//! Unit tests of `pallet-registry`: every call's success and errors, and deposits held and
//! released exactly.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};
use sp_runtime::DispatchError;

fn bounded<S: frame_support::traits::Get<u32>>(s: &str) -> BoundedVec<u8, S> {
	s.as_bytes().to_vec().try_into().unwrap()
}

fn rfc() -> Rfc<frame_support::traits::ConstU32<128>> {
	Rfc { document_hash: [7; 32], uri: bounded("ipfs://rfc-0001") }
}

fn app(requirements: &str) -> TermsOf<Test> {
	Terms::App {
		runtime: AppRuntime::Wasm,
		code_uri: bounded("https://apps.example/render.wasm"),
		code_hash: [1; 32],
		requirements: bounded(requirements),
	}
}

fn pool(stake: u8, reward: u8) -> TermsOf<Test> {
	Terms::WorkerPool {
		description: bounded("GPU farm"),
		worker_stake_ratio: stake,
		scheduler_reward_ratio: reward,
		admission: bounded("TARGET.GPUs >= 1"),
	}
}

fn held(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::ContractDeposit.into(), &who)
}

fn propose_app(who: u64) -> ContractId {
	let id = NextContractId::<Test>::get();
	assert_ok!(Registry::propose(RuntimeOrigin::signed(who), rfc(), app("TARGET.Memory >= 4096")));
	id
}

#[test]
fn propose_holds_a_deposit_proportional_to_size() {
	new_test_ext().execute_with(|| {
		let id = propose_app(1);
		let contract = Contracts::<Test>::get(id).unwrap();
		assert_eq!(contract.status, Status::Proposed);
		assert!(contract.deposit > 100, "base plus bytes: {}", contract.deposit);
		assert_eq!(held(1), contract.deposit);
		assert_eq!(Balances::balance(&1), 10_000 - contract.deposit);
		System::assert_last_event(
			Event::ContractProposed {
				id,
				owner: 1,
				kind: ContractKind::App,
				deposit: contract.deposit,
			}
			.into(),
		);
		// A longer ClassAd stores more and costs more.
		let long = Registry::deposit_for(500);
		assert_eq!(long, 100 + 500);
		assert_ok!(Registry::propose(
			RuntimeOrigin::signed(1),
			rfc(),
			app(&"TARGET.Memory >= 4096 && ".repeat(10).trim_end_matches(" && ").to_string())
		));
		assert!(Contracts::<Test>::get(id + 1).unwrap().deposit > contract.deposit);
		Registry::do_try_state().unwrap();
	});
}

#[test]
fn the_deposit_counts_the_whole_storage_key() {
	new_test_ext().execute_with(|| {
		let id = NextContractId::<Test>::get();
		assert_ok!(Registry::propose(RuntimeOrigin::signed(1), rfc(), app("TARGET.Cpus >= 1")));
		let contract = Contracts::<Test>::get(id).unwrap();
		// Two 16-byte prefixes, the 16-byte hash of the id and the 8-byte id.
		let key = Contracts::<Test>::hashed_key_for(id);
		assert_eq!(key.len(), 16 + 16 + 16 + 8);
		let stored = codec::Encode::encoded_size(&contract) + key.len();
		assert_eq!(contract.deposit, Registry::deposit_for(stored));
	});
}

#[test]
fn propose_is_charged_for_the_dearest_dense_text() {
	use frame_support::dispatch::GetDispatchInfo;
	let call = crate::Call::<Test>::propose { rfc: rfc(), terms: app("TARGET.Memory >= 4096") };
	let charged = call.get_dispatch_info().call_weight;
	for shape in [
		<() as WeightInfo>::propose_clauses(),
		<() as WeightInfo>::propose_list(),
		<() as WeightInfo>::propose_calls(),
		<() as WeightInfo>::propose_string(),
	] {
		assert!(charged.all_gte(shape), "{charged} is below {shape}");
	}
}

#[test]
fn propose_refuses_bad_terms_and_poor_proposers() {
	new_test_ext().execute_with(|| {
		let signed = RuntimeOrigin::signed;
		assert_noop!(
			Registry::propose(signed(1), rfc(), app("TARGET.Memory >=")),
			Error::<Test>::InvalidClassAd
		);
		assert_noop!(
			Registry::propose(signed(1), rfc(), app("nosuch(1)")),
			Error::<Test>::InvalidClassAd
		);
		assert_noop!(
			Registry::propose(signed(1), rfc(), pool(101, 1)),
			Error::<Test>::RatioAbove100
		);
		assert_noop!(
			Registry::propose(signed(1), rfc(), pool(30, 101)),
			Error::<Test>::RatioAbove100
		);
		let no_uri = Rfc { document_hash: [0; 32], uri: bounded("") };
		assert_noop!(Registry::propose(signed(1), no_uri, pool(30, 1)), Error::<Test>::EmptyField);
		assert_noop!(
			Registry::propose(signed(3), rfc(), pool(30, 1)),
			Error::<Test>::CannotHoldDeposit
		);
		assert_noop!(
			Registry::propose(RuntimeOrigin::root(), rfc(), pool(30, 1)),
			DispatchError::BadOrigin
		);
		let dataset = Terms::Dataset {
			location: bounded("s3://bucket/set"),
			checksum: [9; 32],
			restrictions: Some(bounded("TARGET.Region == \"eu-west\"")),
		};
		assert_ok!(Registry::propose(signed(2), rfc(), dataset));
		assert_ok!(Registry::propose(signed(2), rfc(), pool(30, 1)));
		assert_eq!(Registry::kind(1), Some(ContractKind::WorkerPool));
	});
}

#[test]
fn governance_approves_and_revokes_and_usability_follows() {
	new_test_ext().execute_with(|| {
		let id = propose_app(1);
		assert!(!Registry::is_usable(id));
		assert_noop!(Registry::approve(RuntimeOrigin::signed(1), id), DispatchError::BadOrigin);
		assert_noop!(Registry::revoke(RuntimeOrigin::root(), id), Error::<Test>::NotApproved);
		assert_ok!(Registry::approve(RuntimeOrigin::root(), id));
		System::assert_last_event(Event::ContractApproved { id }.into());
		assert!(Registry::is_usable(id));
		assert_noop!(Registry::approve(RuntimeOrigin::root(), id), Error::<Test>::NotProposed);
		assert_ok!(Registry::revoke(RuntimeOrigin::root(), id));
		System::assert_last_event(Event::ContractRevoked { id }.into());
		assert!(!Registry::is_usable(id));
		assert_noop!(Registry::approve(RuntimeOrigin::root(), 99), Error::<Test>::UnknownContract);
	});
}

#[test]
fn withdraw_and_remove_release_the_deposit_exactly() {
	new_test_ext().execute_with(|| {
		let id = propose_app(1);
		let deposit = Contracts::<Test>::get(id).unwrap().deposit;
		assert_noop!(Registry::withdraw(RuntimeOrigin::signed(2), id), Error::<Test>::NotOwner);
		assert_noop!(Registry::remove(RuntimeOrigin::signed(1), id), Error::<Test>::NotRevoked);
		assert_ok!(Registry::withdraw(RuntimeOrigin::signed(1), id));
		System::assert_last_event(Event::ContractWithdrawn { id, refunded: deposit }.into());
		assert_eq!((held(1), Balances::balance(&1)), (0, 10_000));
		assert!(Contracts::<Test>::get(id).is_none());
		assert_noop!(
			Registry::withdraw(RuntimeOrigin::signed(1), id),
			Error::<Test>::UnknownContract
		);

		let id = propose_app(1);
		assert_ok!(Registry::approve(RuntimeOrigin::root(), id));
		assert_noop!(Registry::withdraw(RuntimeOrigin::signed(1), id), Error::<Test>::NotProposed);
		assert_ok!(Registry::revoke(RuntimeOrigin::root(), id));
		assert_ok!(Registry::remove(RuntimeOrigin::signed(1), id));
		assert_eq!((held(1), Balances::balance(&1)), (0, 10_000));
		assert_eq!(Balances::total_issuance(), 20_050);
		Registry::do_try_state().unwrap();
	});
}

#[test]
fn retire_releases_an_approved_contract_once_nothing_offers_it() {
	new_test_ext().execute_with(|| {
		let id = propose_app(1);
		let deposit = Contracts::<Test>::get(id).unwrap().deposit;
		assert_noop!(Registry::retire(RuntimeOrigin::signed(1), id), Error::<Test>::NotApproved);
		assert_ok!(Registry::approve(RuntimeOrigin::root(), id));
		assert_noop!(Registry::retire(RuntimeOrigin::signed(2), id), Error::<Test>::NotOwner);
		assert_noop!(
			Registry::retire(RuntimeOrigin::signed(1), 42),
			Error::<Test>::UnknownContract
		);
		// An open order offers it: the order must end first.
		MockOffers::set(id, 1);
		assert_noop!(Registry::retire(RuntimeOrigin::signed(1), id), Error::<Test>::ContractInUse);
		MockOffers::set(id, 0);
		assert_ok!(Registry::retire(RuntimeOrigin::signed(1), id));
		System::assert_last_event(Event::ContractRetired { id, refunded: deposit }.into());
		assert!(Contracts::<Test>::get(id).is_none());
		assert!(!Registry::is_usable(id));
		assert_eq!((held(1), Balances::balance(&1)), (0, 10_000));
		Registry::do_try_state().unwrap();
	});
}

#[test]
fn a_revoked_contract_is_removed_but_not_retired() {
	new_test_ext().execute_with(|| {
		let id = propose_app(1);
		assert_ok!(Registry::approve(RuntimeOrigin::root(), id));
		assert_ok!(Registry::revoke(RuntimeOrigin::root(), id));
		assert_noop!(Registry::retire(RuntimeOrigin::signed(1), id), Error::<Test>::NotApproved);
		// Revoked, it matches nothing: offers left behind do not keep its deposit.
		MockOffers::set(id, 3);
		assert_ok!(Registry::remove(RuntimeOrigin::signed(1), id));
		assert_eq!(held(1), 0);
	});
}

#[test]
fn transfer_moves_ownership_but_not_the_deposit() {
	new_test_ext().execute_with(|| {
		let id = propose_app(1);
		assert_noop!(Registry::transfer(RuntimeOrigin::signed(2), id, 2), Error::<Test>::NotOwner);
		assert_noop!(
			Registry::transfer(RuntimeOrigin::signed(1), 42, 2),
			Error::<Test>::UnknownContract
		);
		assert_ok!(Registry::transfer(RuntimeOrigin::signed(1), id, 2));
		System::assert_last_event(Event::OwnershipTransferred { id, from: 1, to: 2 }.into());
		assert_eq!(Registry::owner(id), Some(2));
		assert_noop!(Registry::withdraw(RuntimeOrigin::signed(1), id), Error::<Test>::NotOwner);
		// The new owner withdraws; the deposit goes back to the account that paid it.
		assert_ok!(Registry::withdraw(RuntimeOrigin::signed(2), id));
		assert_eq!((held(1), Balances::balance(&1)), (0, 10_000));
		assert_eq!(Balances::balance(&2), 10_000);
		Registry::do_try_state().unwrap();
	});
}
