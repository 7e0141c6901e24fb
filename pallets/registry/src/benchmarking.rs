//! Benchmarks of `pallet-registry`, with the largest terms the bounds allow.

use super::*;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_runtime::traits::Saturating;

fn funded<T: Config>(name: &'static str) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account(name, 0, 0);
	let plenty = Pallet::<T>::deposit_for(1 << 20);
	let _ = T::Currency::mint_into(&who, plenty.saturating_mul(4u32.into()));
	who
}

/// `n` clauses joined by `&&` as a balanced tree, so that the text stays within the depth bound
/// however many clauses it has (a left-deep chain would be as deep as it is long).
fn balanced_clauses(n: usize) -> Vec<u8> {
	if n <= 1 {
		return b"TARGET.Cpus >= 1".to_vec();
	}
	let mut text = b"(".to_vec();
	text.extend(balanced_clauses(n / 2));
	text.extend_from_slice(b") && (");
	text.extend(balanced_clauses(n - n / 2));
	text.push(b')');
	text
}

/// A worker pool whose admission ClassAd is exactly `len` bytes: as many `&&` clauses as fit
/// (the costliest text to parse per byte), up to the parser's node bound, then blanks.
fn pool_terms<T: Config>(len: u32) -> TermsOf<T> {
	let mut clauses = 1;
	let mut text = balanced_clauses(clauses);
	loop {
		let more = balanced_clauses(clauses + 1);
		// Each clause is 3 nodes and each `&&` one more: stay under the node bound of 512.
		if more.len() > len as usize || (clauses + 1) * 4 > 500 {
			break;
		}
		clauses += 1;
		text = more;
	}
	text.resize(len.max(text.len() as u32) as usize, b' ');
	Terms::WorkerPool {
		description: BoundedVec::truncate_from(vec![b'd'; 16]),
		worker_stake_ratio: 30,
		scheduler_reward_ratio: 1,
		admission: BoundedVec::truncate_from(text),
	}
}

fn rfc<T: Config>() -> Rfc<T::MaxUriLen> {
	Rfc {
		document_hash: [1; 32],
		uri: BoundedVec::truncate_from(vec![b'u'; T::MaxUriLen::get() as usize]),
	}
}

fn proposed<T: Config>(owner: &T::AccountId) -> ContractId
where
	T::Currency: Mutate<T::AccountId>,
{
	let id = NextContractId::<T>::get();
	Pallet::<T>::do_propose(owner.clone(), rfc::<T>(), pool_terms::<T>(64)).expect("proposes");
	id
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	/// `t`: bytes of ClassAd text parsed.
	#[benchmark]
	fn propose(t: Linear<16, { T::MaxTextLen::get() }>) {
		let who = funded::<T>("proposer");
		let terms = pool_terms::<T>(t);
		assert_eq!(terms.classad_len(), t);
		#[extrinsic_call]
		_(RawOrigin::Signed(who), rfc::<T>(), terms);
		assert_eq!(NextContractId::<T>::get(), 1);
	}

	#[benchmark]
	fn withdraw() {
		let who = funded::<T>("owner");
		let id = proposed::<T>(&who);
		#[extrinsic_call]
		_(RawOrigin::Signed(who), id);
		assert!(Contracts::<T>::get(id).is_none());
	}

	#[benchmark]
	fn approve() -> Result<(), BenchmarkError> {
		let id = proposed::<T>(&funded::<T>("owner"));
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);
		assert!(Pallet::<T>::is_usable(id));
		Ok(())
	}

	#[benchmark]
	fn revoke() -> Result<(), BenchmarkError> {
		let id = proposed::<T>(&funded::<T>("owner"));
		Pallet::<T>::do_set_status(id, Status::Proposed, Status::Approved).expect("approves");
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);
		assert!(!Pallet::<T>::is_usable(id));
		Ok(())
	}

	#[benchmark]
	fn remove() {
		let who = funded::<T>("owner");
		let id = proposed::<T>(&who);
		Pallet::<T>::do_set_status(id, Status::Proposed, Status::Approved).expect("approves");
		Pallet::<T>::do_set_status(id, Status::Approved, Status::Revoked).expect("revokes");
		#[extrinsic_call]
		_(RawOrigin::Signed(who), id);
		assert!(Contracts::<T>::get(id).is_none());
	}

	#[benchmark]
	fn transfer() {
		let who = funded::<T>("owner");
		let id = proposed::<T>(&who);
		let to: T::AccountId = account("new-owner", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(who), id, to.clone());
		assert_eq!(Pallet::<T>::owner(id), Some(to));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
