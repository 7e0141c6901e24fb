#!/usr/bin/env node
// The command-line client of the iEx.ec sidechain, on @polkadot/api with no custom types:
// requesters submit tasks and get their certified results; providers register apps, data
// sets and worker pools, put them to governance and publish orders. `--help` lists it all;
// docs/requester.md and docs/provider.md walk through it.
import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { u8aToString } from '@polkadot/util';
import { connect, findEvent, formatRlc, parseRlc, send, sendPaying, signerFrom } from './lib/chain.mjs';
import { requestFollower } from './lib/follow.mjs';
import { explainNoMatch } from './lib/explain.mjs';
import { decodeDirectory, resultBytes } from './lib/results.mjs';
import { datasetChecksum, propose, publishOrder, rfcOf, submitApproval, vote } from './lib/provider.mjs';

const usage = `usage: iexec.mjs COMMAND [options]   (node scripts/js/iexec.mjs …)

Every command takes --url WS (default ws://127.0.0.1:9944) and signs with --suri SECRET
(or the IEXEC_SURI environment variable): a dev account (//Charlie), a mnemonic, a mnemonic
with a derivation path.

Requester
  request --app ID [--params TEXT] [--dataset ID] [--volume N] [--trust N]
          [--category XS|S|M|L|XL] [--pool ID] [--app-max-price RLC]
          [--dataset-max-price RLC] [--pool-max-price RLC] [--job-ad CLASSAD]
          [--weights cost=1,performance=0,trust=0,reliability=0,energy=0,rank=0]
          [--same-architecture X86_64|aarch64]
          [--beneficiary ADDRESS] [--match-blocks N] [--keep-open] [--out DIR] [--json]
      Submits a request, follows its deals and tasks in finalised blocks, prints each
      certified result (checked against the on-chain digest) and what it all cost. Maximum
      prices default to the cheapest open order's. With no deal after --match-blocks (20)
      blocks it says why and cancels the request (unless --keep-open). Exit status: 0 when
      every task is certified, 1 otherwise (no match, a task failed or was refunded).
      --same-architecture runs every replica on workers of that architecture, with NaN bits
      left as the processor makes them (a little faster on float code); by default results
      are portable: NaNs are canonicalised and any worker may take a replica.
  result DEAL INDEX [--out DIR]
      Fetches a certified result again (from the chain or the worker keeping it).

Provider
  register-app --code-uri URI --code-hash HEX [--runtime Wasm|Docker] [--requirements CLASSAD]
  register-dataset --location URI (--file PATH | --checksum HEX) [--restrictions CLASSAD]
      --requirements / --restrictions: a ClassAd expression about the host that every pool
      ad matched with the contract, and every worker claiming its tasks, must make true.
  register-pool --description TEXT [--worker-stake-ratio PCT] [--scheduler-reward-ratio PCT]
                [--admission CLASSAD]
      [--rfc-uri URI] [--rfc-hash HEX] on each. Prints the contract's id.
  propose-approval ID…   a contracts-track referendum approving them; prints its index
  vote REFERENDUM (--aye | --nay) --balance RLC [--conviction None|Locked1x…Locked6x]
  publish-app-order ID --price RLC --volume N [--tag N]
  publish-dataset-order ID --price RLC --volume N [--tag N]
  publish-pool-order ID --price RLC --volume N --category C --trust N --ad CLASSAD [--tag N]
  cancel-order ORDER`;

const options = {
  url: { type: 'string', default: process.env.IEXEC_URL ?? 'ws://127.0.0.1:9944' },
  suri: { type: 'string', default: process.env.IEXEC_SURI },
  app: { type: 'string' },
  params: { type: 'string', default: '' },
  dataset: { type: 'string' },
  volume: { type: 'string' },
  trust: { type: 'string', default: '1' },
  category: { type: 'string', default: 'XS' },
  pool: { type: 'string' },
  'app-max-price': { type: 'string' },
  'dataset-max-price': { type: 'string' },
  'pool-max-price': { type: 'string' },
  'job-ad': { type: 'string', default: '[ Requirements = true ]' },
  weights: { type: 'string', default: 'cost=1' },
  'same-architecture': { type: 'string' },
  beneficiary: { type: 'string' },
  'match-blocks': { type: 'string', default: '20' },
  'keep-open': { type: 'boolean', default: false },
  out: { type: 'string' },
  json: { type: 'boolean', default: false },
  'code-uri': { type: 'string' },
  'code-hash': { type: 'string' },
  runtime: { type: 'string', default: 'Wasm' },
  requirements: { type: 'string', default: 'true' },
  restrictions: { type: 'string' },
  location: { type: 'string' },
  file: { type: 'string' },
  checksum: { type: 'string' },
  description: { type: 'string' },
  'worker-stake-ratio': { type: 'string', default: '30' },
  'scheduler-reward-ratio': { type: 'string', default: '5' },
  admission: { type: 'string', default: 'true' },
  'rfc-uri': { type: 'string' },
  'rfc-hash': { type: 'string' },
  aye: { type: 'boolean', default: false },
  nay: { type: 'boolean', default: false },
  balance: { type: 'string' },
  conviction: { type: 'string', default: 'Locked1x' },
  price: { type: 'string' },
  tag: { type: 'string', default: '0' },
  ad: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false }
};

// A mistake in the command line: printed with the usage, exit status 2.
class UsageError extends Error {}

function count (text, what, min = 0, max = 0xffffffff) {
  if (!/^\d+$/.test(text ?? '') || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${what} must be a whole number from ${min} to ${max} (got "${text ?? ''}")`);
  }
  return Number(text);
}
const hex32 = (text, what) => {
  if (!/^0x[0-9a-fA-F]{64}$/.test(text ?? '')) throw new UsageError(`${what} must be 32 bytes of hex (0x and 64 digits)`);
  return text;
};
const rlc = (text, what) => { try { return parseRlc(text, what); } catch (e) { throw new UsageError(e.message); } };
const required = (value, what) => { if (value === undefined) throw new UsageError(`${what} is required`); return value; };
const categories = ['XS', 'S', 'M', 'L', 'XL'];

function parseWeights (text) {
  const weights = { cost: 0, performance: 0, trust: 0, reliability: 0, energy: 0, rank: 0 };
  for (const part of text.split(',').filter(Boolean)) {
    const [name, value] = part.split('=');
    if (!(name in weights)) throw new UsageError(`--weights: unknown criterion "${name}" (${Object.keys(weights).join(', ')})`);
    weights[name] = count(value, `--weights ${name}`, 0, 255);
  }
  return weights;
}

// The cheapest open order's price in `book` (a `[price, order]` list), or `fallback` when
// the book is empty (the request then waits, and the explanation says why).
const cheapest = (book, fallback = 0n) => (book.length ? book[0][0].toBigInt() : fallback);

// The cheapest open pool order's price in `category` (of pool `pool` when given), or 0.
async function cheapestPool (api, category, pool) {
  for (const [price, order] of await api.query.market.poolBook(category)) {
    if (pool === undefined) return price.toBigInt();
    const terms = (await api.query.market.orders(order)).unwrap().terms;
    if (terms.isPool && terms.asPool.pool.toNumber() === Number(pool)) return price.toBigInt();
  }
  return 0n;
}

// The chain's architectures, by the names machine ads give them (`Arch`).
const architectures = { X86_64: 'X86_64', aarch64: 'Aarch64' };

// `--same-architecture`: the request's `Determinism`.
function parseDeterminism (arch) {
  if (arch === undefined) return 'Portable';
  if (!Object.hasOwn(architectures, arch)) {
    throw new UsageError(`--same-architecture must be one of ${Object.keys(architectures).join(', ')}`);
  }
  return { SameArchitecture: architectures[arch] };
}

// `request`, checked before any connection: the call that carries it out.
function requestCommand (opts) {
  const app = count(required(opts.app, '--app'), '--app');
  const dataset = opts.dataset === undefined ? null : count(opts.dataset, '--dataset');
  const category = opts.category.toUpperCase();
  if (!categories.includes(category)) throw new UsageError(`--category must be one of ${categories.join(', ')}`);
  const price = (name) => (opts[name] === undefined ? null : rlc(opts[name], `--${name}`));
  const prices = { app: price('app-max-price'), dataset: price('dataset-max-price'), pool: price('pool-max-price') };
  const fixed = {
    app,
    dataset,
    volume: count(opts.volume ?? '1', '--volume', 1),
    category,
    trust: count(opts.trust, '--trust', 1),
    tag: 0,
    pool: opts.pool === undefined ? null : count(opts.pool, '--pool'),
    params: opts.params,
    jobAd: opts['job-ad'],
    weights: parseWeights(opts.weights),
    determinism: parseDeterminism(opts['same-architecture'])
  };
  const matchBlocks = count(opts['match-blocks'], '--match-blocks', 1);
  return (api, signer, out) => request(api, signer, { fixed, prices, matchBlocks }, opts, out);
}

async function request (api, signer, { fixed, prices, matchBlocks }, opts, out) {
  const { app, dataset, category } = fixed;
  const spec = {
    ...fixed,
    appMaxPrice: prices.app ?? cheapest(await api.query.market.resourceBook(app)),
    datasetMaxPrice: dataset === null ? 0n : prices.dataset ?? cheapest(await api.query.market.resourceBook(dataset)),
    poolMaxPrice: prices.pool ?? await cheapestPool(api, category, fixed.pool ?? undefined),
    beneficiary: opts.beneficiary ?? signer.address
  };
  // An ad that does not parse is refused before paying a fee, with where and why.
  const adCheck = await api.call.marketApi.checkClassad(spec.jobAd);
  if (adCheck.isErr) {
    const e = adCheck.asErr;
    throw new UsageError(`--job-ad: line ${e.line}, column ${e.column}: ${u8aToString(e.message.toU8a(true))}`);
  }
  const perTask = spec.appMaxPrice + spec.datasetMaxPrice + spec.poolMaxPrice;
  out(`submitting a request for app ${app}${dataset === null ? '' : ` on data set ${dataset}`}: ${spec.volume} task(s), trust ${spec.trust}, category ${category}, at most ${formatRlc(perTask)} per task`);

  const fees = { total: 0n };
  const paying = (tx, options) => sendPaying(api, tx, signer, fees, options);
  // Followed from its finalised block: the request's id cannot be another's after a reorg.
  const submitted = await paying(api.tx.market.submitRequest(spec), { finalized: true });
  const event = findEvent(submitted, 'market', 'RequestSubmitted');
  const id = event.data.id.toNumber();
  const from = (await api.rpc.chain.getHeader(submitted.blockHash)).number.toNumber();
  out(`request ${id} submitted in block #${from}: ${formatRlc(event.data.payment)} held for payment, ${formatRlc(event.data.deposit)} deposit; open until block #${event.data.expiresAt}`);

  const results = [];
  const follower = requestFollower(api, {
    request: id,
    from,
    volume: spec.volume,
    maxPerTask: perTask,
    say: out,
    claimer: paying,
    onCompleted: async (task, hash) => {
      results.push(await showResult(api, task, hash, signer, opts, out));
    }
  });
  const unmatchedAtFirst = (await follower.run(matchBlocks)).unmatched;
  if (unmatchedAtFirst) {
    const order = await api.query.market.orders(id);
    if (order.isSome) {
      out(`${follower.unmatchedTasks()} task(s) without a deal for ${matchBlocks} blocks. Why:`);
      for (const line of await explainNoMatch(api, id, order.unwrap().terms.asRequest)) out(`  - ${line}`);
    }
    if (opts['keep-open']) {
      out(`request ${id} stays open until block #${event.data.expiresAt}: still following it (Ctrl-C to stop; cancel with: iexec.mjs cancel-order ${id})`);
    } else if (order.isSome) {
      try {
        const cancelled = findEvent(await paying(api.tx.market.cancelOrder(id)), 'market', 'OrderCancelled');
        out(`request ${id} cancelled (${formatRlc(cancelled.data.paymentRefunded)} and the ${formatRlc(cancelled.data.depositRefunded)} deposit back); following its deals, if any`);
      } catch (e) {
        // A deal may have used it up meanwhile: following shows what happened.
        out(`request ${id} could not be cancelled (${e.message}); following it`);
      }
    }
    // The cancellation (or whatever came first) and every deal, through finalised blocks.
    await follower.run(null);
  }
  const { deals, tasks, money } = follower;
  const certified = [...tasks.values()].filter((t) => t.outcome === 'certified').length;
  const total = [...deals.values()].reduce((n, d) => n + d.volume, 0);
  const unread = [...tasks.values()].filter((t) => t.resultError).length;
  out(`cost: ${formatRlc(money.spent)} for ${certified} certified task(s); ${formatRlc(money.refunded)} refunded; ${formatRlc(fees.total)} in fees`);
  const ok = total === spec.volume && certified === total && unread === 0;
  if (opts.json) {
    console.log(JSON.stringify({
      request: id,
      deals: [...deals.keys()],
      tasks: Object.fromEntries([...tasks].map(([k, t]) => [k, t.outcome ?? 'unsettled'])),
      results,
      spent: money.spent.toString(),
      refunded: money.refunded.toString(),
      fees: fees.total.toString(),
      ok
    }));
  }
  if (!ok) {
    const why = total === 0 && unmatchedAtFirst
      ? 'no offer matched the request'
      : certified < spec.volume
        ? `${spec.volume - certified} of ${spec.volume} task(s) not certified`
        : `${unread} certified result(s) could not be read`;
    throw new Error(why);
  }
}

// Prints (and with --out saves) task `task`'s certified result, read at block `hash`.
async function showResult (api, task, hash, signer, opts, out) {
  const deal = task.deal.toNumber();
  const index = task.index.toNumber();
  const record = await (hash ? api.query.poco.results.at(hash, deal, index) : api.query.poco.results(deal, index));
  if (record.isNone || record.unwrap().completedAt.isNone) throw new Error(`task ${deal}/${index} has no certified result`);
  const { digest, location } = record.unwrap();
  if (location.isNone) throw new Error(`the workers gave no location for the result of task ${deal}/${index} (digest ${digest.toHex()})`);
  const terms = (await api.query.market.deals(deal)).unwrap();
  const beneficiary = terms.beneficiary.toString() === signer.address ? signer : null;
  // The encoding adds 16 bytes per file to the output the deal allows.
  const limit = terms.limits.outputBytes.toBigInt() * 2n + (1n << 20n);
  const { bytes, source } = await resultBytes(api, { location: location.unwrap(), digest, deal, index, beneficiary, limit });
  const files = decodeDirectory(bytes);
  out(`--- result of task ${deal}/${index} (${source}, ${bytes.length} bytes, matches the certified digest) ---`);
  for (const { path, content } of files) {
    // A worker chose these bytes: nothing that could steer the terminal is printed as is.
    const shown = JSON.stringify(path).slice(1, -1);
    const text = content.length <= 4096 ? u8aToString(content) : '';
    const printable = text !== '' && !/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffd\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(text);
    out(printable ? `${shown}:\n${text.replace(/\n$/, '')}` : `${shown}: ${content.length} bytes${opts.out ? '' : ' (--out DIR saves it)'}`);
    if (opts.out) {
      const folder = resolve(opts.out, `${deal}-${index}`);
      const target = resolve(folder, path);
      if (!target.startsWith(folder + sep)) throw new Error(`result path "${path}" leaves the output folder`);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
  }
  if (opts.out) out(`saved under ${join(opts.out, `${deal}-${index}`)}`);
  return { task: `${deal}/${index}`, digest: digest.toHex(), files: files.map((f) => f.path) };
}

// A provider command, checked before any connection: the call that carries it out.
function providerCommand (command, positional, opts) {
  const rfc = rfcOf(opts['rfc-uri'] ?? 'ipfs://rfc', opts['rfc-hash'] && hex32(opts['rfc-hash'], '--rfc-hash'));
  const register = (terms, what) => async (api, signer, out) => {
    const { id, deposit } = await propose(api, signer, rfc, terms);
    out(`${what} registered as contract ${id} (${formatRlc(deposit)} deposit); approve it with: iexec.mjs propose-approval ${id}`);
  };
  switch (command) {
    case 'register-app': {
      if (!['Wasm', 'Docker'].includes(opts.runtime)) throw new UsageError('--runtime must be Wasm or Docker');
      return register({ App: { runtime: opts.runtime, codeUri: required(opts['code-uri'], '--code-uri'), codeHash: hex32(opts['code-hash'], '--code-hash'), requirements: opts.requirements } }, 'app');
    }
    case 'register-dataset': {
      if ((opts.file === undefined) === (opts.checksum === undefined)) throw new UsageError('give --file (its checksum is computed) or --checksum');
      let checksum;
      try {
        checksum = opts.file !== undefined ? datasetChecksum(opts.file) : hex32(opts.checksum, '--checksum');
      } catch (e) {
        throw e instanceof UsageError ? e : new UsageError(`--file: ${e.message}`);
      }
      return register({ Dataset: { location: required(opts.location, '--location'), checksum, restrictions: opts.restrictions ?? null } }, `data set (checksum ${checksum})`);
    }
    case 'register-pool':
      return register({
        WorkerPool: {
          description: required(opts.description, '--description'),
          workerStakeRatio: count(opts['worker-stake-ratio'], '--worker-stake-ratio', 0, 100),
          schedulerRewardRatio: count(opts['scheduler-reward-ratio'], '--scheduler-reward-ratio', 0, 100),
          admission: opts.admission
        }
      }, 'worker pool');
    case 'propose-approval': {
      if (positional.length === 0) throw new UsageError('propose-approval needs contract ids');
      const ids = positional.map((p) => count(p, 'a contract id'));
      return async (api, signer, out) => {
        const referendum = await submitApproval(api, signer, ids);
        out(`referendum ${referendum} submitted on the contracts track, decision deposit placed; vote with: iexec.mjs vote ${referendum} --aye --balance RLC`);
      };
    }
    case 'vote': {
      if (opts.aye === opts.nay) throw new UsageError('vote needs exactly one of --aye and --nay');
      const referendum = count(positional[0], 'the referendum index');
      const convictions = ['None', 'Locked1x', 'Locked2x', 'Locked3x', 'Locked4x', 'Locked5x', 'Locked6x'];
      if (!convictions.includes(opts.conviction)) throw new UsageError(`--conviction must be one of ${convictions.join(', ')}`);
      const balance = rlc(required(opts.balance, '--balance'), '--balance');
      return async (api, signer, out) => {
        await vote(api, signer, referendum, opts.aye, balance, opts.conviction);
        out(`voted ${opts.aye ? 'aye' : 'nay'} on referendum ${referendum}`);
      };
    }
    case 'publish-app-order':
    case 'publish-dataset-order':
    case 'publish-pool-order': {
      const kind = command.split('-')[1];
      const order = {
        id: count(positional[0], 'the contract id'),
        price: rlc(required(opts.price, '--price'), '--price'),
        volume: count(required(opts.volume, '--volume'), '--volume', 1),
        tag: count(opts.tag, '--tag')
      };
      if (kind === 'pool') {
        const category = opts.category.toUpperCase();
        if (!categories.includes(category)) throw new UsageError(`--category must be one of ${categories.join(', ')}`);
        Object.assign(order, { category, trust: count(opts.trust, '--trust', 1), ad: required(opts.ad, '--ad') });
      }
      return async (api, signer, out) => {
        const id = await publishOrder(api, signer, kind, order);
        out(`${kind} order ${id} published: ${order.volume} task(s) at ${formatRlc(order.price)}`);
      };
    }
    case 'cancel-order': {
      const id = count(positional[0], 'the order id');
      return async (api, signer, out) => {
        const cancelled = findEvent(await send(api, api.tx.market.cancelOrder(id), signer), 'market', 'OrderCancelled');
        out(`order ${id} cancelled: ${formatRlc(cancelled.data.depositRefunded)} deposit and ${formatRlc(cancelled.data.paymentRefunded)} payment back`);
      };
    }
  }
  throw new UsageError(`unknown command "${command}"`);
}

// `result DEAL INDEX`, checked before any connection.
function resultCommand (positional, opts) {
  const deal = count(positional[0], 'the deal id', 0, Number.MAX_SAFE_INTEGER);
  const index = count(positional[1], 'the task index');
  return async (api, signer, out) => {
    if ((await api.query.market.deals(deal)).isNone) throw new Error(`no deal ${deal} on this chain`);
    return showResult(api, { deal: api.createType('u64', deal), index: api.createType('u32', index) }, null, signer, opts, out);
  };
}

async function main () {
  let parsed;
  try {
    parsed = parseArgs({ options, allowPositionals: true });
  } catch (e) {
    throw new UsageError(e.message);
  }
  const { values: opts, positionals: [command, ...positional] } = parsed;
  if (opts.help || command === undefined || command === 'help') { console.log(usage); return; }
  const known = ['request', 'result', 'register-app', 'register-dataset', 'register-pool', 'propose-approval', 'vote', 'publish-app-order', 'publish-dataset-order', 'publish-pool-order', 'cancel-order'];
  if (!known.includes(command)) throw new UsageError(`unknown command "${command}"`);
  if (!opts.suri) throw new UsageError('--suri (or IEXEC_SURI) is required: the account that signs');
  // Every mistake in the command line is found before connecting.
  const act = command === 'request'
    ? requestCommand(opts)
    : command === 'result'
      ? resultCommand(positional, opts)
      : providerCommand(command, positional, opts);
  let api;
  try {
    api = await connect(opts.url);
  } catch (e) {
    throw new Error(`cannot reach a node at ${opts.url}: ${e.message ?? e}`);
  }
  try {
    const signer = signerFrom(opts.suri);
    const out = (line) => (opts.json ? console.error(line) : console.log(line));
    return await act(api, signer, out);
  } finally {
    await api.disconnect();
  }
}

main().then(() => process.exit(0), (e) => {
  if (e instanceof UsageError) {
    console.error(`iexec: ${e.message} (iexec.mjs --help lists the commands and options)`);
    process.exit(2);
  }
  console.error(`iexec: ${e.message}`);
  process.exit(1);
});
