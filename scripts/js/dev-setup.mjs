#!/usr/bin/env node
// The dev chain's demo market, set up as its people would: Alice registers the π app, Bob a
// worker pool; one contracts-track referendum approves both (Alice proposes, Bob votes with
// most of the dev supply, the dev chain's short periods decide it in about a minute); Alice
// publishes an app order, Bob a pool order. Prints `{"app":…,"pool":…}`.
//
//   node dev-setup.mjs --url ws://127.0.0.1:9944 --wasm-uri file:///…/pi.wasm --code-hash 0x…
import { parseArgs } from 'node:util';
import { RLC, connect, signerFrom } from './lib/chain.mjs';
import { approveByReferendum, propose, publishOrder, rfcOf } from './lib/provider.mjs';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:9944' },
    'wasm-uri': { type: 'string' },
    'code-hash': { type: 'string' }
  }
});
if (!opts['wasm-uri'] || !/^0x[0-9a-f]{64}$/.test(opts['code-hash'] ?? '')) {
  console.error('usage: dev-setup.mjs [--url WS] --wasm-uri URI --code-hash 0x…');
  process.exit(2);
}

const log = (line) => console.error(`    ${line}`);
const api = await connect(opts.url);
try {
  const alice = signerFrom('//Alice');
  const bob = signerFrom('//Bob');
  const app = await propose(api, alice, rfcOf('https://github.com/iexec-sidechain/apps/pi'), {
    App: { runtime: 'Wasm', codeUri: opts['wasm-uri'], codeHash: opts['code-hash'], requirements: 'true' }
  });
  log(`Alice registered the π app: contract ${app.id}`);
  const pool = await propose(api, bob, rfcOf('https://github.com/iexec-sidechain/pools/dev'), {
    WorkerPool: { description: 'dev pool: two workers on this machine', workerStakeRatio: 30, schedulerRewardRatio: 5, admission: 'TARGET.Cpus >= 1' }
  });
  log(`Bob registered a worker pool: contract ${pool.id}`);
  log('a contracts-track referendum approves both (Bob votes aye): about a minute at the Fast governance pace');
  await approveByReferendum(api, [app.id, pool.id], alice, bob);
  log('approved');
  const appOrder = await publishOrder(api, alice, 'app', { id: app.id, price: RLC / 10n, volume: 1000 });
  const poolOrder = await publishOrder(api, bob, 'pool', { id: pool.id, price: RLC, volume: 1000, category: 'XS', trust: 3, ad: '[ Cpus = 1; Memory = 512 ]' });
  log(`orders published: app order ${appOrder} (0.1 RLC a task), pool order ${poolOrder} (1 RLC a task, up to trust 3)`);
  console.log(JSON.stringify({ app: app.id, pool: pool.id, appOrder, poolOrder }));
} finally {
  await api.disconnect();
}
