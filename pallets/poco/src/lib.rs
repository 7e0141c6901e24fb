//! # Proof-of-Contribution pallet
//!
//! Results computed off chain are certified on chain (white paper 7.2, design section 5): the
//! requester's payment, held in escrow since the deal was made, is released only when enough
//! credible workers agree on a result; those whose result loses lose their stake.
//!
//! - **Workers** join a worker pool with their machine ad ([`Pallet::join_pool`]), which must
//!   satisfy the pool's admission rule; they update it and leave when they hold no replica.
//!   Each account has a public score, 0 at first, that only this pallet moves.
//! - **Claims** ([`Pallet::claim`]): a worker of a deal's pool takes a replica of a task; its
//!   ad must satisfy the job's `Requirements`. Replicas are handed out only while those in
//!   flight cannot yet reach the deal's trust. The claim is the only authorisation. Tasks of a
//!   deal start in order; the first claim starts a task's clock. A replica not contributed in
//!   `replica_ratio × T` may be handed back by anyone ([`Pallet::release_replica`]).
//! - **Contributions** ([`Pallet::contribute`]) commit `result_hash = H(task, digest)`,
//!   `result_seal = H(worker, task, digest)` and the hash of the worker's signed attestation,
//!   and hold the worker's stake. Consensus is Sarmenta's credibility with integer weights
//!   ([`rules::consensus`]), checked in constant time from each group's kept weight.
//! - **Reveals** ([`Pallet::reveal`]) open the commitment: the digest, and the attestation with
//!   its signature, checked. When every winner has revealed the task completes; at the reveal
//!   deadline it completes if one has, and otherwise **reopens** (the silent group's stakes
//!   are seized) instead of waiting for the final deadline.
//! - **Completion** pays through escrow: the app and data set owners their prices, the winners
//!   the pot (pool price and seized stakes, shared by log2 of their weights) but for the pool
//!   owner's `scheduler_reward_ratio`, the pool owner also its stake back and the kitty's
//!   bonus. Scores move; the pool's record (done, failed, mean time) feeds the market's
//!   scheduling ([`pallet_market::PoolStatistics`]). Nobody privileged finalises: the last
//!   reveal, anyone's [`Pallet::finalize`] or the `on_idle` hook does.
//! - **Trust 1**: [`Pallet::submit`] contributes, reveals and completes in one call when one
//!   contribution is enough.
//! - **Failure**: a task without consensus when contributions close, or not settled by its
//!   final deadline, fails ([`Pallet::claim_failed`], or the hook): the requester is refunded
//!   in full, the pool owner's stake for it goes to the kitty, workers' stakes come back. Tasks
//!   of a deal left unstarted for `final_ratio × T` are refunded together
//!   ([`Pallet::claim_unstarted`]).
//! - **Economics** ([`Economics`]): task times, deadline ratios, the pool stake and the kitty's
//!   bonus are chain parameters that governance sets ([`Pallet::set_economics`]); each deal
//!   keeps those it was made under.
//!
//! Every loop over a task's replicas is bounded by [`Config::MaxContributors`]; deadlines are
//! indexed by block and handled with a weight meter; nothing scans a map.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use completion_batches::CompletionBatches;
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
pub mod commitments;
pub mod completion_batches;
mod dispatchable_impls;
#[cfg(test)]
mod mock;
pub mod rules;
mod settlement;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_conservation;
mod tick_impls;
pub mod types;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{pallet_prelude::*, traits::fungible::MutateHold};
	use frame_system::pallet_prelude::*;
	use pallet_market::{DealId, DealTerms, DealTermsSource, PoolFigures, PoolStatistics};
	use pallet_registry::ContractId;
	use sp_core::H256;
	use sp_runtime::traits::{IdentifyAccount, Verify};

	/// Balance of RLC: the market's.
	pub type BalanceOf<T> = pallet_market::BalanceOf<T>;
	/// A worker as stored.
	pub type WorkerOf<T> = Worker<BalanceOf<T>, <T as pallet_market::Config>::MaxAdBytes>;
	/// A started task as stored.
	pub type TaskOf<T> = TaskRecord<
		<T as frame_system::Config>::AccountId,
		BlockNumberFor<T>,
		<T as Config>::MaxContributors,
	>;
	/// Where a result is.
	pub type ResultLocationOf<T> =
		ResultLocation<<T as Config>::MaxInlineResult, <T as Config>::MaxResultUri>;
	/// A certified result as stored.
	pub type TaskResultOf<T> =
		TaskResult<BlockNumberFor<T>, <T as Config>::MaxInlineResult, <T as Config>::MaxResultUri>;
	/// A reveal as the calls take it.
	pub type DisclosureOf<T> = Disclosure<
		<T as frame_system::Config>::AccountId,
		<T as Config>::Signature,
		<T as Config>::MaxInlineResult,
		<T as Config>::MaxResultUri,
	>;
	/// The economic parameters.
	pub type EconomicsOf<T> = Economics<BalanceOf<T>>;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config + pallet_market::Config + pallet_escrow::Config {
		/// RLC, for workers' storage deposits.
		type DepositCurrency: MutateHold<
			Self::AccountId,
			Reason = Self::DepositReason,
			Balance = BalanceOf<Self>,
		>;
		/// The overarching hold reason.
		type DepositReason: From<HoldReason>;
		/// What workers sign attestations with; verified against their account.
		type Signature: Verify<Signer: IdentifyAccount<AccountId = Self::AccountId>> + Parameter;
		/// Who sets the economic parameters: a referendum.
		type EconomicsOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The kitty's minimum bonus until governance sets the parameters.
		#[pallet::constant]
		type InitialKittyMinimum: Get<BalanceOf<Self>>;
		/// Storage deposit of a worker's record.
		#[pallet::constant]
		type WorkerDepositBase: Get<BalanceOf<Self>>;
		/// Storage deposit per byte of a worker's ad.
		#[pallet::constant]
		type WorkerDepositPerByte: Get<BalanceOf<Self>>;
		/// Replicas of one task, contributed or not: every loop over them is bounded by this.
		#[pallet::constant]
		type MaxContributors: Get<u32>;
		/// Items of one batched claim, contribution, reveal or submission.
		#[pallet::constant]
		type MaxBatch: Get<u32>;
		/// Deadlines indexed per block.
		#[pallet::constant]
		type MaxDuePerBlock: Get<u32>;
		/// Largest result revealed on chain.
		#[pallet::constant]
		type MaxInlineResult: Get<u32>;
		/// Longest result URI.
		#[pallet::constant]
		type MaxResultUri: Get<u32>;
		/// The block time, to turn task times into blocks.
		#[pallet::constant]
		type MillisecsPerBlock: Get<u64>;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
		/// Signing accounts for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: benchmarking::BenchmarkHelper<Self::AccountId, Self::Signature>;
	}

	/// Why funds are held.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A worker's storage deposit.
		#[codec(index = 0)]
		WorkerDeposit,
	}

	/// Design section 5's parameters, with the runtime's kitty minimum.
	pub struct DesignEconomics<T>(core::marker::PhantomData<T>);
	impl<T: Config> Get<EconomicsOf<T>> for DesignEconomics<T> {
		fn get() -> EconomicsOf<T> {
			Economics::design(T::InitialKittyMinimum::get())
		}
	}

	/// The economic parameters new deals are made under.
	#[pallet::storage]
	pub type EconomicParameters<T: Config> =
		StorageValue<_, EconomicsOf<T>, ValueQuery, DesignEconomics<T>>;

	/// Workers, by account.
	#[pallet::storage]
	pub type Workers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, WorkerOf<T>>;

	/// Scores, by account: public, 0 at first, moved only by this pallet.
	#[pallet::storage]
	pub type Scores<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Started tasks.
	#[pallet::storage]
	pub type Tasks<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DealId, Twox64Concat, u32, TaskOf<T>>;

	/// Revealed and certified results.
	#[pallet::storage]
	pub type Results<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DealId, Twox64Concat, u32, TaskResultOf<T>>;

	/// Each deal's progress: which task starts next.
	#[pallet::storage]
	pub type Progress<T: Config> =
		StorageMap<_, Twox64Concat, DealId, DealProgress<BlockNumberFor<T>>>;

	/// Each pool's record.
	#[pallet::storage]
	pub type PoolRecords<T: Config> =
		StorageMap<_, Twox64Concat, ContractId, PoolRecord, ValueQuery>;

	/// Deadlines due at a block.
	#[pallet::storage]
	pub type DueAt<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<Due, T::MaxDuePerBlock>,
		ValueQuery,
	>;

	/// The first block whose deadlines the hook has not handled yet.
	#[pallet::storage]
	pub type DueCursor<T: Config> = StorageValue<_, BlockNumberFor<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An account joined a pool as a worker.
		WorkerJoined { worker: T::AccountId, pool: ContractId, deposit: BalanceOf<T> },
		/// A worker replaced its machine ad.
		WorkerAdUpdated { worker: T::AccountId, deposit: BalanceOf<T> },
		/// A worker left its pool; its deposit came back.
		WorkerLeft { worker: T::AccountId, pool: ContractId, deposit_refunded: BalanceOf<T> },
		/// A worker claimed a replica; `started` when this claim started the task's clock.
		ReplicaClaimed { task: TaskId, worker: T::AccountId, started: bool },
		/// A replica went back to the pool (handed back, or not contributed in time).
		ReplicaReleased { task: TaskId, worker: T::AccountId },
		/// A worker committed a result and staked.
		Contributed { task: TaskId, worker: T::AccountId, result_hash: H256, stake: BalanceOf<T> },
		/// A result group reached the deal's trust; its members reveal before `deadline`.
		ConsensusReached { task: TaskId, result_hash: H256, deadline: BlockNumberFor<T> },
		/// A winner revealed its digest and attestation.
		Revealed { task: TaskId, worker: T::AccountId, digest: [u8; 32] },
		/// A task was certified and everyone paid.
		TaskCompleted { task: TaskId, digest: [u8; 32], winners: u32, pot: BalanceOf<T> },
		/// No winner revealed in time: their group was discarded, their stakes seized, and the
		/// task takes contributions again.
		TaskReopened { task: TaskId, discarded: u32, seized: BalanceOf<T> },
		/// A task failed; the requester got `refunded` back.
		TaskFailed { task: TaskId, refunded: BalanceOf<T> },
		/// Tasks `from..volume` of a deal never started; the requester got `refunded` back.
		UnstartedRefunded { deal: DealId, from: u32, tasks: u32, refunded: BalanceOf<T> },
		/// A worker's score changed.
		ScoreChanged { worker: T::AccountId, score: u32 },
		/// Governance set new economic parameters (for deals made from now on).
		EconomicsSet { economics: EconomicsOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a worker (leave first to change pools).
		AlreadyAWorker,
		/// The account is not a worker.
		NotAWorker,
		/// No contract has this identifier.
		UnknownPool,
		/// The contract is not a worker pool.
		NotAPool,
		/// The pool is not approved by governance (or was revoked).
		PoolNotApproved,
		/// The ad is not UTF-8, does not parse, exceeds the chain's bounds or calls an unknown
		/// function (`MarketApi::check_classad` says where and why).
		InvalidClassAd,
		/// The parsed ad is larger than the chain stores.
		AdTooLarge,
		/// The machine ad does not satisfy the pool's admission rule.
		AdmissionRuleNotMet,
		/// The worker cannot hold its storage deposit.
		CannotHoldDeposit,
		/// The worker still holds replicas.
		HoldsReplicas,
		/// No deal has this identifier.
		UnknownDeal,
		/// The deal has fewer tasks.
		NoSuchTask,
		/// The worker serves another pool than the deal's.
		NotInDealsPool,
		/// Tasks of a deal start in order; this one is not the next.
		NotNextTask,
		/// The task has not started (nobody claimed it).
		TaskNotStarted,
		/// The task takes no claims or contributions now.
		TaskNotOpen,
		/// Contributions to the task have closed.
		ContributionsClosed,
		/// The worker holds a replica of this task already (or held one that was discarded).
		AlreadyHoldsReplica,
		/// The worker's ad does not satisfy the job's `Requirements`.
		JobRequirementsNotMet,
		/// The deal pins its replicas to an architecture, and the worker's ad does not give
		/// that one as its `Arch`.
		WrongArchitecture,
		/// The replicas out can reach the deal's trust already.
		EnoughReplicasOut,
		/// The task has `MaxContributors` replicas.
		TooManyReplicas,
		/// The worker holds no replica of this task.
		NoReplica,
		/// The replica is contributed already.
		AlreadyContributed,
		/// Only the worker may hand its replica back before it is due.
		ReplicaNotDue,
		/// The worker cannot hold its stake.
		CannotStake,
		/// The task is not waiting for reveals.
		NotRevealing,
		/// The reveal deadline has passed.
		RevealClosed,
		/// The replica's result is not the one consensus chose (or it revealed already).
		NotAWinner,
		/// The attestation is for another task or worker.
		AttestationNotForThis,
		/// The attestation names another app code than the deal's.
		WrongAppCode,
		/// The attestation names another data set than the deal's.
		WrongDataset,
		/// `H(task, digest)` is not the committed result hash.
		ResultHashMismatch,
		/// `H(worker, task, digest)` is not the committed seal.
		ResultSealMismatch,
		/// The attestation is not the one committed.
		AttestationHashMismatch,
		/// The attestation's signature is not the worker's.
		BadSignature,
		/// An inline result's `blake2_256` is not the digest.
		InlineResultMismatch,
		/// One contribution does not reach this deal's trust: contribute and reveal instead.
		ReplicationNeeded,
		/// Nothing is due on this task yet.
		NotDue,
		/// The task is settled already.
		TaskSettled,
		/// The task is waiting for reveals: it completes or reopens, it does not fail.
		UseFinalize,
		/// Every task of the deal has started.
		NothingUnstarted,
		/// The economic parameters: a task time under a minute or over a week.
		TaskTimeOutOfRange,
		/// The economic parameters: task times must grow from XS to XL.
		TaskTimesNotIncreasing,
		/// The economic parameters: deadline ratios must satisfy `1 ≤ replica ≤ contribution`,
		/// `1 ≤ reveal`, `contribution + reveal ≤ final ≤ 100`.
		DeadlineRatiosInconsistent,
		/// The economic parameters: a pool stake above 100 %.
		PoolStakeAboveHundredPercent,
		/// A sum overflowed.
		Overflow,
		/// The worker's ad does not satisfy the host requirements the deal's app was
		/// registered with.
		AppRequirementsNotMet,
		/// The worker's ad does not satisfy the restrictions the deal's data set was
		/// registered with.
		DatasetRestrictionsNotMet,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Handles the deadlines due, oldest first, as far as the block's spare weight goes.
		fn on_idle(now: BlockNumberFor<T>, limit: Weight) -> Weight {
			Self::handle_due(now, limit)
		}

		fn integrity_test() {
			assert!(T::MaxContributors::get() >= 1, "MaxContributors must be at least 1");
			assert!(T::MaxBatch::get() >= 1, "MaxBatch must be at least 1");
			assert!(T::MaxDuePerBlock::get() >= 1, "MaxDuePerBlock must be at least 1");
			assert!(T::MillisecsPerBlock::get() >= 1, "MillisecsPerBlock must be at least 1");
			assert!(
				rules::check_economics(&DesignEconomics::<T>::get()).is_ok(),
				"design section 5's economics must pass their own checks"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Join a worker pool with a machine ad (ClassAd text, `[ … ]`). The ad must satisfy
		/// the pool's admission rule.
		///
		/// - Origin: signed, the worker; it holds a storage deposit until it leaves.
		///
		/// Errors: [`Error::AlreadyAWorker`], [`Error::UnknownPool`], [`Error::NotAPool`],
		/// [`Error::PoolNotApproved`], [`Error::InvalidClassAd`], [`Error::AdTooLarge`],
		/// [`Error::AdmissionRuleNotMet`], [`Error::CannotHoldDeposit`].
		/// Event: [`Event::WorkerJoined`].
		#[pallet::call_index(0)]
		#[pallet::weight(<T as Config>::WeightInfo::join_pool())]
		pub fn join_pool(
			origin: OriginFor<T>,
			pool: ContractId,
			ad: BoundedVec<u8, T::MaxAdText>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_join(who, pool, &ad)
		}

		/// Replace the worker's machine ad; it must still satisfy the pool's admission rule.
		/// The deposit follows the ad's size.
		///
		/// - Origin: signed, a worker.
		///
		/// Errors: [`Error::NotAWorker`], those of the ad in [`Pallet::join_pool`].
		/// Event: [`Event::WorkerAdUpdated`].
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::update_ad())]
		pub fn update_ad(origin: OriginFor<T>, ad: BoundedVec<u8, T::MaxAdText>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_update_ad(who, &ad)
		}

		/// Leave the pool; the deposit comes back. The score stays with the account.
		///
		/// - Origin: signed, a worker holding no replica.
		///
		/// Errors: [`Error::NotAWorker`], [`Error::HoldsReplicas`]. Event: [`Event::WorkerLeft`].
		#[pallet::call_index(2)]
		#[pallet::weight(<T as Config>::WeightInfo::leave_pool())]
		pub fn leave_pool(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_leave(who)
		}

		/// Claim a replica of each task in `tasks` (all or none). A task not started must be
		/// its deal's next; claiming it starts its clock.
		///
		/// - Origin: signed, a worker of each deal's pool.
		///
		/// Errors: [`Error::NotAWorker`], [`Error::UnknownDeal`], [`Error::NoSuchTask`],
		/// [`Error::NotInDealsPool`], [`Error::NotNextTask`], [`Error::TaskNotOpen`],
		/// [`Error::ContributionsClosed`], [`Error::AlreadyHoldsReplica`],
		/// [`Error::JobRequirementsNotMet`], [`Error::WrongArchitecture`],
		/// [`Error::AppRequirementsNotMet`], [`Error::DatasetRestrictionsNotMet`],
		/// [`Error::EnoughReplicasOut`], [`Error::TooManyReplicas`]. Events:
		/// [`Event::ReplicaClaimed`], [`Event::ReplicaReleased`] (overdue replicas handed back
		/// on the way).
		#[pallet::call_index(3)]
		#[pallet::weight(Pallet::<T>::claim_weight(tasks.len() as u32))]
		pub fn claim(
			origin: OriginFor<T>,
			tasks: BoundedVec<TaskId, T::MaxBatch>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let (mut started, mut released) = (0u32, 0u32);
			for task in tasks.iter() {
				let (start, handed_back) = Self::do_claim(&who, *task)?;
				started += u32::from(start);
				released += handed_back;
			}
			let joined = tasks.len() as u32 - started;
			// The benchmark hands back the same workers' replicas in every task: each worker
			// record written beyond those is charged here.
			let weight = <T as Config>::WeightInfo::claim(joined)
				.saturating_add(<T as Config>::WeightInfo::claim_start(started))
				.saturating_add(
					T::DbWeight::get().reads_writes(1, 1).saturating_mul(released.into()),
				);
			Ok(Some(weight).into())
		}

		/// Hand a claimed, not yet contributed replica back to the pool.
		///
		/// - Origin: signed, the worker at any time, or anyone once the replica is overdue.
		///
		/// Errors: [`Error::TaskNotStarted`], [`Error::NoReplica`],
		/// [`Error::AlreadyContributed`], [`Error::ReplicaNotDue`].
		/// Event: [`Event::ReplicaReleased`].
		#[pallet::call_index(4)]
		#[pallet::weight(<T as Config>::WeightInfo::release_replica())]
		pub fn release_replica(
			origin: OriginFor<T>,
			task: TaskId,
			worker: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_release(&who, task, &worker)
		}

		/// Commit a result for each item (all or none), holding the worker's stake: the deal's
		/// pool price × the pool's `worker_stake_ratio` %.
		///
		/// - Origin: signed, the worker holding each replica.
		///
		/// Errors: [`Error::TaskNotStarted`], [`Error::UnknownDeal`], [`Error::TaskNotOpen`],
		/// [`Error::ContributionsClosed`], [`Error::NoReplica`], [`Error::AlreadyContributed`],
		/// [`Error::CannotStake`]. Events: [`Event::Contributed`], [`Event::ConsensusReached`].
		#[pallet::call_index(5)]
		#[pallet::weight(<T as Config>::WeightInfo::contribute(items.len() as u32))]
		pub fn contribute(
			origin: OriginFor<T>,
			items: BoundedVec<Commitment, T::MaxBatch>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			items.iter().try_for_each(|item| Self::do_contribute(&who, item))
		}

		/// Reveal the result of each item (all or none): the digest in the attestation, which
		/// must match the commitment and be signed by the worker. A task whose winners have all
		/// revealed completes in this call.
		///
		/// - Origin: signed, a worker of the winning group of each task.
		///
		/// Errors: [`Error::TaskNotStarted`], [`Error::UnknownDeal`], [`Error::NotRevealing`],
		/// [`Error::RevealClosed`], [`Error::NoReplica`], [`Error::NotAWinner`],
		/// [`Error::AttestationNotForThis`], [`Error::WrongAppCode`], [`Error::WrongDataset`],
		/// [`Error::ResultHashMismatch`], [`Error::ResultSealMismatch`],
		/// [`Error::AttestationHashMismatch`], [`Error::BadSignature`],
		/// [`Error::InlineResultMismatch`]. Events: [`Event::Revealed`],
		/// [`Event::TaskCompleted`].
		#[pallet::call_index(6)]
		#[pallet::weight(Pallet::<T>::reveal_weight(items.len() as u32))]
		pub fn reveal(
			origin: OriginFor<T>,
			items: BoundedVec<DisclosureOf<T>, T::MaxBatch>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let mut completions = CompletionBatches::default();
			for item in items.iter() {
				if let Some(crew) = Self::do_reveal(&who, item)? {
					completions.add(item.attestation.task.deal, &crew);
				}
			}
			Ok(Some(Self::revealed_weight(items.len() as u32, &completions)).into())
		}

		/// The fast path, for each item (all or none): contribute, reveal and complete in one
		/// call, when the worker's contribution alone reaches the deal's trust (trust 1, or a
		/// worker whose weight is enough) and nobody else contributed. No stake is needed: no
		/// other result can compete.
		///
		/// - Origin: signed, the worker holding each replica.
		///
		/// Errors: those of [`Pallet::contribute`] and [`Pallet::reveal`],
		/// [`Error::ReplicationNeeded`]. Events: [`Event::Contributed`],
		/// [`Event::ConsensusReached`], [`Event::Revealed`], [`Event::TaskCompleted`].
		#[pallet::call_index(7)]
		#[pallet::weight(Pallet::<T>::submit_weight(items.len() as u32))]
		pub fn submit(
			origin: OriginFor<T>,
			items: BoundedVec<DisclosureOf<T>, T::MaxBatch>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let mut others = 0u32;
			for item in items.iter() {
				others += Self::do_submit(&who, item)?;
			}
			let weight = <T as Config>::WeightInfo::submit(items.len() as u32).saturating_add(
				T::DbWeight::get().reads_writes(1, 1).saturating_mul(others.into()),
			);
			Ok(Some(weight).into())
		}

		/// Settle a task whose reveals are due: complete it when every winner revealed, or at
		/// the reveal deadline when one did; reopen it at the reveal deadline when none did.
		///
		/// - Origin: signed, anyone.
		///
		/// Errors: [`Error::TaskNotStarted`], [`Error::UnknownDeal`], [`Error::NotRevealing`],
		/// [`Error::NotDue`]. Events: [`Event::TaskCompleted`], [`Event::TaskReopened`],
		/// [`Event::TaskFailed`] (reopened after contributions closed).
		#[pallet::call_index(8)]
		#[pallet::weight(<T as Config>::WeightInfo::finalize(T::MaxContributors::get())
			.max(<T as Config>::WeightInfo::reopen(T::MaxContributors::get())))]
		pub fn finalize(origin: OriginFor<T>, task: TaskId) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let weight = Self::do_finalize(task)?;
			Ok(Some(weight).into())
		}

		/// Fail a task that can no longer be certified: no consensus when contributions
		/// closed, or past its final deadline. The requester is refunded in full, the pool
		/// owner's stake for the task goes to the kitty, workers' stakes come back.
		///
		/// - Origin: signed, anyone.
		///
		/// Errors: [`Error::TaskNotStarted`], [`Error::UnknownDeal`], [`Error::TaskSettled`],
		/// [`Error::UseFinalize`], [`Error::NotDue`]. Event: [`Event::TaskFailed`].
		#[pallet::call_index(9)]
		#[pallet::weight(<T as Config>::WeightInfo::claim_failed(T::MaxContributors::get()))]
		pub fn claim_failed(origin: OriginFor<T>, task: TaskId) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let replicas = Self::do_claim_failed(task)?;
			Ok(Some(<T as Config>::WeightInfo::claim_failed(replicas)).into())
		}

		/// Refund the tasks of a deal that never started, once no task of it has started for
		/// `final_ratio × T`: the requester gets their price back, the pool owner's stake for
		/// them goes to the kitty.
		///
		/// - Origin: signed, anyone.
		///
		/// Errors: [`Error::UnknownDeal`], [`Error::NothingUnstarted`], [`Error::NotDue`].
		/// Event: [`Event::UnstartedRefunded`].
		#[pallet::call_index(10)]
		#[pallet::weight(<T as Config>::WeightInfo::claim_unstarted())]
		pub fn claim_unstarted(origin: OriginFor<T>, deal: DealId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_claim_unstarted(deal)
		}

		/// Set the economic parameters for deals made from now on.
		///
		/// - Origin: [`Config::EconomicsOrigin`] (a referendum).
		///
		/// Errors: [`Error::TaskTimeOutOfRange`], [`Error::TaskTimesNotIncreasing`],
		/// [`Error::DeadlineRatiosInconsistent`], [`Error::PoolStakeAboveHundredPercent`].
		/// Event: [`Event::EconomicsSet`].
		#[pallet::call_index(11)]
		#[pallet::weight(<T as Config>::WeightInfo::set_economics())]
		pub fn set_economics(origin: OriginFor<T>, economics: EconomicsOf<T>) -> DispatchResult {
			T::EconomicsOrigin::ensure_origin(origin)?;
			rules::check_economics(&economics).map_err(Error::<T>::from)?;
			EconomicParameters::<T>::put(economics);
			Self::deposit_event(Event::EconomicsSet { economics });
			Ok(())
		}
	}

	impl<T: Config> From<rules::EconomicsProblem> for Error<T> {
		fn from(problem: rules::EconomicsProblem) -> Self {
			use rules::EconomicsProblem::*;
			match problem {
				TaskTimeOutOfRange => Error::TaskTimeOutOfRange,
				TaskTimesNotIncreasing => Error::TaskTimesNotIncreasing,
				DeadlineRatiosInconsistent => Error::DeadlineRatiosInconsistent,
				PoolStakeAboveHundredPercent => Error::PoolStakeAboveHundredPercent,
			}
		}
	}

	/// New deals are made under the parameters governance set last.
	impl<T: Config> DealTermsSource<BalanceOf<T>> for Pallet<T> {
		fn terms(category: pallet_market::Category) -> DealTerms<BalanceOf<T>> {
			EconomicParameters::<T>::get().terms(category)
		}
	}

	/// What the market's scheduling knows of a pool: its mean task time, its workers' mean
	/// score, and the share of its started tasks that completed.
	impl<T: Config> PoolStatistics for Pallet<T> {
		fn figures(pool: ContractId) -> PoolFigures {
			let record = PoolRecords::<T>::get(pool);
			let settled = u64::from(record.done) + u64::from(record.failed);
			PoolFigures {
				mean_task_seconds: (record.done > 0).then(|| {
					u32::try_from(record.total_seconds / u64::from(record.done)).unwrap_or(u32::MAX)
				}),
				reputation: (record.members > 0).then(|| {
					u32::try_from(record.score_sum / u64::from(record.members)).unwrap_or(u32::MAX)
				}),
				reliability_ppm: (settled > 0)
					.then(|| (u64::from(record.done) * 1_000_000 / settled) as u32),
			}
		}
	}
}
