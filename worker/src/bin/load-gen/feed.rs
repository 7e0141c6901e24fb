//! Signed calls in bulk, and what became of them.
//!
//! Each call is signed with its account's next nonce, kept here rather than asked of the node
//! for every call, and handed to the node without a watch subscription: one follower reads
//! every block of the best chain once, resolves the calls it includes from the block's events,
//! and passes the block's figures on to the report. Thousands of calls a block cost one block
//! read, not thousands of subscriptions.

use codec::Encode;
use frame_support::dispatch::PerDispatchClass;
use iexec_runtime::{AccountId, Balance, BlockNumber, Nonce, RuntimeCall, RuntimeEvent};
use iexec_worker::digest::blake2_256;
use iexec_worker::{
	chain::{describe, Chain, ChainError, Rpc},
	keys::WorkerKey,
};
use serde_json::{json, Value};
use sp_core::H256;
use sp_runtime::Weight;
use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
	time::Duration,
};
use tokio::sync::{mpsc, oneshot, Semaphore};

type EventRecord = frame_system::EventRecord<RuntimeEvent, H256>;

/// How long a handed-over call may wait for a block before it counts as lost.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(180);
/// Calls to the node at once on one connection (jsonrpsee refuses more than 256).
const RPC_IN_FLIGHT: usize = 128;

/// Why a call did not take effect.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
	/// The node's pool refused it (full, bad nonce, cannot pay): nothing was spent.
	#[error("refused by the node: {0}")]
	Refused(String),
	/// A block included it and the call failed with this error.
	#[error("failed: {0}")]
	Failed(String),
	/// No block included it in time.
	#[error("not included within {} s", INCLUSION_TIMEOUT.as_secs())]
	Lost,
	/// The node could not be reached.
	#[error("{0}")]
	Node(String),
}

/// What a block did with one of our calls that succeeded: where, and the events it emitted.
#[derive(Debug)]
pub struct Included {
	pub block: BlockNumber,
	pub events: Vec<RuntimeEvent>,
}

type Resolution = Result<Included, CallError>;

/// One block's figures, as the report needs them.
#[derive(Debug, Clone, Default)]
pub struct BlockFigures {
	pub number: BlockNumber,
	/// The block's timestamp (milliseconds).
	pub moment: u64,
	pub extrinsics: u32,
	/// Encoded size of the body.
	pub bytes: u64,
	/// Weight spent by normal dispatches: every signed call (the block's own hooks and
	/// inherents are in other classes).
	pub normal_weight: Weight,
	pub certified: u32,
	/// Workers paid for the certified tasks (their replicas that revealed).
	pub winners: u32,
	pub transfers: u32,
	pub failed_calls: u32,
	/// Fees burnt and dust lost: the only ways RLC leaves the supply.
	pub burnt: Balance,
}

/// Signs and hands over calls; resolves them as blocks include them.
pub struct Feed {
	rpc: Rpc,
	context: iexec_runtime::SigningContext,
	nonces: Mutex<HashMap<AccountId, Nonce>>,
	waiting: Mutex<HashMap<H256, oneshot::Sender<Resolution>>>,
	rpc_slots: Semaphore,
}

fn hex_of(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

fn bytes_of(value: &Value) -> Result<Vec<u8>, ChainError> {
	let text = value.as_str().ok_or_else(|| ChainError::Decode(format!("hex {value}")))?;
	hex::decode(text.trim_start_matches("0x")).map_err(|e| ChainError::Decode(format!("hex: {e}")))
}

impl Feed {
	/// A feed to the node at `url` (which `chain` reads), with the chain's signing context;
	/// refused unless the node runs this build's runtime (calls are encoded with its types).
	pub async fn connect(url: &str, chain: &Chain) -> Result<Arc<Feed>, ChainError> {
		let context = chain.signing_context().await?;
		if context.spec_version != iexec_runtime::VERSION.spec_version {
			return Err(ChainError::Invalid(format!(
				"the node runs spec {}, this build spec {}: build both from the same commit",
				context.spec_version,
				iexec_runtime::VERSION.spec_version
			)));
		}
		Ok(Arc::new(Feed {
			rpc: Rpc::new(vec![url.to_string()]),
			context,
			nonces: Mutex::new(HashMap::new()),
			waiting: Mutex::new(HashMap::new()),
			rpc_slots: Semaphore::new(RPC_IN_FLIGHT),
		}))
	}

	/// Takes these accounts as new: their next nonce is 0.
	pub fn assume_new(&self, accounts: &[AccountId]) {
		let mut nonces = self.nonces.lock().expect("nonces");
		for who in accounts {
			nonces.entry(who.clone()).or_insert(0);
		}
	}

	async fn node_nonce(&self, who: &AccountId) -> Result<Nonce, ChainError> {
		let _slot = self.rpc_slots.acquire().await.expect("never closed");
		let nonce: u64 =
			self.rpc.call("system_accountNextIndex", vec![json!(who.to_string())]).await?;
		Ok(nonce as Nonce)
	}

	/// Signs `call` as `key`, hands it to the node and waits until a block includes it.
	pub async fn send(&self, key: &WorkerKey, call: RuntimeCall) -> Resolution {
		let who = key.account();
		let known = self.nonces.lock().expect("nonces").get(&who).copied();
		if known.is_none() {
			let nonce = self.node_nonce(&who).await.map_err(|e| CallError::Node(e.to_string()))?;
			self.nonces.lock().expect("nonces").entry(who.clone()).or_insert(nonce);
		}
		let nonce = {
			let mut nonces = self.nonces.lock().expect("nonces");
			let next = nonces.get_mut(&who).expect("learnt above");
			*next += 1;
			*next - 1
		};
		let extrinsic =
			iexec_runtime::signed_extrinsic(call, who.clone(), nonce, self.context, |b| {
				key.sign(b)
			})
			.encode();
		let hash = H256(blake2_256(&extrinsic));
		let (tell, told) = oneshot::channel();
		// Waiting before handing over: the follower may see the block before the node answers.
		self.waiting.lock().expect("waiting").insert(hash, tell);
		let handed = {
			let _slot = self.rpc_slots.acquire().await.expect("never closed");
			self.rpc.call::<Value>("author_submitExtrinsic", vec![json!(hex_of(&extrinsic))]).await
		};
		match handed {
			Ok(_) => {}
			// The node may have taken it before the connection failed: wait for a block.
			Err(ChainError::Unreachable(_)) => {}
			Err(refused) => {
				self.waiting.lock().expect("waiting").remove(&hash);
				self.forget_nonce(&who);
				return Err(CallError::Refused(refused.to_string()));
			}
		}
		match tokio::time::timeout(INCLUSION_TIMEOUT, told).await {
			Ok(Ok(resolution)) => resolution,
			Ok(Err(_)) => Err(CallError::Node("the block follower stopped".into())),
			Err(_) => {
				self.waiting.lock().expect("waiting").remove(&hash);
				self.forget_nonce(&who);
				Err(CallError::Lost)
			}
		}
	}

	/// After a call that may or may not have spent its nonce, the account's next call asks
	/// the node (which counts what its pool holds).
	fn forget_nonce(&self, who: &AccountId) {
		self.nonces.lock().expect("nonces").remove(who);
	}

	/// Calls handed over and not yet included.
	pub fn pending(&self) -> usize {
		self.waiting.lock().expect("waiting").len()
	}

	fn resolve(&self, hash: &H256, resolution: Resolution) {
		if let Some(tell) = self.waiting.lock().expect("waiting").remove(hash) {
			let _ = tell.send(resolution);
		}
	}
}

/// Reads every block of the best chain from `from` on, once each, in order: resolves the
/// feed's calls and sends each block's figures to `figures`. Runs until the receiver goes.
pub async fn follow(
	chain: Chain,
	rpc: Rpc,
	feed: Arc<Feed>,
	from: BlockNumber,
	figures: mpsc::UnboundedSender<BlockFigures>,
) -> Result<(), ChainError> {
	let mut heads =
		rpc.subscribe("chain_subscribeNewHeads", vec![], "chain_unsubscribeNewHeads").await?;
	let mut next = from;
	loop {
		let head = match heads.next().await {
			Some(Ok(head)) => head,
			Some(Err(error)) => return Err(ChainError::Decode(format!("new head: {error}"))),
			None => return Err(ChainError::Unreachable("the node stopped sending heads".into())),
		};
		let best = head["number"]
			.as_str()
			.and_then(|n| BlockNumber::from_str_radix(n.trim_start_matches("0x"), 16).ok())
			.ok_or_else(|| ChainError::Decode(format!("head {head}")))?;
		while next <= best {
			let block = read_block(&chain, &rpc, &feed, next).await?;
			if figures.send(block).is_err() {
				return Ok(());
			}
			next += 1;
		}
	}
}

async fn read_block(
	chain: &Chain,
	rpc: &Rpc,
	feed: &Feed,
	number: BlockNumber,
) -> Result<BlockFigures, ChainError> {
	let hash = chain.block_hash(number).await?;
	let events_key = frame_support::storage::storage_prefix(b"System", b"Events").to_vec();
	let weight_key = frame_support::storage::storage_prefix(b"System", b"BlockWeight").to_vec();
	let moment_key = frame_support::storage::storage_prefix(b"Timestamp", b"Now").to_vec();
	let (body, records, weight, moment) = tokio::try_join!(
		rpc.call::<Value>("chain_getBlock", vec![json!(hex_of(&hash[..]))]),
		chain.storage::<Vec<EventRecord>>(events_key, hash),
		chain.storage::<PerDispatchClass<Weight>>(weight_key, hash),
		chain.storage::<u64>(moment_key, hash),
	)?;
	let extrinsics: Vec<Vec<u8>> = body["block"]["extrinsics"]
		.as_array()
		.ok_or_else(|| ChainError::Decode(format!("body of block {number}")))?
		.iter()
		.map(bytes_of)
		.collect::<Result<_, _>>()?;
	let weight = weight.unwrap_or_default();
	let mut figures = BlockFigures {
		number,
		moment: moment.unwrap_or_default(),
		extrinsics: extrinsics.len() as u32,
		bytes: extrinsics.iter().map(|x| x.len() as u64).sum(),
		normal_weight: *weight.get(frame_support::dispatch::DispatchClass::Normal),
		..Default::default()
	};
	let mut per_extrinsic: Vec<Vec<RuntimeEvent>> = vec![Vec::new(); extrinsics.len()];
	let mut failures: HashMap<usize, String> = HashMap::new();
	for record in records.unwrap_or_default() {
		count(&mut figures, &record.event);
		let frame_system::Phase::ApplyExtrinsic(index) = record.phase else { continue };
		let index = index as usize;
		if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
			dispatch_error, ..
		}) = &record.event
		{
			failures.insert(index, describe(dispatch_error));
		}
		if let Some(events) = per_extrinsic.get_mut(index) {
			events.push(record.event);
		}
	}
	for (index, (extrinsic, events)) in extrinsics.iter().zip(per_extrinsic).enumerate() {
		let hash = H256(blake2_256(extrinsic));
		let resolution = match failures.remove(&index) {
			Some(error) => Err(CallError::Failed(error)),
			None => Ok(Included { block: number, events }),
		};
		feed.resolve(&hash, resolution);
	}
	Ok(figures)
}

fn count(figures: &mut BlockFigures, event: &RuntimeEvent) {
	use RuntimeEvent as E;
	match event {
		E::Poco(pallet_poco::Event::TaskCompleted { winners, .. }) => {
			figures.certified += 1;
			figures.winners += winners;
		}
		E::Balances(pallet_balances::Event::Transfer { .. }) => figures.transfers += 1,
		E::Balances(pallet_balances::Event::DustLost { amount, .. }) => {
			figures.burnt = figures.burnt.saturating_add(*amount)
		}
		// The fee paid, tip included, all burnt (fees go nowhere on this chain).
		E::TransactionPayment(pallet_transaction_payment::Event::TransactionFeePaid {
			actual_fee,
			..
		}) => figures.burnt = figures.burnt.saturating_add(*actual_fee),
		E::System(frame_system::Event::ExtrinsicFailed { .. }) => figures.failed_calls += 1,
		_ => {}
	}
}
