//! What the escrow books, and the trait other pallets use.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::{DispatchError, DispatchResult, Perbill};

/// What a lock is for: an order still open, or a deal made from orders.
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
pub enum Ledger {
	/// A standing order (a request's payment before it is matched).
	Order(u64),
	/// A deal (payments and stakes of its tasks).
	Deal(u64),
}

/// How the market and Proof-of-Contribution move escrowed funds. `Reason` is the escrow's
/// [`crate::HoldReason`]. Each operation either happens whole or changes nothing.
pub trait Escrow<AccountId, Balance, Reason> {
	/// Puts `amount` of `who`'s free balance on hold for `ledger`.
	fn lock(ledger: Ledger, who: &AccountId, reason: Reason, amount: Balance) -> DispatchResult;
	/// Gives `amount` of what `who` locked for `ledger` back to `who`.
	fn release(ledger: Ledger, who: &AccountId, reason: Reason, amount: Balance) -> DispatchResult;
	/// Gives everything `who` locked for `ledger` under `reason` back; returns how much.
	fn refund(ledger: Ledger, who: &AccountId, reason: Reason) -> Result<Balance, DispatchError>;
	/// Pays `amount` of what `from` locked for `ledger` to `to`'s free balance.
	fn pay(
		ledger: Ledger,
		from: &AccountId,
		reason: Reason,
		to: &AccountId,
		amount: Balance,
	) -> DispatchResult;
	/// Seizes `amount` of what `from` locked for `ledger` into the kitty.
	fn seize(ledger: Ledger, from: &AccountId, reason: Reason, amount: Balance) -> DispatchResult;
	/// Moves `amount` of `who`'s lock from one ledger to another; no funds move.
	fn rebook(
		from: Ledger,
		to: Ledger,
		who: &AccountId,
		reason: Reason,
		amount: Balance,
	) -> DispatchResult;
	/// What `who` has locked for `ledger` under `reason`.
	fn locked(ledger: Ledger, who: &AccountId, reason: Reason) -> Balance;
	/// Pays `to` the kitty's bonus for a success: `max(share of what the kitty has,
	/// minimum)`, never more than it has nor more than `cap` (the stake the success put at
	/// risk, so that tasks that risk nothing cannot drain it). Governance sets `share` and
	/// `minimum` (parameters of Proof-of-Contribution, kept by each deal). Returns what was
	/// paid (zero when the kitty is empty or `to` cannot receive it).
	fn pay_kitty_bonus(to: &AccountId, share: Perbill, minimum: Balance, cap: Balance) -> Balance;
}
