//! Builds the state of a genesis preset, as the node does for a chain spec, for tests to run
//! in.
#![allow(dead_code)]

use iexec_runtime::{genesis_config_presets as presets, RuntimeGenesisConfig};
use serde_json::Value;

/// Applies a preset patch to the default genesis config.
fn merge(base: &mut Value, patch: &Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key.clone()).or_insert(Value::Null), value);
			}
		}
		(base, patch) => *base = patch.clone(),
	}
}

/// The externalities holding the genesis state of preset `name`.
pub fn preset_ext(name: &str) -> sp_io::TestExternalities {
	let patch: Value = serde_json::from_slice(
		&presets::get_preset(&name.into()).unwrap_or_else(|| panic!("no preset {name}")),
	)
	.unwrap();
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, &patch);
	let mut ext = sp_io::TestExternalities::default();
	ext.execute_with(|| {
		frame_support::genesis_builder_helper::build_state::<RuntimeGenesisConfig>(
			serde_json::to_vec(&config).unwrap(),
		)
		.unwrap_or_else(|e| panic!("preset {name} does not build: {e}"));
	});
	ext
}

/// Builds the state of preset `name` and runs `check` in it.
pub fn with_preset(name: &str, check: impl FnOnce()) {
	preset_ext(name).execute_with(check);
}

/// The `try_state` checks of the pallets, together, on the runtime's state: this chain's own
/// pallets always; with the `try-runtime` feature (the test command runs these tests with it
/// too), those of every pallet of the runtime, FRAME's included.
pub fn check_all_pallets() {
	use iexec_runtime::Runtime;
	pallet_validator_set::Pallet::<Runtime>::do_try_state().expect("validator set");
	pallet_registry::Pallet::<Runtime>::do_try_state().expect("registry");
	pallet_escrow::Pallet::<Runtime>::do_try_state().expect("escrow");
	pallet_market::Pallet::<Runtime>::do_try_state().expect("market");
	pallet_poco::Pallet::<Runtime>::do_try_state().expect("poco");
	#[cfg(feature = "try-runtime")]
	{
		use frame_support::traits::{TryState, TryStateSelect};
		let now = frame_system::Pallet::<Runtime>::block_number();
		<iexec_runtime::AllPalletsWithSystem as TryState<_>>::try_state(now, TryStateSelect::All)
			.unwrap_or_else(|e| panic!("try_state of the runtime's pallets: {e:?}"));
	}
}
