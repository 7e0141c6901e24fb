// Faults real rigs have, with real `iexec-worker` processes against a real dev node (the world
// of worker-world.mjs, its own beside worker.test.mjs's): a worker killed mid-task loses its
// replica when it is due and another worker completes it; the node restarted under running
// workers; a worker that commits a wrong result; status and SIGTERM; a worker whose node is
// gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RLC, send, signerFrom, findEvent } from '../lib/chain.mjs';
import { startWorker, waitFor, within } from './helpers.mjs';
import {
  world, setUpWorld, tearDownWorld, joinWorkers, worker, request, feesBetween, bestNumber, account,
  contributions, certified, alice, bob, charlie
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
  joinWorkers();
  for (const [suri, name] of [['//Dave', 'dave'], ['//Eve', 'eve']]) {
    workers.push(startWorker({ url: node.url, suri, dir, name }));
    started.push(workers.at(-1));
  }
});

test('a worker killed mid-task: its replica is handed back when due and another worker completes the task', async () => {
  const [dave, eve, ferdie] = ['//Dave', '//Eve', '//Ferdie'].map(signerFrom);
  // Task time one minute (the least governance may set), a replica due one task time after
  // its claim: the dev chain's sudo stands in for the root-track referendum.
  const economics = (await api.query.poco.economicParameters()).toJSON();
  economics.taskSeconds[0] = 60;
  economics.replicaRatio = 1;
  await send(api, api.tx.sudo.sudo(api.tx.poco.setEconomics(economics)), alice());
  const from = await bestNumber();
  const events = await send(api, api.tx.market.submitRequest(request(ids.app, '1200000000', 3)), charlie());
  const deal = findEvent(events, 'market', 'DealMade').data.deal.toNumber();
  const victim = workers.find((w) => w.name === 'eve');
  await waitFor('eve to claim a replica', () => new RegExp(`replica claimed task=${deal}/0`).test(victim.output().replace(/\x1b\[[0-9;]*m/g, '')), 120);
  await victim.kill();
  workers.splice(workers.indexOf(victim), 1);
  workers.push(startWorker({ url: node.url, suri: '//Ferdie', dir, name: 'ferdie' }));
  started.push(workers.at(-1));
  await waitFor('the task to be certified', async () => {
    const task = await api.query.poco.tasks(deal, 0);
    return task.isSome && task.unwrap().status.isCompleted;
  }, 300);
  const to = await bestNumber();
  const seen = [];
  for (let n = from + 1; n <= to; n++) {
    for (const { event } of await api.query.system.events.at(await api.rpc.chain.getBlockHash(n))) {
      if (event.section === 'poco' && ['ReplicaReleased', 'Revealed'].includes(event.method) && event.data.task.deal.toNumber() === deal) {
        seen.push(`${event.method} ${event.data.worker.toString()}`);
      }
    }
  }
  assert.deepEqual(seen.sort(), [`ReplicaReleased ${eve.address}`, `Revealed ${dave.address}`, `Revealed ${ferdie.address}`].sort());
  assert.equal((await api.query.poco.workers(eve.address)).unwrap().replicas.toNumber(), 0, 'the killed worker holds nothing');
  assert.equal((await account(eve)).reserved.toBigInt(), (await api.query.poco.workers(eve.address)).unwrap().deposit.toBigInt(), 'nothing but its deposit held: it never staked');
});

test('the node restarted under running workers: they reconnect, finish, and contribute once each', async () => {
  const from = await bestNumber();
  const events = await send(api, api.tx.market.submitRequest(request(ids.app, '1200000000', 3)), charlie());
  const deal = findEvent(events, 'market', 'DealMade').data.deal.toNumber();
  const plain = (w) => w.output().replace(/\x1b\[[0-9;]*m/g, '');
  await waitFor('both workers to run the task', () => workers.filter((w) => new RegExp(`replica claimed task=${deal}/0`).test(plain(w))).length === 2, 120);
  await node.restart();
  await certified(deal);
  const to = await bestNumber();
  const count = await contributions(deal, from, to);
  assert.deepEqual(Object.values(count), [1, 1], `one contribution each: ${JSON.stringify(count)}`);
  for (const w of workers) assert.match(plain(w), /node connection lost|chain unreachable/, `${w.name} saw the node go`);
});

test('a worker that commits a wrong result loses its stake and a third of its score; the others share it', async () => {
  for (const w of workers.splice(0)) assert.equal(await w.stop(), 0);
  const [dave, eve, ferdie, aliceWorker] = ['//Dave', '//Eve', '//Ferdie', '//Alice'].map(signerFrom);
  const score = async (who) => (await api.query.poco.scores(who.address)).toNumber();
  const daveScore = await score(dave);
  const people = [dave, eve, ferdie, aliceWorker, bob()];
  const before = await Promise.all(people.map(account));
  const issuance = (await api.query.balances.totalIssuance()).toBigInt();
  const from = await bestNumber();
  // Dave (wrong results) and Eve take the first two replicas; they disagree.
  const faulty = startWorker({ url: node.url, suri: '//Dave', dir, name: 'dave', extra: ['--fault-wrong-result'] });
  workers.push(faulty);
  workers.push(startWorker({ url: node.url, suri: '//Eve', dir, name: 'eve' }));
  started.push(...workers);
  const events = await send(api, api.tx.market.submitRequest(request(ids.app, '200000', 3)), charlie());
  const deal = findEvent(events, 'market', 'DealMade').data.deal.toNumber();
  await waitFor('two disagreeing contributions', async () => {
    const task = await api.query.poco.tasks(deal, 0);
    return task.isSome && task.unwrap().groups.length === 2;
  }, 180);
  // Two more honest workers make the honest group credible enough for trust 3.
  for (const [suri, name] of [['//Ferdie', 'ferdie'], ['//Alice', 'alice']]) {
    workers.push(startWorker({ url: node.url, suri, dir, name }));
    started.push(workers.at(-1));
  }
  await certified(deal);
  await waitFor('every replica settled', async () => (await Promise.all([dave, eve, ferdie, aliceWorker].map(async (w) => (await api.query.poco.workers(w.address)).unwrap().replicas.toNumber()))).every((n) => n === 0));
  const to = await bestNumber();
  const after = await Promise.all(people.map(account));
  const fees = await feesBetween(from, to);
  const total = (a) => a.free.toBigInt() + a.reserved.toBigInt();
  const delta = people.map((who, i) => total(after[i]) - total(before[i]) + fees.of(who));
  const stake = 4n * RLC * 30n / 100n;
  assert.equal(delta[0], -stake, 'the wrong worker lost its stake');
  assert.equal(await score(dave), Math.floor(daveScore * 2 / 3), 'and a third of its score');
  // The pot: the pool price and the seized stake, 5 % to the pool owner, the rest shared
  // equally by three winners of equal weight (Alice also gets the app price).
  const share = (4n * RLC + stake) * 95n / 100n / 3n;
  assert.deepEqual([delta[1], delta[2], delta[3] - RLC], [share, share, share]);
  assert.equal(delta.reduce((a, b) => a + b, 0n), 4n * RLC + RLC, 'what the requester paid, spread; nothing created');
  assert.equal(issuance - (await api.query.balances.totalIssuance()).toBigInt(), fees.total, 'only fees burnt');
  // The daemon acts on finalised blocks: it tells the loss once finality reaches it.
  await waitFor('the faulty worker to see its loss', () => new RegExp(`our result did not win task=${deal}/0`).test(faulty.output().replace(/\x1b\[[0-9;]*m/g, '')), 60);
});

test('status shows the pool, score and balances; SIGTERM stops a worker cleanly', async () => {
  const status = worker('status', '--node-url', node.url, '--suri', '//Eve');
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`pool: ${ids.pool}\\n`));
  // `status` reads the finalised state, as the daemon does.
  const finalized = await api.rpc.chain.getFinalizedHead();
  const score = (await api.query.poco.scores.at(finalized, signerFrom('//Eve').address)).toNumber();
  assert.match(status.stdout, new RegExp(`score: ${score}\n`));
  const metrics = workers[0].output();
  assert.match(metrics, /health, metrics and results served/);
  // The figure docs/benchmarks.md keeps: each daemon's memory, now (idle) and at its peak.
  for (const w of workers) {
    const status = readFileSync(`/proc/${w.pid}/status`, 'utf8');
    const kib = (field) => Number(status.match(new RegExp(`${field}:\\s+(\\d+) kB`))[1]);
    console.log(`measured: ${w.name} resident ${Math.round(kib('VmRSS') / 1024)} MiB idle, peak ${Math.round(kib('VmHWM') / 1024)} MiB`);
  }
  for (const w of workers.splice(0)) {
    assert.equal(await w.stop(), 0, `${w.name} exits 0 on SIGTERM:\n${w.output().slice(-2000)}`);
  }
});

test('a worker whose node is gone still stops on SIGTERM', async () => {
  const lonely = startWorker({ url: node.url, suri: '//Ferdie', dir, name: 'lonely' });
  started.push(lonely);
  await waitFor('the worker to read the chain', () => /health, metrics and results served/.test(lonely.output()) && /connected to node/.test(lonely.output()), 60);
  await node.stop();
  try {
    await waitFor('the worker to find no node', () => /chain unreachable/.test(lonely.output()), 60);
    // Well into the backoff (1 + 2 + 4 + 8 s), a stop still wakes it. Before, it stopped only
    // with a node to talk to: it retried for ever.
    await new Promise((resolve) => setTimeout(resolve, 16_000));
    const stopped = await within(lonely.stop(), 60, 'the worker stopping').catch((e) => e.message);
    if (!lonely.exited()) await lonely.kill();
    assert.equal(stopped, 0, lonely.output().slice(-2000));
    assert.match(lonely.output(), /chain unreachable while stopping; stopped/);
  } finally {
    await node.restart();
  }
});
