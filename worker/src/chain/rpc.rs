//! JSON-RPC over WebSocket to one of several nodes: the first that answers is used until it
//! fails, then the next. A call never retries forever; the daemon decides when to try again.

use super::ChainError;
use jsonrpsee::{
	core::{
		client::{ClientT, Subscription, SubscriptionClientT},
		params::ArrayParams,
	},
	ws_client::{WsClient, WsClientBuilder},
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::{sync::Arc, time::Duration};
use tokio::sync::Mutex;

/// How long one request may take before the node is taken for gone.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to the first node of `urls` that answers.
#[derive(Clone)]
pub struct Rpc {
	urls: Arc<Vec<String>>,
	state: Arc<Mutex<Connection>>,
}

struct Connection {
	/// Index in `urls` of the node in use (or to try first).
	current: usize,
	client: Option<Arc<WsClient>>,
}

impl Rpc {
	/// A client for `urls` (tried in order); nothing is connected until the first call.
	pub fn new(urls: Vec<String>) -> Rpc {
		Rpc {
			urls: Arc::new(urls),
			state: Arc::new(Mutex::new(Connection { current: 0, client: None })),
		}
	}

	/// The URL in use, or to be tried next.
	pub async fn current_url(&self) -> String {
		let state = self.state.lock().await;
		self.urls[state.current].clone()
	}

	/// A connected client: the one in use if it is still connected, else the first node,
	/// from the current one on, that accepts a connection.
	async fn client(&self) -> Result<Arc<WsClient>, ChainError> {
		let mut state = self.state.lock().await;
		if let Some(client) = &state.client {
			if client.is_connected() {
				return Ok(client.clone());
			}
			tracing::warn!(url = %self.urls[state.current], "node connection lost");
			state.client = None;
		}
		let mut reasons = Vec::new();
		for step in 0..self.urls.len() {
			let at = (state.current + step) % self.urls.len();
			let url = &self.urls[at];
			match WsClientBuilder::default()
				.request_timeout(REQUEST_TIMEOUT)
				.connection_timeout(Duration::from_secs(10))
				.build(url)
				.await
			{
				Ok(client) => {
					if step > 0 || reasons.is_empty() {
						tracing::info!(%url, "connected to node");
					}
					let client = Arc::new(client);
					state.current = at;
					state.client = Some(client.clone());
					return Ok(client);
				}
				Err(error) => reasons.push(format!("{url}: {error}")),
			}
		}
		// Next time, start with the node after the one that failed first.
		state.current = (state.current + 1) % self.urls.len();
		Err(ChainError::Unreachable(reasons.join("; ")))
	}

	/// Drops the connection in use and moves to the next URL (after a transport failure).
	async fn fail_over(&self) {
		let mut state = self.state.lock().await;
		if state.client.take().is_some() {
			state.current = (state.current + 1) % self.urls.len();
		}
	}

	/// Calls `method` with `params`; a transport failure drops the connection (the next call
	/// tries the next node) and is reported as [`ChainError::Unreachable`].
	pub async fn call<T: DeserializeOwned>(
		&self,
		method: &str,
		params: Vec<Value>,
	) -> Result<T, ChainError> {
		let client = self.client().await?;
		let mut array = ArrayParams::new();
		for param in params {
			array.insert(param).map_err(|e| ChainError::Rpc(format!("{method}: {e}")))?;
		}
		match client.request::<T, _>(method, array).await {
			Ok(value) => Ok(value),
			Err(jsonrpsee::core::ClientError::Call(error)) => {
				Err(ChainError::Rpc(format!("{method}: {}", error.message())))
			}
			Err(jsonrpsee::core::ClientError::ParseError(error)) => {
				Err(ChainError::Decode(format!("{method}: {error}")))
			}
			Err(error) => {
				self.fail_over().await;
				Err(ChainError::Unreachable(format!("{method}: {error}")))
			}
		}
	}

	/// Subscribes to `method`, unsubscribing with `unsubscribe` when dropped.
	pub async fn subscribe(
		&self,
		method: &str,
		params: Vec<Value>,
		unsubscribe: &str,
	) -> Result<Subscription<Value>, ChainError> {
		let client = self.client().await?;
		let mut array = ArrayParams::new();
		for param in params {
			array.insert(param).map_err(|e| ChainError::Rpc(format!("{method}: {e}")))?;
		}
		match client.subscribe::<Value, _>(method, array, unsubscribe).await {
			Ok(subscription) => Ok(subscription),
			Err(jsonrpsee::core::ClientError::Call(error)) => {
				Err(ChainError::Rpc(format!("{method}: {}", error.message())))
			}
			Err(error) => {
				self.fail_over().await;
				Err(ChainError::Unreachable(format!("{method}: {error}")))
			}
		}
	}
}
