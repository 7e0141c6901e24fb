// The world the worker tests run in, shared by worker.test.mjs and worker-faults.test.mjs
// (two files, so that node's test runner runs them side by side): a real dev node, the demo π
// app (compiled by the worker's own command) and a copy registered with a code hash it does
// not have, a Docker app made with `docker import`, a worker pool, a data set registered with
// a checksum its file does not have, all approved by one referendum, with standing orders.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, RLC, send, signerFrom, findEvent } from '../lib/chain.mjs';
import { approveByReferendum } from '../lib/provider.mjs';
import { startDevNode, waitFor, workerBinary } from './helpers.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const alice = () => signerFrom('//Alice');
export const bob = () => signerFrom('//Bob');
export const charlie = () => signerFrom('//Charlie');
const restrictions = { requester: null, app: null, dataset: null, pool: null };
const rfc = { documentHash: `0x${'11'.repeat(32)}`, uri: 'https://example.org/rfc' };

/** The world: `node`, `api`, `dir`, contract `ids`, running `workers`, every worker `started`. */
export const world = { node: null, api: null, dir: null, ids: {}, workers: [], started: [] };

const imageName = () => `iexec-test/busybox-${process.pid}`;

/** Runs `iexec-worker ARGS` to completion. */
export function worker (...args) {
  return spawnSync(workerBinary(), args, { encoding: 'utf8' });
}

// A Docker image made here, as the worker's Docker tests make theirs: `docker import` of a
// root filesystem holding Debian's static busybox (no registry is reachable). Its ID.
function busyboxImage () {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find(existsSync);
  assert.ok(busybox, 'busybox is required (scripts/setup.sh installs busybox-static)');
  const root = join(world.dir, 'rootfs');
  for (const d of ['bin', 'tmp', 'etc', 'iexec/input', 'iexec/output']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(busybox, join(root, 'bin', 'busybox'));
  for (const applet of ['sh', 'touch', 'echo', 'cat']) symlinkSync('busybox', join(root, 'bin', applet));
  // busybox-static is about 2 MiB: far above spawnSync's default 1 MiB of output.
  const tar = spawnSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 64 << 20 });
  assert.equal(tar.status, 0, `tar failed: ${tar.stderr}`);
  // A name of this world's own: another world importing the same files gets another image ID.
  const imported = spawnSync('docker', ['import', '-', `${imageName()}:latest`], { input: tar.stdout, encoding: 'utf8' });
  assert.equal(imported.status, 0, `docker import failed (is dockerd running?): ${imported.stderr}`);
  return imported.stdout.trim();
}

/** Builds the world (the tests' `before`). */
export async function setUpWorld () {
  const ids = world.ids;
  const dir = world.dir = mkdtempSync(join(tmpdir(), 'iexec-worker-test-'));
  const node = world.node = await startDevNode({ basePath: join(dir, 'chain') });
  const api = world.api = await connect(node.url);
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
  ids.dockerApp = await propose({ App: { runtime: 'Docker', codeUri: `docker://${imageName()}`, codeHash: `0x${ids.image.replace('sha256:', '')}`, requirements: 'true' } }, alice());
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
}

/** Joins the pool with the CLI as Dave, Eve, Ferdie and Alice (key files of mode 600). */
export function joinWorkers () {
  const { dir, node, ids } = world;
  for (const suri of ['//Dave', '//Eve', '//Ferdie', '//Alice']) {
    const file = join(dir, `${suri.slice(2)}.key`);
    writeFileSync(file, `${suri}\n`, { mode: 0o600 });
    const joined = worker('join', String(ids.pool), '--node-url', node.url, '--key-file', file);
    assert.equal(joined.status, 0, joined.stderr);
    assert.match(joined.stdout, new RegExp(`joined pool ${ids.pool}`));
  }
}

/** Stops what runs and prints each worker's output (the tests' `after`). */
export async function tearDownWorld () {
  const { workers, started, api, node } = world;
  for (const w of workers) await w.stop();
  // What each worker said, for whoever reads a failure.
  for (const w of started) console.error(`--- ${w.name}:\n${w.output().slice(-6000)}`);
  if (api) await api.disconnect();
  if (node) await node.stop();
}

export function request (app, params, trust) {
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
export async function feesBetween (from, to) {
  const { api } = world;
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

export const bestNumber = async () => (await world.api.rpc.chain.getHeader()).number.toNumber();
export const account = async (who) => (await world.api.query.system.account(who.address)).data;

// How many `poco.Contributed` events of `deal` each worker has, over blocks `from + 1 ..= to`.
export async function contributions (deal, from, to) {
  const { api } = world;
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

export const certified = (deal, seconds = 300) => waitFor('the task to be certified', async () => {
  const task = await world.api.query.poco.tasks(deal, 0);
  return task.isSome && task.unwrap().status.isCompleted;
}, seconds);

