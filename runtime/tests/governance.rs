//! Governance in the runtime as built, on the development preset's state: referenda on the
//! contracts track approve and revoke registry contracts, referenda on the root track admit
//! validators, and neither track can do the other's job.

mod common;

use codec::Encode;
use frame_support::{
	assert_noop, assert_ok,
	traits::{schedule::DispatchTime, Hooks, StorePreimage},
};
use iexec_runtime::{
	governance::{origins::Origin, tracks},
	AccountId, Balance, BlockNumber, OriginCaller, Preimage, Referenda, Registry, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeOrigin, Scheduler, SessionKeys, System, RLC,
};
use pallet_conviction_voting::{AccountVote, Conviction, Vote};
use pallet_referenda::ReferendumInfo;
use pallet_registry::{AppRuntime, ContractId, ContractRegistry, Rfc, Status, Terms};
use sp_keyring::Sr25519Keyring::{self, *};
use sp_runtime::DispatchError;

/// Every account votes this much: six of them are 62 % of the supply.
const VOTE: Balance = 9_000_000 * RLC;

fn dev_state(test: impl FnOnce()) {
	let mut ext = common::preset_ext("development");
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| {
		System::set_block_number(1);
		test();
		common::check_all_pallets();
	});
}

/// Runs the scheduler (which drives referenda through their alarms) for `blocks` blocks.
fn advance(blocks: BlockNumber) {
	for _ in 0..blocks {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Scheduler::on_initialize(next);
	}
}

fn signed(who: Sr25519Keyring) -> RuntimeOrigin {
	RuntimeOrigin::signed(who.to_account_id())
}

fn bounded<S: frame_support::traits::Get<u32>>(text: &str) -> frame_support::BoundedVec<u8, S> {
	text.as_bytes().to_vec().try_into().unwrap()
}

fn propose_app(owner: Sr25519Keyring) -> ContractId {
	let id = pallet_registry::NextContractId::<Runtime>::get();
	assert_ok!(Registry::propose(
		signed(owner),
		Rfc { document_hash: [3; 32], uri: bounded("ipfs://rfc/render") },
		Terms::App {
			runtime: AppRuntime::Wasm,
			code_uri: bounded("https://apps.example/render.wasm"),
			code_hash: [9; 32],
			requirements: bounded("TARGET.Memory >= 1024"),
		},
	));
	id
}

fn status(id: ContractId) -> Status {
	pallet_registry::Contracts::<Runtime>::get(id).expect("contract exists").status
}

/// Submits `call` for a referendum dispatching as `origin`, places the decision deposit and
/// has `voters` vote aye (or nay) with conviction 1x. Returns the referendum's index.
fn referendum(
	origin: OriginCaller,
	call: RuntimeCall,
	voters: &[Sr25519Keyring],
	aye: bool,
) -> u32 {
	let index = submitted(Alice, origin, call);
	for voter in voters {
		vote(*voter, index, aye);
	}
	index
}

/// `who` submits `call` for a referendum dispatching as `origin` and places its decision
/// deposit. Returns the referendum's index.
fn submitted(who: Sr25519Keyring, origin: OriginCaller, call: RuntimeCall) -> u32 {
	let index = pallet_referenda::ReferendumCount::<Runtime>::get();
	assert_ok!(Referenda::submit(
		signed(who),
		Box::new(origin),
		Preimage::bound(call).unwrap(),
		DispatchTime::After(1),
	));
	assert_ok!(Referenda::place_decision_deposit(signed(who), index));
	index
}

/// `voter` votes `VOTE` aye or nay on referendum `index`, with conviction 1x.
fn vote(voter: Sr25519Keyring, index: u32, aye: bool) {
	let vote = Vote { aye, conviction: Conviction::Locked1x };
	assert_ok!(pallet_conviction_voting::Pallet::<Runtime>::vote(
		signed(voter),
		index,
		AccountVote::Standard { vote, balance: VOTE },
	));
}

fn track_of(index: u32) -> u16 {
	match pallet_referenda::ReferendumInfoFor::<Runtime>::get(index) {
		Some(ReferendumInfo::Ongoing(status)) => status.track,
		other => panic!("referendum {index} is not ongoing: {other:?}"),
	}
}

fn approved(index: u32) -> bool {
	matches!(
		pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
		Some(ReferendumInfo::Approved(..))
	)
}

/// The results of the enacted proposals so far (referenda schedule them by name; their own
/// alarms are anonymous).
fn dispatched() -> Vec<Result<(), DispatchError>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Scheduler(pallet_scheduler::Event::Dispatched {
				id: Some(_),
				result,
				..
			}) => Some(result),
			_ => None,
		})
		.collect()
}

fn contract_decision() -> OriginCaller {
	OriginCaller::Governance(Origin::ContractDecision)
}

fn approve(id: ContractId) -> RuntimeCall {
	RuntimeCall::Registry(pallet_registry::Call::approve { id })
}

#[test]
fn a_contracts_referendum_approves_an_app_and_another_revokes_it() {
	dev_state(|| {
		let id = propose_app(Bob);
		assert!(!<Registry as ContractRegistry<AccountId>>::is_usable(id));

		let index = referendum(contract_decision(), approve(id), &[Alice], true);
		assert_eq!(track_of(index), tracks::CONTRACTS);
		// Fast pace: prepare, confirm and enactment take a handful of blocks.
		advance(8);
		assert!(
			approved(index),
			"{:?}",
			pallet_referenda::ReferendumInfoFor::<Runtime>::get(index)
		);
		assert_eq!(dispatched(), vec![Ok(())]);
		assert_eq!(status(id), Status::Approved);
		assert!(<Registry as ContractRegistry<AccountId>>::is_usable(id));
		assert_eq!(<Registry as ContractRegistry<AccountId>>::owner(id), Some(Bob.to_account_id()));

		let revoke = RuntimeCall::Registry(pallet_registry::Call::revoke { id });
		referendum(contract_decision(), revoke, &[Alice], true);
		advance(8);
		assert_eq!(status(id), Status::Revoked);
		assert!(!<Registry as ContractRegistry<AccountId>>::is_usable(id));
	});
}

#[test]
fn only_the_contracts_track_decides_contracts() {
	dev_state(|| {
		let id = propose_app(Bob);
		// Not an account, not root (sudo): only a referendum on the contracts track.
		assert_noop!(Registry::approve(signed(Alice), id), DispatchError::BadOrigin);
		assert_noop!(Registry::approve(RuntimeOrigin::root(), id), DispatchError::BadOrigin);

		// A root-track referendum carrying the call passes, but its dispatch is refused.
		referendum(
			OriginCaller::system(frame_system::RawOrigin::Root),
			approve(id),
			&voters(),
			true,
		);
		advance(8);
		assert_eq!(dispatched(), vec![Err(DispatchError::BadOrigin)]);
		assert_eq!(status(id), Status::Proposed);

		// Root reaches every origin through `utility.dispatchAs`, this one included
		// (docs/governance.md says so): a root referendum can approve a contract that way.
		let as_contract_decision = iexec_runtime::Utility::dispatch_as(
			RuntimeOrigin::root(),
			Box::new(contract_decision()),
			Box::new(approve(id)),
		);
		assert_ok!(as_contract_decision);
		assert_eq!(status(id), Status::Approved);
		// An account cannot.
		let id = propose_app(Bob);
		assert_noop!(
			iexec_runtime::Utility::dispatch_as(
				signed(Alice),
				Box::new(contract_decision()),
				Box::new(approve(id)),
			),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn a_rejected_referendum_changes_nothing_and_keeps_only_the_submission_deposit() {
	dev_state(|| {
		let id = propose_app(Bob);
		let alice = Alice.to_account_id();
		let reserved_before = pallet_balances::Pallet::<Runtime>::reserved_balance(&alice);
		let index = referendum(contract_decision(), approve(id), &[Alice, Bob], false);
		let decision = tracks::periods(tracks::CONTRACTS, iexec_runtime::governance::Pace::Fast);
		advance(decision.prepare + decision.decision + 2);
		assert!(
			matches!(
				pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
				Some(ReferendumInfo::Rejected(..))
			),
			"{:?}",
			pallet_referenda::ReferendumInfoFor::<Runtime>::get(index)
		);
		assert!(dispatched().is_empty());
		assert_eq!(status(id), Status::Proposed);
		// The decision deposit comes back on request; the submission deposit of a rejected
		// proposal does not (it is what keeps proposals from being spam).
		assert_ok!(Referenda::refund_decision_deposit(signed(Alice), index));
		assert_noop!(
			Referenda::refund_submission_deposit(signed(Alice), index),
			pallet_referenda::Error::<Runtime>::BadStatus
		);
		assert_eq!(
			pallet_balances::Pallet::<Runtime>::reserved_balance(&alice),
			reserved_before + iexec_runtime::governance::SubmissionDeposit::get()
		);
	});
}

fn voters() -> Vec<Sr25519Keyring> {
	vec![Alice, Bob, Charlie, Dave, Eve, Ferdie]
}

/// Dave registers session keys, as a validator would from its node, with their proof.
fn register_keys(who: Sr25519Keyring) {
	let account: AccountId = who.to_account_id();
	let generated = SessionKeys::generate(&account.encode(), None);
	assert_ok!(pallet_session::Pallet::<Runtime>::set_keys(
		signed(who),
		generated.keys,
		generated.proof.encode(),
	));
}

#[test]
fn a_root_referendum_admits_a_validator_and_the_contracts_track_cannot() {
	dev_state(|| {
		let dave = Dave.to_account_id();
		register_keys(Dave);
		let add = RuntimeCall::ValidatorSet(pallet_validator_set::Call::add_validator {
			who: dave.clone(),
		});

		// Through the contracts track the call is refused when dispatched.
		referendum(contract_decision(), add.clone(), &voters(), true);
		advance(8);
		assert_eq!(dispatched(), vec![Err(DispatchError::BadOrigin)]);
		assert!(!pallet_validator_set::Validators::<Runtime>::get().contains(&dave));

		// Through the root track, with more than half the supply voting for it at once.
		let index =
			referendum(OriginCaller::system(frame_system::RawOrigin::Root), add, &voters(), true);
		assert_eq!(track_of(index), tracks::ROOT);
		advance(8);
		assert!(approved(index));
		assert!(pallet_validator_set::Validators::<Runtime>::get().contains(&dave));
	});
}

/// Free and held, locks included.
fn total_balance(who: &AccountId) -> Balance {
	use frame_support::traits::fungible::Inspect;
	pallet_balances::Pallet::<Runtime>::total_balance(who)
}

fn root() -> OriginCaller {
	OriginCaller::system(frame_system::RawOrigin::Root)
}

fn remark(text: &[u8]) -> RuntimeCall {
	RuntimeCall::System(frame_system::Call::remark { remark: text.to_vec() })
}

/// A root-only call whose effect a test can see.
fn set_marker(key: &[u8]) -> RuntimeCall {
	RuntimeCall::System(frame_system::Call::set_storage { items: vec![(key.to_vec(), vec![1])] })
}

fn deciding(index: u32) -> bool {
	matches!(
		pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
		Some(ReferendumInfo::Ongoing(status)) if status.deciding.is_some()
	)
}

fn killed(index: u32) -> bool {
	matches!(
		pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
		Some(ReferendumInfo::Killed(..))
	)
}

/// At the standard pace, a junk root referendum holds the root track's only decision slot for
/// up to 14 days. Holders kill it on the killer's track within about an hour, although its
/// submitter votes against; its deposits are slashed, and the root referendum queued behind it
/// goes on to be decided and enacted.
#[test]
fn a_junk_root_referendum_is_killed_within_hours_and_the_next_root_referendum_proceeds() {
	use iexec_runtime::{
		governance::{origins::GovernancePace, Pace, SubmissionDeposit},
		HOURS,
	};
	dev_state(|| {
		GovernancePace::<Runtime>::put(Pace::Standard);
		let eve = Eve.to_account_id();
		let eve_before = total_balance(&eve);
		let junk = submitted(Eve, root(), remark(b"junk"));
		let root_periods = tracks::periods(tracks::ROOT, Pace::Standard);
		advance(root_periods.prepare + 2);
		assert!(deciding(junk), "the junk holds the root track");
		let fix = submitted(Alice, root(), set_marker(b":fix"));
		advance(2);
		assert!(!deciding(fix), "the next root referendum waits in the queue");
		for voter in [Alice, Bob, Charlie, Dave, Ferdie] {
			vote(voter, fix, true);
		}

		// Nobody but root or the killer's track may kill it.
		assert_noop!(Referenda::kill(signed(Alice), junk), DispatchError::BadOrigin);
		let by_contracts = RuntimeOrigin::from(contract_decision());
		assert_noop!(Referenda::kill(by_contracts, junk), DispatchError::BadOrigin);
		let by_canceller =
			RuntimeOrigin::from(OriginCaller::Governance(Origin::ReferendumCanceller));
		assert_noop!(Referenda::kill(by_canceller, junk), DispatchError::BadOrigin);
		let by_killer = RuntimeOrigin::from(OriginCaller::Governance(Origin::ReferendumKiller));
		assert_noop!(Referenda::cancel(by_killer, junk), DispatchError::BadOrigin);

		let kill = RuntimeCall::Referenda(pallet_referenda::Call::kill { index: junk });
		let killer = OriginCaller::Governance(Origin::ReferendumKiller);
		let vote_to_kill = submitted(Bob, killer, kill);
		assert_eq!(track_of(vote_to_kill), tracks::KILLER);
		for voter in [Alice, Bob, Charlie, Dave, Ferdie] {
			vote(voter, vote_to_kill, true);
		}
		vote(Eve, vote_to_kill, false);
		let kill_periods = tracks::periods(tracks::KILLER, Pace::Standard);
		let expected = kill_periods.prepare + kill_periods.confirm + kill_periods.min_enactment;
		let mut waited = 0;
		while !killed(junk) && waited < 2 * expected {
			advance(1);
			waited += 1;
		}
		assert!(killed(junk), "not killed after {waited} blocks");
		assert!(waited <= expected + 10 && waited <= 5 * HOURS, "killed after {waited} blocks");
		println!(
			"measured: junk root referendum killed {waited} blocks after the kill was submitted"
		);
		// Both of Eve's deposits are gone: slashed, not returned.
		let root_deposit = tracks::track_table(Pace::Standard)[0].info.decision_deposit;
		assert_eq!(total_balance(&eve), eve_before - SubmissionDeposit::get() - root_deposit);
		assert_noop!(
			Referenda::refund_decision_deposit(signed(Eve), junk),
			pallet_referenda::Error::<Runtime>::NoDeposit
		);

		// The next root referendum takes the slot once its own preparation is over, and is
		// confirmed and enacted.
		advance(root_periods.prepare + 2);
		assert!(deciding(fix), "the root track is free again");
		let before = dispatched().len();
		advance(root_periods.confirm + root_periods.min_enactment + 4);
		assert!(approved(fix));
		assert_eq!(dispatched()[before..], [Ok(())]);
		assert_eq!(sp_io::storage::get(b":fix").as_deref(), Some(&[1u8][..]));
	});
}

/// The canceller's track ends a referendum and returns its deposits.
#[test]
fn the_cancellers_track_cancels_a_referendum_and_returns_its_deposits() {
	dev_state(|| {
		let charlie = Charlie.to_account_id();
		let before = total_balance(&charlie);
		let target = submitted(Charlie, contract_decision(), remark(b"withdrawn"));
		let cancel = RuntimeCall::Referenda(pallet_referenda::Call::cancel { index: target });
		let canceller = OriginCaller::Governance(Origin::ReferendumCanceller);
		let index = referendum(canceller, cancel, &voters(), true);
		assert_eq!(track_of(index), tracks::CANCELLER);
		assert_noop!(Referenda::cancel(signed(Alice), target), DispatchError::BadOrigin);
		advance(8);
		assert!(matches!(
			pallet_referenda::ReferendumInfoFor::<Runtime>::get(target),
			Some(ReferendumInfo::Cancelled(..))
		));
		assert_ok!(Referenda::refund_decision_deposit(signed(Charlie), target));
		assert_ok!(Referenda::refund_submission_deposit(signed(Charlie), target));
		assert_eq!(total_balance(&charlie), before);
	});
}
