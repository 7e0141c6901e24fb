// The worker daemon on chain, as a rig owner runs it: real `iexec-worker` processes against a
// real dev node (the world of worker-world.mjs). An approved Wasm app (the demo π estimate) at
// trust 3 needs two replicas: two workers claim, run, commit, reveal; the task is certified
// with the digest the app gives, and every balance moves by exactly what the protocol says
// (fees found in the blocks' events, total issuance down by exactly those fees). A Docker app
// lives the same life. A deal of 12 trivial tasks at trust 1 is certified task by task, its
// not-started tasks claimed several at a time. An app whose code does not hash to its
// registered code hash, and a data set whose checksum differs, are refused by every worker
// with a clear error and no stake. A worker whose free balance cannot pay a stake claims
// nothing and says why.
// worker-faults.test.mjs, in its own world beside this one, has the faults of real rigs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blake2AsU8a } from '@polkadot/util-crypto';
import { u8aToHex, u8aToString } from '@polkadot/util';
import { RLC, send, signerFrom, findEvent } from '../lib/chain.mjs';
import { startWorker, waitFor, workerBinary } from './helpers.mjs';
import {
  world, setUpWorld, tearDownWorld, joinWorkers, worker, request, feesBetween, bestNumber, account,
  certified, alice, bob, charlie
} from './worker-world.mjs';

let node;
let api;
let dir;
let ids;
let workers;
let started;

function bind () {
  ({ node, api, dir, ids, workers, started } = world);
}

after(tearDownWorld);

before(async () => {
  await setUpWorld();
  bind();
});

test('workers join through the CLI; a key file others can read is refused first', () => {
  const open = join(dir, 'open.key');
  writeFileSync(open, '//Dave\n', { mode: 0o644 });
  const refused = worker('join', String(ids.pool), '--node-url', node.url, '--key-file', open);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /can be read by other users .*chmod 600/);
  joinWorkers();
  const again = worker('join', String(ids.pool), '--node-url', node.url, '--suri', '//Dave');
  assert.notEqual(again.status, 0);
  assert.match(again.stderr, /poco\.AlreadyAWorker/);
});

test('trust 3: two worker daemons run the app, commit, reveal; certified, every balance exact', async () => {
  const dave = signerFrom('//Dave');
  const eve = signerFrom('//Eve');
  for (const [suri, name] of [['//Dave', 'dave'], ['//Eve', 'eve']]) {
    workers.push(startWorker({ url: node.url, suri, dir, name }));
    started.push(workers.at(-1));
  }
  const expected = JSON.parse(execFileSync(workerBinary(), ['exec', '--wasm', ids.wasm, '--json', '--', '200000'], { encoding: 'utf8' }));
  const people = [alice(), bob(), charlie(), dave, eve];
  const before = await Promise.all(people.map(account));
  const issuance = (await api.query.balances.totalIssuance()).toBigInt();
  const from = await bestNumber();

  const events = await send(api, api.tx.market.submitRequest(request(ids.app, '200000', 3)), charlie());
  const deal = findEvent(events, 'market', 'DealMade').data.deal.toNumber();
  const result = await waitFor('the task to be certified', async () => {
    const task = await api.query.poco.tasks(deal, 0);
    return task.isSome && task.unwrap().status.isCompleted && (await api.query.poco.results(deal, 0)).unwrap();
  }, 240);
  assert.equal(u8aToHex(result.digest), expected.success.digest, 'the digest the app gives');
  // Small results are revealed on chain: the output's directory encoding, hashing to the digest.
  const inline = result.location.unwrap().asInline;
  assert.equal(u8aToHex(blake2AsU8a(inline, 256)), expected.success.digest);
  assert.match(u8aToString(inline), /result\.txt.*pi ~ 3\.1\d+ \(\d+ of 200000 samples\)/s);

  // Balances settle on the block that certified the task; fees are those of every block since.
  await waitFor('the workers to be idle', async () => (await Promise.all([dave, eve].map(async (w) => (await api.query.poco.workers(w.address)).unwrap().replicas.toNumber()))).every((n) => n === 0));
  const to = await bestNumber();
  const after = await Promise.all(people.map(account));
  const fees = await feesBetween(from, to);
  // The figure docs/benchmarks.md keeps: blocks from the deal's block to the certifying one.
  const at = {};
  for (let n = from + 1; n <= to; n++) {
    for (const { event } of await api.query.system.events.at(await api.rpc.chain.getBlockHash(n))) {
      if (event.section === 'market' && event.method === 'DealMade' && event.data.deal.toNumber() === deal) at.deal = n;
      if (event.section === 'poco' && event.method === 'TaskCompleted' && event.data.task.deal.toNumber() === deal) at.certified = n;
    }
  }
  console.log(`measured: deal in block ${at.deal}, certified in block ${at.certified}: ${at.certified - at.deal} blocks (trust 3, two workers, 6 s blocks)`);
  const total = (a) => a.free.toBigInt() + a.reserved.toBigInt();
  const delta = people.map((who, i) => total(after[i]) - total(before[i]) + fees.of(who));
  const pool = 4n * RLC;
  const share = pool * 95n / 100n / 2n;
  // Alice: the app price. Bob: 5 % of the pool price (his stake went and came back; the kitty
  // is empty on a fresh chain). Charlie: the whole price. Each worker: half of 95 %.
  assert.deepEqual(delta, [RLC, pool * 5n / 100n, -(RLC + pool), share, share]);
  assert.equal(after[3].reserved.toBigInt(), before[3].reserved.toBigInt(), 'no stake left held');
  assert.equal(issuance - (await api.query.balances.totalIssuance()).toBigInt(), fees.total, 'only fees burnt');
  assert.deepEqual(await Promise.all([dave, eve].map(async (w) => (await api.query.poco.scores(w.address)).toNumber())), [1, 1]);
});

test('a Docker app: the same life, the result the image gives', async () => {
  const expected = JSON.parse(execFileSync(workerBinary(), ['exec', '--docker', ids.image, '--json', '--', 'touch', 'result'], { encoding: 'utf8' }));
  const events = await send(api, api.tx.market.submitRequest(request(ids.dockerApp, 'touch result', 3)), charlie());
  const deal = findEvent(events, 'market', 'DealMade').data.deal.toNumber();
  await waitFor('the Docker task to be certified', async () => {
    const task = await api.query.poco.tasks(deal, 0);
    return task.isSome && task.unwrap().status.isCompleted;
  }, 240);
  const result = (await api.query.poco.results(deal, 0)).unwrap();
  assert.equal(u8aToHex(result.digest), expected.success.digest);
  assert.equal(u8aToHex(blake2AsU8a(result.location.unwrap().asInline, 256)), expected.success.digest);
});

test('a deal of 12 trivial tasks at trust 1: not-started tasks claimed several at a time, all certified once', async () => {
  const volume = 12;
  const from = await bestNumber();
  const events = await send(api, api.tx.market.submitRequest({ ...request(ids.app, '1000', 1), volume }), charlie());
  const made = findEvent(events, 'market', 'DealMade').data;
  const deal = made.deal.toNumber();
  assert.equal(made.volume.toNumber(), volume);
  await waitFor(`the ${volume} tasks to be certified`, async () => {
    for (let index = 0; index < volume; index++) {
      const task = await api.query.poco.tasks(deal, index);
      if (!(task.isSome && task.unwrap().status.isCompleted)) return false;
    }
    return true;
  }, 300);
  const to = await bestNumber();
  const starts = new Map(); // block → worker → tasks started by its claims there
  const completed = [];
  let first;
  let last;
  for (let n = from + 1; n <= to; n++) {
    for (const { event } of await api.query.system.events.at(await api.rpc.chain.getBlockHash(n))) {
      if (event.section !== 'poco' || event.data.task?.deal.toNumber() !== deal) continue;
      if (event.method === 'ReplicaClaimed') {
        first ??= n;
        if (event.data.started.isTrue) {
          const byWorker = starts.get(n) ?? new Map();
          const who = event.data.worker.toString();
          byWorker.set(who, (byWorker.get(who) ?? 0) + 1);
          starts.set(n, byWorker);
        }
      }
      if (event.method === 'TaskCompleted') {
        completed.push(event.data.task.index.toNumber());
        last = n;
      }
    }
  }
  assert.deepEqual(completed.sort((a, b) => a - b), [...Array(volume).keys()], 'each task certified once');
  const most = Math.max(...[...starts.values()].flatMap((m) => [...m.values()]));
  assert.ok(most >= 2, `a worker's claim started several tasks in one block (at most ${most})`);
  const blocks = last - first + 1;
  console.log(`measured: ${volume} trivial tasks at trust 1, two workers of 2 slots on this machine: first claim in block ${first}, last certified in ${last} (${blocks} blocks, ${(volume / (blocks * 6)).toFixed(2)} tasks/s at 6 s blocks)`);
});

test('a code hash that does not match: every worker hands the replica back, says why, stakes nothing', async () => {
  const dave = signerFrom('//Dave');
  const eve = signerFrom('//Eve');
  const reserved = await Promise.all([dave, eve].map(async (w) => (await account(w)).reserved.toBigInt()));
  const events = await send(api, api.tx.market.submitRequest(request(ids.badApp, '', 1)), charlie());
  const deal = findEvent(events, 'market', 'DealMade').data.deal.toNumber();
  // Trust 1: one replica at a time; each worker tries once, fails the check, hands it back.
  await waitFor('both workers to hand the replica back', async () => {
    const task = await api.query.poco.tasks(deal, 0);
    return task.isSome && task.unwrap().replicas.length === 2 && task.unwrap().replicas.every((r) => r.state.isReleased);
  }, 240);
  for (const w of workers) {
    assert.match(w.output(), /the code at file:\/\/\S+tampered\.wasm hashes to 0x[0-9a-f]{64}, the app is registered with 0xabab/, w.name);
  }
  assert.deepEqual(await Promise.all([dave, eve].map(async (w) => (await account(w)).reserved.toBigInt())), reserved, 'no stake held');
  assert.ok((await api.query.poco.tasks(deal, 0)).unwrap().status.isOpen, 'still open for a worker that has the right code');
});

test('a data set whose checksum differs: the replica is handed back with the reason, nothing staked', async () => {
  const reserved = await Promise.all(['//Dave', '//Eve'].map(async (s) => (await account(signerFrom(s))).reserved.toBigInt()));
  const events = await send(api, api.tx.market.submitRequest({ ...request(ids.app, '', 1), dataset: ids.dataset, datasetMaxPrice: RLC }), charlie());
  const deal = findEvent(events, 'market', 'DealMade').data.deal.toNumber();
  await waitFor('a worker to hand the replica back', async () => {
    const task = await api.query.poco.tasks(deal, 0);
    return task.isSome && task.unwrap().replicas.some((r) => r.state.isReleased);
  }, 180);
  assert.ok(workers.some((w) => /input checksum mismatch: expected 0xcdcdcdcd/.test(w.output())), 'the reason, in the log');
  assert.deepEqual(await Promise.all(['//Dave', '//Eve'].map(async (s) => (await account(signerFrom(s))).reserved.toBigInt())), reserved, 'no stake held');
});


test("a worker whose free balance cannot pay a contribution's stake claims nothing and says why", async () => {
  // The tampered app's task above is still open, and this worker has not tried it yet.
  const ferdie = signerFrom('//Ferdie');
  const free = (await account(ferdie)).free.toBigInt();
  // Keep 1 RLC: enough for the fees of a claim, less than the 1.2 RLC a contribution stakes
  // (30 % of the pool's 4 RLC).
  await send(api, api.tx.balances.transferKeepAlive(alice().address, free - RLC), ferdie);
  const from = await bestNumber();
  const poor = startWorker({ url: node.url, suri: '//Ferdie', dir, name: 'ferdie' });
  workers.push(poor);
  started.push(poor);
  await waitFor('the worker to say why it claims nothing', async () => /not claiming: a contribution stakes more than the free balance left/.test(poor.output()), 120);
  const until = (await bestNumber()) + 3;
  await waitFor('three more blocks', async () => (await bestNumber()) >= until, 60);
  assert.equal((await api.query.poco.workers(ferdie.address)).unwrap().replicas.toNumber(), 0, 'no replica held');
  for (let n = from + 1; n <= until; n++) {
    for (const { event } of await api.query.system.events.at(await api.rpc.chain.getBlockHash(n))) {
      const claimed = event.section === 'poco' && event.method === 'ReplicaClaimed' && event.data.worker.toString() === ferdie.address;
      assert.ok(!claimed, `no claim by the worker (block ${n})`);
    }
  }
});
