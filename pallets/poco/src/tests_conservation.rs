//! Random task lives: honest and lying workers claiming, contributing, revealing, handing
//! replicas back, deadlines passing (the hook at work), anyone finalising or claiming
//! failures. After every step: the total issuance is unchanged, escrow holds exactly the open
//! obligations (`try_state`), and no task is settled twice or both completed and refunded.

use crate::{mock::*, *};
use frame_support::traits::fungible::Inspect;
use proptest::prelude::*;
use std::collections::BTreeMap;

const VOLUME: u32 = 3;
const N_WORKERS: usize = 6;

#[derive(Clone, Debug)]
enum Op {
	Claim(usize, u32),
	Contribute(usize, u32),
	Reveal(usize, u32),
	Submit(usize, u32),
	Release(usize, usize, u32),
	Finalize(u32),
	ClaimFailed(u32),
	ClaimUnstarted,
	Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
	let w = 0..N_WORKERS;
	let t = 0..VOLUME;
	prop_oneof![
		4 => (w.clone(), t.clone()).prop_map(|(w, t)| Op::Claim(w, t)),
		4 => (w.clone(), t.clone()).prop_map(|(w, t)| Op::Contribute(w, t)),
		3 => (w.clone(), t.clone()).prop_map(|(w, t)| Op::Reveal(w, t)),
		1 => (w.clone(), t.clone()).prop_map(|(w, t)| Op::Submit(w, t)),
		1 => (w.clone(), w.clone(), t.clone()).prop_map(|(c, w, t)| Op::Release(c, w, t)),
		1 => t.clone().prop_map(Op::Finalize),
		1 => t.prop_map(Op::ClaimFailed),
		1 => Just(Op::ClaimUnstarted),
		2 => (1u64..200).prop_map(Op::Advance),
	]
}

/// The digest worker `w` returns: liars agree on one wrong result.
fn digest_of(liars: &[bool], w: usize) -> [u8; 32] {
	if liars[w] {
		[0xBB; 32]
	} else {
		[0xAA; 32]
	}
}

fn run(op: &Op, deal: u64, liars: &[bool]) {
	let id = |t: u32| task(deal, t);
	let worker = |w: usize| WORKERS[w];
	let _ = match *op {
		Op::Claim(w, t) => claim(worker(w), id(t)),
		Op::Contribute(w, t) => contribute(worker(w), id(t), digest_of(liars, w)),
		Op::Reveal(w, t) => {
			reveal(worker(w), id(t), digest_of(liars, w)).map(|_| ()).map_err(|e| e.error)
		}
		Op::Submit(w, t) => submit(worker(w), id(t), digest_of(liars, w)),
		Op::Release(c, w, t) => {
			Poco::release_replica(RuntimeOrigin::signed(worker(c)), id(t), worker(w))
		}
		Op::Finalize(t) => {
			Poco::finalize(RuntimeOrigin::signed(NOBODY), id(t)).map(|_| ()).map_err(|e| e.error)
		}
		Op::ClaimFailed(t) => Poco::claim_failed(RuntimeOrigin::signed(NOBODY), id(t))
			.map(|_| ())
			.map_err(|e| e.error),
		Op::ClaimUnstarted => Poco::claim_unstarted(RuntimeOrigin::signed(NOBODY), deal),
		Op::Advance(n) => {
			run_to(System::block_number() + n);
			Ok(())
		}
	};
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

	#[test]
	fn task_lives_conserve_funds_and_settle_once(
		trust in prop::sample::select(vec![1u32, 2, 3, 5]),
		scores in prop::collection::vec(prop::sample::select(vec![0u32, 6, 12, 30]), N_WORKERS),
		liars in prop::collection::vec(prop::bool::weighted(0.3), N_WORKERS),
		ops in prop::collection::vec(op(), 1..60),
	) {
		new_test_ext().execute_with(|| {
			for (w, score) in scores.iter().enumerate() {
				Scores::<Test>::insert(WORKERS[w], score);
			}
			let s = deal(VOLUME, trust, &WORKERS[..N_WORKERS]);
			let supply = <Balances as Inspect<u64>>::total_issuance();
			for op in &ops {
				run(op, s.deal, &liars);
				assert_eq!(<Balances as Inspect<u64>>::total_issuance(), supply, "after {op:?}");
				check();
			}
			let mut settled: BTreeMap<TaskId, Vec<&'static str>> = BTreeMap::new();
			for record in System::events() {
				match record.event {
					RuntimeEvent::Poco(Event::TaskCompleted { task, .. }) => {
						settled.entry(task).or_default().push("completed")
					},
					RuntimeEvent::Poco(Event::TaskFailed { task, .. }) => {
						settled.entry(task).or_default().push("failed")
					},
					// Tasks that never started, refunded at the deadline: none may have run.
					RuntimeEvent::Poco(Event::UnstartedRefunded { deal, from, tasks, .. }) => {
						for index in from..from + tasks {
							settled.entry(TaskId { deal, index }).or_default().push("refunded");
						}
					},
					_ => {},
				}
			}
			for (task, outcomes) in settled {
				assert_eq!(outcomes.len(), 1, "task {task:?} settled as {outcomes:?}");
				if outcomes[0] == "refunded" {
					assert!(Tasks::<Test>::get(task.deal, task.index).is_none(), "{task:?} started");
					continue;
				}
				let status = Tasks::<Test>::get(task.deal, task.index).unwrap().status;
				let expected = if outcomes[0] == "completed" { TaskStatus::Completed } else { TaskStatus::Failed };
				assert_eq!(status, expected);
				assert_eq!(
					Results::<Test>::get(task.deal, task.index).is_some_and(|r| r.completed_at.is_some()),
					outcomes[0] == "completed"
				);
			}
		});
	}
}
