// The worker daemon on chain, as a rig owner runs it: real `iexec-worker` processes against a
// real dev node. An approved Wasm app (the demo π estimate) at trust 3 needs two replicas:
// two workers claim, run, commit, reveal; the task is certified with the digest the app
// gives, and every balance moves by exactly what the protocol says (fees found in the
// blocks' events, total issuance down by exactly those fees). An app whose code does not hash
// to its registered code hash is refused by every worker with a clear error and no stake. A
// worker killed mid-task loses its replica when it is due, and another worker completes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync, readFileSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blake2AsU8a } from '@polkadot/util-crypto';
import { u8aToHex, u8aToString } from '@polkadot/util';
import { connect, RLC, send, signerFrom, findEvent } from '../lib/chain.mjs';
import { approveByReferendum } from '../lib/provider.mjs';
import { startDevNode, startWorker, waitFor, within, workerBinary } from './helpers.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const alice = () => signerFrom('//Alice');
const bob = () => signerFrom('//Bob');
const charlie = () => signerFrom('//Charlie');
const restrictions = { requester: null, app: null, dataset: null, pool: null };
const rfc = { documentHash: `0x${'11'.repeat(32)}`, uri: 'https://example.org/rfc' };

let node;
let api;
let dir;
const workers = [];
const started = [];
const ids = {};

function worker (...args) {
  return spawnSync(workerBinary(), args, { encoding: 'utf8' });
}

// A Docker image made here, as the worker's Docker tests make theirs: `docker import` of a
// root filesystem holding Debian's static busybox (no registry is reachable). Its ID.
function busyboxImage () {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find(existsSync);
  assert.ok(busybox, 'busybox is required (scripts/setup.sh installs busybox-static)');
  const root = join(dir, 'rootfs');
  for (const d of ['bin', 'tmp', 'etc', 'iexec/input', 'iexec/output']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(busybox, join(root, 'bin', 'busybox'));
  for (const applet of ['sh', 'touch', 'echo', 'cat']) symlinkSync('busybox', join(root, 'bin', applet));
  // busybox-static is about 2 MiB: far above spawnSync's default 1 MiB of output.
  const tar = spawnSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 64 << 20 });
  assert.equal(tar.status, 0, `tar failed: ${tar.stderr}`);
  const imported = spawnSync('docker', ['import', '-', 'iexec-test/busybox:latest'], { input: tar.stdout, encoding: 'utf8' });
  assert.equal(imported.status, 0, `docker import failed (is dockerd running?): ${imported.stderr}`);
  return imported.stdout.trim();
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iexec-worker-test-'));
  node = await startDevNode({ basePath: join(dir, 'chain') });
  api = await connect(node.url);
  // The demo app, compiled by the worker's own command, which prints its code hash.
  ids.wasm = join(dir, 'pi.wasm');
  ids.codeHash = execFileSync(workerBinary(), ['compile-wat', join(repo, 'worker', 'apps', 'pi.wat'), ids.wasm], { encoding: 'utf8' }).trim();
  // Another copy of the module, registered with a code hash it does not have.
  ids.badWasm = join(dir, 'tampered.wasm');
  copyFileSync(ids.wasm, ids.badWasm);
  const app = (uri, codeHash) => ({ App: { runtime: 'Wasm', codeUri: uri, codeHash, requirements: 'true' } });
  const propose = async (terms, who) => findEvent(await send(api, api.tx.registry.propose(rfc, terms), who), 'registry', 'ContractProposed').data.id.toNumber();
  ids.app = await propose(app(`file://${ids.wasm}`, ids.codeHash), alice());
  ids.badApp = await propose(app(`file://${ids.badWasm}`, `0x${'ab'.repeat(32)}`), alice());
  ids.image = busyboxImage();
  ids.dockerApp = await propose({ App: { runtime: 'Docker', codeUri: 'docker://iexec-test/busybox', codeHash: `0x${ids.image.replace('sha256:', '')}`, requirements: 'true' } }, alice());
  ids.pool = await propose({ WorkerPool: { description: 'test rigs', workerStakeRatio: 30, schedulerRewardRatio: 5, admission: 'TARGET.Cpus >= 1' } }, bob());
  // A data set registered with a checksum its file does not have.
  ids.data = join(dir, 'numbers.txt');
  writeFileSync(ids.data, '1 2 3\n');
  ids.dataset = await propose({ Dataset: { location: `file://${ids.data}`, checksum: `0x${'cd'.repeat(32)}`, restrictions: null } }, charlie());
  await approveByReferendum(api, [ids.app, ids.badApp, ids.dockerApp, ids.pool, ids.dataset], alice(), bob());
  await send(api, api.tx.market.publishDatasetOrder(ids.dataset, RLC, 100, 0, restrictions), charlie());
  for (const app of [ids.app, ids.badApp, ids.dockerApp]) {
    await send(api, api.tx.market.publishAppOrder(app, RLC, 100, 0, restrictions), alice());
  }
  await send(api, api.tx.market.publishPoolOrder(ids.pool, 4n * RLC, 20, 'XS', 3, 0, restrictions, '[ Cpus = 2; Memory = 4096 ]'), bob());
});

after(async () => {
  for (const w of workers) await w.stop();
  // What each worker said, for whoever reads a failure.
  for (const w of started) console.error(`--- ${w.name}:\n${w.output().slice(-6000)}`);
  if (api) await api.disconnect();
  if (node) await node.stop();
});

function request (app, params, trust) {
  return {
    app,
    dataset: null,
    appMaxPrice: RLC,
    datasetMaxPrice: 0,
    poolMaxPrice: 4n * RLC,
    volume: 1,
    category: 'XS',
    trust,
    tag: 0,
    pool: null,
    params,
    beneficiary: charlie().address,
    jobAd: '[ Requirements = TARGET.Cpus >= 1 ]',
    weights: { cost: 1, performance: 0, trust: 0, reliability: 0, energy: 0, rank: 0 }
  };
}

// Fees paid by each account, and in all, in blocks `from + 1 ..= to`.
async function feesBetween (from, to) {
  const byAccount = new Map();
  let total = 0n;
  for (let n = from + 1; n <= to; n++) {
    const events = await api.query.system.events.at(await api.rpc.chain.getBlockHash(n));
    for (const { event } of events) {
      if (event.section === 'transactionPayment' && event.method === 'TransactionFeePaid') {
        const who = event.data.who.toString();
        const fee = event.data.actualFee.toBigInt();
        byAccount.set(who, (byAccount.get(who) ?? 0n) + fee);
        total += fee;
      }
    }
  }
  return { of: (who) => byAccount.get(who.address) ?? 0n, total };
}

const bestNumber = async () => (await api.rpc.chain.getHeader()).number.toNumber();
const account = async (who) => (await api.query.system.account(who.address)).data;

test('workers join through the CLI; a key file others can read is refused first', () => {
  const open = join(dir, 'open.key');
  writeFileSync(open, '//Dave\n', { mode: 0o644 });
  const refused = worker('join', String(ids.pool), '--node-url', node.url, '--key-file', open);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /can be read by other users .*chmod 600/);
  for (const suri of ['//Dave', '//Eve', '//Ferdie', '//Alice']) {
    const file = join(dir, `${suri.slice(2)}.key`);
    writeFileSync(file, `${suri}\n`, { mode: 0o600 });
    const joined = worker('join', String(ids.pool), '--node-url', node.url, '--key-file', file);
    assert.equal(joined.status, 0, joined.stderr);
    assert.match(joined.stdout, new RegExp(`joined pool ${ids.pool}`));
  }
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

// How many `poco.Contributed` events of `deal` each worker has, over blocks `from + 1 ..= to`.
async function contributions (deal, from, to) {
  const count = {};
  for (let n = from + 1; n <= to; n++) {
    for (const { event } of await api.query.system.events.at(await api.rpc.chain.getBlockHash(n))) {
      if (event.section === 'poco' && event.method === 'Contributed' && event.data.task.deal.toNumber() === deal) {
        const who = event.data.worker.toString();
        count[who] = (count[who] ?? 0) + 1;
      }
    }
  }
  return count;
}

const certified = (deal, seconds = 300) => waitFor('the task to be certified', async () => {
  const task = await api.query.poco.tasks(deal, 0);
  return task.isSome && task.unwrap().status.isCompleted;
}, seconds);

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
