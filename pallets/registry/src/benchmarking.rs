//! Benchmarks of `pallet-registry`, with the largest terms the bounds allow.

use super::*;
use alloc::vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use iexec_classad::{
	dense::{dense_text, DenseShape},
	Limits,
};
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

/// A worker pool whose admission ClassAd is `shape`'s dense text of `len` bytes.
fn pool_terms<T: Config>(shape: DenseShape, len: u32) -> TermsOf<T> {
	let text = dense_text(shape, len as usize, &Limits::default());
	Terms::WorkerPool {
		description: BoundedVec::truncate_from(vec![b'd'; 16]),
		worker_stake_ratio: 30,
		scheduler_reward_ratio: 1,
		admission: BoundedVec::truncate_from(text.into_bytes()),
	}
}

/// Proposes a pool whose admission text is `shape` at the longest length, as `propose` is
/// charged: the dearest shape sets the weight.
fn propose_longest<T: Config>(shape: DenseShape) -> (T::AccountId, TermsOf<T>)
where
	T::Currency: Mutate<T::AccountId>,
{
	let who = funded::<T>("proposer");
	let terms = pool_terms::<T>(shape, T::MaxTextLen::get());
	assert_eq!(terms.classad_len(), T::MaxTextLen::get());
	(who, terms)
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
	Pallet::<T>::do_propose(owner.clone(), rfc::<T>(), pool_terms::<T>(DenseShape::Clauses, 64))
		.expect("proposes");
	id
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	// `propose` at the longest ClassAd text, in each of the dense shapes
	// (`iexec_classad::dense`): its weight is the dearest of them.
	#[benchmark]
	fn propose_clauses() {
		let (who, terms) = propose_longest::<T>(DenseShape::Clauses);
		#[extrinsic_call]
		propose(RawOrigin::Signed(who), rfc::<T>(), terms);
		assert_eq!(NextContractId::<T>::get(), 1);
	}

	#[benchmark]
	fn propose_list() {
		let (who, terms) = propose_longest::<T>(DenseShape::List);
		#[extrinsic_call]
		propose(RawOrigin::Signed(who), rfc::<T>(), terms);
		assert_eq!(NextContractId::<T>::get(), 1);
	}

	#[benchmark]
	fn propose_calls() {
		let (who, terms) = propose_longest::<T>(DenseShape::Calls);
		#[extrinsic_call]
		propose(RawOrigin::Signed(who), rfc::<T>(), terms);
		assert_eq!(NextContractId::<T>::get(), 1);
	}

	#[benchmark]
	fn propose_string() {
		let (who, terms) = propose_longest::<T>(DenseShape::String);
		#[extrinsic_call]
		propose(RawOrigin::Signed(who), rfc::<T>(), terms);
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
	fn retire() {
		let who = funded::<T>("owner");
		let id = proposed::<T>(&who);
		Pallet::<T>::do_set_status(id, Status::Proposed, Status::Approved).expect("approves");
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
