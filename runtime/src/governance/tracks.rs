//! The referendum tracks: what each decides, with what deposits, periods and thresholds.
//!
//! Four tracks, so that polkadot.js Apps shows them as they are:
//! - `root` (0) dispatches as root: runtime upgrades, validator admission and removal, any
//!   privileged call. One referendum decided at a time, a large deposit, long periods.
//! - `contracts` (1) dispatches as [`Origin::ContractDecision`]: approving and revoking apps,
//!   data sets and worker pools. Many at once, a small deposit, shorter periods, a lower turnout
//!   bar.
//! - `referendum_canceller` (2) and `referendum_killer` (3) dispatch as
//!   [`Origin::ReferendumCanceller`] and [`Origin::ReferendumKiller`]: cancelling (deposits
//!   returned) and killing (deposits slashed) other referenda. Many at once and short periods,
//!   so that a junk referendum holding the root track's only slot is cleared in about four
//!   hours by enough support, instead of holding it for 14 days.
//!
//! The periods depend on the genesis [`Pace`]; deposits and curves do not.

use super::origins::{GovernancePace, Origin, Pace};
use crate::{token::RLC, Balance, BlockNumber, OriginCaller, Runtime, DAYS, HOURS, MINUTES};
use alloc::borrow::Cow;
use pallet_referenda::{Curve, Track, TrackInfo};
use sp_runtime::Perbill;

/// Identifier of a track.
pub type TrackId = u16;
/// The root track.
pub const ROOT: TrackId = 0;
/// The contracts track.
pub const CONTRACTS: TrackId = 1;
/// The track that cancels referenda.
pub const CANCELLER: TrackId = 2;
/// The track that kills referenda.
pub const KILLER: TrackId = 3;

/// Durations of one track's phases, in blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Periods {
	pub prepare: BlockNumber,
	pub decision: BlockNumber,
	pub confirm: BlockNumber,
	pub min_enactment: BlockNumber,
}

/// The phases of `track` at `pace`.
pub const fn periods(track: TrackId, pace: Pace) -> Periods {
	match (track, pace) {
		(ROOT, Pace::Standard) => {
			Periods { prepare: 2 * HOURS, decision: 14 * DAYS, confirm: DAYS, min_enactment: DAYS }
		}
		// Clearing a jam within hours; the three hours of confirmation are the time the
		// target's supporters have to vote an unjust cancel or kill down.
		(CANCELLER | KILLER, Pace::Standard) => Periods {
			prepare: HOURS,
			decision: 7 * DAYS,
			confirm: 3 * HOURS,
			min_enactment: 10 * MINUTES,
		},
		(_, Pace::Standard) => Periods {
			prepare: HOURS,
			decision: 7 * DAYS,
			confirm: 3 * HOURS,
			min_enactment: 10 * MINUTES,
		},
		// Deciding starts in the block after the decision deposit, confirmation takes two
		// blocks, enactment the next block: about ten blocks from submission to dispatch.
		(_, Pace::Fast) => {
			Periods { prepare: 1, decision: 5 * MINUTES, confirm: 2, min_enactment: 1 }
		}
	}
}

/// How long a referendum may wait for its decision deposit before anyone may time it out.
pub const fn undeciding_timeout(pace: Pace) -> BlockNumber {
	match pace {
		Pace::Standard => 14 * DAYS,
		Pace::Fast => 5 * MINUTES,
	}
}

/// How long votes with conviction 1x stay locked after the referendum ends (doubling per
/// conviction level).
pub const fn vote_locking_period(pace: Pace) -> BlockNumber {
	match pace {
		Pace::Standard => 7 * DAYS,
		Pace::Fast => 10,
	}
}

const fn name(text: &str) -> [u8; 25] {
	let bytes = text.as_bytes();
	let mut out = [0u8; 25];
	let mut i = 0;
	while i < bytes.len() {
		out[i] = bytes[i];
		i += 1;
	}
	out
}

/// Approval (conviction-weighted ayes over all votes) falls linearly from 100 % to 50 % over the
/// decision period, so an unopposed proposal passes at once and a contested one needs a
/// majority by the end.
const APPROVAL: Curve = Curve::LinearDecreasing {
	length: Perbill::from_percent(100),
	floor: Perbill::from_percent(50),
	ceil: Perbill::from_percent(100),
};

/// Approval on the canceller's and killer's tracks: 80 % at first, so that the holders of a
/// junk referendum, voting against its end, are outvoted by four to one at once; 50 % by the
/// end of the decision period.
const UNBLOCKING_APPROVAL: Curve = Curve::LinearDecreasing {
	length: Perbill::from_percent(100),
	floor: Perbill::from_percent(50),
	ceil: Perbill::from_percent(80),
};

/// Support on the canceller's and killer's tracks: 10 % of the active issuance at first, 1 %
/// by the end of the decision period.
const UNBLOCKING_SUPPORT: Curve = Curve::LinearDecreasing {
	length: Perbill::from_percent(100),
	floor: Perbill::from_percent(1),
	ceil: Perbill::from_percent(10),
};

/// The tracks at `pace`, sorted by identifier.
pub fn track_table(pace: Pace) -> [Track<TrackId, Balance, BlockNumber>; 4] {
	let info = |track: TrackId,
	            label: &str,
	            max_deciding: u32,
	            decision_deposit: Balance,
	            min_approval: Curve,
	            min_support: Curve| {
		let p = periods(track, pace);
		Track {
			id: track,
			info: TrackInfo {
				name: name(label),
				max_deciding,
				decision_deposit,
				prepare_period: p.prepare,
				decision_period: p.decision,
				confirm_period: p.confirm,
				min_enactment_period: p.min_enactment,
				min_approval,
				min_support,
			},
		}
	};
	[
		// Support (aye capital over active issuance): half of it at first, 1 % by the end.
		info(
			ROOT,
			"root",
			1,
			10_000 * RLC,
			APPROVAL,
			Curve::LinearDecreasing {
				length: Perbill::from_percent(100),
				floor: Perbill::from_percent(1),
				ceil: Perbill::from_percent(50),
			},
		),
		// Support: 10 % at first, 0.1 % by the end.
		info(
			CONTRACTS,
			"contracts",
			20,
			100 * RLC,
			APPROVAL,
			Curve::LinearDecreasing {
				length: Perbill::from_percent(100),
				floor: Perbill::from_perthousand(1),
				ceil: Perbill::from_percent(10),
			},
		),
		// Cancelling or killing a root referendum asks less support than the root track's
		// start (50 %), so that a jam clears before the junk referendum could pass. Killing
		// burns the target's deposits: its own deposit is half of root's, a cancel's a tenth.
		info(
			CANCELLER,
			"referendum_canceller",
			100,
			1_000 * RLC,
			UNBLOCKING_APPROVAL,
			UNBLOCKING_SUPPORT,
		),
		info(
			KILLER,
			"referendum_killer",
			100,
			5_000 * RLC,
			UNBLOCKING_APPROVAL,
			UNBLOCKING_SUPPORT,
		),
	]
}

/// The tracks as `pallet-referenda` sees them: the table at the genesis pace.
pub struct Tracks;

impl pallet_referenda::TracksInfo<Balance, BlockNumber> for Tracks {
	type Id = TrackId;
	type RuntimeOrigin = OriginCaller;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<TrackId, Balance, BlockNumber>>> {
		// One storage read, served from the block's overlay after the first: the table is
		// small and built on the fly rather than kept as a `static` for each pace.
		track_table(GovernancePace::<Runtime>::get()).into_iter().map(Cow::Owned)
	}

	fn track_for(origin: &OriginCaller) -> Result<TrackId, ()> {
		match origin {
			OriginCaller::system(frame_system::RawOrigin::Root) => Ok(ROOT),
			OriginCaller::Governance(Origin::ContractDecision) => Ok(CONTRACTS),
			OriginCaller::Governance(Origin::ReferendumCanceller) => Ok(CANCELLER),
			OriginCaller::Governance(Origin::ReferendumKiller) => Ok(KILLER),
			_ => Err(()),
		}
	}
}

/// The vote-locking period at the genesis pace.
pub struct VoteLockingPeriod;
impl frame_support::traits::Get<BlockNumber> for VoteLockingPeriod {
	fn get() -> BlockNumber {
		vote_locking_period(GovernancePace::<Runtime>::get())
	}
}

/// The undeciding timeout at the genesis pace.
pub struct UndecidingTimeout;
impl frame_support::traits::Get<BlockNumber> for UndecidingTimeout {
	fn get() -> BlockNumber {
		undeciding_timeout(GovernancePace::<Runtime>::get())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn tracks_are_sorted_and_named_at_both_paces() {
		for pace in [Pace::Standard, Pace::Fast] {
			let table = track_table(pace);
			assert_eq!(table.clone().map(|t| t.id), [ROOT, CONTRACTS, CANCELLER, KILLER]);
			let names = ["root", "contracts", "referendum_canceller", "referendum_killer"];
			for (track, name) in table.iter().zip(names) {
				assert_eq!(&track.info.name[..name.len()], name.as_bytes());
				assert!(track.info.name[name.len()..].iter().all(|b| *b == 0));
			}
		}
	}

	#[test]
	fn fast_pace_completes_a_referendum_within_minutes() {
		for track in [ROOT, CONTRACTS, CANCELLER, KILLER] {
			let p = periods(track, Pace::Fast);
			// Submission to enactment for an unopposed proposal.
			let blocks = p.prepare + p.confirm + p.min_enactment;
			assert!(blocks * 6 <= 60, "{blocks} blocks");
			assert!(p.decision >= 5 * MINUTES);
		}
	}

	#[test]
	fn standard_pace_gives_voters_days() {
		let root = periods(ROOT, Pace::Standard);
		let contracts = periods(CONTRACTS, Pace::Standard);
		assert_eq!(root.decision, 14 * DAYS);
		assert_eq!(contracts.decision, 7 * DAYS);
		assert!(root.confirm > contracts.confirm);
		assert!(root.min_enactment > contracts.min_enactment);
		assert!(vote_locking_period(Pace::Standard) >= 7 * DAYS);
	}

	#[test]
	fn a_jam_of_the_root_track_is_cleared_within_hours() {
		let [root, _, canceller, killer] = track_table(Pace::Standard);
		for track in [canceller, killer] {
			let p = periods(track.id, Pace::Standard);
			// An unopposed cancel or kill, from submission to enactment: hours, and at least
			// three of confirmation in which the target's supporters can vote it down.
			assert!(p.prepare + p.confirm + p.min_enactment <= 5 * HOURS);
			assert!(p.confirm >= 3 * HOURS);
			// Shorter than the junk referendum's own way to approval.
			let r = periods(ROOT, Pace::Standard);
			assert!(p.prepare + p.confirm < r.prepare + r.confirm);
			assert!(track.info.max_deciding > root.info.max_deciding);
			assert!(track.info.decision_deposit < root.info.decision_deposit);
			// Less support asked than the root track asks at the start of its decision.
			let start = Perbill::zero();
			assert!(
				track.info.min_support.threshold(start) < root.info.min_support.threshold(start)
			);
		}
	}

	#[test]
	fn the_root_track_asks_more_than_the_contracts_track() {
		let [root, contracts, ..] = track_table(Pace::Standard);
		assert!(root.info.decision_deposit > contracts.info.decision_deposit);
		assert!(root.info.max_deciding < contracts.info.max_deciding);
		for x in [0, 250_000_000, 500_000_000, 1_000_000_000] {
			let x = Perbill::from_parts(x);
			assert!(root.info.min_support.threshold(x) >= contracts.info.min_support.threshold(x));
		}
	}
}
