//! Real networks of `iexec-node` processes on 127.0.0.1, in one test binary so that they run
//! side by side: most of their time is spent waiting for slots, sessions and referenda.
//!
//! - `local_network`: four validators tolerate one failure, and finality stalls at two.
//! - `equivocation`: a validator key run on two nodes is reported, disabled and removed.
//! - `governance`: referenda approve and revoke an app, admit a validator that then leaves.
//!
//! One network: `cargo test -p iexec-node --test networks local_network` (or `equivocation`,
//! `governance`).

#[path = "../common/mod.rs"]
mod common;

mod equivocation;
mod governance;
mod local_network;
