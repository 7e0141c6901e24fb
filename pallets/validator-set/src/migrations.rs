//! Storage migrations of `pallet-validator-set`.

use super::*;
use frame_support::{
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
};

/// Version 0 to 1: equivocation reports prove membership against each session's root, which
/// `pallet-session`'s historical module stores only when a set is handed over. Marking the set
/// changed hands it over at the next rotation, so that a chain upgraded while its set stays the
/// same gets roots from then on.
pub mod v1 {
	use super::*;

	pub struct HandOverAtNextRotation<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for HandOverAtNextRotation<T> {
		fn on_runtime_upgrade() -> Weight {
			SetChanged::<T>::put(true);
			T::DbWeight::get().writes(1)
		}
	}

	/// Runs once, when the pallet's storage version is 0.
	pub type MigrateV0ToV1<T> = frame_support::migrations::VersionedMigration<
		0,
		1,
		HandOverAtNextRotation<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
