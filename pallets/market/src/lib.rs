//! # Market pallet
//!
//! The market network of the white paper (7.2): providers publish standing orders, requesters
//! publish requests, and a match of four orders becomes a **deal** whose payment and pool
//! stake are held in escrow. Orders stay on chain; matching is HTCondor's ClassAd matchmaking
//! in both directions; among compatible pools the requester's weights rank them (PROMETHEE II,
//! [`scheduling`]); and the chain can say why two orders do not match ([`runtime_api`]).
//!
//! - App and data set orders ([`Pallet::publish_app_order`], [`Pallet::publish_dataset_order`]):
//!   by the contract's owner; a price per task, a volume, tag bits and restrictions.
//! - Worker-pool orders ([`Pallet::publish_pool_order`]): by the pool's owner; also a
//!   category, a trust level and the pool's machine ad.
//! - Requests ([`Pallet::submit_request`]): an app, maybe a data set, the most paid to each of
//!   the three, a volume, category, trust, tags, params, a beneficiary, a job ad
//!   (`Requirements`, `Rank`) and weights for the scheduling criteria. The most it can cost is
//!   held in escrow at once; what a deal does not need goes back.
//!
//! Every order holds a storage deposit, returned when it is cancelled
//! ([`Pallet::cancel_order`]) or used up. A request not fully matched waits, and expires after
//! [`Config::RequestLifetime`] blocks with its deposit and unspent payment returned.
//!
//! **Matching** goes through one function, [`matching::check_match`], on two paths:
//! - *at arrival*: a new request is checked against the cheapest
//!   [`Config::MaxCandidates`] pool orders of its category, ranked, and matched best first; a
//!   new pool order is checked against the oldest [`Config::MaxWaiting`] waiting requests of
//!   its category. The cost is bounded whatever the size of the book.
//! - *proposed*: anyone may call [`Pallet::match_orders`] with four order ids; the chain checks
//!   them in constant time. Off-chain matchers serve books of any size this way, and
//!   [`Pallet::match_batch`] matches up to [`Config::MaxBatchedRequests`] requests against one
//!   pool order, app order and data set order in one call, their shared writes made once.
//!
//! A deal of `v = min(remaining volumes)` tasks moves `(app + data set + pool price) × v` of
//! the requester's held payment to the deal, returns the rest of what was held for those
//! tasks, and holds the pool owner's stake (the terms' `pool_stake_percent` of `pool price ×
//! v`). Task `i` of deal `d` exists implicitly: a deal of 10,000 tasks costs what one of one
//! task does. The deal records the execution limits of its category, so that every replica
//! runs under the same ones, and the economic terms ([`DealTerms`], from [`Config::Terms`])
//! it was made under. It also records the request's [`Determinism`]: portable (NaN bits
//! canonicalised, any worker) by default, or pinned to one architecture, whose workers alone
//! may take its replicas.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use arrival::RankedOffer;
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

pub mod ads;
mod arrival;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod book;
mod dispatchable_impls;
pub mod expiry;
pub mod match_weight;
pub mod matching;
pub mod migrations;
/// The mock runtime of the tests, also used by `market-bench`.
#[cfg(any(test, feature = "bench"))]
pub mod mock;
pub mod runtime_api;
pub mod scheduling;
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
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use pallet_registry::{ContractId, ContractRegistry};

	/// Balance of RLC.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// An order as stored.
	pub type OrderOf<T> = Order<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxParamsLen,
		<T as Config>::MaxAdBytes,
	>;
	/// A request's terms as stored.
	pub type RequestOf<T> = Request<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxParamsLen,
		<T as Config>::MaxAdBytes,
	>;
	/// A pool order's terms as stored.
	pub type PoolOfferOf<T> =
		PoolOffer<<T as frame_system::Config>::AccountId, BalanceOf<T>, <T as Config>::MaxAdBytes>;
	/// An app or data set order's terms.
	pub type ResourceOfferOf<T> =
		ResourceOffer<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
	/// A request as `submit_request` takes it.
	pub type RequestSpecOf<T> = RequestSpec<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		<T as Config>::MaxParamsLen,
		<T as Config>::MaxAdText,
	>;
	/// A deal as stored.
	pub type DealOf<T> = Deal<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxParamsLen,
		<T as Config>::MaxAdBytes,
		<T as Config>::MaxUriLen,
	>;
	/// Restrictions of a provider's order.
	pub type RestrictionsOf<T> = Restrictions<<T as frame_system::Config>::AccountId>;
	/// A price-ordered index of open orders.
	pub type BookOf<T> = BoundedVec<(BalanceOf<T>, OrderId), <T as Config>::MaxCandidates>;

	/// Version 1: requests and deals record their [`Determinism`] ([`migrations::v1`]).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(3);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// RLC, for storage deposits.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// Apps, data sets and pools, and whether governance approved them.
		type Registry: ContractRegistry<Self::AccountId>;
		/// Where payments and stakes are held.
		type Escrow: pallet_escrow::Escrow<
			Self::AccountId,
			BalanceOf<Self>,
			pallet_escrow::HoldReason,
		>;
		/// Measured figures of pools, for scheduling.
		type PoolStatistics: PoolStatistics;
		/// Storage deposit of any order.
		#[pallet::constant]
		type OrderDepositBase: Get<BalanceOf<Self>>;
		/// Storage deposit per byte an order stores.
		#[pallet::constant]
		type OrderDepositPerByte: Get<BalanceOf<Self>>;
		/// The economic terms of new deals (governance's parameters).
		type Terms: DealTermsSource<BalanceOf<Self>>;
		/// Pool orders indexed per category, and app or data set orders per contract, for
		/// matching at arrival: the cheapest this many.
		#[pallet::constant]
		type MaxCandidates: Get<u32>;
		/// The most entries one pool may hold in a category's pool index, so that no pool's
		/// owner can crowd the other pools out of arrival matching.
		#[pallet::constant]
		type MaxIndexedPerPool: Get<u32>;
		/// Requests indexed per category for matching when a pool order arrives: the oldest of
		/// the latest this many (a full list lets its oldest go for a new request).
		#[pallet::constant]
		type MaxWaiting: Get<u32>;
		/// Requests the block hook expires in one block (each refunded); more due wait for
		/// the next blocks, and cannot be matched meanwhile.
		#[pallet::constant]
		type MaxExpiriesPerBlock: Get<u32>;
		/// Entries of the expiry queue the block hook looks at in one block. Matched and
		/// cancelled requests leave theirs behind (looking costs a read; removing at match
		/// time would cost a write), so this bounds the requests admitted per block over time.
		#[pallet::constant]
		type MaxExpiryChecksPerBlock: Get<u32>;
		/// Requests listed in one page of the expiry queue.
		#[pallet::constant]
		type ExpiryPageSize: Get<u32>;
		/// Blocks an unmatched request waits before it expires.
		#[pallet::constant]
		type RequestLifetime: Get<BlockNumberFor<Self>>;
		/// Longest params of a request.
		#[pallet::constant]
		type MaxParamsLen: Get<u32>;
		/// Longest ClassAd text of an order.
		#[pallet::constant]
		type MaxAdText: Get<u32>;
		/// Largest parsed ad, in its stored (SCALE) form.
		#[pallet::constant]
		type MaxAdBytes: Get<u32>;
		/// Longest data set location copied into a deal.
		#[pallet::constant]
		type MaxUriLen: Get<u32>;
		/// The most requests one [`Pallet::match_batch`] may propose.
		#[pallet::constant]
		type MaxBatchedRequests: Get<u32>;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
	}

	/// Why funds are held.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The storage deposit of an order.
		#[codec(index = 0)]
		OrderDeposit,
	}

	/// The next order's identifier.
	#[pallet::storage]
	pub type NextOrderId<T> = StorageValue<_, OrderId, ValueQuery>;

	/// The next deal's identifier.
	#[pallet::storage]
	pub type NextDealId<T> = StorageValue<_, DealId, ValueQuery>;

	/// Open orders.
	#[pallet::storage]
	pub type Orders<T: Config> = StorageMap<_, Twox64Concat, OrderId, OrderOf<T>>;

	/// The cheapest open pool orders of each category: (price, order), cheapest first.
	#[pallet::storage]
	pub type PoolBook<T: Config> = StorageMap<_, Twox64Concat, Category, BookOf<T>, ValueQuery>;

	/// The cheapest open orders for each app or data set: (price, order), cheapest first.
	#[pallet::storage]
	pub type ResourceBook<T: Config> =
		StorageMap<_, Twox64Concat, ContractId, BookOf<T>, ValueQuery>;

	/// The oldest waiting requests of each category, oldest first.
	#[pallet::storage]
	pub type Waiting<T: Config> =
		StorageMap<_, Twox64Concat, Category, BoundedVec<OrderId, T::MaxWaiting>, ValueQuery>;

	/// The expiry queue: requests due at a block, in pages of `ExpiryPageSize`. An entry
	/// stays when its request is matched or cancelled first; the hook passes over it.
	#[pallet::storage]
	pub type ExpiryQueue<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		Twox64Concat,
		u32,
		BoundedVec<OrderId, T::ExpiryPageSize>,
		ValueQuery,
	>;

	/// How many pages of the expiry queue a block has.
	#[pallet::storage]
	pub type ExpiryPages<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, u32, ValueQuery>;

	/// Where the block hook goes on in the expiry queue: the block and its page. Every
	/// request due before is expired already.
	#[pallet::storage]
	pub type ExpiryCursor<T: Config> = StorageValue<_, (BlockNumberFor<T>, u32), ValueQuery>;

	/// How many open orders offer each contract (app, data set and pool orders): the
	/// registry retires a contract only when none does.
	#[pallet::storage]
	pub type OpenOffers<T: Config> = StorageMap<_, Twox64Concat, ContractId, u32, ValueQuery>;

	/// Deals, for Proof-of-Contribution and the workers.
	#[pallet::storage]
	pub type Deals<T: Config> = StorageMap<_, Twox64Concat, DealId, DealOf<T>>;

	/// What a deal's app and data set demanded of a host when it was made (their registered
	/// rules), for the deals whose rules are not simply `true`: every worker's ad must meet
	/// them to claim. A deal made before the rules were checked has none.
	#[pallet::storage]
	pub type DealRules<T: Config> =
		StorageMap<_, Twox64Concat, DealId, StoredHostRules<T::MaxAdBytes>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An order was published and its storage deposit held.
		OrderPublished {
			id: OrderId,
			owner: T::AccountId,
			kind: OrderKind,
			volume: u32,
			deposit: BalanceOf<T>,
		},
		/// A request was submitted; `payment` is held until deals use it.
		RequestSubmitted {
			id: OrderId,
			requester: T::AccountId,
			volume: u32,
			payment: BalanceOf<T>,
			deposit: BalanceOf<T>,
			expires_at: BlockNumberFor<T>,
		},
		/// A request has tasks no deal took yet; it waits until `expires_at`.
		RequestWaiting { id: OrderId, remaining: u32, expires_at: BlockNumberFor<T> },
		/// Four orders made a deal of `volume` tasks.
		DealMade {
			deal: DealId,
			request: OrderId,
			pool_order: OrderId,
			app_order: OrderId,
			dataset_order: Option<OrderId>,
			volume: u32,
			/// What the requester pays per task: app, data set and pool prices together.
			price_per_task: BalanceOf<T>,
			pool_stake: BalanceOf<T>,
		},
		/// The owner cancelled an order; its deposit (and a request's unspent payment) went
		/// back.
		OrderCancelled {
			id: OrderId,
			kind: OrderKind,
			deposit_refunded: BalanceOf<T>,
			payment_refunded: BalanceOf<T>,
		},
		/// An order was used up; its deposit went back.
		OrderUsedUp { id: OrderId, kind: OrderKind, deposit_refunded: BalanceOf<T> },
		/// A request expired; its deposit and unspent payment went back.
		RequestExpired {
			id: OrderId,
			deposit_refunded: BalanceOf<T>,
			payment_refunded: BalanceOf<T>,
		},
		/// A request of a batch made no deal, for `error`; nothing of it changed.
		RequestSkipped { request: OrderId, error: DispatchError },
		/// A batch against one pool order made `deals` deals and skipped `skipped` requests;
		/// the last `untried` were not tried, because an order they share was used up.
		BatchMatched { pool_order: OrderId, deals: u32, skipped: u32, untried: u32 },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No open order has this identifier.
		UnknownOrder,
		/// Only the order's owner may do this.
		NotOrderOwner,
		/// No contract has this identifier.
		UnknownContract,
		/// The contract is not of the kind this order needs (an app for an app order…).
		WrongContractKind,
		/// Only the contract's owner may publish orders for it.
		NotContractOwner,
		/// The contract is not approved by governance (or was revoked).
		ContractNotApproved,
		/// An order must offer or want at least one task.
		ZeroVolume,
		/// A request's trust must be at least 1.
		ZeroTrust,
		/// The ClassAd text is not UTF-8, does not parse, exceeds the chain's bounds or calls
		/// an unknown function. `MarketApi::check_classad` says where and why.
		InvalidClassAd,
		/// The parsed ad is larger than `MaxAdBytes`.
		AdTooLarge,
		/// `price × volume` overflows.
		PriceOverflow,
		/// The signer cannot hold the storage deposit.
		CannotHoldDeposit,
		/// The requester cannot hold the most the request can cost.
		CannotHoldPayment,
		/// The pool owner cannot hold the deal's stake.
		PoolOwnerCannotStake,
		/// The expiry queue of the request's due block has no page left (`u32::MAX` pages).
		ExpiryQueueFull,
		/// The data set location is longer than a deal can record.
		LocationTooLong,
		/// No identifiers left.
		IdsExhausted,
		/// An order is used up.
		OrderUsedUp,
		/// An order given is not of the kind its place asks for.
		WrongOrderKind,
		/// The app order offers another app than the request names.
		OtherApp,
		/// The data set order offers another data set than the request names.
		OtherDataset,
		/// The request names a data set and no data set order was given.
		DatasetOrderMissing,
		/// A data set order was given for a request that names no data set.
		DatasetNotRequested,
		/// The request accepts only another pool.
		OtherPool,
		/// A contract of the match is not approved.
		MatchNotApproved,
		/// A provider's order was published by an earlier owner of its contract; it binds
		/// nobody now.
		OwnerChanged,
		/// The pool serves another category.
		CategoryDiffers,
		/// The pool's trust is below the request's.
		TrustTooLow,
		/// A price is above the request's maximum for it.
		PriceAboveMaximum,
		/// The pool does not offer every tag bit demanded.
		TagsNotOffered,
		/// An order's restrictions exclude a party of the match.
		Restricted,
		/// The request's `Requirements` is not true against the pool's ad.
		JobRequirementsNotMet,
		/// The pool's `Requirements` is not true against the job ad.
		PoolRequirementsNotMet,
		/// The request pins its replicas to an architecture, and the pool's ad gives its
		/// `Arch` as another.
		ArchitectureNotOffered,
		/// The host requirements the app was registered with are not true against the pool's
		/// ad.
		AppRequirementsNotMet,
		/// The restrictions the data set was registered with are not true against the pool's
		/// ad.
		DatasetRestrictionsNotMet,
		/// The app's or the data set's registered rule is too large to keep with the deal.
		HostRulesTooLarge,
		/// A batch must propose at least one request.
		EmptyBatch,
		/// The request's time is up: it cannot be matched, and the block hook is about to
		/// give its payment back (its owner may cancel it meanwhile).
		RequestExpired,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Expires the requests due by `now`, in the order they were submitted: at most
		/// `MaxExpiriesPerBlock`, looking at most at `MaxExpiryChecksPerBlock` entries.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::expire_requests(now)
		}

		/// Goes on expiring with the weight the block left unused.
		fn on_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
			Self::expire_when_idle(now, remaining)
		}

		fn integrity_test() {
			assert!(T::MaxCandidates::get() >= 1, "MaxCandidates must be at least 1");
			assert!(T::MaxWaiting::get() >= 1, "MaxWaiting must be at least 1");
			assert!(T::MaxExpiriesPerBlock::get() >= 1, "MaxExpiriesPerBlock must be at least 1");
			assert!(T::ExpiryPageSize::get() >= 1, "ExpiryPageSize must be at least 1");
			assert!(
				T::MaxExpiryChecksPerBlock::get() >= T::MaxExpiriesPerBlock::get().max(2),
				"the hook must be able to look at as many entries as it may expire, and at a \
				 page count and an entry"
			);
			// A request submitted at `now` must be due after the hook ran at `now`.
			assert!(T::RequestLifetime::get() >= 1u32.into(), "RequestLifetime must be at least 1");
			assert!(T::MaxBatchedRequests::get() >= 1, "MaxBatchedRequests must be at least 1");
			assert!(
				T::MaxAdText::get() <= iexec_classad::Limits::default().max_source_len,
				"MaxAdText must not exceed the ClassAd parser's source bound"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Publish an order for an app: `volume` tasks at `price` each.
		///
		/// - Origin: signed, the app's owner; it holds the order's storage deposit.
		///
		/// Errors: [`Error::UnknownContract`], [`Error::WrongContractKind`],
		/// [`Error::NotContractOwner`], [`Error::ContractNotApproved`], [`Error::ZeroVolume`],
		/// [`Error::CannotHoldDeposit`]. Event: [`Event::OrderPublished`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::publish_resource_order())]
		pub fn publish_app_order(
			origin: OriginFor<T>,
			app: ContractId,
			price: BalanceOf<T>,
			volume: u32,
			tag: Tag,
			restrictions: RestrictionsOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let offer = ResourceOffer { resource: app, price, tag, restrictions };
			Self::do_publish_resource(who, OrderKind::App, offer, volume)
		}

		/// Publish an order for a data set: `volume` tasks at `price` each.
		///
		/// - Origin: signed, the data set's owner; it holds the order's storage deposit.
		///
		/// Errors: as [`Pallet::publish_app_order`]. Event: [`Event::OrderPublished`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::publish_resource_order())]
		pub fn publish_dataset_order(
			origin: OriginFor<T>,
			dataset: ContractId,
			price: BalanceOf<T>,
			volume: u32,
			tag: Tag,
			restrictions: RestrictionsOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let offer = ResourceOffer { resource: dataset, price, tag, restrictions };
			Self::do_publish_resource(who, OrderKind::Dataset, offer, volume)
		}

		/// Publish a worker pool's order: `volume` tasks of `category` at `price` each, up to
		/// `trust`, offering `tag`, with the pool's machine ad (ClassAd text, `[ … ]`; an ad
		/// without `Requirements` accepts every job). The order is then matched against the
		/// oldest waiting requests of its category. The fee is charged up front for the most
		/// the ads may take to parse, read and evaluate; the rest is refunded.
		///
		/// - Origin: signed, the pool's owner; it holds the storage deposit, and the stake of
		///   each deal the order makes.
		///
		/// Errors: those of [`Pallet::publish_app_order`], [`Error::InvalidClassAd`],
		/// [`Error::AdTooLarge`]. Events: [`Event::OrderPublished`], [`Event::DealMade`].
		#[pallet::call_index(2)]
		#[pallet::weight(Pallet::<T>::publish_pool_order_up_front())]
		pub fn publish_pool_order(
			origin: OriginFor<T>,
			pool: ContractId,
			price: BalanceOf<T>,
			volume: u32,
			category: Category,
			trust: u32,
			tag: Tag,
			restrictions: RestrictionsOf<T>,
			ad: BoundedVec<u8, T::MaxAdText>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let work = Self::do_publish_pool(
				who,
				pool,
				price,
				volume,
				category,
				trust,
				tag,
				restrictions,
				&ad,
			)?;
			let benchmark = T::WeightInfo::publish_pool_order(work.looked_at);
			Ok(Some(Self::arrival_weight(benchmark, &work)).into())
		}

		/// Submit a request. The most it can cost, `(app_max_price + dataset_max_price +
		/// pool_max_price) × volume`, is held in escrow; deals take what they cost and give the
		/// rest back. The request is matched at once against the cheapest pool orders of its
		/// category, best ranked first; what is left waits, and expires after
		/// `RequestLifetime` blocks. The fee is charged up front for the most the ads may take
		/// to parse, read and evaluate; the rest is refunded.
		///
		/// - Origin: signed, the requester; it also holds the storage deposit.
		///
		/// Errors: [`Error::UnknownContract`], [`Error::WrongContractKind`],
		/// [`Error::ContractNotApproved`], [`Error::ZeroVolume`], [`Error::ZeroTrust`],
		/// [`Error::InvalidClassAd`], [`Error::AdTooLarge`], [`Error::PriceOverflow`],
		/// [`Error::CannotHoldDeposit`], [`Error::CannotHoldPayment`],
		/// [`Error::ExpiryQueueFull`]. Events: [`Event::RequestSubmitted`], [`Event::DealMade`],
		/// [`Event::RequestWaiting`].
		#[pallet::call_index(3)]
		#[pallet::weight(Pallet::<T>::submit_request_up_front())]
		pub fn submit_request(
			origin: OriginFor<T>,
			spec: RequestSpecOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let work = Self::do_submit_request(who, spec)?;
			let benchmark = T::WeightInfo::submit_request(work.looked_at);
			Ok(Some(Self::arrival_weight(benchmark, &work)).into())
		}

		/// Cancel an order. What no deal took comes back to the order's owner: the storage
		/// deposit, and for a request the payment still held.
		///
		/// - Origin: signed, the order's owner; or, for an app, data set or pool order, the
		///   current owner of the contract it offers (so that orders left by a former owner do
		///   not keep a contract from being retired).
		///
		/// Errors: [`Error::UnknownOrder`], [`Error::NotOrderOwner`].
		/// Event: [`Event::OrderCancelled`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::cancel_order().max(T::WeightInfo::cancel_offer()))]
		pub fn cancel_order(origin: OriginFor<T>, id: OrderId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_cancel(who, id)
		}

		/// Propose a match of four orders. The chain checks everything `check_match` checks,
		/// at a constant cost, and makes the deal; the caller pays the fee and is trusted for
		/// nothing else. The fee is charged for the most the ads may take to read and evaluate,
		/// and what this match's ads did not take is refunded ([`match_weight`]).
		///
		/// - Origin: signed, anyone.
		///
		/// Errors: [`Error::UnknownOrder`], [`Error::WrongOrderKind`], each mismatch's own error
		/// (`MarketApi::explain_match` lists them all; [`Error::RequestExpired`] for a request
		/// due already), [`Error::PoolOwnerCannotStake`],
		/// [`Error::LocationTooLong`], [`Error::HostRulesTooLarge`]. Event: [`Event::DealMade`].
		#[pallet::call_index(5)]
		#[pallet::weight(Pallet::<T>::match_orders_up_front())]
		pub fn match_orders(
			origin: OriginFor<T>,
			request: OrderId,
			pool_order: OrderId,
			app_order: OrderId,
			dataset_order: Option<OrderId>,
		) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let (ad_work, orders_ended) = Self::do_match(
				request,
				pool_order,
				app_order,
				dataset_order,
				dispatchable_impls::AdsChecked::No,
			)?;
			Ok(Some(Self::match_orders_weight(ad_work, orders_ended)).into())
		}

		/// Propose matches of several requests against one pool order, one app order and, when
		/// the requests name a data set, one data set order: each request is checked as
		/// [`Pallet::match_orders`] checks it and makes its deal, in the order given, while
		/// the shared orders last. The shared offers are checked once and what the deals share
		/// (the offers, their books and owners) reaches the database once, so that a batch
		/// costs less per deal than single proposals. The fee is charged for the most each
		/// request's ads may take; the rest is refunded.
		///
		/// A request that does not match is skipped: nothing of it changes, and
		/// [`Event::RequestSkipped`] says why (unless no request matches: the call then fails,
		/// and keeps no event). When a shared order is used up, the requests after it are not
		/// tried.
		///
		/// - Origin: signed, anyone.
		///
		/// Errors: [`Error::EmptyBatch`]; [`Error::UnknownOrder`] or [`Error::WrongOrderKind`]
		/// for a shared order; when no request makes a deal, the first request's own error
		/// (as [`Pallet::match_orders`] would give it). Events: [`Event::DealMade`] for each
		/// deal, [`Event::RequestSkipped`] for each request skipped, [`Event::BatchMatched`].
		#[pallet::call_index(6)]
		#[pallet::weight(Pallet::<T>::match_batch_up_front(requests.len() as u32))]
		pub fn match_batch(
			origin: OriginFor<T>,
			pool_order: OrderId,
			app_order: OrderId,
			dataset_order: Option<OrderId>,
			requests: BoundedVec<OrderId, T::MaxBatchedRequests>,
		) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			Self::do_match_batch(pool_order, app_order, dataset_order, &requests)
		}
	}
}
