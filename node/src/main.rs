//! `iexec-node`: the validator and RPC node of the iEx.ec sidechain.

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
