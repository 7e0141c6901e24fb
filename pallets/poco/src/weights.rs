//! Weights of `pallet_poco`: placeholders until `scripts/bench-weights.sh pallet_poco` runs.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// The weight of each call of the pallet.
pub trait WeightInfo {
	fn join_pool() -> Weight;
	fn update_ad() -> Weight;
	fn leave_pool() -> Weight;
	fn claim(n: u32) -> Weight;
	fn release_replica() -> Weight;
	fn contribute(n: u32) -> Weight;
	fn reveal(n: u32) -> Weight;
	fn submit(n: u32) -> Weight;
	fn finalize(c: u32) -> Weight;
	fn reopen(c: u32) -> Weight;
	fn claim_failed(c: u32) -> Weight;
	fn claim_unstarted() -> Weight;
	fn set_economics() -> Weight;
}

/// Weights for a runtime, with its database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn join_pool() -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads_writes(6, 6))
	}
	fn update_ad() -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads_writes(6, 6))
	}
	fn leave_pool() -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads_writes(6, 6))
	}
	fn claim(n: u32) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads_writes(6, 6))
			.saturating_add(Weight::from_parts(500_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 4).saturating_mul(n.into()))
	}
	fn release_replica() -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads_writes(6, 6))
	}
	fn contribute(n: u32) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads_writes(6, 6))
			.saturating_add(Weight::from_parts(500_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 4).saturating_mul(n.into()))
	}
	fn reveal(n: u32) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads_writes(6, 6))
			.saturating_add(Weight::from_parts(500_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 4).saturating_mul(n.into()))
	}
	fn submit(n: u32) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads_writes(6, 6))
			.saturating_add(Weight::from_parts(500_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 4).saturating_mul(n.into()))
	}
	fn finalize(c: u32) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads_writes(6, 6))
			.saturating_add(Weight::from_parts(500_000_000, 0).saturating_mul(c.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 4).saturating_mul(c.into()))
	}
	fn reopen(c: u32) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads_writes(6, 6))
			.saturating_add(Weight::from_parts(500_000_000, 0).saturating_mul(c.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 4).saturating_mul(c.into()))
	}
	fn claim_failed(c: u32) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads_writes(6, 6))
			.saturating_add(Weight::from_parts(500_000_000, 0).saturating_mul(c.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 4).saturating_mul(c.into()))
	}
	fn claim_unstarted() -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads_writes(6, 6))
	}
	fn set_economics() -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads_writes(6, 6))
	}
}

/// The same, with ParityDB's weights, for tests.
impl WeightInfo for () {
	fn join_pool() -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads_writes(6, 6))
	}
	fn update_ad() -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads_writes(6, 6))
	}
	fn leave_pool() -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads_writes(6, 6))
	}
	fn claim(n: u32) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads_writes(6, 6))
			.saturating_add(Weight::from_parts(500_000_000, 0).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads_writes(4, 4).saturating_mul(n.into()))
	}
	fn release_replica() -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads_writes(6, 6))
	}
	fn contribute(n: u32) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads_writes(6, 6))
			.saturating_add(Weight::from_parts(500_000_000, 0).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads_writes(4, 4).saturating_mul(n.into()))
	}
	fn reveal(n: u32) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads_writes(6, 6))
			.saturating_add(Weight::from_parts(500_000_000, 0).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads_writes(4, 4).saturating_mul(n.into()))
	}
	fn submit(n: u32) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads_writes(6, 6))
			.saturating_add(Weight::from_parts(500_000_000, 0).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads_writes(4, 4).saturating_mul(n.into()))
	}
	fn finalize(c: u32) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads_writes(6, 6))
			.saturating_add(Weight::from_parts(500_000_000, 0).saturating_mul(c.into()))
			.saturating_add(ParityDbWeight::get().reads_writes(4, 4).saturating_mul(c.into()))
	}
	fn reopen(c: u32) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads_writes(6, 6))
			.saturating_add(Weight::from_parts(500_000_000, 0).saturating_mul(c.into()))
			.saturating_add(ParityDbWeight::get().reads_writes(4, 4).saturating_mul(c.into()))
	}
	fn claim_failed(c: u32) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads_writes(6, 6))
			.saturating_add(Weight::from_parts(500_000_000, 0).saturating_mul(c.into()))
			.saturating_add(ParityDbWeight::get().reads_writes(4, 4).saturating_mul(c.into()))
	}
	fn claim_unstarted() -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads_writes(6, 6))
	}
	fn set_economics() -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads_writes(6, 6))
	}
}
