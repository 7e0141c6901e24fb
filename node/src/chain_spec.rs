//! Chain specifications: the built-in `dev` and `local` chains, or a JSON file.

use iexec_runtime::{TOKEN_DECIMALS, TOKEN_SYMBOL, WASM_BINARY};
use sc_service::{ChainType, Properties};

/// Node-side extensions of the chain specification.
#[derive(
	Default, Clone, serde::Serialize, serde::Deserialize, sc_chain_spec::ChainSpecExtension,
)]
#[serde(rename_all = "camelCase", default)]
pub struct Extensions {
	/// Checkpoint for light clients, filled in by `sync_state_genSyncSpec`.
	pub light_sync_state: sc_sync_state_rpc::LightSyncStateExtension,
}

/// A chain specification of this node's chain.
pub type ChainSpec = sc_service::GenericChainSpec<Extensions>;

/// The `ss58Format` of addresses: 42, the generic Substrate prefix (docs/chain.md says why).
pub const SS58_FORMAT: u16 = 42;

/// What polkadot.js reads to show balances: RLC with 9 decimals.
pub fn properties() -> Properties {
	let mut properties = Properties::new();
	properties.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), SS58_FORMAT.into());
	properties
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the runtime Wasm was not built (SKIP_WASM_BUILD was set?): rebuild without it".to_string()
	})
}

fn built_in(
	name: &str,
	id: &str,
	chain_type: ChainType,
	preset: &str,
) -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, Extensions::default())
		.with_name(name)
		.with_id(id)
		.with_chain_type(chain_type)
		.with_genesis_config_preset_name(preset)
		.with_properties(properties())
		.build())
}

/// A one-validator development chain (Alice).
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	built_in(
		"iEx.ec Development",
		"iexec_dev",
		ChainType::Development,
		sp_genesis_builder::DEV_RUNTIME_PRESET,
	)
}

/// A four-validator local test network (Alice, Bob, Charlie, Dave).
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	built_in(
		"iEx.ec Local Testnet",
		"iexec_local_testnet",
		ChainType::Local,
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET,
	)
}

/// Resolves `--chain ID`: a built-in name or the path of a chain-spec JSON file.
pub fn load(id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
	Ok(match id {
		"dev" | "" => Box::new(development_chain_spec()?),
		"local" => Box::new(local_chain_spec()?),
		path => {
			let file = std::path::PathBuf::from(path);
			if !file.is_file() {
				return Err(format!(
					"unknown chain `{path}`: expected `dev`, `local` or the path of a chain-spec \
					 JSON file (no such file)"
				));
			}
			Box::new(
				ChainSpec::from_json_file(file)
					.map_err(|e| format!("invalid chain-spec file `{path}`: {e}"))?,
			)
		}
	})
}
