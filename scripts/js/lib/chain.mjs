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

// Approves registered contracts `ids` through the real governance path: one contracts-track
// referendum (`utility.batchAll` of `registry.approve`), its preimage and decision deposit by
// `proposer`, an aye from `voter` holding most of the dev chain's RLC. Resolves once every
// contract reads `Approved`.
export async function approveByReferendum (api, ids, proposer, voter, seconds = 300) {
  const approve = api.tx.utility.batchAll(ids.map((id) => api.tx.registry.approve(id)));
  const submit = api.tx.referenda.submit(
    { Governance: 'ContractDecision' },
    { Lookup: { hash: approve.method.hash, len: approve.method.encodedLength } },
    { After: 1 }
  );
  const events = await send(api, api.tx.utility.batchAll([api.tx.preimage.notePreimage(approve.method.toHex()), submit]), proposer);
  const referendum = findEvent(events, 'referenda', 'Submitted').data.index.toNumber();
  await send(api, api.tx.referenda.placeDecisionDeposit(referendum), proposer);
  const vote = { Standard: { vote: { aye: true, conviction: 'Locked1x' }, balance: 9_000_000n * RLC } };
  await send(api, api.tx.convictionVoting.vote(referendum, vote), voter);
  for (let i = 0; i < seconds * 2; i++) {
    const statuses = await Promise.all(ids.map(async (id) => (await api.query.registry.contracts(id)).unwrap().status.toString()));
    if (statuses.every((s) => s === 'Approved')) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`contracts ${ids} not approved within ${seconds} s`);
}
