//! A minimal JSON-RPC 2.0 client over HTTP/1.0, enough to drive a node in tests without an
//! HTTP library.

use serde_json::{json, Value};
use std::{
	io::{Read, Write},
	net::TcpStream,
	time::Duration,
};

#[derive(Clone)]
pub struct Rpc {
	port: u16,
}

/// A JSON-RPC error object, or a transport failure.
#[derive(Debug)]
pub enum RpcError {
	Transport(String),
	Rpc { code: i64, message: String },
}

impl Rpc {
	pub fn new(port: u16) -> Self {
		Self { port }
	}

	pub fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
		let body =
			json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
		let transport = |e: std::io::Error| RpcError::Transport(e.to_string());
		let mut stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(transport)?;
		stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(transport)?;
		// HTTP/1.0: the server closes the connection after the response, with no chunking.
		write!(
			stream,
			"POST / HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
			 Content-Length: {}\r\n\r\n{body}",
			self.port,
			body.len()
		)
		.map_err(transport)?;
		let mut response = String::new();
		stream.read_to_string(&mut response).map_err(transport)?;
		let (_, payload) = response
			.split_once("\r\n\r\n")
			.ok_or_else(|| RpcError::Transport(format!("no HTTP body in {response:?}")))?;
		let reply: Value = serde_json::from_str(payload)
			.map_err(|e| RpcError::Transport(format!("{e}: {payload:?}")))?;
		if let Some(error) = reply.get("error") {
			return Err(RpcError::Rpc {
				code: error["code"].as_i64().unwrap_or_default(),
				message: error["message"].as_str().unwrap_or_default().to_string(),
			});
		}
		Ok(reply["result"].clone())
	}
}

/// Reads a `0x`-prefixed hex number, as headers carry them.
pub fn hex_number(value: &Value) -> Option<u64> {
	u64::from_str_radix(value.as_str()?.trim_start_matches("0x"), 16).ok()
}

/// Decodes `0x`-prefixed hex into bytes.
pub fn hex_bytes(value: &str) -> Vec<u8> {
	let digits = value.trim_start_matches("0x");
	(0..digits.len())
		.step_by(2)
		.map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex"))
		.collect()
}

/// Encodes bytes as `0x`-prefixed hex.
pub fn to_hex(bytes: &[u8]) -> String {
	let mut out = String::from("0x");
	for b in bytes {
		out.push_str(&format!("{b:02x}"));
	}
	out
}
