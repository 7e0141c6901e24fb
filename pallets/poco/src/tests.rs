//! Each rule and each error of Proof-of-Contribution, on the mock runtime, with the pallets'
//! `try_state` checked after every test.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::Inspect, Hooks},
	weights::Weight,
};
use pallet_escrow::Escrow as _;
use pallet_market::{Category, DealTerms};

const HONEST: [u8; 32] = [0xAA; 32];
const LIE: [u8; 32] = [0xBB; 32];
const STAKE: u64 = POOL_PRICE * 30 / 100;
const POOL_STAKE_PER_TASK: u64 = POOL_PRICE * 30 / 100;

fn status(id: TaskId) -> TaskStatus<u64> {
	Tasks::<Test>::get(id.deal, id.index).expect("started").status
}

fn issuance() -> u64 {
	<Balances as Inspect<u64>>::total_issuance()
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::Poco(e) = r.event { Some(e) } else { None })
		.collect()
}

/// A trust-3 task of a new deal whose two workers claimed it and committed these results.
fn committed(digest_a: [u8; 32], digest_b: [u8; 32]) -> (Setup, TaskId, [u64; 2]) {
	let [a, b] = [WORKERS[0], WORKERS[1]];
	let s = deal(1, 3, &[a, b]);
	let id = task(s.deal, 0);
	assert_ok!(claim(a, id));
	assert_ok!(claim(b, id));
	assert_ok!(contribute(a, id, digest_a));
	assert_ok!(contribute(b, id, digest_b));
	(s, id, [a, b])
}

#[test]
fn workers_join_with_an_admitted_ad_update_it_and_leave() {
	checked(|| {
		let pool = approved_pool(POOL_OWNER, 5);
		let app = approved_app();
		let w = WORKERS[0];
		assert_noop!(
			Poco::join_pool(RuntimeOrigin::signed(w), 99, bounded(MACHINE_AD)),
			Error::<Test>::UnknownPool
		);
		assert_noop!(
			Poco::join_pool(RuntimeOrigin::signed(w), app, bounded(MACHINE_AD)),
			Error::<Test>::NotAPool
		);
		assert_noop!(
			Poco::join_pool(RuntimeOrigin::signed(w), pool, bounded("[ Cpus = 1 ]")),
			Error::<Test>::AdmissionRuleNotMet
		);
		assert_noop!(
			Poco::join_pool(RuntimeOrigin::signed(w), pool, bounded("[ Cpus = ")),
			Error::<Test>::InvalidClassAd
		);
		assert_noop!(
			Poco::join_pool(RuntimeOrigin::signed(NOBODY), pool, bounded(MACHINE_AD)),
			Error::<Test>::CannotHoldDeposit
		);
		join(w, pool);
		System::assert_last_event(Event::WorkerJoined { worker: w, pool, deposit: 20 }.into());
		assert_eq!(free(w), START - 20);
		assert_noop!(
			Poco::join_pool(RuntimeOrigin::signed(w), pool, bounded(MACHINE_AD)),
			Error::<Test>::AlreadyAWorker
		);
		assert_noop!(
			Poco::update_ad(RuntimeOrigin::signed(w), bounded("[ Cpus = 1 ]")),
			Error::<Test>::AdmissionRuleNotMet
		);
		assert_ok!(Poco::update_ad(RuntimeOrigin::signed(w), bounded("[ Cpus = 64 ]")));
		let stored = pallet_market::ads::load(&Workers::<Test>::get(w).unwrap().ad);
		assert_eq!(stored.get("Cpus"), Some(&iexec_classad::Expr::Int(64)));
		assert_eq!(PoolRecords::<Test>::get(pool).members, 1);
		assert_ok!(Poco::leave_pool(RuntimeOrigin::signed(w)));
		assert_eq!(free(w), START);
		assert_eq!(PoolRecords::<Test>::get(pool).members, 0);
		assert_noop!(Poco::leave_pool(RuntimeOrigin::signed(w)), Error::<Test>::NotAWorker);
		// A revoked pool admits nobody.
		assert_ok!(Registry::revoke(RuntimeOrigin::root(), pool));
		assert_noop!(
			Poco::join_pool(RuntimeOrigin::signed(w), pool, bounded(MACHINE_AD)),
			Error::<Test>::PoolNotApproved
		);
	});
}

#[test]
fn trust_one_fast_path_pays_everyone_to_the_unit() {
	checked(|| {
		let w = WORKERS[0];
		let s = deal(1, 1, &[w]);
		let id = task(s.deal, 0);
		let before = [REQUESTER, APP_OWNER, DATASET_OWNER, POOL_OWNER, w].map(free);
		let supply = issuance();
		assert_ok!(claim(w, id));
		assert_eq!(Workers::<Test>::get(w).unwrap().replicas, 1);
		assert_noop!(Poco::leave_pool(RuntimeOrigin::signed(w)), Error::<Test>::HoldsReplicas);
		assert_ok!(submit(w, id, HONEST));
		assert_eq!(status(id), TaskStatus::Completed);
		let result = Results::<Test>::get(s.deal, 0).unwrap();
		assert_eq!((result.digest, result.completed_at), (HONEST, Some(1)));
		// Pot: the pool price, 1,000; the owner keeps 5 % = 50, the only winner gets 950.
		let after = [REQUESTER, APP_OWNER, DATASET_OWNER, POOL_OWNER, w].map(free);
		assert_eq!(after[0], before[0]);
		assert_eq!(after[1], before[1] + APP_PRICE);
		assert_eq!(after[2], before[2] + DATASET_PRICE);
		assert_eq!(after[3], before[3] + 50 + POOL_STAKE_PER_TASK);
		assert_eq!(after[4], before[4] + 950);
		assert_eq!(issuance(), supply);
		// Not replicated: no score change.
		assert_eq!(Scores::<Test>::get(w), 0);
		assert_eq!(Workers::<Test>::get(w).unwrap().replicas, 0);
		assert!(events().contains(&Event::TaskCompleted {
			task: id,
			digest: HONEST,
			winners: 1,
			pot: POOL_PRICE
		}));
		let figures = <Poco as pallet_market::PoolStatistics>::figures(s.pool);
		assert_eq!(
			(figures.mean_task_seconds, figures.reliability_ppm),
			(Some(0), Some(1_000_000))
		);
		// Settled: nothing more to do.
		assert_noop!(claim(WORKERS[1], id), Error::<Test>::NotAWorker);
		assert_noop!(claim(w, id), Error::<Test>::TaskNotOpen);
		assert_noop!(Poco::claim_failed(RuntimeOrigin::signed(9), id), Error::<Test>::TaskSettled);
	});
}

/// Design section 5's worked example: three workers at trust 3, one of them lying.
#[test]
fn worked_example_three_workers_one_liar() {
	checked(|| {
		let [a, b, c] = [WORKERS[0], WORKERS[1], WORKERS[2]];
		// Histories: A new (weight 2), B 6 (weight 2), C 15 (weight 4). Set before they join.
		Scores::<Test>::insert(b, 6);
		Scores::<Test>::insert(c, 15);
		let s = deal(1, 3, &[a, b, c]);
		let id = task(s.deal, 0);
		let before = [REQUESTER, APP_OWNER, DATASET_OWNER, POOL_OWNER, a, b, c].map(free);
		let (supply, kitty_before) = (issuance(), kitty());

		assert_ok!(claim(a, id));
		assert_ok!(claim(b, id));
		// A and B agreeing would reach trust 3 (4 × 3 > 5 × 2): no third replica yet.
		assert_noop!(claim(c, id), Error::<Test>::EnoughReplicasOut);
		assert_ok!(contribute(a, id, HONEST));
		assert_ok!(contribute(b, id, LIE));
		assert_eq!(status(id), TaskStatus::Open);
		// 2 against 2: now C is needed.
		assert_ok!(claim(c, id));
		assert_ok!(contribute(c, id, HONEST));
		// A and C: 2 × 4 = 8 of a total 11: 24 > 22.
		let deadline = 1 + 2 * T_XS;
		assert_eq!(
			status(id),
			TaskStatus::Revealing { result_hash: commitments::result_hash(id, &HONEST), deadline }
		);
		assert_eq!(
			Escrow::locked(
				pallet_escrow::Ledger::Deal(s.deal),
				&b,
				pallet_escrow::HoldReason::WorkerStake
			),
			STAKE
		);
		assert_noop!(contribute(b, id, HONEST), Error::<Test>::TaskNotOpen);
		assert_noop!(reveal(b, id, LIE), Error::<Test>::NotAWinner);
		assert_ok!(reveal(a, id, HONEST));
		assert_eq!(Results::<Test>::get(s.deal, 0).unwrap().completed_at, None);
		assert_noop!(reveal(a, id, HONEST), Error::<Test>::NotAWinner);
		assert_ok!(reveal(c, id, HONEST));
		assert_eq!(status(id), TaskStatus::Completed);

		// Pot: 1,000 + B's stake 300 = 1,300; 95 % = 1,235 for winners by log2 weight, A 1
		// and C 2: A 411, C 823; the pool owner 1,300 - 1,234 = 66, and its stake back.
		let after = [REQUESTER, APP_OWNER, DATASET_OWNER, POOL_OWNER, a, b, c].map(free);
		assert_eq!(after[0], before[0]);
		assert_eq!(after[1], before[1] + 100);
		assert_eq!(after[2], before[2] + 50);
		assert_eq!(after[3], before[3] + 66 + POOL_STAKE_PER_TASK);
		assert_eq!(after[4], before[4] + 411);
		assert_eq!(after[5], before[5] - STAKE);
		assert_eq!(after[6], before[6] + 823);
		assert_eq!((issuance(), kitty()), (supply, kitty_before));
		// Scores: winners +1 (the task was replicated), the liar loses a third.
		assert_eq!([a, b, c].map(Scores::<Test>::get), [1, 4, 16]);
		assert_eq!(PoolRecords::<Test>::get(s.pool).score_sum, 21);
		assert!(events().contains(&Event::TaskCompleted {
			task: id,
			digest: HONEST,
			winners: 2,
			pot: 1_300
		}));
	});
}

#[test]
fn silent_winners_reopen_the_task_and_lose_their_stake() {
	checked(|| {
		let [a, b] = [WORKERS[0], WORKERS[1]];
		let s = deal(1, 1, &[a, b]);
		let id = task(s.deal, 0);
		assert_ok!(claim(a, id));
		// One replica out is enough at trust 1.
		assert_noop!(claim(b, id), Error::<Test>::EnoughReplicasOut);
		assert_ok!(contribute(a, id, LIE));
		assert!(matches!(status(id), TaskStatus::Revealing { .. }));
		assert_noop!(Poco::finalize(RuntimeOrigin::signed(9), id), Error::<Test>::NotDue);
		let kitty_before = kitty();
		// A never reveals: at the reveal deadline the hook reopens the task.
		run_to(1 + 2 * T_XS);
		assert_eq!(status(id), TaskStatus::Open);
		assert_eq!(kitty(), kitty_before + STAKE);
		assert_eq!(free(a), START - 20 - STAKE);
		assert!(events().contains(&Event::TaskReopened { task: id, discarded: 1, seized: STAKE }));
		// A may not try again; B may.
		assert_noop!(claim(a, id), Error::<Test>::AlreadyHoldsReplica);
		assert_ok!(claim(b, id));
		assert_ok!(contribute(b, id, HONEST));
		let pool_before = free(POOL_OWNER);
		assert_ok!(reveal(b, id, HONEST));
		assert_eq!(status(id), TaskStatus::Completed);
		// The kitty pays 10 % of the 300 it holds (30, above the minimum 5) to the pool owner.
		assert_eq!(free(POOL_OWNER), pool_before + 50 + POOL_STAKE_PER_TASK + 30);
		assert_eq!(kitty(), kitty_before + STAKE - 30);
		assert_eq!(Workers::<Test>::get(a).unwrap().replicas, 0);
		// B's result was checked by nobody (A's was discarded): no score for it.
		assert_eq!(Scores::<Test>::get(b), 0);
	});
}

#[test]
fn one_reveal_is_enough_at_the_reveal_deadline() {
	checked(|| {
		let (_, id, [a, b]) = committed(HONEST, HONEST);
		assert_ok!(reveal(a, id, HONEST));
		run_to(1 + 2 * T_XS - 1);
		assert_noop!(Poco::finalize(RuntimeOrigin::signed(9), id), Error::<Test>::NotDue);
		let b_before = free(b);
		// Anyone may finalise at the deadline: B's stake joins the pot, A takes the workers'
		// part (1,300 × 95 %).
		run_to(1 + 2 * T_XS);
		assert_eq!(status(id), TaskStatus::Completed);
		assert_eq!(free(b), b_before);
		assert_eq!(free(a), START - 20 + 1_235);
		assert_eq!(Scores::<Test>::get(a), 1);
	});
}

#[test]
fn a_task_without_consensus_fails_when_contributions_close_and_refunds() {
	checked(|| {
		let (s, id, [a, b]) = committed(HONEST, LIE);
		assert_noop!(Poco::claim_failed(RuntimeOrigin::signed(9), id), Error::<Test>::NotDue);
		let requester = free(REQUESTER);
		let kitty_before = kitty();
		let pool_owner = free(POOL_OWNER);
		run_to(1 + 7 * T_XS);
		assert_eq!(status(id), TaskStatus::Failed);
		assert_eq!(free(REQUESTER), requester + PER_TASK);
		assert_eq!(kitty(), kitty_before + POOL_STAKE_PER_TASK);
		assert_eq!(free(POOL_OWNER), pool_owner);
		assert_eq!([a, b].map(free), [START - 20; 2]);
		assert_eq!(PoolRecords::<Test>::get(s.pool).failed, 1);
		assert!(events().contains(&Event::TaskFailed { task: id, refunded: PER_TASK }));
		assert!(Results::<Test>::get(s.deal, 0).is_none());
		assert_noop!(Poco::claim_failed(RuntimeOrigin::signed(9), id), Error::<Test>::TaskSettled);
	});
}

#[test]
fn anyone_may_claim_a_failed_task_when_the_hook_has_no_room() {
	checked(|| {
		let a = WORKERS[0];
		let s = deal(1, 3, &[a]);
		let id = task(s.deal, 0);
		assert_ok!(claim(a, id));
		System::set_block_number(1 + 7 * T_XS);
		// No hook ran: the task is still open, and anyone settles it.
		assert_ok!(Poco::claim_failed(RuntimeOrigin::signed(NOBODY), id));
		assert_eq!(status(id), TaskStatus::Failed);
		// The hook then finds the deadline settled already and drops it.
		assert_eq!(DueAt::<Test>::get(1 + 7 * T_XS).len(), 1);
		Poco::on_idle(1 + 7 * T_XS, Weight::MAX);
		assert!(DueAt::<Test>::get(1 + 7 * T_XS).is_empty());
	});
}

#[test]
fn the_hook_stops_at_its_weight_and_goes_on_later() {
	checked(|| {
		let workers = [WORKERS[0], WORKERS[1], WORKERS[2]];
		let s = deal(3, 3, &workers);
		for (i, w) in workers.iter().enumerate() {
			assert_ok!(claim(*w, task(s.deal, i as u32)));
		}
		let due = 1 + 7 * T_XS;
		assert_eq!(DueAt::<Test>::get(due).len(), 3);
		System::set_block_number(due);
		// Room for one deadline only (and the reads around it).
		let one = Poco::due_weight().saturating_add(Weight::from_parts(200_000_000, 0));
		Poco::on_idle(due, one);
		assert_eq!(DueAt::<Test>::get(due).len(), 2);
		assert_eq!(status(task(s.deal, 0)), TaskStatus::Failed);
		assert_eq!(status(task(s.deal, 1)), TaskStatus::Open);
		assert_eq!(DueCursor::<Test>::get(), Some(due));
		Poco::on_idle(due, Weight::MAX);
		assert!(DueAt::<Test>::get(due).is_empty());
		assert_eq!(status(task(s.deal, 2)), TaskStatus::Failed);
		assert_eq!(DueCursor::<Test>::get(), Some(due + 1));
	});
}

#[test]
fn tasks_start_in_order_and_those_never_started_are_refunded_together() {
	checked(|| {
		let a = WORKERS[0];
		let s = deal(4, 1, &[a]);
		assert_noop!(claim(a, task(s.deal, 1)), Error::<Test>::NotNextTask);
		assert_noop!(claim(a, task(s.deal, 4)), Error::<Test>::NoSuchTask);
		assert_noop!(claim(a, task(99, 0)), Error::<Test>::UnknownDeal);
		run_to(5);
		assert_ok!(claim(a, task(s.deal, 0)));
		assert_ok!(submit(a, task(s.deal, 0), HONEST));
		assert_noop!(
			Poco::claim_unstarted(RuntimeOrigin::signed(9), s.deal),
			Error::<Test>::NotDue
		);
		let (requester, kitty_before) = (free(REQUESTER), kitty());
		// Ten task times after the last start: tasks 1..4 are refunded; the pool owner's stake
		// for them (3 × 300) goes to the kitty.
		System::set_block_number(5 + 10 * T_XS);
		assert_ok!(Poco::claim_unstarted(RuntimeOrigin::signed(9), s.deal));
		assert_eq!(free(REQUESTER), requester + 3 * PER_TASK);
		assert_eq!(kitty(), kitty_before + 3 * POOL_STAKE_PER_TASK);
		assert_noop!(
			Poco::claim_unstarted(RuntimeOrigin::signed(9), s.deal),
			Error::<Test>::NothingUnstarted
		);
		assert_noop!(claim(a, task(s.deal, 1)), Error::<Test>::NotNextTask);
	});
}

#[test]
fn claims_are_checked() {
	checked(|| {
		let [a, b] = [WORKERS[0], WORKERS[1]];
		let s = deal(2, 3, &[a, b]);
		let id = task(s.deal, 0);
		assert_noop!(claim(WORKERS[5], id), Error::<Test>::NotAWorker);
		// A worker of another pool.
		let other = approved_pool(OTHER_POOL_OWNER, 1);
		join(WORKERS[5], other);
		assert_noop!(claim(WORKERS[5], id), Error::<Test>::NotInDealsPool);
		assert_ok!(claim(a, id));
		assert_noop!(claim(a, id), Error::<Test>::AlreadyHoldsReplica);
		assert_ok!(claim(b, id));
		// Contributions close at the contribution deadline.
		System::set_block_number(1 + 7 * T_XS);
		assert_noop!(contribute(a, id, HONEST), Error::<Test>::ContributionsClosed);
		assert_noop!(claim(WORKERS[2], id), Error::<Test>::NotAWorker);
	});
}

#[test]
fn the_job_requirements_bind_each_worker() {
	checked(|| {
		let [a, b] = [WORKERS[0], WORKERS[1]];
		let s = deal(1, 3, &[a, b]);
		let id = task(s.deal, 0);
		// Change the stored job to need 6 CPUs (as if the request had asked it).
		pallet_market::Deals::<Test>::mutate(s.deal, |d| {
			let ad =
				pallet_market::ads::parse_order_ad(b"[ Requirements = TARGET.Cpus >= 6 ]").unwrap();
			d.as_mut().unwrap().job_ad = pallet_market::ads::store(&ad).unwrap();
		});
		assert_noop!(claim(a, id), Error::<Test>::JobRequirementsNotMet);
		assert_ok!(Poco::update_ad(RuntimeOrigin::signed(a), bounded("[ Cpus = 8 ]")));
		assert_ok!(claim(a, id));
	});
}

#[test]
fn the_registered_app_and_data_set_rules_bind_each_worker() {
	use pallet_market::{
		ads::{rule_ad, store_rules},
		matching::HostRules,
	};
	checked(|| {
		let [a, b] = [WORKERS[0], WORKERS[1]];
		let s = deal(1, 3, &[a, b]);
		let id = task(s.deal, 0);
		// The deal's app demands nothing of a host (`true`): no rules are kept.
		assert!(pallet_market::DealRules::<Test>::get(s.deal).is_none());
		assert_ok!(claim(b, id));
		// Rules kept with the deal, as if its app and data set had been registered with them
		// (the pool's ad met them at the match); each worker's own ad must meet them too.
		let rules = HostRules {
			app: Some(rule_ad(b"TARGET.Memory >= 65536")),
			dataset: Some(rule_ad(b"TARGET.Region == \"eu\"")),
		};
		pallet_market::DealRules::<Test>::insert(s.deal, store_rules(&rules).unwrap());
		assert_noop!(claim(a, id), Error::<Test>::AppRequirementsNotMet);
		let in_us = bounded("[ Cpus = 8; Memory = 65536; Region = \"us\" ]");
		assert_ok!(Poco::update_ad(RuntimeOrigin::signed(a), in_us));
		assert_noop!(claim(a, id), Error::<Test>::DatasetRestrictionsNotMet);
		let in_eu = bounded("[ Cpus = 8; Memory = 65536; Region = \"eu\" ]");
		assert_ok!(Poco::update_ad(RuntimeOrigin::signed(a), in_eu));
		assert_ok!(claim(a, id));
	});
}

#[test]
fn a_deal_pinned_to_an_architecture_takes_only_workers_of_it() {
	use pallet_market::{Architecture, Determinism};
	checked(|| {
		let [a, b, c] = [WORKERS[0], WORKERS[1], WORKERS[2]];
		let s = deal(1, 3, &[a, b, c]);
		let id = task(s.deal, 0);
		pallet_market::Deals::<Test>::mutate(s.deal, |d| {
			d.as_mut().unwrap().determinism = Determinism::SameArchitecture(Architecture::Aarch64);
		});
		// An ad without `Arch` cannot prove it; one with another cannot take it either.
		assert_noop!(claim(a, id), Error::<Test>::WrongArchitecture);
		let x86 = bounded("[ Cpus = 8; Arch = \"X86_64\" ]");
		assert_ok!(Poco::update_ad(RuntimeOrigin::signed(b), x86));
		assert_noop!(claim(b, id), Error::<Test>::WrongArchitecture);
		let arm = bounded("[ Cpus = 8; Arch = \"aarch64\" ]");
		assert_ok!(Poco::update_ad(RuntimeOrigin::signed(c), arm));
		assert_ok!(claim(c, id));
	});
}

#[test]
fn overdue_replicas_go_back_to_the_pool() {
	checked(|| {
		let [a, b, c, d] = [WORKERS[0], WORKERS[1], WORKERS[2], WORKERS[3]];
		let s = deal(1, 3, &[a, b, c, d]);
		let id = task(s.deal, 0);
		assert_ok!(claim(a, id));
		assert_ok!(claim(b, id));
		assert_noop!(
			Poco::release_replica(RuntimeOrigin::signed(c), id, a),
			Error::<Test>::ReplicaNotDue
		);
		// B hands its replica back at once.
		assert_ok!(Poco::release_replica(RuntimeOrigin::signed(b), id, b));
		assert_eq!(Workers::<Test>::get(b).unwrap().replicas, 0);
		System::set_block_number(50);
		assert_ok!(claim(c, id));
		// Two task times later A's replica is overdue: a new claim hands it back on the way.
		System::set_block_number(1 + 2 * T_XS);
		assert_noop!(claim(b, id), Error::<Test>::AlreadyHoldsReplica);
		assert_ok!(claim(d, id));
		assert!(events().contains(&Event::ReplicaReleased { task: id, worker: a }));
		assert_noop!(contribute(a, id, HONEST), Error::<Test>::NoReplica);
		assert_ok!(contribute(c, id, HONEST));
		assert_noop!(contribute(c, id, HONEST), Error::<Test>::AlreadyContributed);
		assert_noop!(
			Poco::release_replica(RuntimeOrigin::signed(c), id, c),
			Error::<Test>::AlreadyContributed
		);
	});
}

#[test]
fn reveals_are_checked_against_commitment_deal_and_signature() {
	checked(|| {
		let [a, b] = [WORKERS[0], WORKERS[1]];
		let s = deal(1, 3, &[a, b]);
		let id = task(s.deal, 0);
		assert_ok!(claim(a, id));
		assert_ok!(claim(b, id));
		assert_noop!(reveal(a, id, HONEST), Error::<Test>::NotRevealing);
		assert_ok!(contribute(a, id, HONEST));
		assert_ok!(contribute(b, id, HONEST));
		let send = |d: DisclosureOf<Test>| {
			Poco::reveal(RuntimeOrigin::signed(a), vec![d].try_into().unwrap())
		};
		let mut d = disclosure(a, id, HONEST);
		d.attestation.worker = b;
		assert_noop!(send(d), Error::<Test>::AttestationNotForThis);
		let mut d = disclosure(a, id, HONEST);
		d.attestation.app_code_hash = [9; 32];
		assert_noop!(send(d), Error::<Test>::WrongAppCode);
		let mut d = disclosure(a, id, HONEST);
		d.attestation.dataset_checksum = None;
		assert_noop!(send(d), Error::<Test>::WrongDataset);
		assert_noop!(send(disclosure(a, id, LIE)), Error::<Test>::ResultHashMismatch);
		let mut d = disclosure(a, id, HONEST);
		d.attestation.engine_version = 2;
		assert_noop!(send(d), Error::<Test>::AttestationHashMismatch);
		let mut d = disclosure(a, id, HONEST);
		d.signature = sp_runtime::testing::TestSignature(b, d.signature.1.clone());
		assert_noop!(send(d), Error::<Test>::BadSignature);
		let mut d = disclosure(a, id, HONEST);
		d.location = Some(ResultLocation::Inline(bounded("not the result")));
		assert_noop!(send(d), Error::<Test>::InlineResultMismatch);
		assert_ok!(send(disclosure(a, id, HONEST)));
		System::set_block_number(1 + 2 * T_XS);
		assert_noop!(reveal(b, id, HONEST), Error::<Test>::RevealClosed);
	});
}

#[test]
fn a_copied_result_hash_cannot_be_revealed() {
	checked(|| {
		let [a, b] = [WORKERS[0], WORKERS[1]];
		let s = deal(1, 3, &[a, b]);
		let id = task(s.deal, 0);
		assert_ok!(claim(a, id));
		assert_ok!(claim(b, id));
		assert_ok!(contribute(a, id, HONEST));
		// B copies A's commitment (its seal is A's, which B cannot open as its own).
		let copied = commitment(a, id, HONEST);
		assert_ok!(Poco::contribute(RuntimeOrigin::signed(b), vec![copied].try_into().unwrap()));
		assert_noop!(reveal(b, id, HONEST), Error::<Test>::ResultSealMismatch);
	});
}

#[test]
fn small_results_are_revealed_on_chain() {
	checked(|| {
		let a = WORKERS[0];
		let s = deal(1, 1, &[a]);
		let id = task(s.deal, 0);
		let bytes = b"pi ~ 3.1416";
		let digest = sp_io::hashing::blake2_256(bytes);
		assert_ok!(claim(a, id));
		let mut d = disclosure(a, id, digest);
		d.location = Some(ResultLocation::Inline(bytes.to_vec().try_into().unwrap()));
		assert_ok!(Poco::submit(RuntimeOrigin::signed(a), vec![d].try_into().unwrap()));
		let result = Results::<Test>::get(s.deal, 0).unwrap();
		assert_eq!(
			result.location,
			Some(ResultLocation::Inline(bytes.to_vec().try_into().unwrap()))
		);
	});
}

#[test]
fn the_fast_path_is_refused_where_replication_is_needed() {
	checked(|| {
		let [a, b] = [WORKERS[0], WORKERS[1]];
		let s = deal(1, 3, &[a, b]);
		let id = task(s.deal, 0);
		assert_ok!(claim(a, id));
		assert_noop!(submit(a, id, HONEST), Error::<Test>::ReplicationNeeded);
		// A worker with history (weight 3 > trust - 1) needs nobody at trust 3.
		let veteran = WORKERS[2];
		Scores::<Test>::insert(veteran, 12);
		join(veteran, s.pool);
		let s2 = deal(1, 3, &[]);
		assert_ok!(Poco::leave_pool(RuntimeOrigin::signed(veteran)));
		join(veteran, s2.pool);
		assert_ok!(claim(veteran, task(s2.deal, 0)));
		assert_ok!(submit(veteran, task(s2.deal, 0), HONEST));
		assert_eq!(status(task(s2.deal, 0)), TaskStatus::Completed);
	});
}

#[test]
fn batches_are_all_or_nothing() {
	checked(|| {
		let a = WORKERS[0];
		let s = deal(3, 1, &[a]);
		let ids: Vec<TaskId> = (0..3).map(|i| task(s.deal, i)).collect();
		// Task 2 cannot start before task 1: the batch [0, 2] changes nothing.
		assert_noop!(
			Poco::claim(RuntimeOrigin::signed(a), vec![ids[0], ids[2]].try_into().unwrap()),
			Error::<Test>::NotNextTask
		);
		assert_ok!(Poco::claim(RuntimeOrigin::signed(a), ids.clone().try_into().unwrap()));
		assert_eq!(Workers::<Test>::get(a).unwrap().replicas, 3);
		let all: Vec<_> = ids.iter().map(|id| disclosure(a, *id, HONEST)).collect();
		assert_ok!(Poco::submit(RuntimeOrigin::signed(a), all.try_into().unwrap()));
		for id in ids {
			assert_eq!(status(id), TaskStatus::Completed);
		}
		assert_eq!(PoolRecords::<Test>::get(s.pool).done, 3);
	});
}

#[test]
fn governance_sets_economics_within_bounds_and_deals_keep_theirs() {
	checked(|| {
		let a = WORKERS[0];
		let s = deal(1, 1, &[a]);
		assert_eq!(pallet_market::Deals::<Test>::get(s.deal).unwrap().terms.task_seconds, 300);
		let mut economics = EconomicParameters::<Test>::get();
		economics.task_seconds[0] = 600;
		economics.pool_stake_percent = 50;
		assert_noop!(
			Poco::set_economics(RuntimeOrigin::signed(a), economics),
			sp_runtime::DispatchError::BadOrigin
		);
		let mut bad = economics;
		bad.final_ratio = 5;
		assert_noop!(
			Poco::set_economics(RuntimeOrigin::root(), bad),
			Error::<Test>::DeadlineRatiosInconsistent
		);
		assert_ok!(Poco::set_economics(RuntimeOrigin::root(), economics));
		System::assert_last_event(Event::EconomicsSet { economics }.into());
		// The old deal keeps T = 300 s: its task fails at 7 × 50 blocks, not 7 × 100.
		let old = pallet_market::Deals::<Test>::get(s.deal).unwrap();
		assert_eq!(
			old.terms,
			DealTerms { kitty_minimum: KITTY_MINIMUM, ..DealTerms::design(Category::XS) }
		);
		assert_ok!(claim(a, task(s.deal, 0)));
		assert_eq!(Tasks::<Test>::get(s.deal, 0).unwrap().contribution_deadline, 1 + 7 * T_XS);
		// A new deal is made under the new terms: 50 % pool stake, T = 600 s.
		let s2 = deal(1, 1, &[]);
		let new = pallet_market::Deals::<Test>::get(s2.deal).unwrap();
		assert_eq!((new.terms.task_seconds, new.pool_stake), (600, POOL_PRICE / 2));
		assert_eq!(new.limits.wall_seconds, 600);
	});
}

#[test]
fn a_replica_handed_back_cannot_be_claimed_again() {
	checked(|| {
		let [a, b] = [WORKERS[0], WORKERS[1]];
		let s = deal(1, 1, &[a, b]);
		let id = task(s.deal, 0);
		assert_ok!(claim(a, id));
		assert_ok!(Poco::release_replica(RuntimeOrigin::signed(a), id, a));
		// Handing back and claiming again would hold the task forever.
		assert_noop!(claim(a, id), Error::<Test>::AlreadyHoldsReplica);
		assert_ok!(claim(b, id));
		assert_ok!(submit(b, id, HONEST));
		assert_eq!(Workers::<Test>::get(a).unwrap().replicas, 0);
	});
}

#[test]
fn a_revealed_result_completes_past_the_final_deadline_and_is_never_refunded() {
	checked(|| {
		let (_, id, [a, _]) = committed(HONEST, HONEST);
		assert_ok!(reveal(a, id, HONEST));
		// No hook ran; the final deadline has passed.
		System::set_block_number(1 + 10 * T_XS);
		assert_noop!(
			Poco::claim_failed(RuntimeOrigin::signed(REQUESTER), id),
			Error::<Test>::UseFinalize
		);
		assert_ok!(Poco::finalize(RuntimeOrigin::signed(NOBODY), id));
		assert_eq!(status(id), TaskStatus::Completed);
	});
}

#[test]
fn after_a_reopening_the_heaviest_group_left_may_have_consensus() {
	checked(|| {
		let w: Vec<u64> = WORKERS[..6].to_vec();
		let s = deal(1, 3, &w);
		let id = task(s.deal, 0);
		// X: W0, W3, W4, W5 (weight 16); Y: W1, W2 (weight 4). X reaches 16 of 21 at trust 3.
		for (worker, digest) in [(0, LIE), (1, HONEST), (2, HONEST), (3, LIE), (4, LIE), (5, LIE)] {
			assert_ok!(claim(w[worker], id));
			assert_ok!(contribute(w[worker], id, digest));
		}
		assert_eq!(
			status(id),
			TaskStatus::Revealing {
				result_hash: commitments::result_hash(id, &LIE),
				deadline: 1 + 2 * T_XS
			}
		);
		// X never reveals. Without it, Y has 4 of 5: 12 > 10, consensus.
		run_to(1 + 2 * T_XS);
		assert_eq!(
			status(id),
			TaskStatus::Revealing {
				result_hash: commitments::result_hash(id, &HONEST),
				deadline: 1 + 4 * T_XS
			}
		);
		assert_ok!(reveal(w[1], id, HONEST));
		assert_ok!(reveal(w[2], id, HONEST));
		assert_eq!(status(id), TaskStatus::Completed);
		assert_eq!(Results::<Test>::get(s.deal, 0).unwrap().digest, HONEST);
	});
}

#[test]
fn a_checked_inline_result_replaces_an_unchecked_location() {
	checked(|| {
		let [a, b] = [WORKERS[0], WORKERS[1]];
		let s = deal(1, 3, &[a, b]);
		let id = task(s.deal, 0);
		let bytes = b"42".to_vec();
		let digest = sp_io::hashing::blake2_256(&bytes);
		assert_ok!(claim(a, id));
		assert_ok!(claim(b, id));
		assert_ok!(contribute(a, id, digest));
		assert_ok!(contribute(b, id, digest));
		let mut first = disclosure(a, id, digest);
		first.location = Some(ResultLocation::Uri(bounded("https://nowhere.example/x")));
		assert_ok!(Poco::reveal(RuntimeOrigin::signed(a), vec![first].try_into().unwrap()));
		let mut second = disclosure(b, id, digest);
		second.location = Some(ResultLocation::Inline(bytes.clone().try_into().unwrap()));
		assert_ok!(Poco::reveal(RuntimeOrigin::signed(b), vec![second].try_into().unwrap()));
		let kept = Results::<Test>::get(s.deal, 0).unwrap().location;
		assert_eq!(kept, Some(ResultLocation::Inline(bytes.try_into().unwrap())));
	});
}

#[test]
fn the_kittys_bonus_never_exceeds_the_stake_the_task_risked() {
	checked(|| {
		let mut economics = EconomicParameters::<Test>::get();
		economics.pool_stake_percent = 1;
		assert_ok!(Poco::set_economics(RuntimeOrigin::root(), economics));
		let [a, b] = [WORKERS[0], WORKERS[1]];
		let s = deal(1, 1, &[a, b]);
		let id = task(s.deal, 0);
		// A commits and stays silent: its 300 stake goes to the kitty.
		assert_ok!(claim(a, id));
		assert_ok!(contribute(a, id, HONEST));
		run_to(1 + 2 * T_XS);
		assert_ok!(claim(b, id));
		let owner = free(POOL_OWNER);
		assert_ok!(submit(b, id, HONEST));
		// 10 % of the kitty would be 30; the task risked a 1 % stake of 1,000: 10.
		assert_eq!(free(POOL_OWNER), owner + 50 + 10 + 10);
	});
}

#[test]
fn completions_of_one_deal_in_one_call_are_charged_as_a_batch() {
	checked(|| {
		let [a, b] = [WORKERS[0], WORKERS[1]];
		let s = deal(3, 3, &[a, b]);
		let ids: Vec<TaskId> = (0..3).map(|i| task(s.deal, i)).collect();
		for w in [a, b] {
			assert_ok!(Poco::claim(RuntimeOrigin::signed(w), ids.clone().try_into().unwrap()));
			let commitments: Vec<_> = ids.iter().map(|id| commitment(w, *id, HONEST)).collect();
			assert_ok!(Poco::contribute(RuntimeOrigin::signed(w), commitments.try_into().unwrap()));
		}
		let reveals = |w: u64| -> Weight {
			let items: Vec<_> = ids.iter().map(|id| disclosure(w, *id, HONEST)).collect();
			let info = Poco::reveal(RuntimeOrigin::signed(w), items.try_into().unwrap()).unwrap();
			info.actual_weight.expect("reveal reports what it took")
		};
		// The first winner's reveals complete nothing; the second's complete all three tasks,
		// whose deal and crew are the same: one batch.
		assert_eq!(reveals(a), <() as WeightInfo>::reveal(3));
		let batch = reveals(b);
		for id in &ids {
			assert_eq!(status(*id), TaskStatus::Completed);
		}
		let batched = <() as WeightInfo>::reveal(0) + <() as WeightInfo>::reveal_complete(3);
		assert_eq!(batch, batched);
		let alone = <() as WeightInfo>::reveal(3) + <() as WeightInfo>::finalize(2) * 3;
		assert!(batch.ref_time() < alone.ref_time(), "{batch} is not below {alone}");
	});
}
