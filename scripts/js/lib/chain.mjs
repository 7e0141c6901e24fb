// What every client script here needs: a connection with no custom types, and transactions
// that resolve once in a block with their events, or reject with the chain's own error name.
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

export const RLC = 1_000_000_000n;

export async function connect (url) {
  await cryptoWaitReady();
  return ApiPromise.create({ provider: new WsProvider(url), throwOnConnect: true, noInitWarn: true });
}

// An sr25519 key pair from a secret URI (`//Alice`, a mnemonic, a mnemonic with a path).
export function signerFrom (suri) {
  return new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(suri);
}

// The error a failed dispatch reports, as `pallet.Error: docs`.
function explain (api, dispatchError) {
  if (dispatchError.isModule) {
    const { section, name, docs } = api.registry.findMetaError(dispatchError.asModule);
    return `${section}.${name}: ${docs.join(' ')}`;
  }
  return dispatchError.toString();
}

// Signs and sends `tx`; resolves with its events once it is in a block and succeeded (the
// list's \`blockHash\` is that block's) — with \`{ finalized: true }\`, once that block is final.
// A refusal rejects with the pallet error's name, and the error's \`events\` (its fee is paid
// all the same). Without news of the transaction for \`timeoutMs\` it rejects: after a lost
// connection no news would ever come.
export function send (api, tx, signer, { finalized = false, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    let timer;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => { unsubscribe(); reject(new Error(`no news of the transaction for ${timeoutMs / 1000} s (it may still be included)`)); }, timeoutMs);
    };
    const end = (settle, value) => { clearTimeout(timer); unsubscribe(); settle(value); };
    arm();
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      arm();
      const list = events.map(({ event }) => event);
      if (dispatchError) {
        end(reject, Object.assign(new Error(explain(api, dispatchError)), { events: list }));
      } else if (finalized ? status.isFinalized : status.isInBlock) {
        Object.defineProperty(list, 'blockHash', { value: finalized ? status.asFinalized : status.asInBlock });
        end(resolve, list);
      } else if (status.isDropped || status.isInvalid || status.isUsurped || status.isFinalityTimeout) {
        end(reject, new Error(`transaction ${status.type}`));
      }
    }).then((u) => { unsubscribe = u; }, (e) => end(reject, e));
  });
}

// The first event `section.method` among `events`, or an error naming what was expected.
export function findEvent (events, section, method) {
  const found = events.find((e) => e.section === section && e.method === method);
  if (!found) throw new Error(`no ${section}.${method} event in ${events.map((e) => `${e.section}.${e.method}`)}`);
  return found;
}

// `text` RLC ("2", "0.25") in planck (RLC has 9 decimals), or an error saying what is wrong.
export function parseRlc (text, what = 'amount') {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(String(text).trim());
  if (!m) throw new Error(`${what} must be a number of RLC with at most 9 decimals (got "${text}")`);
  return BigInt(m[1]) * RLC + BigInt((m[2] ?? '').padEnd(9, '0'));
}

// Planck as RLC, without trailing zeros: 1500000000n → "1.5 RLC".
export function formatRlc (planck) {
  const value = BigInt(planck);
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  const fraction = (abs % RLC).toString().padStart(9, '0').replace(/0+$/, '');
  return `${sign}${abs / RLC}${fraction ? `.${fraction}` : ''} RLC`;
}

// Like `send`, and also what the signer paid in fees for it (from `TransactionFeePaid`); a
// refused call's fee is added to \`fees.total\` before the error goes on.
export async function sendPaying (api, tx, signer, fees = { total: 0n }, options = {}) {
  const feeIn = (events) => {
    const paid = (events ?? []).find((e) => e.section === 'transactionPayment' && e.method === 'TransactionFeePaid' && e.data.who.toString() === signer.address);
    return paid ? paid.data.actualFee.toBigInt() : 0n;
  };
  try {
    const events = await send(api, tx, signer, options);
    fees.total += feeIn(events);
    return events;
  } catch (e) {
    fees.total += feeIn(e.events);
    throw e;
  }
}
