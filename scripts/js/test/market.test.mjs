// The market as a polkadot.js client meets it, with no custom types, on a real dev node: an app
// and a pool approved by referendum, standing orders, a request that becomes a deal with its
// payment held, and the runtime API (`api.call.marketApi`) that checks ads, ranks offers and
// explains mismatches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, RLC, send, signerFrom, findEvent } from '../lib/chain.mjs';
import { startDevNode } from './helpers.mjs';

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

async function waitFor (what, probe, seconds = 150) {
  for (let i = 0; i < seconds * 2; i++) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

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
  const approve = api.tx.utility.batchAll([api.tx.registry.approve(ids.app), api.tx.registry.approve(ids.pool)]);
  const submit = api.tx.referenda.submit(
    { Governance: 'ContractDecision' },
    { Lookup: { hash: approve.method.hash, len: approve.method.encodedLength } },
    { After: 1 }
  );
  const events = await send(api, api.tx.utility.batchAll([api.tx.preimage.notePreimage(approve.method.toHex()), submit]), alice());
  const referendum = findEvent(events, 'referenda', 'Submitted').data.index.toNumber();
  await send(api, api.tx.referenda.placeDecisionDeposit(referendum), alice());
  const vote = { Standard: { vote: { aye: true, conviction: 'Locked1x' }, balance: 9_000_000n * RLC } };
  await send(api, api.tx.convictionVoting.vote(referendum, vote), bob());
  await waitFor('both contracts approved', async () => {
    const statuses = await Promise.all([ids.app, ids.pool].map(async (id) => (await api.query.registry.contracts(id)).unwrap().status.toString()));
    return statuses.every((s) => s === 'Approved');
  });
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

  const stored = (await api.query.market.deals(deal.data.deal)).unwrap();
  assert.equal(stored.requester.toString(), charlie().address);
  assert.equal(stored.poolOwner.toString(), bob().address);
  assert.equal(stored.appRuntime.toString(), 'Wasm');
  assert.equal(stored.limits.wallSeconds.toNumber(), 1200);
  assert.equal(stored.poolStake.toBigInt(), 4n * RLC * 3n * 30n / 100n);
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

  const open = findEvent(await send(api, api.tx.market.submitRequest(request({ volume: 1, weights: { cost: 0, performance: 0, trust: 0, reliability: 0, energy: 0, rank: 0 } })), charlie()), 'market', 'RequestSubmitted');
  assert.ok(open);
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
