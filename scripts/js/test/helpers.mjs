// Starts a real `iexec-node --dev --tmp` on free ports for a client test, and stops it.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function nodeBinary () {
  if (process.env.IEXEC_NODE) return process.env.IEXEC_NODE;
  const target = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'iexec-sidechain', 'target');
  return join(target, 'debug', 'iexec-node');
}

export async function freePort () {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

// Resolves once the node's RPC answers; rejects, with its output, if it exits first. With
// `basePath` the chain is kept there (not in a temporary folder), so that `restart()` brings
// the same chain back on the same ports.
export async function startDevNode ({ basePath } = {}) {
  const rpcPort = await freePort();
  const p2pPort = await freePort();
  const args = [
    '--dev', ...(basePath ? ['--base-path', basePath] : ['--tmp']),
    '--rpc-port', String(rpcPort), '--port', String(p2pPort),
    '--no-prometheus', '--no-telemetry', '--no-mdns'
  ];
  let child;
  let output = '';
  const launch = async () => {
    child = spawn(nodeBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`iexec-node exited with ${code}:\n${output.slice(-4000)}`);
    });
    const ready = (async () => {
      for (let i = 0; i < 240; i++) {
        try {
          const res = await fetch(`http://127.0.0.1:${rpcPort}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system_health', params: [] })
          });
          if (res.ok) return;
        } catch (_) { /* not listening yet */ }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      throw new Error(`iexec-node RPC did not answer:\n${output.slice(-4000)}`);
    })();
    await Promise.race([ready, exited]);
    exited.catch(() => {});
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    await once(child, 'exit');
  };
  await launch();
  return {
    url: `ws://127.0.0.1:${rpcPort}`,
    stop,
    async restart () {
      await stop();
      await launch();
    }
  };
}

// Polls `probe` every half second until it returns something truthy, which it resolves with.
// A probe that throws (a node restarting) is tried again; the last error is in the timeout's.
// An error that ends a `waitFor` at once (others are retried until the time is up).
export class Fatal extends Error {}

export async function waitFor (what, probe, seconds = 150) {
  let last = '';
  for (let i = 0; i < seconds * 2; i++) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      if (error instanceof Fatal) throw error;
      last = ` (last error: ${error.message})`;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}${last}`);
}

// The worker binary: `IEXEC_WORKER`, or the debug build in the shared target directory.
export function workerBinary () {
  if (process.env.IEXEC_WORKER) return process.env.IEXEC_WORKER;
  const target = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'iexec-sidechain', 'target');
  return join(target, 'debug', 'iexec-worker');
}

// Starts `iexec-worker run` as `suri` against `url`, its work directory under `dir`; its output
// is kept (`.output()`). `stop()` sends SIGTERM and resolves with the exit code.
export function startWorker ({ url, suri, dir, name, listen = '127.0.0.1:0', slots = 2, extra = [] }) {
  const child = spawn(workerBinary(), [
    'run', '--node-url', url, '--work-dir', join(dir, name), '--listen', listen, '--slots', String(slots),
    '--shutdown-grace-s', '5', '--allow-file-uris', ...extra
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, IEXEC_WORKER_SURI: suri, IEXEC_WORKER_LOG: 'info' } });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exit = once(child, 'exit').then(([code, signal]) => code ?? signal);
  return {
    name,
    pid: child.pid,
    output: () => output,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    kill () { child.kill('SIGKILL'); return exit; },
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return exit;
      child.kill('SIGTERM');
      return exit;
    }
  };
}

// `promise`, or a rejection naming `what` after `seconds`; the timer never outlives it (a
// pending timer would keep the test process alive).
export async function within (promise, seconds, what) {
  let timer;
  const late = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
