//! Command-line interface: the standard Substrate node flags and subcommands.

/// Subcommands besides running the node.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate and inspect keys, generate a node's network key, insert keys
	/// into the keystore.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (`--raw` for the form other nodes load).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export a built-in chain specification to a file, without a database.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks to a file.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks from a file.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain database.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Database metadata: best, finalised and genesis block.
	ChainInfo(sc_cli::ChainInfoCmd),
}

/// The `iexec-node` command line.
#[derive(Debug, clap::Parser)]
#[command(
	propagate_version = true,
	args_conflicts_with_subcommands = true,
	subcommand_negates_reqs = true
)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// How many blocks behind its best block this validator's GRANDPA votes stay.
	///
	/// 0 (the default) lets a block be finalised in the voting round after it is imported,
	/// about a second later, so that a worker or client acting on finalised blocks only waits
	/// for that round, not for two more blocks. Substrate's own default is 2, which leaves a
	/// block two slots to propagate before it is voted on. GRANDPA's safety does not depend
	/// on this setting; a network whose blocks take longer than a slot to reach its validators
	/// may raise it. Ignored by nodes that do not vote.
	#[arg(long, value_name = "BLOCKS", default_value_t = 0,
		value_parser = clap::value_parser!(u32).range(0..=256))]
	pub grandpa_vote_lag: u32,
}
