//! The node's RPC methods beyond Substrate's built-in ones (`system_*`, `chain_*`, `state_*`,
//! `author_*`): account nonces, fee queries, BABE, GRANDPA and sync state.

use iexec_runtime::opaque::Block;
use jsonrpsee::RpcModule;
use sc_consensus_babe::BabeWorkerHandle;
use sc_consensus_grandpa::{
	FinalityProofProvider, GrandpaJustificationStream, SharedAuthoritySet, SharedVoterState,
};
use sc_rpc::SubscriptionTaskExecutor;
use sc_transaction_pool_api::TransactionPool;
use sp_keystore::KeystorePtr;
use std::sync::Arc;

use crate::service::FullClient;

type FullBackend = sc_service::TFullBackend<Block>;
type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;

/// Everything the RPC methods read from.
pub struct RpcParts<P> {
	pub client: Arc<FullClient>,
	pub pool: Arc<P>,
	pub select_chain: FullSelectChain,
	pub chain_spec: Box<dyn sc_chain_spec::ChainSpec>,
	pub keystore: KeystorePtr,
	pub babe_worker: BabeWorkerHandle<Block>,
	pub shared_voter_state: SharedVoterState,
	pub shared_authority_set: SharedAuthoritySet<<Block as sp_runtime::traits::Block>::Hash, u32>,
	pub justification_stream: GrandpaJustificationStream<Block>,
	pub finality_provider: Arc<FinalityProofProvider<FullBackend, Block>>,
}

impl<P> Clone for RpcParts<P> {
	fn clone(&self) -> Self {
		RpcParts {
			client: self.client.clone(),
			pool: self.pool.clone(),
			select_chain: self.select_chain.clone(),
			chain_spec: self.chain_spec.cloned_box(),
			keystore: self.keystore.clone(),
			babe_worker: self.babe_worker.clone(),
			shared_voter_state: self.shared_voter_state.clone(),
			shared_authority_set: self.shared_authority_set.clone(),
			justification_stream: self.justification_stream.clone(),
			finality_provider: self.finality_provider.clone(),
		}
	}
}

/// Builds the RPC module with this node's methods.
pub fn create_full<P>(
	parts: RpcParts<P>,
	subscription_executor: SubscriptionTaskExecutor,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	P: TransactionPool<Block = Block, Hash = <Block as sp_runtime::traits::Block>::Hash>
		+ Sync
		+ Send
		+ 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use sc_consensus_babe_rpc::{Babe, BabeApiServer};
	use sc_consensus_grandpa_rpc::{Grandpa, GrandpaApiServer};
	use sc_sync_state_rpc::{SyncState, SyncStateApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let RpcParts {
		client,
		pool,
		select_chain,
		chain_spec,
		keystore,
		babe_worker,
		shared_voter_state,
		shared_authority_set,
		justification_stream,
		finality_provider,
	} = parts;

	let mut module = RpcModule::new(());
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module
		.merge(Babe::new(client.clone(), babe_worker.clone(), keystore, select_chain).into_rpc())?;
	module.merge(
		Grandpa::new(
			subscription_executor,
			shared_authority_set.clone(),
			shared_voter_state,
			justification_stream,
			finality_provider,
		)
		.into_rpc(),
	)?;
	module
		.merge(SyncState::new(chain_spec, client, shared_authority_set, babe_worker)?.into_rpc())?;
	Ok(module)
}
