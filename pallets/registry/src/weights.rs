//! Weights of `pallet-registry`.
//!
//! PROVISIONAL, like pallet-validator-set's: the storage accesses each call makes (counted
//! from `dispatchable_impls.rs` and exercised by `benchmarking.rs`) with generous compute
//! terms; `propose` also pays per byte of ClassAd text parsed. They are replaced by generated
//! weights when the benchmarking pipeline lands (docs/benchmarks.md).

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::Weight};

/// Weight functions needed by the pallet.
pub trait WeightInfo {
	fn propose(text_len: u32) -> Weight;
	fn withdraw() -> Weight;
	fn approve() -> Weight;
	fn revoke() -> Weight;
	fn remove() -> Weight;
	fn transfer() -> Weight;
}

/// Weights with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);

fn compute(base: u64, per_byte: u64, bytes: u32) -> Weight {
	Weight::from_parts(base, 4_000)
		.saturating_add(Weight::from_parts(per_byte, 0).saturating_mul(bytes.into()))
}

impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn propose(text_len: u32) -> Weight {
		// ClassAd parsing is linear in the text: a generous 40 ns a byte.
		compute(60_000_000, 40_000, text_len).saturating_add(T::DbWeight::get().reads_writes(3, 3))
	}
	fn withdraw() -> Weight {
		compute(40_000_000, 0, 0).saturating_add(T::DbWeight::get().reads_writes(2, 2))
	}
	fn approve() -> Weight {
		compute(20_000_000, 0, 0).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
	fn revoke() -> Weight {
		compute(20_000_000, 0, 0).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
	fn remove() -> Weight {
		compute(40_000_000, 0, 0).saturating_add(T::DbWeight::get().reads_writes(2, 2))
	}
	fn transfer() -> Weight {
		compute(20_000_000, 0, 0).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
}

/// For tests.
impl WeightInfo for () {
	fn propose(text_len: u32) -> Weight {
		compute(60_000_000, 40_000, text_len)
	}
	fn withdraw() -> Weight {
		compute(40_000_000, 0, 0)
	}
	fn approve() -> Weight {
		compute(20_000_000, 0, 0)
	}
	fn revoke() -> Weight {
		compute(20_000_000, 0, 0)
	}
	fn remove() -> Weight {
		compute(40_000_000, 0, 0)
	}
	fn transfer() -> Weight {
		compute(20_000_000, 0, 0)
	}
}
