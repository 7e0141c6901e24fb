//! Property test: whatever sequence of calls, by whichever accounts, on whichever ids, each
//! call succeeds exactly when the rules say it should, and deposits follow the contracts: each
//! account holds, for this pallet, exactly the deposits of the stored contracts it paid for
//! (nothing once its last one is gone), and free plus held never changes. (That a refused call
//! changes nothing is FRAME's storage layer, not the pallet's: the test does not claim it.)
//!
//! The expectations come from a model kept by the test from the calls that succeeded, not from
//! the pallet's own books, so a deposit left held after its contract is gone is seen.

use crate::{mock::*, *};
use alloc::collections::btree_map::BTreeMap;
use frame_support::{
	dispatch::RawOrigin,
	traits::{
		fungible::{Inspect, InspectHold},
		UnfilteredDispatchable,
	},
	BoundedVec,
};
use proptest::prelude::*;

const ACCOUNTS: [u64; 3] = [1, 2, 3];

#[derive(Clone, Debug)]
enum Op {
	Propose { who: u64, classad_len: usize, valid: bool },
	Withdraw { who: u64, id: ContractId },
	Approve { id: ContractId },
	Revoke { id: ContractId },
	Remove { who: u64, id: ContractId },
	Retire { who: u64, id: ContractId },
	Transfer { who: u64, id: ContractId, to: u64 },
}

fn account() -> impl Strategy<Value = u64> {
	prop::sample::select(ACCOUNTS.to_vec())
}

fn op() -> impl Strategy<Value = Op> {
	// Ids run a little past those that exist, so unknown ids are tried too.
	let id = 0 as ContractId..6;
	prop_oneof![
		(account(), 1usize..600, any::<bool>()).prop_map(|(who, classad_len, valid)| Op::Propose {
			who,
			classad_len,
			valid
		}),
		(account(), id.clone()).prop_map(|(who, id)| Op::Withdraw { who, id }),
		id.clone().prop_map(|id| Op::Approve { id }),
		id.clone().prop_map(|id| Op::Revoke { id }),
		(account(), id.clone()).prop_map(|(who, id)| Op::Remove { who, id }),
		(account(), id.clone()).prop_map(|(who, id)| Op::Retire { who, id }),
		(account(), id, account()).prop_map(|(who, id, to)| Op::Transfer { who, id, to }),
	]
}

fn terms(classad_len: usize, valid: bool) -> TermsOf<Test> {
	let mut text = if valid { b"TARGET.Cpus >= 1".to_vec() } else { b"TARGET.Cpus >=".to_vec() };
	text.resize(classad_len.max(text.len()), b' ');
	Terms::App {
		runtime: AppRuntime::Docker,
		code_uri: BoundedVec::truncate_from(b"docker://app".to_vec()),
		code_hash: [0; 32],
		requirements: BoundedVec::truncate_from(text),
	}
}

/// What the test expects the registry to hold for a contract.
#[derive(Clone, Debug, PartialEq)]
struct Expected {
	owner: u64,
	depositor: u64,
	deposit: u64,
	status: Status,
}

fn call(op: &Op) -> (RawOrigin<u64>, crate::Call<Test>) {
	let signed = |who: u64| RawOrigin::Signed(who);
	match op.clone() {
		Op::Propose { who, classad_len, valid } => {
			let rfc = Rfc {
				document_hash: [1; 32],
				uri: BoundedVec::truncate_from(b"ipfs://r".to_vec()),
			};
			(signed(who), crate::Call::propose { rfc, terms: terms(classad_len, valid) })
		}
		Op::Withdraw { who, id } => (signed(who), crate::Call::withdraw { id }),
		Op::Approve { id } => (RawOrigin::Root, crate::Call::approve { id }),
		Op::Revoke { id } => (RawOrigin::Root, crate::Call::revoke { id }),
		Op::Remove { who, id } => (signed(who), crate::Call::remove { id }),
		Op::Retire { who, id } => (signed(who), crate::Call::retire { id }),
		Op::Transfer { who, id, to } => (signed(who), crate::Call::transfer { id, new_owner: to }),
	}
}

/// Whether the rules allow `op` on the contracts `model` describes (a valid proposal may
/// still be refused for want of funds; the caller checks that case).
fn allowed(op: &Op, model: &BTreeMap<ContractId, Expected>) -> bool {
	let is = |id: &ContractId, owner: Option<u64>, status: Option<Status>| {
		model.get(id).is_some_and(|c| {
			owner.map_or(true, |o| c.owner == o) && status.map_or(true, |s| c.status == s)
		})
	};
	match op {
		Op::Propose { valid, .. } => *valid,
		Op::Withdraw { who, id } => is(id, Some(*who), Some(Status::Proposed)),
		Op::Approve { id } => is(id, None, Some(Status::Proposed)),
		Op::Revoke { id } => is(id, None, Some(Status::Approved)),
		Op::Remove { who, id } => is(id, Some(*who), Some(Status::Revoked)),
		// No order offers anything here (the mock market is empty).
		Op::Retire { who, id } => is(id, Some(*who), Some(Status::Approved)),
		Op::Transfer { who, id, .. } => is(id, Some(*who), None),
	}
}

/// The model after `op` succeeded.
fn apply_to_model(op: &Op, model: &mut BTreeMap<ContractId, Expected>, new_id: ContractId) {
	match op {
		Op::Propose { who, .. } => {
			let deposit = match System::events().last().map(|e| e.event.clone()) {
				Some(RuntimeEvent::Registry(Event::ContractProposed { deposit, .. })) => deposit,
				other => panic!("a proposal without its event: {other:?}"),
			};
			let c = Expected { owner: *who, depositor: *who, deposit, status: Status::Proposed };
			model.insert(new_id, c);
		}
		Op::Withdraw { id, .. } | Op::Remove { id, .. } | Op::Retire { id, .. } => {
			model.remove(id);
		}
		Op::Approve { id } => model.get_mut(id).expect("allowed").status = Status::Approved,
		Op::Revoke { id } => model.get_mut(id).expect("allowed").status = Status::Revoked,
		Op::Transfer { id, to, .. } => model.get_mut(id).expect("allowed").owner = *to,
	}
}

fn held(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::ContractDeposit.into(), &who)
}

fn total_of(who: u64) -> u64 {
	Balances::balance(&who) + Balances::total_balance_on_hold(&who)
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(200))]

	#[test]
	fn deposits_follow_the_contracts_through_any_sequence_of_calls(
		ops in prop::collection::vec(op(), 1..40)
	) {
		new_test_ext().execute_with(|| {
			let totals: Vec<u64> = ACCOUNTS.iter().map(|a| total_of(*a)).collect();
			let issuance = Balances::total_issuance();
			let mut model: BTreeMap<ContractId, Expected> = BTreeMap::new();
			for op in ops {
				let next_before = NextContractId::<Test>::get();
				let (origin, call) = call(&op);
				let result = call.dispatch_bypass_filter(origin.into()).map_err(|e| e.error);
				let expected = allowed(&op, &model);
				match (&op, expected, result) {
					(_, true, Ok(_)) => apply_to_model(&op, &mut model, next_before),
					(Op::Propose { .. }, true, Err(e)) => prop_assert_eq!(
						e,
						Error::<Test>::CannotHoldDeposit.into(),
						"a valid proposal refused otherwise than for funds"
					),
					(_, false, Err(_)) => {}
					(_, expected, result) => {
						prop_assert!(false, "{:?}: expected {}, got {:?}", op, expected, result)
					}
				}
				// The registry holds what the model says, contract by contract.
				let stored: BTreeMap<ContractId, Expected> = Contracts::<Test>::iter()
					.map(|(id, c)| {
						let Contract { owner, depositor, deposit, status, .. } = c;
						(id, Expected { owner, depositor, deposit, status })
					})
					.collect();
				prop_assert_eq!(&stored, &model, "after {:?}", op);
				for who in ACCOUNTS {
					let paid: u64 = model.values().filter(|c| c.depositor == who).map(|c| c.deposit).sum();
					prop_assert_eq!(
						held(who),
						paid,
						"account {} holds other than its contracts' deposits after {:?}",
						who,
						op
					);
				}
				prop_assert!(Registry::do_try_state().is_ok(), "try_state after {:?}", op);
				prop_assert_eq!(Balances::total_issuance(), issuance);
				for (who, total) in ACCOUNTS.iter().zip(&totals) {
					prop_assert_eq!(total_of(*who), *total, "account {} after {:?}", who, op);
				}
			}
			Ok(())
		})?;
	}
}
