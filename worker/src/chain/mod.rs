//! The chain as the worker sees it: typed reads of the pallets' storage and events, and signed
//! calls, all with the runtime's own types over JSON-RPC (no metadata to keep in step).
//!
//! Decisions are taken on finalised state only ([`Chain::finalized`]); a call's own outcome is
//! read from the block that included it ([`Chain::submit`]).

mod rpc;

pub use rpc::Rpc;

use crate::keys::WorkerKey;
use codec::{Decode, Encode};
use frame_support::{storage::StoragePrefixedMap, traits::PalletInfoAccess};
use iexec_runtime::{Runtime, RuntimeCall};
use serde_json::{json, Value};
use sp_core::H256;
use sp_runtime::DispatchError;
use std::{sync::Arc, time::Duration};
use tokio::sync::Mutex;

pub use iexec_runtime::{AccountId, Balance, BlockNumber, RuntimeEvent};
pub use pallet_poco::TaskId;

/// A deal as stored.
pub type Deal = pallet_market::DealOf<Runtime>;
/// A started task as stored.
pub type TaskRecord = pallet_poco::TaskOf<Runtime>;
/// A worker's record.
pub type WorkerRecord = pallet_poco::WorkerOf<Runtime>;
/// A registered contract (app, data set, pool).
pub type Contract = pallet_registry::ContractOf<Runtime>;
/// A certified (or revealed) result.
pub type TaskResult = pallet_poco::TaskResultOf<Runtime>;
/// A reveal, as the calls take it.
pub type Disclosure = pallet_poco::DisclosureOf<Runtime>;
/// An account's balances.
pub type AccountInfo =
	frame_system::AccountInfo<iexec_runtime::Nonce, pallet_balances::AccountData<Balance>>;
type EventRecord = frame_system::EventRecord<RuntimeEvent, H256>;

/// Why talking to the chain failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChainError {
	/// No node answered (each URL's reason).
	#[error("no node reachable: {0}")]
	Unreachable(String),
	/// The node answered with an error.
	#[error("node refused: {0}")]
	Rpc(String),
	/// What the node returned does not decode as this worker's runtime types (another runtime
	/// version?).
	#[error("cannot decode {0}: is the worker built for this chain's runtime?")]
	Decode(String),
	/// The pool refused the transaction (bad nonce, cannot pay fees, …).
	#[error("transaction refused: {0}")]
	Invalid(String),
	/// The transaction was included and its call failed, with the pallet's error name.
	#[error("call failed: {0}")]
	Dispatch(String),
}

impl ChainError {
	/// Whether trying again later (another node, another block) may help.
	pub fn is_transient(&self) -> bool {
		matches!(self, ChainError::Unreachable(_))
	}
}

/// A block: its hash and number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
	pub hash: H256,
	pub number: BlockNumber,
}

/// A call's inclusion: the block and the events it emitted.
#[derive(Debug)]
pub struct Included {
	pub block: H256,
	pub events: Vec<RuntimeEvent>,
}

/// The typed chain client.
#[derive(Clone)]
pub struct Chain {
	rpc: Rpc,
	/// Nonces are taken and transactions handed to the pool one at a time.
	sending: Arc<Mutex<()>>,
}

fn hex_of(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

fn bytes_of(value: &str) -> Result<Vec<u8>, ChainError> {
	hex::decode(value.trim_start_matches("0x")).map_err(|e| ChainError::Decode(format!("hex: {e}")))
}

fn hash_of(value: &str) -> Result<H256, ChainError> {
	let bytes = bytes_of(value)?;
	(bytes.len() == 32)
		.then(|| H256::from_slice(&bytes))
		.ok_or_else(|| ChainError::Decode(format!("block hash {value}")))
}

/// Decodes all of `bytes`: a value with bytes left over is of another layout than this
/// worker's (a runtime it was not built for), never read as if it were the same.
fn decode<T: Decode>(what: &str, bytes: &[u8]) -> Result<T, ChainError> {
	codec::DecodeAll::decode_all(&mut &bytes[..])
		.map_err(|e| ChainError::Decode(format!("{what}: {e}")))
}

/// A pallet error's name (`poco.NotAWorker`), or what is known of it.
pub fn describe(error: &DispatchError) -> String {
	let DispatchError::Module(module) = error else { return format!("{error:?}") };
	let index = module.index as usize;
	let bytes = &module.error[..];
	fn named<E: Decode + core::fmt::Debug>(pallet: &str, bytes: &[u8]) -> Option<String> {
		E::decode(&mut &bytes[..]).ok().map(|e| format!("{pallet}.{e:?}"))
	}
	let name = if index == iexec_runtime::Poco::index() {
		named::<pallet_poco::Error<Runtime>>("poco", bytes)
	} else if index == iexec_runtime::Market::index() {
		named::<pallet_market::Error<Runtime>>("market", bytes)
	} else if index == iexec_runtime::Registry::index() {
		named::<pallet_registry::Error<Runtime>>("registry", bytes)
	} else if index == iexec_runtime::Balances::index() {
		named::<pallet_balances::Error<Runtime>>("balances", bytes)
	} else {
		None
	};
	name.unwrap_or_else(|| format!("error {:?} of pallet {index}", module.error))
}

impl Chain {
	/// A client of the first node of `urls` that answers.
	pub fn new(urls: Vec<String>) -> Chain {
		Chain { rpc: Rpc::new(urls), sending: Arc::new(Mutex::new(())) }
	}

	/// The URL of the node in use.
	pub async fn node_url(&self) -> String {
		self.rpc.current_url().await
	}

	/// The last finalised block.
	pub async fn finalized(&self) -> Result<Head, ChainError> {
		let hash: String = self.rpc.call("chain_getFinalizedHead", vec![]).await?;
		let hash = hash_of(&hash)?;
		let number = self.number_of(hash).await?;
		Ok(Head { hash, number })
	}

	/// The best block (the head of the chain this node builds on, not yet final).
	pub async fn best(&self) -> Result<Head, ChainError> {
		let hash: String = self.rpc.call("chain_getBlockHash", vec![]).await?;
		let hash = hash_of(&hash)?;
		let number = self.number_of(hash).await?;
		Ok(Head { hash, number })
	}

	/// The best block's number.
	pub async fn best_number(&self) -> Result<BlockNumber, ChainError> {
		let header: Value = self.rpc.call("chain_getHeader", vec![]).await?;
		parse_number(&header["number"])
	}

	async fn number_of(&self, hash: H256) -> Result<BlockNumber, ChainError> {
		let header: Value =
			self.rpc.call("chain_getHeader", vec![json!(hex_of(&hash[..]))]).await?;
		parse_number(&header["number"])
	}

	/// The hash of block `number` on the best chain.
	pub async fn block_hash(&self, number: BlockNumber) -> Result<H256, ChainError> {
		let hash: Option<String> = self.rpc.call("chain_getBlockHash", vec![json!(number)]).await?;
		hash_of(&hash.ok_or_else(|| ChainError::Rpc(format!("no block {number}")))?)
	}

	/// The value under `key` at block `at`, decoded as `T`.
	pub async fn storage<T: Decode>(
		&self,
		key: Vec<u8>,
		at: H256,
	) -> Result<Option<T>, ChainError> {
		let value: Option<String> = self
			.rpc
			.call("state_getStorage", vec![json!(hex_of(&key)), json!(hex_of(&at[..]))])
			.await?;
		match value {
			Some(hex) => Ok(Some(decode(&format!("storage {}", hex_of(&key)), &bytes_of(&hex)?)?)),
			None => Ok(None),
		}
	}

	/// Every storage key under `prefix` at `at`, a page at a time.
	pub async fn keys(&self, prefix: Vec<u8>, at: H256) -> Result<Vec<Vec<u8>>, ChainError> {
		let mut keys = Vec::new();
		let mut start: Option<String> = None;
		loop {
			let page: Vec<String> = self
				.rpc
				.call(
					"state_getKeysPaged",
					vec![json!(hex_of(&prefix)), json!(1000), json!(start), json!(hex_of(&at[..]))],
				)
				.await?;
			let full = page.len() == 1000;
			start = page.last().cloned();
			for key in page {
				keys.push(bytes_of(&key)?);
			}
			if !full {
				return Ok(keys);
			}
		}
	}

	pub async fn deal(&self, id: u64, at: H256) -> Result<Option<Deal>, ChainError> {
		self.storage(pallet_market::Deals::<Runtime>::hashed_key_for(id), at).await
	}

	/// Identifiers of every deal stored at `at`.
	pub async fn deal_ids(&self, at: H256) -> Result<Vec<u64>, ChainError> {
		let prefix = pallet_market::Deals::<Runtime>::final_prefix().to_vec();
		let keys = self.keys(prefix.clone(), at).await?;
		// Twox64Concat: 8 bytes of hash, then the SCALE-encoded id.
		keys.iter()
			.map(|key| decode::<u64>("deal key", key.get(prefix.len() + 8..).unwrap_or_default()))
			.collect()
	}

	pub async fn task(&self, id: TaskId, at: H256) -> Result<Option<TaskRecord>, ChainError> {
		self.storage(pallet_poco::Tasks::<Runtime>::hashed_key_for(id.deal, id.index), at).await
	}

	pub async fn result(&self, id: TaskId, at: H256) -> Result<Option<TaskResult>, ChainError> {
		self.storage(pallet_poco::Results::<Runtime>::hashed_key_for(id.deal, id.index), at).await
	}

	/// Which task of `deal` starts next (0 before any started).
	pub async fn next_task(&self, deal: u64, at: H256) -> Result<u32, ChainError> {
		let progress: Option<pallet_poco::DealProgress<BlockNumber>> =
			self.storage(pallet_poco::Progress::<Runtime>::hashed_key_for(deal), at).await?;
		Ok(progress.map_or(0, |p| p.next))
	}

	pub async fn worker(
		&self,
		who: &AccountId,
		at: H256,
	) -> Result<Option<WorkerRecord>, ChainError> {
		self.storage(pallet_poco::Workers::<Runtime>::hashed_key_for(who), at).await
	}

	pub async fn score(&self, who: &AccountId, at: H256) -> Result<u32, ChainError> {
		Ok(self
			.storage(pallet_poco::Scores::<Runtime>::hashed_key_for(who), at)
			.await?
			.unwrap_or(0))
	}

	pub async fn contract(&self, id: u64, at: H256) -> Result<Option<Contract>, ChainError> {
		self.storage(pallet_registry::Contracts::<Runtime>::hashed_key_for(id), at).await
	}

	/// What deal `id`'s app and data set demand of a host (kept with the deal when it was
	/// made; none for most deals). The chain checks them against a worker's ad at a claim.
	pub async fn deal_rules(
		&self,
		id: u64,
		at: H256,
	) -> Result<pallet_market::matching::HostRules, ChainError> {
		let key = pallet_market::DealRules::<Runtime>::hashed_key_for(id);
		type Stored =
			pallet_market::StoredHostRules<<Runtime as pallet_market::Config>::MaxAdBytes>;
		let stored: Option<Stored> = self.storage(key, at).await?;
		Ok(stored.map(|rules| pallet_market::ads::load_rules(&rules)).unwrap_or_default())
	}

	pub async fn account(&self, who: &AccountId, at: H256) -> Result<AccountInfo, ChainError> {
		Ok(self
			.storage(frame_system::Account::<Runtime>::hashed_key_for(who), at)
			.await?
			.unwrap_or_default())
	}

	/// The events of block `at`.
	pub async fn events(&self, at: H256) -> Result<Vec<RuntimeEvent>, ChainError> {
		Ok(self.event_records(at).await?.into_iter().map(|r| r.event).collect())
	}

	async fn event_records(&self, at: H256) -> Result<Vec<EventRecord>, ChainError> {
		let key = frame_support::storage::storage_prefix(b"System", b"Events").to_vec();
		Ok(self.storage::<Vec<EventRecord>>(key, at).await?.unwrap_or_default())
	}

	/// Signs `call` with `key` (next nonce, immortal, no tip), hands it to the node and waits
	/// until a block includes it: the events it emitted, or the pallet error it failed with.
	pub async fn submit(&self, key: &WorkerKey, call: RuntimeCall) -> Result<Included, ChainError> {
		self.submit_until(key, call, false).await
	}

	/// Like [`Chain::submit`], but waits until the including block is finalised (what the
	/// daemon acts on), for commands whose effect the next one relies on.
	pub async fn submit_finalized(
		&self,
		key: &WorkerKey,
		call: RuntimeCall,
	) -> Result<Included, ChainError> {
		self.submit_until(key, call, true).await
	}

	async fn submit_until(
		&self,
		key: &WorkerKey,
		call: RuntimeCall,
		finalized: bool,
	) -> Result<Included, ChainError> {
		let (extrinsic, mut watch) = {
			let _one_at_a_time = self.sending.lock().await;
			let extrinsic = self.sign(key, call).await?;
			let watch = self
				.rpc
				.subscribe(
					"author_submitAndWatchExtrinsic",
					vec![json!(hex_of(&extrinsic))],
					"author_unwatchExtrinsic",
				)
				.await
				.map_err(|e| match e {
					ChainError::Rpc(reason) => ChainError::Invalid(reason),
					other => other,
				})?;
			(extrinsic, watch)
		};
		let block = loop {
			let update = tokio::time::timeout(Duration::from_secs(120), watch.next())
				.await
				.map_err(|_| ChainError::Invalid("not included within 120 s".into()))?;
			let status = match update {
				Some(Ok(status)) => status,
				Some(Err(e)) => return Err(ChainError::Decode(format!("transaction status: {e}"))),
				None => return Err(ChainError::Unreachable("the node stopped watching".into())),
			};
			let done = if finalized {
				status.get("finalized")
			} else {
				status.get("inBlock").or_else(|| status.get("finalized"))
			};
			if let Some(hash) = done {
				break hash_of(hash.as_str().unwrap_or_default())?;
			}
			for end in ["invalid", "dropped", "usurped", "finalityTimeout"] {
				if status == json!(end) || status.get(end).is_some() {
					return Err(ChainError::Invalid(format!("the pool says {end}")));
				}
			}
		};
		let index = self.index_in_block(block, &extrinsic).await?;
		let mut events = Vec::new();
		for record in self.event_records(block).await? {
			if record.phase != frame_system::Phase::ApplyExtrinsic(index) {
				continue;
			}
			if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error,
				..
			}) = &record.event
			{
				return Err(ChainError::Dispatch(describe(dispatch_error)));
			}
			events.push(record.event);
		}
		Ok(Included { block, events })
	}

	async fn index_in_block(&self, block: H256, extrinsic: &[u8]) -> Result<u32, ChainError> {
		let body: Value = self.rpc.call("chain_getBlock", vec![json!(hex_of(&block[..]))]).await?;
		let wanted = hex_of(extrinsic);
		body["block"]["extrinsics"]
			.as_array()
			.and_then(|all| all.iter().position(|x| x.as_str() == Some(wanted.as_str())))
			.map(|i| i as u32)
			.ok_or_else(|| ChainError::Decode(format!("block {block:?} without our transaction")))
	}

	async fn sign(&self, key: &WorkerKey, call: RuntimeCall) -> Result<Vec<u8>, ChainError> {
		let context = self.signing_context().await?;
		let nonce: u64 = self
			.rpc
			.call("system_accountNextIndex", vec![json!(key.account().to_string())])
			.await?;
		let nonce = nonce as iexec_runtime::Nonce;
		Ok(iexec_runtime::signed_extrinsic(call, key.account(), nonce, context, |b| key.sign(b))
			.encode())
	}

	/// What a transaction signs besides its call: the genesis hash and the runtime's versions,
	/// refused when the chain's transaction version is not this build's.
	pub async fn signing_context(&self) -> Result<iexec_runtime::SigningContext, ChainError> {
		let genesis = self.block_hash(0).await?;
		let version: Value = self.rpc.call("state_getRuntimeVersion", vec![]).await?;
		let transaction_version = version["transactionVersion"].as_u64().unwrap_or_default();
		if transaction_version != u64::from(iexec_runtime::VERSION.transaction_version) {
			return Err(ChainError::Invalid(format!(
				"the chain's transaction version is {transaction_version}, this worker's {}: \
				 upgrade the worker",
				iexec_runtime::VERSION.transaction_version
			)));
		}
		Ok(iexec_runtime::SigningContext {
			genesis,
			spec_version: version["specVersion"].as_u64().unwrap_or_default() as u32,
			transaction_version: transaction_version as u32,
		})
	}
}

fn parse_number(value: &Value) -> Result<BlockNumber, ChainError> {
	value
		.as_str()
		.and_then(|hex| BlockNumber::from_str_radix(hex.trim_start_matches("0x"), 16).ok())
		.ok_or_else(|| ChainError::Decode(format!("block number {value}")))
}
