// polkadot.js, as published on npm, talks to a dev node with no custom type definitions:
// it reads the chain properties and sends a transfer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, mnemonicGenerate } from '@polkadot/util-crypto';
import { startDevNode } from './helpers.mjs';

const RLC = 1_000_000_000n;
let node;
let api;
const warnings = [];

before(async () => {
  await cryptoWaitReady();
  node = await startDevNode();
  // polkadot.js reports types and extensions it cannot handle through console.warn/error.
  for (const level of ['warn', 'error']) {
    const original = console[level];
    console[level] = (...args) => { warnings.push(args.join(' ')); original(...args); };
  }
  api = await ApiPromise.create({ provider: new WsProvider(node.url), throwOnConnect: true });
});

after(async () => {
  if (api) await api.disconnect();
  if (node) await node.stop();
});

test('chain properties: RLC, 9 decimals, ss58 42, no unknown types', async () => {
  const properties = await api.rpc.system.properties();
  assert.deepEqual(properties.tokenSymbol.unwrap().toJSON(), ['RLC']);
  assert.deepEqual(properties.tokenDecimals.unwrap().toJSON(), [9]);
  assert.equal(properties.ss58Format.unwrap().toNumber(), 42);
  assert.deepEqual(api.registry.chainTokens, ['RLC']);
  assert.deepEqual(api.registry.chainDecimals, [9]);
  assert.equal(api.runtimeVersion.specName.toString(), 'iexec');
  // Type or extension problems would show here; the routine note about RPC methods newer
  // than this polkadot.js ("not decorated") is not one.
  const typeProblems = warnings.filter((w) =>
    /Unknown (signed|transaction) extension|Unable to (decode|resolve|construct|create)|unknown type/i.test(w));
  assert.deepEqual(typeProblems, []);
});

test('a transfer signed with a dev key moves RLC to a new account', async () => {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const alice = keyring.addFromUri('//Alice');
  const fresh = keyring.addFromMnemonic(mnemonicGenerate());
  const amount = 5n * RLC;
  const aliceBefore = (await api.query.system.account(alice.address)).data.free.toBigInt();

  const inBlock = await new Promise((resolve, reject) => {
    api.tx.balances.transferKeepAlive(fresh.address, amount)
      .signAndSend(alice, ({ status, dispatchError }) => {
        if (dispatchError) reject(new Error(dispatchError.toString()));
        if (status.isInBlock) resolve(status.asInBlock);
      })
      .catch(reject);
  });
  // The block it reports holds the transfer's event.
  const events = await api.query.system.events.at(inBlock);
  assert.ok(events.some(({ event }) => event.section === 'balances' && event.method === 'Transfer' && event.data.to.toString() === fresh.address), 'the transfer is in the reported block');

  const freshAfter = (await api.query.system.account(fresh.address)).data.free.toBigInt();
  const aliceAfter = (await api.query.system.account(alice.address)).data.free.toBigInt();
  assert.equal(freshAfter, amount);
  const fee = aliceBefore - amount - aliceAfter;
  assert.ok(fee > 0n && fee < RLC, `fee ${fee}`);
});
