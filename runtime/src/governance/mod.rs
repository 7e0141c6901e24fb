//! On-chain governance: RLC holders vote on referenda (`pallet-referenda` with
//! `pallet-conviction-voting`); approved proposals are dispatched by `pallet-scheduler`, their
//! calls stored by `pallet-preimage`.
//!
//! - [`origins`]: this runtime's own origins (`ContractDecision`, `ReferendumCanceller`,
//!   `ReferendumKiller`) and the genesis pace.
//! - [`tracks`]: the `root`, `contracts`, `referendum_canceller` and `referendum_killer` tracks.
//!
//! docs/governance.md explains the flow for users.

pub mod origins;
pub mod tracks;

use crate::{
	configs::RuntimeBlockWeights, token::MILLI_RLC, AccountId, Balance, Balances, OriginCaller,
	Preimage, Referenda, Runtime, RuntimeCall, RuntimeEvent, RuntimeHoldReason, RuntimeOrigin,
	Scheduler, System, RLC,
};
use frame_support::{
	parameter_types,
	traits::{
		fungible::HoldConsideration, tokens::currency::ActiveIssuanceOf, AsEnsureOriginWithArg,
		ConstU32, EitherOf, EqualPrivilegeOnly, LinearStoragePrice,
	},
	weights::Weight,
};
use frame_system::{EnsureRoot, EnsureSigned};
use sp_runtime::Perbill;

pub use origins::{
	EnsureContractDecision, EnsureReferendumCanceller, EnsureReferendumKiller, Pace,
};

parameter_types! {
	/// Preimages (the calls referenda vote on) pay for their storage as the registry does.
	pub const PreimageBaseDeposit: Balance = RLC;
	pub const PreimageByteDeposit: Balance = 10 * MILLI_RLC;
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
}

impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

parameter_types! {
	/// Scheduled calls (enacted referenda) may use most of a block.
	pub MaximumSchedulerWeight: Weight = Perbill::from_percent(80) * RuntimeBlockWeights::get().max_block;
}

impl pallet_scheduler::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	// Only referenda (through root) schedule; nobody schedules calls directly.
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = pallet_scheduler::weights::SubstrateWeight<Runtime>;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

impl pallet_conviction_voting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_conviction_voting::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type Polls = Referenda;
	// Support is measured against the RLC in circulation.
	type MaxTurnout = ActiveIssuanceOf<Balances, AccountId>;
	type MaxVotes = ConstU32<256>;
	type VoteLockingPeriod = tracks::VoteLockingPeriod;
	type BlockNumberProvider = System;
	type VotingHooks = ();
}

parameter_types! {
	/// Returned when the referendum ends, unless it is killed.
	pub const SubmissionDeposit: Balance = 10 * RLC;
}

impl pallet_referenda::Config for Runtime {
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_referenda::weights::SubstrateWeight<Runtime>;
	type Scheduler = Scheduler;
	type Currency = Balances;
	// Any account may submit; the track follows from the proposal's origin.
	type SubmitOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	// Root, or a referendum on the canceller's or the killer's track: many of those are
	// decided at once, within hours, so a junk referendum cannot hold a track for its
	// decision period.
	type CancelOrigin = EitherOf<EnsureRoot<AccountId>, EnsureReferendumCanceller>;
	type KillOrigin = EitherOf<EnsureRoot<AccountId>, EnsureReferendumKiller>;
	// Deposits of killed referenda are burnt: there is no treasury yet.
	type Slash = ();
	type Votes = Balance;
	type Tally = pallet_conviction_voting::TallyOf<Runtime>;
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = ConstU32<100>;
	type UndecidingTimeout = tracks::UndecidingTimeout;
	type AlarmInterval = ConstU32<1>;
	type Tracks = tracks::Tracks;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

impl origins::Config for Runtime {}
