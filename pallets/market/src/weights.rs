//! Weights of the market's calls and hook.
//!
//! PROVISIONAL: set by hand from the shape of each call (its storage reads and writes at the
//! bounds, and the ClassAd evaluations it may run), with a generous allowance for computation,
//! until `scripts/bench-weights.sh` generates them from `benchmarking.rs`.

#![allow(unused_parens, unused_imports)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::ParityDbWeight, Weight},
};

/// The weight of each call.
pub trait WeightInfo {
	fn publish_resource_order() -> Weight;
	/// `w`: waiting requests looked at.
	fn publish_pool_order(w: u32) -> Weight;
	/// `c`: pool orders looked at.
	fn submit_request(c: u32) -> Weight;
	fn cancel_order() -> Weight;
	fn match_orders() -> Weight;
	/// `n`: requests expired.
	fn expire_requests(n: u32) -> Weight;
}

/// One ClassAd evaluation at the step bound (10,000 steps at 150 ns: the native worst case
/// measured in docs/benchmarks.md is 67 ns a step, with a margin for Wasm), and the decoding
/// of its ad at the size bound.
fn classad_evaluation() -> Weight {
	Weight::from_parts(1_500_000_000, 20_000)
}

/// Weights for the runtime, on ParityDB.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn publish_resource_order() -> Weight {
		// Registry, NextOrderId, hold, Orders, ResourceBook.
		Weight::from_parts(60_000_000, 12_000)
			.saturating_add(T::DbWeight::get().reads(5))
			.saturating_add(T::DbWeight::get().writes(5))
	}
	fn publish_pool_order(w: u32) -> Weight {
		// The order as above, its ad parsed, plus for each waiting request: its order, its
		// offers (up to 2 × MaxCandidates orders), the registry, both `Requirements`, and
		// possibly a deal (which checks them again).
		Weight::from_parts(120_000_000, 30_000)
			.saturating_add(classad_evaluation())
			.saturating_add(T::DbWeight::get().reads(6))
			.saturating_add(T::DbWeight::get().writes(6))
			.saturating_add(
				Self::match_orders()
					.saturating_add(classad_evaluation().saturating_mul(2))
					.saturating_mul(w.into()),
			)
			.saturating_add(T::DbWeight::get().reads(36).saturating_mul(w.into()))
	}
	fn submit_request(c: u32) -> Weight {
		// Registry, order, hold, escrow lock, expiry, indices, the job ad parsed; for each pool
		// order looked at: its order and registry entry, four evaluations to rank it (both
		// `Requirements`, `EnergyWatts`, `Rank`), and possibly a deal (which checks the
		// `Requirements` again).
		Weight::from_parts(150_000_000, 40_000)
			.saturating_add(classad_evaluation())
			.saturating_add(T::DbWeight::get().reads(40))
			.saturating_add(T::DbWeight::get().writes(10))
			.saturating_add(
				Self::match_orders()
					.saturating_add(classad_evaluation().saturating_mul(4))
					.saturating_mul(c.into()),
			)
			.saturating_add(T::DbWeight::get().reads(2).saturating_mul(c.into()))
	}
	fn cancel_order() -> Weight {
		Weight::from_parts(50_000_000, 12_000)
			.saturating_add(T::DbWeight::get().reads(4))
			.saturating_add(T::DbWeight::get().writes(5))
	}
	fn match_orders() -> Weight {
		// Four orders, three registry entries, two ads, escrow (rebook, release, lock), the
		// deal, up to four used-up orders ended with their indices.
		Weight::from_parts(100_000_000, 60_000)
			.saturating_add(classad_evaluation().saturating_mul(2))
			.saturating_add(T::DbWeight::get().reads(20))
			.saturating_add(T::DbWeight::get().writes(22))
	}
	fn expire_requests(n: u32) -> Weight {
		Weight::from_parts(5_000_000, 1_000)
			.saturating_add(T::DbWeight::get().reads_writes(1, 1))
			.saturating_add(
				Weight::from_parts(40_000_000, 12_000)
					.saturating_add(T::DbWeight::get().reads_writes(5, 6))
					.saturating_mul(n.into()),
			)
	}
}

/// For tests.
impl WeightInfo for () {
	fn publish_resource_order() -> Weight {
		Weight::from_parts(1, 0)
	}
	fn publish_pool_order(w: u32) -> Weight {
		Weight::from_parts(1 + w as u64, 0)
	}
	fn submit_request(c: u32) -> Weight {
		Weight::from_parts(1 + c as u64, 0)
	}
	fn cancel_order() -> Weight {
		Weight::from_parts(1, 0)
	}
	fn match_orders() -> Weight {
		Weight::from_parts(1, 0)
	}
	fn expire_requests(n: u32) -> Weight {
		Weight::from_parts(1 + n as u64, 0)
	}
}
