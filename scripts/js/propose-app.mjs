#!/usr/bin/env node
// Proposes an app to the registry, puts its approval to a referendum on the contracts track
// and votes for it: the whole of a contract owner's part, with @polkadot/api and no custom
// types. Prints what it did as one JSON object.
//
//   node propose-app.mjs --url ws://127.0.0.1:9944 --suri //Alice \
//     --runtime Wasm --code-uri https://apps.example/render.wasm --code-hash 0x… \
//     --requirements 'TARGET.Memory >= 1024' --rfc-uri ipfs://… --rfc-hash 0x… --vote 1000
import { parseArgs } from 'node:util';
import { connect, RLC, signerFrom } from './lib/chain.mjs';
import { propose, rfcOf, submitApproval, vote } from './lib/provider.mjs';

const usage = `usage: propose-app.mjs [--url WS] [--suri SECRET] --code-uri URI --code-hash HEX
  [--runtime Wasm|Docker] [--requirements CLASSAD] [--rfc-uri URI] [--rfc-hash HEX]
  [--vote RLC] [--conviction None|Locked1x|…|Locked6x] [--no-referendum]`;

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:9944' },
    suri: { type: 'string', default: '//Alice' },
    runtime: { type: 'string', default: 'Wasm' },
    'code-uri': { type: 'string' },
    'code-hash': { type: 'string' },
    requirements: { type: 'string', default: 'true' },
    'rfc-uri': { type: 'string', default: 'ipfs://rfc' },
    'rfc-hash': { type: 'string' },
    vote: { type: 'string', default: '1000' },
    conviction: { type: 'string', default: 'Locked1x' },
    'no-referendum': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false }
  }
});

function fail (message) {
  console.error(`propose-app: ${message}\n${usage}`);
  process.exit(2);
}

if (opts.help) { console.log(usage); process.exit(0); }
if (!opts['code-uri']) fail('--code-uri is required');
const hex32 = /^0x[0-9a-fA-F]{64}$/;
if (!hex32.test(opts['code-hash'] ?? '')) fail('--code-hash must be 32 bytes of hex (0x + 64 digits)');
if (opts['rfc-hash'] && !hex32.test(opts['rfc-hash'])) fail('--rfc-hash must be 32 bytes of hex');
if (!['Wasm', 'Docker'].includes(opts.runtime)) fail('--runtime must be Wasm or Docker');
if (!/^\d+$/.test(opts.vote)) fail('--vote is a whole number of RLC');

let api;
try {
  api = await connect(opts.url);
} catch (e) {
  console.error(`propose-app: cannot reach a node at ${opts.url}: ${e.message ?? e}`);
  process.exit(1);
}
try {
  const signer = signerFrom(opts.suri);
  const rfc = rfcOf(opts['rfc-uri'], opts['rfc-hash']);
  const terms = {
    App: {
      runtime: opts.runtime,
      codeUri: opts['code-uri'],
      codeHash: opts['code-hash'],
      requirements: opts.requirements
    }
  };
  const { id: contractId, deposit } = await propose(api, signer, rfc, terms);
  const result = { contractId, deposit: deposit.toString() };
  if (!opts['no-referendum']) {
    const referendum = await submitApproval(api, signer, [contractId]);
    const balance = BigInt(opts.vote) * RLC;
    await vote(api, signer, referendum, true, balance, opts.conviction);
    const track = (await api.query.referenda.referendumInfoFor(referendum)).unwrap().asOngoing.track.toNumber();
    Object.assign(result, { referendum, track, voted: balance.toString() });
  }
  console.log(JSON.stringify(result));
} catch (e) {
  console.error(`propose-app: ${e.message}`);
  process.exitCode = 1;
} finally {
  await api.disconnect();
}
