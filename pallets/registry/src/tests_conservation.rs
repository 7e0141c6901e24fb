//! Property test: whatever sequence of calls, by whichever accounts, on whichever ids, RLC is
//! conserved — every account's free plus held balance stays what it was, held deposits match
//! the stored contracts (`try_state`), and a refused call changes nothing.

use crate::{mock::*, *};
use frame_support::{
	storage::with_transaction,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};
use proptest::prelude::*;
use sp_runtime::TransactionOutcome;

const ACCOUNTS: [u64; 3] = [1, 2, 3];

#[derive(Clone, Debug)]
enum Op {
	Propose { who: u64, classad_len: usize, valid: bool },
	Withdraw { who: u64, id: ContractId },
	Approve { id: ContractId },
	Revoke { id: ContractId },
	Remove { who: u64, id: ContractId },
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

fn apply(op: Op) -> sp_runtime::DispatchResult {
	let signed = RuntimeOrigin::signed;
	match op {
		Op::Propose { who, classad_len, valid } => {
			let rfc = Rfc {
				document_hash: [1; 32],
				uri: BoundedVec::truncate_from(b"ipfs://r".to_vec()),
			};
			Registry::propose(signed(who), rfc, terms(classad_len, valid))
				.map(|_| ())
				.map_err(|e| e.error)
		}
		Op::Withdraw { who, id } => Registry::withdraw(signed(who), id),
		Op::Approve { id } => Registry::approve(RuntimeOrigin::root(), id),
		Op::Revoke { id } => Registry::revoke(RuntimeOrigin::root(), id),
		Op::Remove { who, id } => Registry::remove(signed(who), id),
		Op::Transfer { who, id, to } => Registry::transfer(signed(who), id, to),
	}
}

fn total_of(who: u64) -> u64 {
	Balances::balance(&who) + Balances::total_balance_on_hold(&who)
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(200))]

	#[test]
	fn deposits_are_conserved_through_any_sequence_of_calls(ops in prop::collection::vec(op(), 1..40)) {
		new_test_ext().execute_with(|| {
			let totals: Vec<u64> = ACCOUNTS.iter().map(|a| total_of(*a)).collect();
			let issuance = Balances::total_issuance();
			for op in ops {
				let contracts_before: Vec<_> = Contracts::<Test>::iter().collect();
				let next_before = NextContractId::<Test>::get();
				// Dispatch as a transaction does: a failed call rolls back.
				let result = with_transaction(|| {
					let r = apply(op.clone());
					if r.is_ok() { TransactionOutcome::Commit(Ok::<_, sp_runtime::DispatchError>(r)) } else { TransactionOutcome::Rollback(Ok::<_, sp_runtime::DispatchError>(r)) }
				}).unwrap();
				if result.is_err() {
					let contracts_after: Vec<_> = Contracts::<Test>::iter().collect();
					prop_assert_eq!(&contracts_after, &contracts_before, "{:?} failed but changed contracts", op);
					prop_assert_eq!(NextContractId::<Test>::get(), next_before);
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
