//! Weights of `pallet-validator-set`.
//!
//! PROVISIONAL: these are not generated yet. They count the storage accesses that the
//! benchmarks in `benchmarking.rs` exercise (one read of the session keys, the bounded
//! validator vector read and written, a flag written) plus a per-validator term for decoding
//! and re-encoding the vector at the `MaxValidators` bound, with generous compute terms. They
//! are replaced by `frame-omni-bencher` output when the benchmarking pipeline lands (see
//! docs/benchmarks.md); both calls are root-only, so a mis-estimate cannot be abused.

#![allow(unused_parens, unused_imports)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed by the pallet.
pub trait WeightInfo {
	fn add_validator(v: u32) -> Weight;
	fn remove_validator(v: u32) -> Weight;
}

/// Weights for the pallet in a runtime, using that runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn add_validator(v: u32) -> Weight {
		Weight::from_parts(14_000_000, 1_600)
			.saturating_add(Weight::from_parts(60_000, 32).saturating_mul(v.into()))
			.saturating_add(T::DbWeight::get().reads(2))
			.saturating_add(T::DbWeight::get().writes(2))
	}
	fn remove_validator(v: u32) -> Weight {
		Weight::from_parts(12_000_000, 1_600)
			.saturating_add(Weight::from_parts(60_000, 32).saturating_mul(v.into()))
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(T::DbWeight::get().writes(2))
	}
}

/// For tests: the same figures with RocksDB's default database weights.
impl WeightInfo for () {
	fn add_validator(v: u32) -> Weight {
		Weight::from_parts(14_000_000, 1_600)
			.saturating_add(Weight::from_parts(60_000, 32).saturating_mul(v.into()))
			.saturating_add(RocksDbWeight::get().reads(2))
			.saturating_add(RocksDbWeight::get().writes(2))
	}
	fn remove_validator(v: u32) -> Weight {
		Weight::from_parts(12_000_000, 1_600)
			.saturating_add(Weight::from_parts(60_000, 32).saturating_mul(v.into()))
			.saturating_add(RocksDbWeight::get().reads(1))
			.saturating_add(RocksDbWeight::get().writes(2))
	}
}
