//! Reading the chain as tests need it, and starting the validators of the `local` chain.

use super::{minutes, rpc::hex_bytes, tx, wait_for, Node, Rpc};
use codec::Decode;
use iexec_runtime::Runtime;
use serde_json::json;
use sp_consensus_babe::{digests::PreDigest, AuthorityId as BabeId, BABE_ENGINE_ID};
use sp_runtime::DigestItem;
use std::path::Path;

/// A random network key: every node of every test its own peer ID, so that networks of the
/// same chain running side by side never take each other's nodes for their own.
pub fn random_node_key() -> String {
	use std::hash::{BuildHasher, Hasher};
	(0..4)
		.map(|_| {
			format!(
				"{:016x}",
				std::collections::hash_map::RandomState::new().build_hasher().finish()
			)
		})
		.collect()
}

/// Starts a validator of the `local` chain holding the development key `key` (alice, bob,
/// ...), as node `name` with its own base path and a random network key (outside `--dev` a
/// validator requires one).
pub fn local_validator(name: &str, key: &str, base: &Path, bootnode: Option<&str>) -> Node {
	let base_path = base.join(name);
	let node_key = random_node_key();
	let mut args: Vec<String> = vec![
		"--chain".into(),
		"local".into(),
		format!("--{key}"),
		"--base-path".into(),
		base_path.to_str().unwrap().into(),
		"--node-key".into(),
		node_key,
		"--allow-private-ip".into(),
	];
	if let Some(bootnode) = bootnode {
		args.push("--bootnodes".into());
		args.push(bootnode.into());
	}
	let args: Vec<&str> = args.iter().map(String::as_str).collect();
	Node::start(name, &args, base)
}

/// The four validators of the `local` chain (alice, bob, charlie, dave) under `base`,
/// connected through Alice, once all four have finalised block 3 together.
pub fn four_local_validators(base: &Path) -> [Node; 4] {
	let alice = local_validator("alice", "alice", base, None);
	let boot = alice.multiaddr();
	let others = ["bob", "charlie", "dave"]
		.iter()
		.map(|name| local_validator(name, name, base, Some(&boot)));
	let [bob, charlie, dave]: [Node; 3] = others.collect::<Vec<_>>().try_into().ok().unwrap();
	let mut nodes = [alice, bob, charlie, dave];
	wait_for("finality with four validators", minutes(3), || {
		nodes.iter_mut().for_each(Node::assert_running);
		nodes.iter().all(|n| n.finalized_number().unwrap_or(0) >= 3).then_some(())
	});
	nodes
}

/// The BABE key of the author of block `number`: the authority index in the header's
/// pre-runtime digest, looked up in the BABE authorities of that block's epoch.
pub fn babe_author(rpc: &Rpc, number: u64) -> Option<BabeId> {
	let hash = rpc.call("chain_getBlockHash", json!([number])).ok()?;
	let hash = hash.as_str()?.to_string();
	let header = rpc.call("chain_getHeader", json!([hash])).ok()?;
	let index = header["digest"]["logs"].as_array()?.iter().find_map(|log| {
		let item = DigestItem::decode(&mut &hex_bytes(log.as_str()?)[..]).ok()?;
		let (engine, mut data) = item.as_pre_runtime()?;
		(engine == BABE_ENGINE_ID).then(|| PreDigest::decode(&mut data).ok())?
	})?;
	let authorities: Vec<(BabeId, u64)> = tx::storage_at(
		rpc,
		&pallet_babe::Authorities::<Runtime>::hashed_key(),
		Some(hash.as_str()),
	)?;
	authorities.get(index.authority_index() as usize).map(|(id, _)| id.clone())
}
