// Run by scripts/testnet-check.sh against the network `scripts/testnet.sh start` started
// ($TESTNET_DIR): four validators and three workers complete a request of three tasks at
// trust 3 while a validator (Charlie) and a worker (Eve) are killed (SIGKILL) and restarted
// with `testnet.sh restart`. No RLC is created or lost: total issuance falls by exactly the
// fees burnt, every account together holds exactly the issuance, and the sum of all holds is
// back where it was once the tasks are settled.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, signerFrom } from '../lib/chain.mjs';
import { waitFor, within } from './helpers.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dir = process.env.TESTNET_DIR;
const testnet = (...args) => spawnSync(join(repo, 'scripts', 'testnet.sh'), args, { encoding: 'utf8', env: process.env });
let api;

after(async () => { if (api) await api.disconnect(); });

// The books at finalised block `hash`: issuance, and what all accounts hold, free and held.
async function books (hash) {
  const at = await api.at(hash);
  let total = 0n;
  let held = 0n;
  for (const [, info] of await at.query.system.account.entries()) {
    total += info.data.free.toBigInt() + info.data.reserved.toBigInt();
    held += info.data.reserved.toBigInt();
  }
  return { issuance: (await at.query.balances.totalIssuance()).toBigInt(), total, held };
}

async function finalized () {
  const hash = await api.rpc.chain.getFinalizedHead();
  return { hash, number: (await api.rpc.chain.getHeader(hash)).number.toNumber() };
}

const workersIdle = async () => {
  const { hash } = await finalized();
  const at = await api.at(hash);
  for (const suri of ['Dave', 'Eve', 'Ferdie']) {
    const { address } = signerFrom(`//${suri}`);
    const worker = await at.query.poco.workers(address);
    if (worker.isNone || worker.unwrap().replicas.toNumber() !== 0) return false;
  }
  return true;
};

test('tasks complete through a validator and a worker killed and restarted; no RLC created or lost', async () => {
  assert.ok(dir, 'TESTNET_DIR names the running network');
  const market = JSON.parse(readFileSync(join(dir, 'market.json'), 'utf8'));
  api = await connect('ws://127.0.0.1:9944');
  await waitFor('the workers to hold nothing', workersIdle, 120);
  const start = await finalized();
  const before = await books(start.hash);
  assert.equal(before.total, before.issuance, 'all accounts hold exactly the issuance');

  // The requester's client, as a person runs it, in the background.
  const client = spawn('node', [join(repo, 'scripts', 'js', 'iexec.mjs'), 'request', '--suri', '//Charlie',
    '--app', String(market.app), '--params', '300000', '--volume', '3', '--trust', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  client.stdout.on('data', (d) => { printed += d; });
  client.stderr.on('data', (d) => { printed += d; });
  const exited = once(client, 'exit');
  await waitFor('the deal', () => /deal \d+ made/.test(printed), 120);

  // Kill a validator and a worker without warning, while the tasks run; bring them back.
  for (const name of ['node-charlie', 'worker-eve']) {
    process.kill(Number(readFileSync(join(dir, `${name}.pid`), 'utf8')), 'SIGKILL');
  }
  await new Promise((resolve) => setTimeout(resolve, 20_000));
  for (const [kind, name] of [['node', 'charlie'], ['worker', 'eve']]) {
    const restarted = testnet('restart', kind, name);
    assert.equal(restarted.status, 0, `${restarted.stdout}\n${restarted.stderr}`);
  }

  const [code] = await within(exited, 1200, 'the request').catch((e) => { client.kill(); return [e.message]; });
  assert.equal(code, 0, printed);
  assert.equal((printed.match(/: certified in block #/g) ?? []).length, 3, printed);
  assert.match(printed, /^cost: 3\.3 RLC for 3 certified task\(s\); 0 RLC refunded/m);

  await waitFor('the workers to hold nothing again', workersIdle, 300);
  const end = await finalized();
  const after = await books(end.hash);
  let fees = 0n;
  for (let n = start.number + 1; n <= end.number; n++) {
    for (const { event } of await api.query.system.events.at(await api.rpc.chain.getBlockHash(n))) {
      if (event.section === 'transactionPayment' && event.method === 'TransactionFeePaid') fees += event.data.actualFee.toBigInt();
    }
  }
  assert.ok(fees > 0n);
  assert.equal(before.issuance - after.issuance, fees, 'issuance fell by the fees burnt, nothing else');
  assert.equal(after.total, after.issuance, 'all accounts hold exactly the issuance');
  assert.equal(after.held, before.held, 'every hold taken for the tasks was released');
});
