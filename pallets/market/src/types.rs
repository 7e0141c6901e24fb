//! What the market stores and what its calls take.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use pallet_registry::{AppRuntime, ContractId};
use scale_info::TypeInfo;

/// An order's identifier; one sequence for all kinds.
pub type OrderId = u64;
/// A deal's identifier.
pub type DealId = u64;
/// Tag bits: features an order demands or offers (TEE, GPU, …); see docs/market.md.
pub type Tag = u64;
/// The tag bit of trusted execution (an enclave).
pub const TAG_TEE: Tag = 1 << 0;
/// The tag bit of GPUs: a deal that carries it gives its Docker tasks the worker's GPUs.
pub const TAG_GPU: Tag = 1 << 1;

/// What an account type must be for the market's types: every runtime's `AccountId` is.
pub trait Party: Clone + PartialEq + Eq + core::fmt::Debug {}
impl<T: Clone + PartialEq + Eq + core::fmt::Debug> Party for T {}

/// How long a task may run: design section 5's categories.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Category {
	/// 5 minutes.
	XS,
	/// 20 minutes.
	S,
	/// 1 hour.
	M,
	/// 3 hours.
	L,
	/// 10 hours.
	XL,
}

impl Category {
	pub const ALL: [Category; 5] =
		[Category::XS, Category::S, Category::M, Category::L, Category::XL];

	/// Design section 5's task time `T`, in seconds: the genesis value of the chain's
	/// parameter (governance may change it; a deal keeps the value it was made under).
	pub fn default_task_seconds(self) -> u32 {
		match self {
			Category::XS => 300,
			Category::S => 1_200,
			Category::M => 3_600,
			Category::L => 10_800,
			Category::XL => 36_000,
		}
	}

	/// Its index in [`Category::ALL`].
	pub fn index(self) -> usize {
		self as usize
	}

	/// The limits a task of this category runs under, given its task time. They decide the
	/// result, so every replica must run under the same ones: they come from the deal, never
	/// from a worker.
	pub fn limits(self, task_seconds: u32) -> ExecutionLimits {
		let (memory_mib, output_mib): (u32, u32) = match self {
			Category::XS => (512, 16),
			Category::S => (1_024, 64),
			Category::M => (4_096, 256),
			Category::L => (8_192, 1_024),
			Category::XL => (16_384, 4_096),
		};
		ExecutionLimits {
			// A billion Wasm fuel units per second of task time.
			fuel: u64::from(task_seconds) * 1_000_000_000,
			memory_mib,
			output_bytes: u64::from(output_mib) * 1024 * 1024,
			wall_seconds: task_seconds,
		}
	}
}

/// The economic terms a deal is made under: chain parameters that governance sets (see
/// Proof-of-Contribution), copied into the deal so that a later change does not touch it.
/// Deadlines are multiples of the task time `T`, counted from the task's start.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct DealTerms<Balance> {
	/// The category's task time `T`, in seconds.
	pub task_seconds: u32,
	/// A claimed replica must be contributed within `replica_ratio × T` of its claim, or it
	/// goes back to the pool.
	pub replica_ratio: u32,
	/// Contributions close `contribution_ratio × T` after the task starts.
	pub contribution_ratio: u32,
	/// Winners reveal within `reveal_ratio × T` of consensus.
	pub reveal_ratio: u32,
	/// The task fails `final_ratio × T` after it starts.
	pub final_ratio: u32,
	/// Percent of the pool price the pool owner stakes per task.
	pub pool_stake_percent: u8,
	/// Share of the kitty paid to the pool owner on each success…
	pub kitty_share: sp_runtime::Perbill,
	/// …and the least it pays, while it has that much.
	pub kitty_minimum: Balance,
}

impl<Balance: Default> DealTerms<Balance> {
	/// Design section 5's values for `category` (the kitty minimum is the balance type's
	/// default: a runtime sets its own).
	pub fn design(category: Category) -> Self {
		DealTerms {
			task_seconds: category.default_task_seconds(),
			replica_ratio: 2,
			contribution_ratio: 7,
			reveal_ratio: 2,
			final_ratio: 10,
			pool_stake_percent: 30,
			kitty_share: sp_runtime::Perbill::from_percent(10),
			kitty_minimum: Balance::default(),
		}
	}
}

/// Where the market reads the terms of a new deal.
pub trait DealTermsSource<Balance> {
	fn terms(category: Category) -> DealTerms<Balance>;
}

/// Design section 5's values, fixed.
impl<Balance: Default> DealTermsSource<Balance> for () {
	fn terms(category: Category) -> DealTerms<Balance> {
		DealTerms::design(category)
	}
}

/// The limits every replica of a deal's tasks runs under.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct ExecutionLimits {
	/// Wasm fuel.
	pub fuel: u64,
	/// Memory, in MiB.
	pub memory_mib: u32,
	/// Largest output, in bytes.
	pub output_bytes: u64,
	/// Wall time, in seconds.
	pub wall_seconds: u32,
}

/// A processor architecture, by the name machine ads give it (`Arch`, HTCondor's spelling).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Architecture {
	/// `"X86_64"`.
	X86_64,
	/// `"aarch64"`.
	Aarch64,
}

impl Architecture {
	/// The value of `Arch` in the machine ad of a worker of this architecture.
	pub fn classad_name(self) -> &'static str {
		match self {
			Architecture::X86_64 => "X86_64",
			Architecture::Aarch64 => "aarch64",
		}
	}
}

/// How a deal's replicas are kept bit-identical: the one setting a requester chooses about
/// determinism (docs/worker.md, "Determinism"). Everything else that could differ between
/// hosts (time, files, randomness, stack depth, fuel) is fixed for every deal.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Determinism {
	/// NaN bits are canonicalised wherever a Wasm task can see them, so that replicas agree
	/// on any architecture.
	#[default]
	Portable,
	/// NaN bits are left as the processor makes them (a little faster on float code), and
	/// only workers of this architecture may take the deal's replicas, so that they still
	/// agree. It also pins the architecture of a Docker app's image.
	SameArchitecture(Architecture),
}

impl Determinism {
	/// The architecture every replica must run on, if the deal pins one.
	pub fn architecture(self) -> Option<Architecture> {
		match self {
			Determinism::Portable => None,
			Determinism::SameArchitecture(arch) => Some(arch),
		}
	}
}

/// Who may use a provider's order; `None` is anyone.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Restrictions<AccountId: Clone + PartialEq + Eq + core::fmt::Debug> {
	pub requester: Option<AccountId>,
	pub app: Option<ContractId>,
	pub dataset: Option<ContractId>,
	pub pool: Option<ContractId>,
}

impl<AccountId: Clone + PartialEq + Eq + core::fmt::Debug> Default for Restrictions<AccountId> {
	fn default() -> Self {
		Restrictions { requester: None, app: None, dataset: None, pool: None }
	}
}

/// The requester's weights over the scheduling criteria (design section 7). All zero means
/// cheapest first.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct CriteriaWeights {
	/// Lower total price.
	pub cost: u16,
	/// Lower measured mean task time of the pool.
	pub performance: u16,
	/// Higher pool reputation.
	pub trust: u16,
	/// Higher share of the pool's tasks finished in time.
	pub reliability: u16,
	/// Lower `EnergyWatts` in the pool's ad.
	pub energy: u16,
	/// Higher value of the job ad's `Rank` against the pool's ad.
	pub rank: u16,
}

/// A request, as `submit_request` takes it.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxParams, MaxText))]
pub struct RequestSpec<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxParams: Get<u32>,
	MaxText: Get<u32>,
> {
	pub app: ContractId,
	pub dataset: Option<ContractId>,
	/// The most paid per task to the app's owner.
	pub app_max_price: Balance,
	/// The most paid per task to the data set's owner.
	pub dataset_max_price: Balance,
	/// The most paid per task to the worker pool.
	pub pool_max_price: Balance,
	/// Tasks wanted.
	pub volume: u32,
	pub category: Category,
	/// Replication wanted: 1 trusts a single worker.
	pub trust: u32,
	/// Tag bits demanded.
	pub tag: Tag,
	/// Only this pool, if set.
	pub pool: Option<ContractId>,
	/// Arguments for the app.
	pub params: BoundedVec<u8, MaxParams>,
	/// Who receives the results.
	pub beneficiary: AccountId,
	/// The job ad, ClassAd text: `[ Requirements = …; Rank = … ]`.
	pub job_ad: BoundedVec<u8, MaxText>,
	pub weights: CriteriaWeights,
	/// How the replicas are kept bit-identical; `Portable` unless the requester pins an
	/// architecture.
	pub determinism: Determinism,
}

/// A provider's offer of an app or a data set.
#[derive(
	CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen,
)]
pub struct ResourceOffer<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
> {
	/// The app or data set.
	pub resource: ContractId,
	pub price: Balance,
	pub tag: Tag,
	pub restrictions: Restrictions<AccountId>,
}

/// A worker pool's offer.
#[derive(
	CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxAd))]
pub struct PoolOffer<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxAd: Get<u32>,
> {
	pub pool: ContractId,
	pub price: Balance,
	pub category: Category,
	pub trust: u32,
	pub tag: Tag,
	pub restrictions: Restrictions<AccountId>,
	/// The pool's machine ad, parsed, in its SCALE form.
	pub ad: BoundedVec<u8, MaxAd>,
}

/// A request as stored: the spec, with its job ad parsed.
#[derive(
	CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxParams, MaxAd))]
pub struct Request<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxParams: Get<u32>,
	MaxAd: Get<u32>,
> {
	pub app: ContractId,
	pub dataset: Option<ContractId>,
	pub app_max_price: Balance,
	pub dataset_max_price: Balance,
	pub pool_max_price: Balance,
	pub category: Category,
	pub trust: u32,
	pub tag: Tag,
	pub pool: Option<ContractId>,
	pub params: BoundedVec<u8, MaxParams>,
	pub beneficiary: AccountId,
	/// The job ad, parsed, in its SCALE form.
	pub job_ad: BoundedVec<u8, MaxAd>,
	pub weights: CriteriaWeights,
	/// When the unmatched rest expires.
	pub expires_at: BlockNumber,
	/// Last, so that storage from before it is migrated by appending it
	/// ([`crate::migrations::v1`]).
	pub determinism: Determinism,
}

/// What an order is.
#[derive(
	CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxParams, MaxAd))]
pub enum OrderTerms<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxParams: Get<u32>,
	MaxAd: Get<u32>,
> {
	App(ResourceOffer<AccountId, Balance>),
	Dataset(ResourceOffer<AccountId, Balance>),
	Pool(PoolOffer<AccountId, Balance, MaxAd>),
	Request(Request<AccountId, Balance, BlockNumber, MaxParams, MaxAd>),
}

/// The four kinds of order, for errors and explanations.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum OrderKind {
	App,
	Dataset,
	Pool,
	Request,
}

/// A standing order.
#[derive(
	CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxParams, MaxAd))]
pub struct Order<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxParams: Get<u32>,
	MaxAd: Get<u32>,
> {
	pub owner: AccountId,
	/// Tasks offered or wanted at first.
	pub volume: u32,
	/// Tasks not yet in a deal.
	pub remaining: u32,
	/// The storage deposit held, returned when the order ends.
	pub deposit: Balance,
	pub terms: OrderTerms<AccountId, Balance, BlockNumber, MaxParams, MaxAd>,
}

impl<A, B, N, P, D> Order<A, B, N, P, D>
where
	A: Clone + PartialEq + Eq + core::fmt::Debug,
	B: Clone + PartialEq + Eq + core::fmt::Debug,
	N: Clone + PartialEq + Eq + core::fmt::Debug,
	P: Get<u32>,
	D: Get<u32>,
{
	pub fn kind(&self) -> OrderKind {
		match self.terms {
			OrderTerms::App(_) => OrderKind::App,
			OrderTerms::Dataset(_) => OrderKind::Dataset,
			OrderTerms::Pool(_) => OrderKind::Pool,
			OrderTerms::Request(_) => OrderKind::Request,
		}
	}

	/// The contract an offer (app, data set or pool order) offers; none for a request.
	pub fn offered_contract(&self) -> Option<ContractId> {
		match &self.terms {
			OrderTerms::App(offer) | OrderTerms::Dataset(offer) => Some(offer.resource),
			OrderTerms::Pool(offer) => Some(offer.pool),
			OrderTerms::Request(_) => None,
		}
	}
}

/// The data set of a deal, as it was when the deal was made.
#[derive(
	CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxUri))]
pub struct DealDataset<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxUri: Get<u32>,
> {
	pub id: ContractId,
	pub order: OrderId,
	pub owner: AccountId,
	pub price: Balance,
	pub checksum: [u8; 32],
	pub location: BoundedVec<u8, MaxUri>,
}

/// What a deal's app and data set were registered to demand of a host, copied when the deal
/// was made, each as a rule ad in its SCALE form ([`crate::ads::rule_ad`]).
#[derive(
	CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxAd))]
pub struct StoredHostRules<MaxAd: Get<u32>> {
	/// The app's host requirements.
	pub app: Option<BoundedVec<u8, MaxAd>>,
	/// The data set's restrictions.
	pub dataset: Option<BoundedVec<u8, MaxAd>>,
}

/// A deal: `volume` tasks, task `i` for `i` in `0..volume`, each existing implicitly. It
/// records everything Proof-of-Contribution and the workers need, as it was when made.
#[derive(
	CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxParams, MaxAd, MaxUri))]
pub struct Deal<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxParams: Get<u32>,
	MaxAd: Get<u32>,
	MaxUri: Get<u32>,
> {
	pub request: OrderId,
	pub requester: AccountId,
	pub beneficiary: AccountId,
	pub app: ContractId,
	pub app_order: OrderId,
	pub app_owner: AccountId,
	pub app_price: Balance,
	pub app_runtime: AppRuntime,
	pub code_hash: [u8; 32],
	pub dataset: Option<DealDataset<AccountId, Balance, MaxUri>>,
	pub pool: ContractId,
	pub pool_order: OrderId,
	pub pool_owner: AccountId,
	pub pool_price: Balance,
	/// What the pool owner staked for the whole deal.
	pub pool_stake: Balance,
	/// Percent of the pool price a worker stakes per contribution.
	pub worker_stake_ratio: u8,
	/// Percent of the reward the pool owner keeps.
	pub scheduler_reward_ratio: u8,
	pub category: Category,
	pub trust: u32,
	/// Tag bits of the app, data set and request together.
	pub tag: Tag,
	pub volume: u32,
	pub params: BoundedVec<u8, MaxParams>,
	/// The job ad, in its SCALE form.
	pub job_ad: BoundedVec<u8, MaxAd>,
	pub limits: ExecutionLimits,
	/// The economic terms (deadlines, stakes, the kitty's bonus) it was made under.
	pub terms: DealTerms<Balance>,
	pub created_at: BlockNumber,
	/// How the replicas are kept bit-identical (the request's choice). Last, so that storage
	/// from before it is migrated by appending it ([`crate::migrations::v1`]).
	pub determinism: Determinism,
}

/// A pool's measured record, for scheduling. `None` is "not measured yet": such a pool reads
/// as the average of the others on that criterion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolFigures {
	/// Mean task time, in seconds.
	pub mean_task_seconds: Option<u32>,
	/// Reputation score.
	pub reputation: Option<u32>,
	/// Share of tasks finished in time, in parts per million.
	pub reliability_ppm: Option<u32>,
}

/// Pool figures, from what Proof-of-Contribution measures.
pub trait PoolStatistics {
	fn figures(pool: ContractId) -> PoolFigures;
}

/// Until something measures pools, every pool reads neutral.
impl PoolStatistics for () {
	fn figures(_pool: ContractId) -> PoolFigures {
		PoolFigures::default()
	}
}
