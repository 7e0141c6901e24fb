//! Benchmarks of `pallet-validator-set`, with the validator set at every size up to the bound.

use super::*;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{EnsureOrigin, Get},
	BoundedVec,
};

/// Fills the set with `n` benchmark accounts, kept sorted like the pallet keeps them. Only the
/// last `keyed` of them register session keys, so that a removal counting the validators with
/// keys looks up every other one before it finds enough.
fn fill_set<T: Config>(n: u32, keyed: u32) {
	let mut set: Vec<T::AccountId> = (0..n).map(|i| account("validator", i, 0)).collect();
	set.sort();
	let unkeyed = n.saturating_sub(keyed) as usize;
	set[unkeyed..].iter().for_each(T::BenchmarkHelper::register_session_keys);
	Validators::<T>::put(BoundedVec::try_from(set).expect("n is within MaxValidators"));
}

#[benchmarks(where T: Config)]
mod benchmarks {
	use super::*;

	/// `v`: validators already in the set; as many former validators kept disabled as
	/// offenders, which a readmission looks through.
	#[benchmark]
	fn add_validator(v: Linear<1, { T::MaxValidators::get() - 1 }>) -> Result<(), BenchmarkError> {
		fill_set::<T>(v, v);
		let mut offenders: Vec<T::AccountId> = (0..v).map(|i| account("offender", i, 0)).collect();
		offenders.sort();
		Offenders::<T>::put(BoundedVec::truncate_from(offenders));
		let who: T::AccountId = account("candidate", 0, 0);
		T::BenchmarkHelper::register_session_keys(&who);
		let origin =
			T::ManageOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(Validators::<T>::get().contains(&who));
		Ok(())
	}

	/// `v`: validators in the set before the removal, only the last `MinValidators` with keys
	/// (the most lookups before enough are found).
	#[benchmark]
	fn remove_validator(
		v: Linear<{ T::MinValidators::get() + 1 }, { T::MaxValidators::get() }>,
	) -> Result<(), BenchmarkError> {
		fill_set::<T>(v, T::MinValidators::get());
		let who = Validators::<T>::get()[0].clone();
		let origin =
			T::ManageOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Validators::<T>::get().contains(&who));
		Ok(())
	}

	/// `v`: validators in the set before one of them leaves, keyed as for a removal.
	#[benchmark]
	fn leave(v: Linear<{ T::MinValidators::get() + 1 }, { T::MaxValidators::get() }>) {
		fill_set::<T>(v, T::MinValidators::get());
		let who = Validators::<T>::get()[0].clone();

		#[extrinsic_call]
		_(frame_system::RawOrigin::Signed(who.clone()));

		assert!(!Validators::<T>::get().contains(&who));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
