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

// Signs and sends `tx`; resolves with its events once it is in a block and succeeded.
export function send (api, tx, signer) {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (dispatchError) {
        unsubscribe();
        reject(new Error(explain(api, dispatchError)));
      } else if (status.isInBlock) {
        unsubscribe();
        resolve(events.map(({ event }) => event));
      } else if (status.isDropped || status.isInvalid || status.isUsurped) {
        unsubscribe();
        reject(new Error(`transaction ${status.type}`));
      }
    }).then((u) => { unsubscribe = u; }, reject);
  });
}

// The first event `section.method` among `events`, or an error naming what was expected.
export function findEvent (events, section, method) {
  const found = events.find((e) => e.section === section && e.method === method);
  if (!found) throw new Error(`no ${section}.${method} event in ${events.map((e) => `${e.section}.${e.method}`)}`);
  return found;
}
