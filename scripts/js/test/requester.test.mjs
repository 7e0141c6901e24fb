// The command-line client (scripts/js/iexec.mjs) for both sides of the market, against a real
// dev node and a real worker daemon: providers register a Docker app, a data set and a pool,
// put them to a referendum, vote and publish orders; a requester gets a result too large for
// the chain, fetched from the worker with the beneficiary's signature and checked against the
// certified digest. Mistakes get readable errors and the right exit status.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, symlinkSync, existsSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { u8aToHex } from '@polkadot/util';
import { connect, signerFrom } from '../lib/chain.mjs';
import { accessMessage } from '../lib/results.mjs';
import { Fatal, freePort, startDevNode, startWorker, waitFor, workerBinary } from './helpers.mjs';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'iexec.mjs');
let node;
let api;
let dir;
let worker;
const ids = {};

// Runs the client; its status and output.
function iexec (...args) {
  const ran = spawnSync('node', [cli, '--url', node.url, ...args], { encoding: 'utf8', timeout: 600_000 });
  return { status: ran.status, stdout: ran.stdout, stderr: ran.stderr, all: `${ran.stdout}\n${ran.stderr}` };
}
function ok (...args) {
  const ran = iexec(...args);
  assert.equal(ran.status, 0, `iexec ${args.join(' ')}:\n${ran.all}`);
  return ran.stdout;
}
const contractIn = (stdout) => Number(/registered as contract (\d+)/.exec(stdout)[1]);

// A Docker image of Debian's static busybox, imported (no registry is reachable). Its ID.
function busyboxImage () {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find(existsSync);
  assert.ok(busybox, 'busybox is required (scripts/setup.sh installs busybox-static)');
  const root = join(dir, 'rootfs');
  for (const d of ['bin', 'tmp', 'iexec/input', 'iexec/output']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(busybox, join(root, 'bin', 'busybox'));
  for (const applet of ['sh', 'cp', 'cat']) symlinkSync('busybox', join(root, 'bin', applet));
  const tar = spawnSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 64 << 20 });
  assert.equal(tar.status, 0, `tar failed: ${tar.stderr}`);
  const imported = spawnSync('docker', ['import', '-', 'iexec-test/busybox-cli:latest'], { input: tar.stdout, encoding: 'utf8' });
  assert.equal(imported.status, 0, `docker import failed (is dockerd running?): ${imported.stderr}`);
  return { id: imported.stdout.trim(), busybox };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iexec-cli-test-'));
  node = await startDevNode();
  api = await connect(node.url);
});

after(async () => {
  if (worker) {
    await worker.stop();
    if (process.exitCode) console.error(`--- worker:\n${worker.output().slice(-6000)}`);
  }
  if (api) await api.disconnect();
  if (node) await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('mistakes: usage errors exit 2 with the reason, chain refusals exit 1 with the pallet error', () => {
  const noApp = iexec('request', '--suri', '//Charlie');
  assert.equal(noApp.status, 2);
  assert.match(noApp.stderr, /--app is required/);
  const price = iexec('publish-app-order', '0', '--suri', '//Alice', '--price', '1.0000000001', '--volume', '1');
  assert.equal(price.status, 2);
  assert.match(price.stderr, /--price must be a number of RLC with at most 9 decimals/);
  const noSigner = iexec('cancel-order', '0');
  assert.equal(noSigner.status, 2);
  assert.match(noSigner.stderr, /--suri \(or IEXEC_SURI\) is required/);
  // Found before connecting: no node answers on port 9, and the reason is still the mistake.
  const offline = spawnSync('node', [cli, '--url', 'ws://127.0.0.1:9', 'register-pool', '--suri', '//Bob', '--description', 'x', '--worker-stake-ratio', '300'], { encoding: 'utf8' });
  assert.equal(offline.status, 2, offline.stderr);
  assert.match(offline.stderr, /--worker-stake-ratio must be a whole number from 0 to 100 \(got "300"\)/);
  for (const arch of ['sparc', 'toString']) {
    const pinned = spawnSync('node', [cli, '--url', 'ws://127.0.0.1:9', 'request', '--suri', '//Charlie', '--app', '0', '--same-architecture', arch], { encoding: 'utf8' });
    assert.equal(pinned.status, 2, pinned.stderr);
    assert.match(pinned.stderr, /--same-architecture must be one of X86_64, aarch64/);
  }
  const unknown = iexec('publish-app-order', '4242', '--suri', '//Alice', '--price', '1', '--volume', '1');
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /market\.UnknownContract/);
});

test('providers: register, propose approval, vote, publish; the client computes the checksum workers check', async () => {
  const image = busyboxImage();
  ids.busybox = image.busybox;
  ids.app = contractIn(ok('register-app', '--suri', '//Alice', '--runtime', 'Docker', '--code-uri', 'docker://iexec-test/busybox-cli',
    '--code-hash', `0x${image.id.replace('sha256:', '')}`));
  ids.pool = contractIn(ok('register-pool', '--suri', '//Bob', '--description', 'cli test rigs', '--admission', 'TARGET.Cpus >= 1'));
  const data = join(dir, 'words.txt');
  writeFileSync(data, 'alpha beta gamma\n');
  const registered = ok('register-dataset', '--suri', '//Eve', '--location', `file://${data}`, '--file', data);
  ids.dataset = contractIn(registered);
  // The checksum the worker computes for the same file (`exec` prints it on stderr).
  const exec = spawnSync(workerBinary(), ['exec', '--docker', image.id, '--input', data, '--', 'cat', '/iexec/input'], { encoding: 'utf8' });
  const workerSum = /input checksum:? (0x[0-9a-f]{64})/.exec(exec.stderr)?.[1];
  assert.ok(workerSum, `no checksum in: ${exec.stderr}`);
  assert.match(registered, new RegExp(`checksum ${workerSum}`));

  // Not approved yet: the chain refuses the order, by name.
  const early = iexec('publish-app-order', String(ids.app), '--suri', '//Alice', '--price', '0.5', '--volume', '10');
  assert.equal(early.status, 1);
  assert.match(early.stderr, /market\.ContractNotApproved/);

  const referendum = Number(/referendum (\d+) submitted/.exec(ok('propose-approval', String(ids.app), String(ids.pool), String(ids.dataset), '--suri', '//Alice'))[1]);
  assert.match(ok('vote', String(referendum), '--aye', '--balance', '9000000', '--suri', '//Bob'), new RegExp(`voted aye on referendum ${referendum}`));
  await waitFor('the referendum to approve the contracts', async () => {
    const statuses = await Promise.all([ids.app, ids.pool, ids.dataset].map(async (id) => (await api.query.registry.contracts(id)).unwrap().status.toString()));
    return statuses.every((s) => s === 'Approved');
  }, 300);

  assert.match(ok('publish-app-order', String(ids.app), '--suri', '//Alice', '--price', '0.5', '--volume', '10'), /app order \d+ published: 10 task\(s\) at 0\.5 RLC/);
  assert.match(ok('publish-dataset-order', String(ids.dataset), '--suri', '//Eve', '--price', '0.25', '--volume', '10'), /dataset order \d+ published/);
  assert.match(ok('publish-pool-order', String(ids.pool), '--suri', '//Bob', '--price', '2', '--volume', '10', '--category', 'XS', '--trust', '1', '--ad', '[ Cpus = 2; Memory = 4096 ]'), /pool order \d+ published: 10 task\(s\) at 2 RLC/);
});

test('a requester gets a 2 MiB result from the worker, checked against the digest, and saves it', async () => {
  assert.ok(ids.pool !== undefined, 'the providers test ran first');
  const joined = spawnSync(workerBinary(), ['join', String(ids.pool), '--node-url', node.url, '--suri', '//Dave'], { encoding: 'utf8' });
  assert.equal(joined.status, 0, joined.stderr);
  const port = await freePort();
  worker = startWorker({ url: node.url, suri: '//Dave', dir, name: 'dave', listen: `127.0.0.1:${port}`, extra: ['--result-url', `http://127.0.0.1:${port}`] });
  await waitFor('the worker to be healthy', async () => {
    // A worker that exited fails the test now, not at the wait's end.
    if (worker.exited()) throw new Fatal(`the worker exited:\n${worker.output()}`);
    return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
  });

  const out = join(dir, 'results');
  // Pinned to this host's architecture: the claim checks the worker's ad against it.
  const arch = { x64: 'X86_64', arm64: 'aarch64' }[process.arch];
  const pinned = arch ? ['--same-architecture', arch] : [];
  const ran = iexec('request', '--suri', '//Charlie', '--app', String(ids.app), '--dataset', String(ids.dataset), '--params', 'cp /bin/busybox copy', '--out', out, ...pinned);
  assert.equal(ran.status, 0, ran.all);
  assert.match(ran.stdout, /at most 2\.75 RLC per task/, 'maximum prices default to the cheapest orders');
  const deal = Number(/deal (\d+) made/.exec(ran.stdout)[1]);
  if (arch) {
    const determinism = (await api.query.market.deals(deal)).unwrap().determinism.toJSON();
    assert.deepEqual(determinism, { sameArchitecture: arch === 'X86_64' ? 'X86_64' : 'Aarch64' });
  }
  assert.match(ran.stdout, new RegExp(`data set ${ids.dataset} \\(0\\.25 RLC\\)`));
  assert.match(ran.stdout, new RegExp(`result of task ${deal}/0 \\(from http://127\\.0\\.0\\.1:${port}/results/${deal}/0, \\d+ bytes, matches the certified digest\\)`));
  assert.match(ran.stdout, /^copy: \d+ bytes$/m);
  assert.match(ran.stdout, /^cost: 2\.75 RLC for 1 certified task\(s\); 0 RLC refunded; 0\.\d+ RLC in fees$/m);
  assert.deepEqual(readFileSync(join(out, `${deal}-0`, 'copy')), readFileSync(ids.busybox), 'the saved file is what the app wrote');

  // Someone else cannot read it: the client says so before asking, and the worker refuses
  // another account's signature (403), the beneficiary's from ten minutes ago (401), and the
  // beneficiary's made for another worker's location (403: no replay from worker to worker).
  const other = iexec('result', String(deal), '0', '--suri', '//Bob');
  assert.equal(other.status, 1);
  assert.match(other.stderr, /only the deal's beneficiary can fetch it/);
  const now = Math.floor(Date.now() / 1000);
  const location = `http://127.0.0.1:${port}/results/${deal}/0`;
  const ask = (who, at, signedFor = location) => fetch(`${location}?at=${at}&signature=${u8aToHex(signerFrom(who).sign(accessMessage(api, deal, 0, at, signedFor)))}`);
  assert.equal((await ask('//Bob', now)).status, 403);
  assert.equal((await ask('//Charlie', now - 600)).status, 401);
  const replayed = await ask('//Charlie', now, `http://127.0.0.1:1/results/${deal}/0`);
  assert.equal(replayed.status, 403);
  assert.match(await replayed.text(), /for this worker's location/);
  assert.equal((await ask('//Charlie', now)).status, 200);
  // The beneficiary can, again, as JSON-free text.
  assert.match(ok('result', String(deal), '0', '--suri', '//Charlie'), /^copy: \d+ bytes \(--out DIR saves it\)$/m);
});
