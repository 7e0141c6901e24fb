//! What a run needs before its load: funded accounts, an app and a worker pool approved the way
//! every contract is (a contracts-track referendum, decided fast on a dev chain), standing
//! orders large enough for the whole run, and the simulated workers in the pool.

use crate::feed::{Feed, Included};
use codec::Encode;
use frame_support::traits::{schedule::DispatchTime, Bounded};
use futures::{stream, StreamExt};
use iexec_runtime::{
	governance::origins::Origin as GovernanceOrigin, token::RLC, AccountId, Balance, OriginCaller,
	RuntimeCall, RuntimeEvent,
};
use iexec_worker::digest::blake2_256;
use iexec_worker::{chain::Chain, keys::WorkerKey};
use pallet_market::types::Category;
use sp_runtime::MultiAddress;
use std::{sync::Arc, time::Duration};

/// The simulated workers' machine ad, and the pool's admission rule it satisfies.
pub const WORKER_AD: &str = "[ Cpus = 1; Memory = 512 ]";
const POOL_ADMISSION: &str = "TARGET.Cpus >= 1";
/// Transfers per `utility.batch_all` when funding accounts.
const FUNDING_BATCH: usize = 500;
/// Calls in flight at once while setting up: below the node's default pool limit (8,192
/// calls); funding batches are few (one per 500 accounts), joins small.
const SETUP_IN_FLIGHT: usize = 2_000;

/// The contracts and prices the load runs on.
#[derive(Clone, Debug)]
pub struct Market {
	pub app: u64,
	pub pool: u64,
	pub code_hash: [u8; 32],
	pub app_price: Balance,
	pub pool_price: Balance,
	pub category: Category,
}

/// The well-known dev keys the setup spends from: Alice owns the app and funds everyone, Bob
/// owns the pool and decides the referendum with his stake.
pub struct DevKeys {
	pub alice: WorkerKey,
	pub bob: WorkerKey,
	root: WorkerKey,
	namespace: String,
}

impl DevKeys {
	pub fn new(namespace: &str) -> DevKeys {
		let key = |suri: &str| WorkerKey::from_suri(suri).expect("well-known dev key");
		DevKeys {
			alice: key("//Alice"),
			bob: key("//Bob"),
			root: key(sp_core::crypto::DEV_PHRASE),
			namespace: namespace.to_string(),
		}
	}

	/// `count` keys `//{namespace}//{role}//{i}` of the dev phrase.
	pub fn derived(&self, role: &str, count: usize) -> Vec<WorkerKey> {
		(0..count).map(|i| self.root.derive(&[&self.namespace, role, &i.to_string()])).collect()
	}
}

fn expect_event<T>(
	included: &Included,
	what: &str,
	pick: impl Fn(&RuntimeEvent) -> Option<T>,
) -> anyhow::Result<T> {
	included
		.events
		.iter()
		.find_map(pick)
		.ok_or_else(|| anyhow::anyhow!("no {what} event in block {}", included.block))
}

/// Sends each call (signer, call) with at most [`SETUP_IN_FLIGHT`] in flight; fails on the first
/// that does not take effect.
pub async fn send_all(
	feed: &Arc<Feed>,
	calls: Vec<(WorkerKey, RuntimeCall)>,
	what: &str,
	progress: impl Fn(usize),
) -> anyhow::Result<()> {
	let mut outcomes = stream::iter(calls)
		.map(|(key, call)| {
			let feed = feed.clone();
			async move { feed.send(&key, call).await }
		})
		.buffer_unordered(SETUP_IN_FLIGHT);
	let mut done = 0;
	while let Some(outcome) = outcomes.next().await {
		outcome.map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
		done += 1;
		progress(done);
	}
	Ok(())
}

/// Funds each account with `amount` from Alice, in batches (Alice's calls go one after the
/// other: her nonces are sequential).
pub async fn fund(
	feed: &Arc<Feed>,
	keys: &DevKeys,
	accounts: &[AccountId],
	amount: Balance,
) -> anyhow::Result<()> {
	let batches: Vec<_> = accounts
		.chunks(FUNDING_BATCH)
		.map(|chunk| {
			let calls = chunk
				.iter()
				.map(|who| {
					RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
						dest: MultiAddress::Id(who.clone()),
						value: amount,
					})
				})
				.collect();
			(keys.alice.clone(), RuntimeCall::Utility(pallet_utility::Call::batch_all { calls }))
		})
		.collect();
	// Alice's batches may share blocks: they are handed over together, in nonce order.
	send_all(feed, batches, "funding", |_| {}).await
}

/// Registers the app (Alice) and the pool (Bob), approves both by referendum, and publishes
/// an app order and a pool order of `volume` tasks.
pub async fn market(
	feed: &Arc<Feed>,
	chain: &Chain,
	keys: &DevKeys,
	max_trust: u32,
	volume: u32,
) -> anyhow::Result<Market> {
	let code_hash = blake2_256(b"iexec load generator: simulated app");
	let rfc = |uri: &str| pallet_registry::types::Rfc {
		document_hash: blake2_256(uri.as_bytes()),
		uri: uri.as_bytes().to_vec().try_into().expect("short"),
	};
	let app_terms = pallet_registry::types::Terms::App {
		runtime: pallet_registry::types::AppRuntime::Wasm,
		code_uri: b"https://example.invalid/load-gen.wasm".to_vec().try_into().expect("short"),
		code_hash,
		requirements: b"true".to_vec().try_into().expect("short"),
	};
	let pool_terms = pallet_registry::types::Terms::WorkerPool {
		description: b"load generator: simulated workers".to_vec().try_into().expect("short"),
		worker_stake_ratio: 30,
		scheduler_reward_ratio: 5,
		admission: POOL_ADMISSION.as_bytes().to_vec().try_into().expect("short"),
	};
	let propose = |terms, uri: &str| {
		RuntimeCall::Registry(pallet_registry::Call::propose { rfc: rfc(uri), terms })
	};
	let proposed_id = |e: &RuntimeEvent| match e {
		RuntimeEvent::Registry(pallet_registry::Event::ContractProposed { id, .. }) => Some(*id),
		_ => None,
	};
	let (app, pool) = tokio::try_join!(
		feed.send(&keys.alice, propose(app_terms, "https://example.invalid/rfc/load-app")),
		feed.send(&keys.bob, propose(pool_terms, "https://example.invalid/rfc/load-pool")),
	)
	.map_err(|e| anyhow::anyhow!("proposing the contracts: {e}"))?;
	let app = expect_event(&app, "ContractProposed", proposed_id)?;
	let pool = expect_event(&pool, "ContractProposed", proposed_id)?;
	approve_by_referendum(feed, chain, keys, &[app, pool]).await?;

	let (app_price, pool_price) = (RLC / 1_000, RLC / 100);
	let no_restrictions = pallet_market::types::Restrictions {
		requester: None,
		app: None,
		dataset: None,
		pool: None,
	};
	let category = Category::XS;
	let app_order = RuntimeCall::Market(pallet_market::Call::publish_app_order {
		app,
		price: app_price,
		volume,
		tag: 0,
		restrictions: no_restrictions.clone(),
	});
	let pool_order = RuntimeCall::Market(pallet_market::Call::publish_pool_order {
		pool,
		price: pool_price,
		volume,
		category,
		trust: max_trust,
		tag: 0,
		restrictions: no_restrictions,
		ad: WORKER_AD.as_bytes().to_vec().try_into().expect("short"),
	});
	tokio::try_join!(feed.send(&keys.alice, app_order), feed.send(&keys.bob, pool_order))
		.map_err(|e| anyhow::anyhow!("publishing the orders: {e}"))?;
	Ok(Market { app, pool, code_hash, app_price, pool_price, category })
}

/// Alice submits a contracts-track referendum approving `ids` and its decision deposit; Bob
/// votes aye with most of his RLC. Waits until every contract reads `Approved`.
async fn approve_by_referendum(
	feed: &Arc<Feed>,
	chain: &Chain,
	keys: &DevKeys,
	ids: &[u64],
) -> anyhow::Result<()> {
	let approve = RuntimeCall::Utility(pallet_utility::Call::batch_all {
		calls: ids
			.iter()
			.map(|id| RuntimeCall::Registry(pallet_registry::Call::approve { id: *id }))
			.collect(),
	});
	let encoded = approve.encode();
	let submit = RuntimeCall::Referenda(pallet_referenda::Call::submit {
		proposal_origin: Box::new(OriginCaller::Governance(GovernanceOrigin::ContractDecision)),
		proposal: Bounded::Lookup { hash: blake2_256(&encoded).into(), len: encoded.len() as u32 },
		enactment_moment: DispatchTime::After(1),
	});
	let note = RuntimeCall::Preimage(pallet_preimage::Call::note_preimage { bytes: encoded });
	let submitted = feed
		.send(
			&keys.alice,
			RuntimeCall::Utility(pallet_utility::Call::batch_all { calls: vec![note, submit] }),
		)
		.await
		.map_err(|e| anyhow::anyhow!("submitting the referendum: {e}"))?;
	let index = expect_event(&submitted, "Submitted", |e| match e {
		RuntimeEvent::Referenda(pallet_referenda::Event::Submitted { index, .. }) => Some(*index),
		_ => None,
	})?;
	let deposit = RuntimeCall::Referenda(pallet_referenda::Call::place_decision_deposit { index });
	let vote = RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::vote {
		poll_index: index,
		vote: pallet_conviction_voting::AccountVote::Standard {
			vote: pallet_conviction_voting::Vote {
				aye: true,
				conviction: pallet_conviction_voting::Conviction::Locked1x,
			},
			balance: 9_000_000 * RLC,
		},
	});
	tokio::try_join!(feed.send(&keys.alice, deposit), feed.send(&keys.bob, vote))
		.map_err(|e| anyhow::anyhow!("deciding referendum {index}: {e}"))?;
	for _ in 0..300 {
		let at = chain.block_hash(chain.best_number().await?).await?;
		let mut approved = true;
		for id in ids {
			let contract = chain.contract(*id, at).await?;
			approved &=
				contract.is_some_and(|c| c.status == pallet_registry::types::Status::Approved);
		}
		if approved {
			return Ok(());
		}
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
	anyhow::bail!(
		"referendum {index} did not approve contracts {ids:?} within 300 s: is this a dev chain \
		 (`--dev`, governance at the fast pace)?"
	)
}

/// Every worker joins the pool with [`WORKER_AD`]; `progress` hears how many have.
pub async fn join_pool(
	feed: &Arc<Feed>,
	workers: &[WorkerKey],
	pool: u64,
	progress: impl Fn(usize),
) -> anyhow::Result<()> {
	let calls = workers
		.iter()
		.map(|key| {
			let call = RuntimeCall::Poco(pallet_poco::Call::join_pool {
				pool,
				ad: WORKER_AD.as_bytes().to_vec().try_into().expect("short"),
			});
			(key.clone(), call)
		})
		.collect();
	send_all(feed, calls, "joining the pool", progress).await
}
