// The market and Proof-of-Contribution as a polkadot.js client meets them, with no custom
// types, on a real dev node: an app and a pool approved by referendum, standing orders, a
// request that becomes a deal with its payment held, the runtime API (`api.call.marketApi`)
// that checks ads, ranks offers and explains mismatches; then workers join the pool and take
// tasks to certified, paid results at trust 1 (the fast path) and at trust 3 (two replicas,
// commit and reveal), with every balance checked to the unit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, RLC, send, signerFrom, findEvent } from '../lib/chain.mjs';
import { approveByReferendum } from '../lib/provider.mjs';
import { startDevNode } from './helpers.mjs';
import { blake2AsU8a } from '@polkadot/util-crypto';
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';

let node;
let api;
const alice = () => signerFrom('//Alice');
const bob = () => signerFrom('//Bob');
const charlie = () => signerFrom('//Charlie');
const ids = {};

before(async () => {
  node = await startDevNode();
  api = await connect(node.url);
});

after(async () => {
  if (api) await api.disconnect();
  if (node) await node.stop();
});

const rfc = { documentHash: `0x${'11'.repeat(32)}`, uri: 'https://example.org/rfc' };
const restrictions = { requester: null, app: null, dataset: null, pool: null };
const machine = '[ Cpus = 8; Memory = 16384; GPUs = 1; EnergyWatts = 250 ]';

function request (overrides = {}) {
  return {
    app: ids.app,
    dataset: null,
    appMaxPrice: 2n * RLC,
    datasetMaxPrice: 0,
    poolMaxPrice: 5n * RLC,
    volume: 3,
    category: 'S',
    trust: 1,
    tag: 0,
    pool: null,
    params: '--digits 1000',
    beneficiary: charlie().address,
    jobAd: '[ Requirements = TARGET.Memory >= 8192 && TARGET.GPUs >= 1; Rank = TARGET.Cpus ]',
    weights: { cost: 1, performance: 0, trust: 0, reliability: 0, energy: 0, rank: 0 },
    ...overrides
  };
}

test('checkClassad answers before anything is paid: ok, or line, column and reason', async () => {
  const ok = await api.call.marketApi.checkClassad(machine);
  assert.ok(ok.isOk, ok.toString());
  const bad = await api.call.marketApi.checkClassad('[\n  Memory = 4096;\n  Cpus = * 2\n]');
  assert.ok(bad.isErr);
  const error = bad.asErr;
  assert.equal(error.line.toNumber(), 3);
  assert.equal(error.column.toNumber(), 10);
  assert.match(error.message.toString(), /expected/);
  const unknown = await api.call.marketApi.checkClassad('[ A = frobnicate(1) ]');
  assert.match(unknown.asErr.message.toString(), /unknown function `frobnicate`/);
});

test('an app and a pool approved by one contracts-track referendum', async () => {
  const app = { App: { runtime: 'Wasm', codeUri: 'https://apps.example/pi.wasm', codeHash: `0x${'ab'.repeat(32)}`, requirements: 'true' } };
  const pool = { WorkerPool: { description: 'rig farm', workerStakeRatio: 30, schedulerRewardRatio: 5, admission: 'TARGET.Cpus >= 1' } };
  ids.app = findEvent(await send(api, api.tx.registry.propose(rfc, app), alice()), 'registry', 'ContractProposed').data.id.toNumber();
  ids.pool = findEvent(await send(api, api.tx.registry.propose(rfc, pool), bob()), 'registry', 'ContractProposed').data.id.toNumber();
  await approveByReferendum(api, [ids.app, ids.pool], alice(), bob());
});

test('standing orders, then a request that becomes a deal with its payment held', async () => {
  const appEvents = await send(api, api.tx.market.publishAppOrder(ids.app, RLC, 100, 0, restrictions), alice());
  ids.appOrder = findEvent(appEvents, 'market', 'OrderPublished').data.id.toNumber();
  // An order the request cannot use: its ad offers no GPU.
  const noGpu = await send(api, api.tx.market.publishPoolOrder(ids.pool, 3n * RLC, 10, 'S', 1, 0, restrictions, '[ Memory = 65536 ]'), bob());
  ids.noGpuOrder = findEvent(noGpu, 'market', 'OrderPublished').data.id.toNumber();
  const gpu = await send(api, api.tx.market.publishPoolOrder(ids.pool, 4n * RLC, 10, 'S', 1, 0, restrictions, machine), bob());
  ids.poolOrder = findEvent(gpu, 'market', 'OrderPublished').data.id.toNumber();

  const before = (await api.query.system.account(charlie().address)).data;
  const events = await send(api, api.tx.market.submitRequest(request()), charlie());
  const submitted = findEvent(events, 'market', 'RequestSubmitted');
  assert.equal(submitted.data.payment.toBigInt(), (2n + 5n) * RLC * 3n, 'the most it can cost, held');
  const deal = findEvent(events, 'market', 'DealMade');
  assert.equal(deal.data.poolOrder.toNumber(), ids.poolOrder, 'the GPU pool, the only one that fits');
  assert.equal(deal.data.volume.toNumber(), 3);
  assert.equal(deal.data.pricePerTask.toBigInt(), 5n * RLC, 'app 1 + pool 4');

  ids.deal = deal.data.deal.toNumber();
  const stored = (await api.query.market.deals(deal.data.deal)).unwrap();
  assert.equal(stored.requester.toString(), charlie().address);
  assert.equal(stored.poolOwner.toString(), bob().address);
  assert.equal(stored.appRuntime.toString(), 'Wasm');
  assert.equal(stored.limits.wallSeconds.toNumber(), 1200);
  assert.equal(stored.poolStake.toBigInt(), 4n * RLC * 3n * 30n / 100n);
  assert.equal(stored.determinism.toString(), 'Portable', 'the default, for a request that left it out');
  // The request is used up: its deposit is back; the deal's 15 RLC stay held.
  const after = (await api.query.system.account(charlie().address)).data;
  assert.equal(after.reserved.toBigInt() - before.reserved.toBigInt(), 15n * RLC);
  const locked = await api.query.escrow.books({ Deal: deal.data.deal }, charlie().address, 'RequesterPayment');
  assert.equal(locked.unwrap().toBigInt(), 15n * RLC);
});

test('rankOffers and explainMatch read the book as the chain would match it', async () => {
  // A request that waits: its pool maximum is below every pool price.
  const events = await send(api, api.tx.market.submitRequest(request({ poolMaxPrice: RLC })), charlie());
  const waiting = findEvent(events, 'market', 'RequestWaiting').data.id.toNumber();
  const none = await api.call.marketApi.rankOffers(waiting);
  assert.deepEqual(none.asOk.toJSON(), []);

  const explained = (await api.call.marketApi.explainMatch(waiting, ids.noGpuOrder, ids.appOrder, null)).asOk;
  assert.equal(explained.matches.isTrue, false);
  const mismatches = explained.mismatches.map((m) => m.type);
  assert.deepEqual(mismatches, ['PriceAboveMaximum', 'JobRequirementsNotMet']);
  const clauses = explained.jobClauses.map((c) => [c.clause.toString(), c.value.toString()]);
  assert.deepEqual(clauses, [['TARGET.GPUs >= 1', 'undefined']]);
  // The app was registered with `true` as its host requirements, and no data set is used.
  assert.deepEqual([explained.appClauses.toJSON(), explained.datasetClauses.toJSON()], [[], []]);

  // A request pinned to one architecture, against a pool whose ad names another.
  const pinned = request({ poolMaxPrice: RLC, determinism: { SameArchitecture: 'Aarch64' } });
  const pinnedId = findEvent(await send(api, api.tx.market.submitRequest(pinned), charlie()), 'market', 'RequestWaiting').data.id.toNumber();
  const stored = (await api.query.market.orders(pinnedId)).unwrap().terms.asRequest;
  assert.deepEqual(stored.determinism.toJSON(), { sameArchitecture: 'Aarch64' });
  const x86Ad = '[ Cpus = 8; Memory = 16384; GPUs = 1; Arch = "X86_64" ]';
  const x86Events = await send(api, api.tx.market.publishPoolOrder(ids.pool, 3n * RLC, 1, 'S', 1, 0, restrictions, x86Ad), bob());
  const x86Order = findEvent(x86Events, 'market', 'OrderPublished').data.id.toNumber();
  const otherArch = (await api.call.marketApi.explainMatch(pinnedId, x86Order, ids.appOrder, null)).asOk;
  assert.deepEqual(otherArch.mismatches.map((m) => m.type), ['PriceAboveMaximum', 'ArchitectureNotOffered']);
  assert.equal(otherArch.mismatches[1].asArchitectureNotOffered.pinned.toString(), 'Aarch64');
  await send(api, api.tx.market.cancelOrder(x86Order), bob());
  await send(api, api.tx.market.cancelOrder(pinnedId), charlie());

  // A ranking with offers in it. A GPU request waits in category L; 16 requests no pool can pay
  // then fill L's waiting list (16 long), and a full list lets its oldest go: the GPU request is
  // out of it, still open, so the pool orders published after it do not meet it, and
  // rankOffers ranks for it those that fit: the cheapest first.
  const gpuEvents = await send(api, api.tx.market.submitRequest(request({ category: 'L', volume: 1 })), charlie());
  const gpuRequest = findEvent(gpuEvents, 'market', 'RequestSubmitted').data.id.toNumber();
  assert.ok((await api.query.market.waiting('L')).map((id) => id.toNumber()).includes(gpuRequest));
  const unpayable = Array.from({ length: 16 }, () => api.tx.market.submitRequest(request({ category: 'L', volume: 1, poolMaxPrice: 0 })));
  await send(api, api.tx.utility.batchAll(unpayable), charlie());
  const waitingL = (await api.query.market.waiting('L')).map((id) => id.toNumber());
  assert.equal(waitingL.length, 16);
  assert.ok(!waitingL.includes(gpuRequest), 'the oldest left the full waiting list');
  assert.ok((await api.query.market.orders(gpuRequest)).isSome, 'and is still open');
  const publishL = async (price, ad) => findEvent(await send(api, api.tx.market.publishPoolOrder(ids.pool, price, 5, 'L', 1, 0, restrictions, ad), bob()), 'market', 'OrderPublished').data.id.toNumber();
  const dear = await publishL(4n * RLC, machine);
  const cheap = await publishL(3n * RLC, '[ Cpus = 4; Memory = 16384; GPUs = 2 ]');
  await publishL(2n * RLC, '[ Memory = 65536 ]');
  const ranked = (await api.call.marketApi.rankOffers(gpuRequest)).asOk;
  assert.deepEqual(ranked.map((o) => o.poolOrder.toNumber()), [cheap, dear]);
  assert.deepEqual(ranked.map((o) => o.pricePerTask.toBigInt()), [4n * RLC, 5n * RLC], 'app 1 + pool');
  assert.deepEqual(ranked.map((o) => o.appOrder.toNumber()), [ids.appOrder, ids.appOrder]);
  assert.ok(ranked[0].netFlow.toNumber() > ranked[1].netFlow.toNumber());
  const unknown = await api.call.marketApi.rankOffers(999_999);
  assert.equal(unknown.asErr.toString(), 'UnknownOrder');
  // Proposing the mismatching pair is refused with the first failed check's error.
  await assert.rejects(send(api, api.tx.market.matchOrders(waiting, ids.noGpuOrder, ids.appOrder, null), alice()), /market\.PriceAboveMaximum/);
});

test('cancelling a waiting request gives back its deposit and held payment', async () => {
  const events = await send(api, api.tx.market.submitRequest(request({ poolMaxPrice: RLC, volume: 2 })), charlie());
  const id = findEvent(events, 'market', 'RequestWaiting').data.id.toNumber();
  const cancelled = findEvent(await send(api, api.tx.market.cancelOrder(id), charlie()), 'market', 'OrderCancelled');
  assert.equal(cancelled.data.paymentRefunded.toBigInt(), (2n + 1n) * RLC * 2n);
  assert.ok(cancelled.data.depositRefunded.toBigInt() > 0n);
  await assert.rejects(send(api, api.tx.market.cancelOrder(id), charlie()), /market\.UnknownOrder/);
});

// Proof-of-Contribution, as a worker daemon does it, with the chain's own encodings.
const dave = () => signerFrom('//Dave');
const eve = () => signerFrom('//Eve');
const workerAd = '[ Cpus = 8; Memory = 16384; GPUs = 1 ]';
const codeHash = `0x${'ab'.repeat(32)}`;

function attestation (worker, task, digest) {
  return api.createType('PalletPocoAttestation', {
    task,
    worker: worker.address,
    appCodeHash: codeHash,
    datasetChecksum: null,
    resultDigest: digest,
    resources: { fuel: 1_000_000, wallMillis: 40, memoryMib: 12 },
    engineVersion: 1
  });
}

function disclosure (worker, task, digest, location = null) {
  const record = attestation(worker, task, digest);
  const signed = u8aConcat(stringToU8a('iexec/attestation/v1'), record.toU8a());
  return { attestation: record, signature: { Sr25519: worker.sign(signed) }, location };
}

function commitment (worker, task, digest) {
  const taskId = api.createType('PalletPocoTaskId', task);
  const hash = (...parts) => u8aToHex(blake2AsU8a(u8aConcat(...parts), 256));
  return {
    task,
    resultHash: hash(taskId.toU8a(), digest),
    resultSeal: hash(api.createType('AccountId32', worker.address).toU8a(), taskId.toU8a(), digest),
    attestationHash: hash(attestation(worker, task, digest).toU8a())
  };
}

const free = async (who) => (await api.query.system.account(who.address)).data.free.toBigInt();
const reserved = async (who) => (await api.query.system.account(who.address)).data.reserved.toBigInt();
const fee = (events) => findEvent(events, 'transactionPayment', 'TransactionFeePaid').data.actualFee.toBigInt();

test('workers join the pool with an ad its admission rule accepts', async () => {
  await assert.rejects(send(api, api.tx.poco.joinPool(ids.pool, '[ Cpus = 0 ]'), dave()), /poco\.AdmissionRuleNotMet/);
  for (const worker of [dave(), eve()]) {
    const joined = findEvent(await send(api, api.tx.poco.joinPool(ids.pool, workerAd), worker), 'poco', 'WorkerJoined');
    assert.equal(joined.data.pool.toNumber(), ids.pool);
  }
  assert.equal((await api.query.poco.workers(dave().address)).unwrap().replicas.toNumber(), 0);
});

test('trust 1: a claim and one submission certify the task; everyone is paid to the unit', async () => {
  const task = { deal: ids.deal, index: 0 };
  const result = stringToU8a('pi = 3.14159');
  const digest = blake2AsU8a(result, 256);
  const claimed = await send(api, api.tx.poco.claim([task]), dave());
  assert.equal(findEvent(claimed, 'poco', 'ReplicaClaimed').data.started.isTrue, true);
  const before = { alice: await free(alice()), bob: await free(bob()), charlie: await reserved(charlie()), dave: await free(dave()) };
  const events = await send(api, api.tx.poco.submit([disclosure(dave(), task, digest, { Inline: u8aToHex(result) })]), dave());
  const completed = findEvent(events, 'poco', 'TaskCompleted');
  assert.equal(u8aToHex(completed.data.digest), u8aToHex(digest));
  // Pool price 4 RLC: the owner keeps 5 %, the worker 95 %; the owner's 30 % stake comes back.
  assert.equal(await free(alice()) - before.alice, RLC, 'the app price');
  assert.equal(await free(bob()) - before.bob, 4n * RLC * 5n / 100n + 4n * RLC * 30n / 100n);
  assert.equal(before.charlie - await reserved(charlie()), 5n * RLC, 'the held price, paid out');
  assert.equal(await free(dave()) - before.dave, 4n * RLC * 95n / 100n - fee(events));
  const stored = (await api.query.poco.results(ids.deal, 0)).unwrap();
  assert.equal(u8aToHex(stored.location.unwrap().asInline), u8aToHex(result), 'the result, on chain');
});

test('trust 3: two replicas commit, reveal and certify; the pot is shared by weight', async () => {
  const offer = await send(api, api.tx.market.publishPoolOrder(ids.pool, 4n * RLC, 1, 'S', 3, 0, restrictions, machine), bob());
  assert.ok(findEvent(offer, 'market', 'OrderPublished'));
  const events = await send(api, api.tx.market.submitRequest(request({ volume: 1, trust: 3 })), charlie());
  const deal = findEvent(events, 'market', 'DealMade').data.deal.toNumber();
  const task = { deal, index: 0 };
  const digest = blake2AsU8a(stringToU8a('pi = 3.14159'), 256);
  await send(api, api.tx.poco.claim([task]), dave());
  // One new worker (weight 2) cannot reach trust 3 alone: a second replica is handed out.
  await send(api, api.tx.poco.claim([task]), eve());
  await assert.rejects(send(api, api.tx.poco.submit([disclosure(dave(), task, digest)]), dave()), /poco\.ReplicationNeeded/);
  const stake = 4n * RLC * 30n / 100n;
  const first = await send(api, api.tx.poco.contribute([commitment(dave(), task, digest)]), dave());
  assert.equal(findEvent(first, 'poco', 'Contributed').data.stake.toBigInt(), stake);
  const second = await send(api, api.tx.poco.contribute([commitment(eve(), task, digest)]), eve());
  assert.ok(findEvent(second, 'poco', 'ConsensusReached'));
  const before = { bob: await free(bob()), dave: await free(dave()), eve: await free(eve()) };
  const revealed = await send(api, api.tx.poco.reveal([disclosure(dave(), task, digest)]), dave());
  assert.ok(findEvent(revealed, 'poco', 'Revealed'));
  const last = await send(api, api.tx.poco.reveal([disclosure(eve(), task, digest)]), eve());
  const completed = findEvent(last, 'poco', 'TaskCompleted');
  assert.equal(completed.data.winners.toNumber(), 2);
  // 95 % of the pool price, shared by log2 of equal weights; stakes back; owner 5 % + stake.
  const share = 4n * RLC * 95n / 100n / 2n;
  assert.equal(await free(dave()) - before.dave, share + stake - fee(revealed));
  assert.equal(await free(eve()) - before.eve, share + stake - fee(last));
  assert.equal(await free(bob()) - before.bob, 4n * RLC * 5n / 100n + 4n * RLC * 30n / 100n);
  assert.deepEqual(await Promise.all([dave(), eve()].map(async (w) => (await api.query.poco.scores(w.address)).toNumber())), [1, 1]);
  assert.equal((await api.query.poco.tasks(deal, 0)).unwrap().status.toString(), 'Completed');
});

test('matchBatch proposes several requests against one offer; a mismatching one is skipped, the fee refunded', async () => {
  // Category M. Four cheap orders that refuse every job fill the pool's share of the arrival
  // index (4 entries), so a fifth, dearer, stays out of it: requests arriving see only the
  // refusing four and wait, and only a proposal can match them with the fifth.
  const refusing = '[ Memory = 16384; Requirements = false ]';
  const publishM = (price, ad) => api.tx.market.publishPoolOrder(ids.pool, price, 5, 'M', 1, 0, restrictions, ad);
  await send(api, api.tx.utility.batchAll([1, 2, 3, 4].map(() => publishM(RLC, refusing))), bob());
  const offer = findEvent(await send(api, publishM(4n * RLC, machine), bob()), 'market', 'OrderPublished').data.id.toNumber();
  const indexed = (await api.query.market.poolBook('M')).map(([, id]) => id.toNumber());
  assert.equal(indexed.length, 4);
  assert.ok(!indexed.includes(offer), 'the fifth order is out of the index');
  const specs = [
    request({ category: 'M', volume: 1 }),
    request({ category: 'M', volume: 2 }),
    request({ category: 'M', volume: 1, jobAd: '[ Requirements = TARGET.GPUs >= 4 ]' })
  ];
  const submitted = await send(api, api.tx.utility.batchAll(specs.map((s) => api.tx.market.submitRequest(s))), charlie());
  assert.ok(!submitted.some((e) => e.method === 'DealMade'), 'nothing matched at arrival');
  const requests = submitted.filter((e) => e.section === 'market' && e.method === 'RequestSubmitted').map((e) => e.data.id.toNumber());
  assert.equal(requests.length, 3);

  const tx = api.tx.market.matchBatch(offer, ids.appOrder, null, requests);
  const estimated = (await tx.paymentInfo(alice().address)).partialFee.toBigInt();
  const events = await send(api, tx, alice());
  const deals = events.filter((e) => e.section === 'market' && e.method === 'DealMade');
  assert.deepEqual(deals.map((e) => [e.data.request.toNumber(), e.data.volume.toNumber()]), [[requests[0], 1], [requests[1], 2]]);
  assert.ok(deals.every((e) => e.data.poolOrder.toNumber() === offer));
  const skipped = findEvent(events, 'market', 'RequestSkipped');
  assert.equal(skipped.data.request.toNumber(), requests[2]);
  assert.equal(api.registry.findMetaError(skipped.data.error.asModule).name, 'JobRequirementsNotMet');
  const summary = findEvent(events, 'market', 'BatchMatched').data;
  assert.deepEqual([summary.deals, summary.skipped, summary.untried].map((n) => n.toNumber()), [2, 1, 0]);
  assert.equal((await api.query.market.orders(offer)).unwrap().remaining.toNumber(), 2, '5 − 1 − 2');
  assert.ok((await api.query.market.orders(requests[2])).isSome, 'the skipped request is still open');
  // Charged up front for the most three requests' ads may take; these small ads took far less.
  const paid = findEvent(events, 'transactionPayment', 'TransactionFeePaid').data.actualFee.toBigInt();
  assert.ok(paid < estimated, `paid ${paid}, estimated ${estimated}`);
});
