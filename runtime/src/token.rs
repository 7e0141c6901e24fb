//! RLC, the native token: units, and the genesis supply of the white paper (section 9).

/// Balance of an account, in the smallest unit (10⁻⁹ RLC).
pub type Balance = u128;

/// Symbol shown by wallets.
pub const TOKEN_SYMBOL: &str = "RLC";
/// Decimal places: 1 RLC = 10⁹ base units, as on the original ERC-20 token.
pub const TOKEN_DECIMALS: u8 = 9;

/// One RLC.
pub const RLC: Balance = 1_000_000_000;
/// One thousandth of an RLC.
pub const MILLI_RLC: Balance = RLC / 1_000;
/// One millionth of an RLC.
pub const MICRO_RLC: Balance = RLC / 1_000_000;

/// The smallest balance an account may hold: 0.01 RLC. Small enough for micro-payments of
/// compute, large enough that dust accounts cost something to create.
pub const EXISTENTIAL_DEPOSIT: Balance = 10 * MILLI_RLC;

/// The total supply at genesis: 87,000,000 RLC.
pub const TOTAL_SUPPLY: Balance = 87_000_000 * RLC;

/// The four allocations of the white paper, section 9 (their maxima, which add up to the
/// total supply).
pub mod allocation {
	use super::{Balance, RLC};
	/// Sold by crowdsale.
	pub const CROWDSALE: Balance = 60_000_000 * RLC;
	/// Founders, team and early investors.
	pub const FOUNDERS_AND_TEAM: Balance = 15_000_000 * RLC;
	/// Bounties, R&D, developers and marketing.
	pub const BOUNTIES: Balance = 6_000_000 * RLC;
	/// Special contingency reserve.
	pub const RESERVE: Balance = 6_000_000 * RLC;
}

const _: () = assert!(
	allocation::CROWDSALE
		+ allocation::FOUNDERS_AND_TEAM
		+ allocation::BOUNTIES
		+ allocation::RESERVE
		== TOTAL_SUPPLY
);
