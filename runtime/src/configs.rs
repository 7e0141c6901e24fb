//! Configuration of every pallet of the runtime.

use super::*;
use frame_support::dispatch::DispatchClass;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, ConstU64, ConstU8, VariantCountOf},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		ConstantMultiplier, Weight,
	},
};
use frame_system::limits::{BlockLength, BlockWeights};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_runtime::{traits::One, Perbill};

/// Blocks may fill 75 % of their weight and length with normal transactions; the rest is kept
/// for operational ones (such as governance and validator changes).
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;

	/// Two seconds of compute per 6-second block, so that an importing node keeps up.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |max| *max = NORMAL_DISPATCH_RATIO * *max)
		.build();
	/// Generic Substrate prefix 42: see docs/chain.md.
	pub const SS58Prefix: u8 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Babe;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

parameter_types! {
	pub const ExpectedBlockTime: u64 = MILLI_SECS_PER_BLOCK;
	pub const MaxAuthorities: u32 = 100;
}

impl pallet_babe::Config for Runtime {
	/// The epoch is the session: its length is set at genesis (see `pallet-validator-set`).
	type EpochDuration = pallet_validator_set::SessionLengthOf<Runtime>;
	type ExpectedBlockTime = ExpectedBlockTime;
	// Epochs change when the session pallet says a session ends.
	type EpochChangeTrigger = pallet_babe::ExternalTrigger;
	type DisabledValidators = Session;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = ConstU32<0>;
	// A report proves the offender's key was in the set of its session (historical roots).
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_babe::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = ConstU32<0>;
	// A report names its authority set; the set's session must still be known.
	type MaxSetIdSessionEntries = ConstU64<{ HISTORY_DEPTH as u64 }>;
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_grandpa::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
}

/// Sessions whose validators stay provable: a day of ten-minute sessions.
pub const HISTORY_DEPTH: u32 = 144;

parameter_types! {
	/// How long an unsigned equivocation report stays valid in the pool: one session of the
	/// default length (a report is made within seconds of the offence).
	pub const ReportLongevity: u64 = 100;
	pub const HistoryDepth: u32 = HISTORY_DEPTH;
}

impl pallet_authorship::Config for Runtime {
	/// Credits the block author as the reporter of offences included without one.
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Babe>;
	type EventHandler = ();
}

impl pallet_session::historical::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type FullIdentification = ();
	type FullIdentificationOf = pallet_validator_set::NoFullIdentification;
}

impl pallet_offences::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type IdentificationTuple = pallet_session::historical::IdentificationTuple<Self>;
	// Disables the offender and removes it from the set (see `pallet-validator-set`).
	type OnOffenceHandler = ValidatorSet;
}

/// Unsigned transactions built by the runtime itself: equivocation reports.
impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_bare(call)
	}
}

impl pallet_balances::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type Balance = Balance;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type ReserveIdentifier = [u8; 8];
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<50>;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type DoneSlashHandler = ();
}

parameter_types! {
	/// 0.000 01 RLC per byte of transaction.
	pub const TransactionByteFee: Balance = 10 * token::MICRO_RLC;
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

/// One RLC per second of block execution: `ref_time` is in picoseconds, so 10⁻³ base unit a
/// picosecond.
pub struct WeightToFee;
impl frame_support::weights::WeightToFee for WeightToFee {
	type Balance = Balance;
	fn weight_to_fee(weight: &Weight) -> Self::Balance {
		Balance::from(weight.ref_time()) / 1_000
	}
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = WeightToFee;
	type LengthToFee = ConstantMultiplier<Balance, TransactionByteFee>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const MinValidators: u32 = 1;
}

/// What the validator-set pallet reads from the session pallet.
pub struct SessionQueue;
impl pallet_validator_set::SessionQueue<AccountId> for SessionQueue {
	fn queued() -> alloc::vec::Vec<(AccountId, alloc::vec::Vec<u8>)> {
		use codec::Encode;
		pallet_session::QueuedKeys::<Runtime>::get()
			.into_iter()
			.map(|(who, keys)| (who, keys.encode()))
			.collect()
	}
	fn next_keys(who: &AccountId) -> Option<alloc::vec::Vec<u8>> {
		use codec::Encode;
		pallet_session::NextKeys::<Runtime>::get(who).map(|keys| keys.encode())
	}
	fn current_index() -> u32 {
		pallet_session::CurrentIndex::<Runtime>::get()
	}
}

impl pallet_validator_set::Config for Runtime {
	// Root: a referendum on the root track (or sudo on dev chains).
	type ManageOrigin = frame_system::EnsureRoot<AccountId>;
	type KeysRegistration = Session;
	type Queue = SessionQueue;
	type MaxValidators = MaxAuthorities;
	type MinValidators = MinValidators;
	type Session = Session;
	type HistoryDepth = HistoryDepth;
	type WeightInfo = pallet_validator_set::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::SessionKeysForBenchmarks;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = sp_runtime::traits::ConvertInto;
	type ShouldEndSession = Babe;
	type NextSessionRotation = Babe;
	// Records each session's validators, so that equivocation reports can prove membership.
	type SessionManager = pallet_session::historical::NoteHistoricalRoot<Self, ValidatorSet>;
	type SessionHandler = <SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	// An offender is disabled at once, up to a third of the set (BFT's bound: a smaller
	// chain cannot disable anyone, so a single-validator dev chain never stalls).
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy;
	type WeightInfo = ();
	type Currency = Balances;
	// Registering keys costs the transaction fee only: admission is decided by governance.
	type KeyDeposit = ConstU128<0>;
}

parameter_types! {
	/// A contract's deposit: 1 RLC plus 0.01 RLC per stored byte (a 1 KiB contract holds
	/// about 11 RLC).
	pub const ContractDepositBase: Balance = RLC;
	pub const ContractDepositPerByte: Balance = 10 * MILLI_RLC;
}

impl pallet_registry::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type GovernanceOrigin = crate::governance::EnsureContractDecision;
	type DepositBase = ContractDepositBase;
	type DepositPerByte = ContractDepositPerByte;
	type MaxUriLen = ConstU32<256>;
	type MaxTextLen = ConstU32<4096>;
	// An approved contract retires only when no market order offers it.
	type Users = Market;
	type WeightInfo = pallet_registry::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const EscrowPalletId: frame_support::PalletId = frame_support::PalletId(*b"iex/escr");
	/// The kitty pays a pool owner at least 1 RLC on a success while it has that much (design
	/// section 5), until governance sets Proof-of-Contribution's parameters otherwise.
	pub const InitialKittyMinimum: Balance = RLC;
	/// A worker's storage deposit: 0.1 RLC, and 1 milli-RLC per byte of its stored ad.
	pub const WorkerDepositBase: Balance = 100 * MILLI_RLC;
	pub const WorkerDepositPerByte: Balance = MILLI_RLC;
	/// An order's storage deposit: 0.1 RLC, and 1 milli-RLC per stored byte.
	pub const OrderDepositBase: Balance = 100 * MILLI_RLC;
	pub const OrderDepositPerByte: Balance = MILLI_RLC;
	/// A request waits a day for offers.
	pub const RequestLifetime: BlockNumber = DAYS;
}

impl pallet_escrow::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type PalletId = EscrowPalletId;
}

impl pallet_market::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = Registry;
	type Escrow = Escrow;
	// Proof-of-Contribution measures pools and holds the economic parameters of new deals.
	type PoolStatistics = Poco;
	type Terms = Poco;
	type OrderDepositBase = OrderDepositBase;
	type OrderDepositPerByte = OrderDepositPerByte;
	type MaxCandidates = ConstU32<16>;
	type MaxIndexedPerPool = ConstU32<4>;
	type MaxWaiting = ConstU32<16>;
	type MaxExpiriesPerBlock = ConstU32<64>;
	// At most about 105 ms a block (mostly reads); 8,192 entries a block is 1,365 requests a
	// second matched or cancelled before their expiry, passed over.
	type MaxExpiryChecksPerBlock = ConstU32<8192>;
	type ExpiryPageSize = ConstU32<512>;
	type RequestLifetime = RequestLifetime;
	type MaxParamsLen = ConstU32<1024>;
	type MaxAdText = ConstU32<4096>;
	type MaxAdBytes = ConstU32<16384>;
	type MaxUriLen = ConstU32<256>;
	type MaxBatchedRequests = ConstU32<64>;
	type WeightInfo = pallet_market::weights::SubstrateWeight<Runtime>;
}

impl pallet_poco::Config for Runtime {
	type DepositCurrency = Balances;
	type DepositReason = RuntimeHoldReason;
	type Signature = crate::Signature;
	// Economic parameters change by referendum on the root track.
	type EconomicsOrigin = frame_system::EnsureRoot<AccountId>;
	type InitialKittyMinimum = InitialKittyMinimum;
	type WorkerDepositBase = WorkerDepositBase;
	type WorkerDepositPerByte = WorkerDepositPerByte;
	// The auditors of the reference protocol advised about 20 contributors a task.
	type MaxContributors = ConstU32<20>;
	type MaxBatch = ConstU32<32>;
	type MaxDuePerBlock = ConstU32<256>;
	type MaxInlineResult = ConstU32<4096>;
	type MaxResultUri = ConstU32<256>;
	type MillisecsPerBlock = ConstU64<{ crate::MILLI_SECS_PER_BLOCK }>;
	type WeightInfo = pallet_poco::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::Sr25519Signer;
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

#[cfg(feature = "runtime-benchmarks")]
mod benchmark_helpers {
	use super::*;

	/// Benchmark workers with sr25519 keys in the benchmark's keystore.
	pub struct Sr25519Signer;
	const BENCH_KEY: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"iexb");
	impl pallet_poco::benchmarking::BenchmarkHelper<AccountId, crate::Signature> for Sr25519Signer {
		fn signer(index: u32) -> AccountId {
			use sp_runtime::traits::IdentifyAccount;
			let seed = alloc::format!("//worker{index}").into_bytes();
			let public = sp_io::crypto::sr25519_generate(BENCH_KEY, Some(seed));
			sp_runtime::MultiSigner::from(public).into_account()
		}
		fn sign(who: &AccountId, message: &[u8]) -> crate::Signature {
			let raw: [u8; 32] = who.clone().into();
			let public = sp_core::sr25519::Public::from_raw(raw);
			sp_io::crypto::sr25519_sign(BENCH_KEY, &public, message)
				.expect("the benchmark generated this key")
				.into()
		}
	}

	/// Registers fresh session keys for a benchmark account, proof included.
	pub struct SessionKeysForBenchmarks;
	impl pallet_validator_set::BenchmarkHelper<AccountId> for SessionKeysForBenchmarks {
		fn register_session_keys(who: &AccountId) {
			use codec::Encode;
			use frame_support::traits::fungible::Mutate;
			let _ = Balances::mint_into(who, RLC);
			let generated = SessionKeys::generate(&who.encode(), None);
			Session::set_keys(
				RuntimeOrigin::signed(who.clone()),
				generated.keys,
				generated.proof.encode(),
			)
			.expect("benchmark keys are valid");
		}
	}
}
