//! What Proof-of-Contribution stores and what its calls take.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use pallet_market::{Category, DealId, DealTerms};
use pallet_registry::ContractId;
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::Perbill;

/// Task `index` of deal `deal`.
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
pub struct TaskId {
	pub deal: DealId,
	pub index: u32,
}

/// The economic parameters of Proof-of-Contribution, set by governance (referendum) within
/// the bounds `rules::check_economics` enforces; each deal copies them ([`DealTerms`]) when
/// it is made.
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
pub struct Economics<Balance> {
	/// Task time `T` of each category (XS, S, M, L, XL), in seconds.
	pub task_seconds: [u32; 5],
	/// A claimed replica is handed back if not contributed within `replica_ratio × T`.
	pub replica_ratio: u32,
	/// Contributions close `contribution_ratio × T` after the task's first claim.
	pub contribution_ratio: u32,
	/// Winners reveal within `reveal_ratio × T` of consensus.
	pub reveal_ratio: u32,
	/// The task fails `final_ratio × T` after its first claim.
	pub final_ratio: u32,
	/// Percent of the pool price a pool owner stakes per task.
	pub pool_stake_percent: u8,
	/// Share of the kitty paid to a pool owner on each success.
	pub kitty_share: Perbill,
	/// Least the kitty pays on a success, while it has that much.
	pub kitty_minimum: Balance,
}

impl<Balance: Copy> Economics<Balance> {
	/// Design section 5's values, with the runtime's kitty minimum.
	pub fn design(kitty_minimum: Balance) -> Self {
		Economics {
			task_seconds: Category::ALL.map(|c| c.default_task_seconds()),
			replica_ratio: 2,
			contribution_ratio: 7,
			reveal_ratio: 2,
			final_ratio: 10,
			pool_stake_percent: 30,
			kitty_share: Perbill::from_percent(10),
			kitty_minimum,
		}
	}

	/// The terms a new deal of `category` is made under.
	pub fn terms(&self, category: Category) -> DealTerms<Balance> {
		DealTerms {
			task_seconds: self.task_seconds[category.index()],
			replica_ratio: self.replica_ratio,
			contribution_ratio: self.contribution_ratio,
			reveal_ratio: self.reveal_ratio,
			final_ratio: self.final_ratio,
			pool_stake_percent: self.pool_stake_percent,
			kitty_share: self.kitty_share,
			kitty_minimum: self.kitty_minimum,
		}
	}
}

/// A worker: the pool it serves and its machine ad.
#[derive(
	CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxAd))]
pub struct Worker<Balance: Clone + PartialEq + Eq + core::fmt::Debug, MaxAd: Get<u32>> {
	pub pool: ContractId,
	/// The machine ad, parsed, in its SCALE form.
	pub ad: BoundedVec<u8, MaxAd>,
	/// The storage deposit held for this record.
	pub deposit: Balance,
	/// Replicas it holds (claimed, contributed, not yet settled).
	pub replicas: u32,
}

/// Where a replica stands.
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
pub enum ReplicaState<BlockNumber> {
	/// Claimed; to be contributed before `due`, or anyone may hand it back.
	Claimed { due: BlockNumber },
	/// Committed: `result_hash = H(task, digest)`, `result_seal = H(worker, task, digest)` and
	/// the hash of the signed attestation. The worker's stake is held.
	Contributed { result_hash: H256, result_seal: H256, attestation_hash: H256 },
	/// Revealed: its digest and attestation matched the commitment. `staked` is false on the
	/// trust-1 fast path, which holds no stake.
	Revealed { result_hash: H256, staked: bool },
	/// Its group was discarded (no winner revealed in time): stake seized, no second replica.
	Discarded,
	/// Handed back before contributing (by the worker, or by anyone once overdue). The worker
	/// may not claim this task again, so that a claim cannot be held forever by reclaiming it.
	Released,
}

/// A worker's replica of a task.
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
pub struct Replica<AccountId, BlockNumber> {
	pub worker: AccountId,
	/// Its weight when it claimed, from its score.
	pub weight: u64,
	pub state: ReplicaState<BlockNumber>,
}

/// Contributions that agree on one result.
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
pub struct Group {
	pub result_hash: H256,
	/// The product of its members' weights (saturating).
	pub weight: u64,
}

/// Where a started task stands.
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
pub enum TaskStatus<BlockNumber> {
	/// Taking claims and contributions.
	Open,
	/// Consensus on `result_hash`; its group reveals before `deadline`.
	Revealing { result_hash: H256, deadline: BlockNumber },
	/// Certified and paid; the result is in `Results`.
	Completed,
	/// Failed and refunded.
	Failed,
}

/// A started task (its first claim started the clock).
#[derive(
	CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxContributors))]
pub struct TaskRecord<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxContributors: Get<u32>,
> {
	pub status: TaskStatus<BlockNumber>,
	pub started_at: BlockNumber,
	/// No claim or contribution from this block on.
	pub contribution_deadline: BlockNumber,
	/// The task fails from this block on, whatever happened.
	pub final_deadline: BlockNumber,
	/// 1 + the weights of all groups.
	pub total: u128,
	/// The heaviest group's weight (0: no contribution yet).
	pub best: u64,
	pub replicas: BoundedVec<Replica<AccountId, BlockNumber>, MaxContributors>,
	pub groups: BoundedVec<Group, MaxContributors>,
}

impl<A, N, M> TaskRecord<A, N, M>
where
	A: Clone + PartialEq + Eq + core::fmt::Debug,
	N: Clone + PartialEq + Eq + core::fmt::Debug,
	M: Get<u32>,
{
	/// The replica of `worker`, if it holds one.
	pub fn replica_of(&self, worker: &A) -> Option<usize> {
		self.replicas.iter().position(|r| &r.worker == worker)
	}

	/// Whether the task is settled (completed or failed).
	pub fn is_settled(&self) -> bool {
		matches!(self.status, TaskStatus::Completed | TaskStatus::Failed)
	}

	/// Contributions that count: committed or revealed (not discarded).
	pub fn live_contributions(&self) -> usize {
		self.replicas
			.iter()
			.filter(|r| {
				matches!(r.state, ReplicaState::Contributed { .. } | ReplicaState::Revealed { .. })
			})
			.count()
	}

	/// Whether the worker of this replica still holds it (claimed, committed or revealed).
	pub fn holds(state: &ReplicaState<N>) -> bool {
		!matches!(state, ReplicaState::Discarded | ReplicaState::Released)
	}
}

/// What a worker measured while running a task.
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
pub struct ResourcesUsed {
	/// Wasm fuel spent (0 for Docker).
	pub fuel: u64,
	/// Wall time, in milliseconds.
	pub wall_millis: u64,
	/// Peak memory, in MiB.
	pub memory_mib: u32,
}

/// A worker's signed statement of what it ran and what came out. Signed, SCALE-encoded, after
/// [`ATTESTATION_CONTEXT`], with the worker's account key; its `blake2_256` is committed at
/// contribution and the record is checked at reveal.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Attestation<AccountId> {
	pub task: TaskId,
	pub worker: AccountId,
	/// The app's code hash, as the deal recorded it.
	pub app_code_hash: [u8; 32],
	/// The data set's checksum, as the deal recorded it (`None` without a data set).
	pub dataset_checksum: Option<[u8; 32]>,
	/// The result's digest.
	pub result_digest: [u8; 32],
	pub resources: ResourcesUsed,
	/// The worker engine's version (it fixes the fuel costs).
	pub engine_version: u32,
}

/// What a signature over an attestation covers first, so that it can mean nothing else.
pub const ATTESTATION_CONTEXT: &[u8] = b"iexec/attestation/v1";

/// Where the beneficiary finds a result.
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
#[scale_info(skip_type_params(MaxInline, MaxUri))]
pub enum ResultLocation<MaxInline: Get<u32>, MaxUri: Get<u32>> {
	/// The result itself, on chain: the bytes whose `blake2_256` is the digest (the worker's
	/// directory encoding, docs/poco.md), checked at reveal.
	Inline(BoundedVec<u8, MaxInline>),
	/// A URI where the beneficiary fetches it (and checks it against the digest).
	Uri(BoundedVec<u8, MaxUri>),
}

/// A revealed result: certified once `completed_at` is set.
#[derive(
	CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxInline, MaxUri))]
pub struct TaskResult<
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxInline: Get<u32>,
	MaxUri: Get<u32>,
> {
	pub digest: [u8; 32],
	pub location: Option<ResultLocation<MaxInline, MaxUri>>,
	/// `None` while the other winners reveal.
	pub completed_at: Option<BlockNumber>,
}

/// A deal's progress: tasks start in order, so those not started are `next..volume`.
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
pub struct DealProgress<BlockNumber> {
	/// The next task to start.
	pub next: u32,
	/// When a task last started (or the deal was made): tasks not started fail after
	/// `final_ratio × T` without a start.
	pub last_start: BlockNumber,
}

/// A pool's measured record, offered to the market's scheduling.
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
pub struct PoolRecord {
	/// Tasks completed.
	pub done: u32,
	/// Tasks failed after they started.
	pub failed: u32,
	/// Seconds from start to completion, over the completed tasks.
	pub total_seconds: u64,
	/// Workers in the pool.
	pub members: u32,
	/// Their scores together.
	pub score_sum: u64,
}

/// A contribution, as `contribute` takes it.
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
pub struct Commitment {
	pub task: TaskId,
	pub result_hash: H256,
	pub result_seal: H256,
	pub attestation_hash: H256,
}

/// A reveal, as `reveal` and `submit` take it.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxInline, MaxUri))]
pub struct Disclosure<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Signature: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxInline: Get<u32>,
	MaxUri: Get<u32>,
> {
	pub attestation: Attestation<AccountId>,
	/// The worker's signature of `ATTESTATION_CONTEXT ++ attestation.encode()`.
	pub signature: Signature,
	/// Where the result is; only the first revealer's is kept.
	pub location: Option<ResultLocation<MaxInline, MaxUri>>,
}

/// Deadlines indexed by block, handled by the `on_idle` hook.
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
pub enum Due {
	/// A task's reveal deadline: finalise or reopen.
	Reveal(TaskId),
	/// A task's contribution deadline: fail it if it has no consensus (and at the final
	/// deadline, whatever happened).
	Close(TaskId),
}
