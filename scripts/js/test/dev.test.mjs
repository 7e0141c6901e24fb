// The README's main job as a newcomer runs it: `scripts/dev.sh` from a cold start (a fresh
// chain), then the one command it prints — the polkadot.js requester client — which must show
// a certified π and what it cost; a request no pool can serve fails with the reason and its
// money back. Ctrl-C then stops everything dev.sh started, and nothing else (the Docker
// engine keeps running).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { within } from './helpers.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const base = mkdtempSync(join(tmpdir(), 'iexec-dev-test-'));
let dev;
let output = '';

after(async () => {
  if (dev && dev.exitCode === null && dev.signalCode === null) {
    process.kill(-dev.pid, 'SIGKILL');
  }
  // The node and workers run in their own sessions: whatever a failure left is killed too.
  for (const line of processesUsing(base)) process.kill(Number(line.split(':')[0]), 'SIGKILL');
  if (process.exitCode) console.error(`--- dev.sh:\n${output.slice(-6000)}`);
  rmSync(base, { recursive: true, force: true });
});

// Processes whose command line names `path`.
function processesUsing (path) {
  const found = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(path)) found.push(`${pid}: ${cmdline}`);
    } catch (_) { /* gone meanwhile */ }
  }
  return found;
}

function client (args) {
  return spawnSync('node', args, { cwd: repo, encoding: 'utf8', timeout: 600_000 });
}

test('scripts/dev.sh: a chain, the demo market, two workers, and the command that gets a certified π', async () => {
  // Its own process group, as a terminal gives it: Ctrl-C is a SIGINT to the group.
  dev = spawn(join(repo, 'scripts', 'dev.sh'), [], {
    cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, IEXEC_DEV_BASE: base }
  });
  const exited = once(dev, 'exit');
  const command = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dev.sh printed no command within 15 minutes')), 900_000);
    const scan = (chunk) => {
      output += chunk;
      const line = /^\s+(node scripts\/js\/iexec\.mjs request .*)$/m.exec(output);
      if (line) { clearTimeout(timer); resolve(line[1]); }
    };
    dev.stdout.on('data', scan);
    dev.stderr.on('data', scan);
    exited.then(([code]) => { clearTimeout(timer); reject(new Error(`dev.sh exited with ${code} before it was ready`)); });
  });
  assert.match(output, /Worker Dave joined pool \d+ and runs/);
  assert.match(output, /Worker Eve joined pool \d+ and runs/);

  // The printed command, run as printed (it has no quoted arguments).
  const began = Date.now();
  const ran = client(command.split(/\s+/).slice(1));
  const seconds = Math.round((Date.now() - began) / 1000);
  assert.equal(ran.status, 0, `${ran.stdout}\n${ran.stderr}`);
  assert.match(ran.stdout, /deal \d+ made in block #\d+: 1 task\(s\) at 1\.1 RLC each/);
  assert.equal((ran.stdout.match(/result committed by/g) ?? []).length, 2, 'two workers, trust 3');
  assert.match(ran.stdout, /task \d+\/0: certified in block #\d+, digest 0x[0-9a-f]{64}/);
  assert.match(ran.stdout, /result of task \d+\/0 \(on chain, \d+ bytes, matches the certified digest\)/);
  assert.match(ran.stdout, /^pi ~ 3\.1\d{5} \(\d+ of 1000000 samples\)$/m);
  // The figure docs/benchmarks.md keeps: blocks from the request's to the certifying one.
  const submitted = Number(/submitted in block #(\d+)/.exec(ran.stdout)[1]);
  const certified = Number(/certified in block #(\d+)/.exec(ran.stdout)[1]);
  console.log(`measured: request in block ${submitted}, certified in block ${certified}: ${certified - submitted} blocks; the client took ${seconds} s (trust 3, two workers, read from finalised blocks)`);
  assert.match(ran.stdout, /^cost: 1\.1 RLC for 1 certified task\(s\); 0 RLC refunded; 0\.\d+ RLC in fees$/m);

  // No pool serves category L: the client says so, cancels, and the payment comes back.
  const app = /--app (\d+)/.exec(command)[1];
  const refused = client(['scripts/js/iexec.mjs', 'request', '--suri', '//Charlie', '--app', app, '--category', 'L', '--pool-max-price', '2', '--match-blocks', '2']);
  assert.equal(refused.status, 1, refused.stdout);
  assert.match(refused.stdout, /1 task\(s\) without a deal for 2 blocks\. Why:\n {2}- no worker pool has an open order in category L/);
  assert.match(refused.stdout, /request \d+ cancelled in block #\d+ with 1 task\(s\) unmatched; 2\.1 RLC and its deposit back/);
  assert.match(refused.stdout, /^cost: 0 RLC for 0 certified task\(s\); 2\.1 RLC refunded; 0\.\d+ RLC in fees$/m);
  assert.match(refused.stderr, /iexec: no offer matched the request/);

  // Ctrl-C: everything dev.sh started stops; the Docker engine it may have started does not.
  process.kill(-dev.pid, 'SIGINT');
  await within(exited, 90, 'dev.sh stopping');
  assert.match(output, /Stopping the workers and the node/);
  assert.deepEqual(processesUsing(base), [], 'nothing left running');
  await assert.rejects(fetch('http://127.0.0.1:9944', { method: 'POST' }), 'the RPC port is closed');
  assert.equal(spawnSync('docker', ['version'], { encoding: 'utf8' }).status, 0, 'the Docker engine still answers');
});
