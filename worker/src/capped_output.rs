//! A task's stdout or stderr: kept in memory up to a cap, the rest dropped without a word to
//! the task. A full buffer must not fail the write — a Rust `println!` panics on a failed
//! write, so a log cap enforced by failing would change the task's result.

use bytes::Bytes;
use std::{
	pin::Pin,
	sync::{Arc, Mutex},
	task::{Context, Poll},
};
use tokio::io::AsyncWrite;
use wasmtime_wasi::{
	cli::{IsTerminal, StdoutStream},
	p2::{OutputStream, Pollable, StreamError},
};

/// Accepts every write; keeps the first `cap` bytes.
#[derive(Clone)]
pub struct CappedOutput {
	cap: usize,
	kept: Arc<Mutex<Vec<u8>>>,
}

impl CappedOutput {
	pub fn new(cap: usize) -> Self {
		CappedOutput { cap, kept: Default::default() }
	}

	fn take(&self, bytes: &[u8]) {
		let mut kept = self.kept.lock().expect("output lock");
		let room = self.cap.saturating_sub(kept.len());
		kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
	}

	/// What was kept.
	pub fn contents(&self) -> Vec<u8> {
		self.kept.lock().expect("output lock").clone()
	}
}

/// How much a task may write in one go: any amount, as far as it can tell.
const WRITE_BUDGET: usize = 1 << 20;

#[wasmtime_wasi::async_trait]
impl OutputStream for CappedOutput {
	fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
		self.take(&bytes);
		Ok(())
	}
	fn flush(&mut self) -> Result<(), StreamError> {
		Ok(())
	}
	fn check_write(&mut self) -> Result<usize, StreamError> {
		Ok(WRITE_BUDGET)
	}
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedOutput {
	async fn ready(&mut self) {}
}

impl AsyncWrite for CappedOutput {
	fn poll_write(
		self: Pin<&mut Self>,
		_cx: &mut Context<'_>,
		buf: &[u8],
	) -> Poll<std::io::Result<usize>> {
		self.take(buf);
		Poll::Ready(Ok(buf.len()))
	}
	fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
		Poll::Ready(Ok(()))
	}
	fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
		Poll::Ready(Ok(()))
	}
}

impl IsTerminal for CappedOutput {
	fn is_terminal(&self) -> bool {
		false
	}
}

impl StdoutStream for CappedOutput {
	fn p2_stream(&self) -> Box<dyn OutputStream> {
		Box::new(self.clone())
	}
	fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
		Box::new(self.clone())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn keeps_the_cap_and_accepts_the_rest() {
		let mut out = CappedOutput::new(5);
		OutputStream::write(&mut out, Bytes::from_static(b"abc")).unwrap();
		OutputStream::write(&mut out, Bytes::from_static(b"defgh")).unwrap();
		assert_eq!(out.check_write().unwrap(), WRITE_BUDGET);
		assert_eq!(out.contents(), b"abcde");
	}
}
