// The governance flow as polkadot.js users meet it, with no custom types: the tracks Apps
// shows, and propose-app.mjs proposing an app and voting on its approval; a second holder's
// vote carries it, and the app becomes Approved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { connect, RLC, send, signerFrom } from '../lib/chain.mjs';
import { startDevNode } from './helpers.mjs';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../propose-app.mjs', import.meta.url));
const codeHash = `0x${'ab'.repeat(32)}`;
let node;
let api;

before(async () => {
  node = await startDevNode();
  api = await connect(node.url);
});

after(async () => {
  if (api) await api.disconnect();
  if (node) await node.stop();
});

function proposeApp (...args) {
  return run(process.execPath, [script, '--url', node.url, ...args], { timeout: 120_000 });
}

async function waitFor (what, probe, seconds = 120) {
  for (let i = 0; i < seconds * 2; i++) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('the referenda tracks read from metadata: root, contracts, canceller and killer, at the dev pace', () => {
  const tracks = api.consts.referenda.tracks.map(([id, info]) => [id.toNumber(), info.name.toString().replace(/\0+$/, '')]);
  assert.deepEqual(tracks, [[0, 'root'], [1, 'contracts'], [2, 'referendum_canceller'], [3, 'referendum_killer']]);
  for (const [, info] of api.consts.referenda.tracks) {
    assert.ok(info.decisionPeriod.toNumber() <= 100, 'a dev chain decides in minutes');
  }
  assert.ok(api.consts.referenda.tracks[0][1].decisionDeposit.toBigInt() > api.consts.referenda.tracks[1][1].decisionDeposit.toBigInt());
});

test('propose-app proposes, submits a referendum, votes; another vote carries it', async () => {
  const { stdout } = await proposeApp('--suri', '//Alice', '--code-uri', 'https://apps.example/render.wasm',
    '--code-hash', codeHash, '--requirements', 'TARGET.Memory >= 1024', '--vote', '1000');
  const out = JSON.parse(stdout);
  assert.equal(out.track, 1, 'contracts track');

  const alice = signerFrom('//Alice');
  const contract = (await api.query.registry.contracts(out.contractId)).unwrap();
  assert.equal(contract.owner.toString(), alice.address);
  assert.equal(contract.status.toString(), 'Proposed');
  assert.equal(contract.deposit.toString(), out.deposit);
  assert.ok(contract.deposit.toBigInt() > RLC);

  const info = (await api.query.referenda.referendumInfoFor(out.referendum)).unwrap();
  assert.ok(info.isOngoing);
  assert.equal(info.asOngoing.track.toNumber(), 1);
  assert.equal(info.asOngoing.tally.ayes.toBigInt(), 1000n * RLC, 'conviction 1x counts the balance once');
  assert.equal(info.asOngoing.tally.support.toBigInt(), 1000n * RLC);
  assert.ok(info.asOngoing.decisionDeposit.isSome);
  const voting = await api.query.convictionVoting.votingFor(alice.address, 1);
  assert.ok(voting.isCasting && voting.asCasting.votes.length === 1);

  // 1,000 RLC is far below the track's support threshold; Bob's 9 M RLC is above it.
  const bob = signerFrom('//Bob');
  const vote = { Standard: { vote: { aye: true, conviction: 'Locked1x' }, balance: 9_000_000n * RLC } };
  await send(api, api.tx.convictionVoting.vote(out.referendum, vote), bob);
  await waitFor('the app to be approved', async () =>
    (await api.query.registry.contracts(out.contractId)).unwrap().status.toString() === 'Approved');
  const done = (await api.query.referenda.referendumInfoFor(out.referendum)).unwrap();
  assert.ok(done.isApproved, done.toString());
});

test('propose-app refuses bad arguments before touching the chain', async () => {
  await assert.rejects(proposeApp('--code-uri', 'x', '--code-hash', '0x1234'),
    (e) => e.code === 2 && /--code-hash must be 32 bytes/.test(e.stderr));
  await assert.rejects(proposeApp('--code-hash', codeHash),
    (e) => e.code === 2 && /--code-uri is required/.test(e.stderr));
});

test('propose-app says so when no node answers', async () => {
  await assert.rejects(
    run(process.execPath, [script, '--url', 'ws://127.0.0.1:1', '--code-uri', 'x', '--code-hash', codeHash], { timeout: 60_000 }),
    (e) => e.code === 1 && /cannot reach a node at ws:\/\/127\.0\.0\.1:1/.test(e.stderr));
});

test('a malformed ClassAd is refused by the chain with the error name, and nothing is stored', async () => {
  const before = (await api.query.registry.nextContractId()).toNumber();
  await assert.rejects(
    proposeApp('--suri', '//Charlie', '--code-uri', 'https://apps.example/x.wasm', '--code-hash', codeHash,
      '--requirements', 'TARGET.Memory >= (', '--no-referendum'),
    (e) => e.code === 1 && /registry\.InvalidClassAd/.test(e.stderr));
  assert.equal((await api.query.registry.nextContractId()).toNumber(), before);
});
