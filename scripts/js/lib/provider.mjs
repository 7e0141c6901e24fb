// A provider's part: register an app, a data set or a worker pool with the registry, put its
// approval to a referendum, and publish standing orders once governance approved it.
import { readFileSync } from 'node:fs';
import { blake2AsHex } from '@polkadot/util-crypto';
import { stringToU8a, u8aConcat } from '@polkadot/util';
import { RLC, findEvent, send } from './chain.mjs';

// A data set's checksum, as workers check it: blake2-256 of `iexec/input/file/v1` ‖ content.
export function datasetChecksum (path) {
  return blake2AsHex(u8aConcat(stringToU8a('iexec/input/file/v1'), readFileSync(path)), 256);
}

// The RFC a proposal points to: its URI and the hash of that text (of the URI when no file).
export function rfcOf (uri, hash) {
  return { documentHash: hash ?? blake2AsHex(uri, 256), uri };
}

// Proposes `terms` (`{ App: … }`, `{ Dataset: … }` or `{ WorkerPool: … }`); the contract's id
// and the deposit held.
export async function propose (api, signer, rfc, terms) {
  const proposed = findEvent(await send(api, api.tx.registry.propose(rfc, terms), signer), 'registry', 'ContractProposed');
  return { id: proposed.data.id.toNumber(), deposit: proposed.data.deposit.toBigInt() };
}

// Submits a contracts-track referendum approving `ids` (one batch), with its preimage and
// decision deposit; its index. Voting is then anyone's: `vote`.
export async function submitApproval (api, signer, ids) {
  const approve = ids.length === 1
    ? api.tx.registry.approve(ids[0])
    : api.tx.utility.batchAll(ids.map((id) => api.tx.registry.approve(id)));
  const submit = api.tx.referenda.submit(
    { Governance: 'ContractDecision' },
    { Lookup: { hash: approve.method.hash, len: approve.method.encodedLength } },
    { After: 1 }
  );
  const events = await send(api, api.tx.utility.batchAll([api.tx.preimage.notePreimage(approve.method.toHex()), submit]), signer);
  const referendum = findEvent(events, 'referenda', 'Submitted').data.index.toNumber();
  await send(api, api.tx.referenda.placeDecisionDeposit(referendum), signer);
  return referendum;
}

// Votes on `referendum` with `balance` planck at `conviction` (None, Locked1x … Locked6x).
export async function vote (api, signer, referendum, aye, balance, conviction) {
  await send(api, api.tx.convictionVoting.vote(referendum, { Standard: { vote: { aye, conviction }, balance } }), signer);
}

const noRestrictions = { requester: null, app: null, dataset: null, pool: null };

// Publishes an order; its id.
export async function publishOrder (api, signer, kind, { id, price, volume, tag = 0, category, trust, ad }) {
  const tx = kind === 'app'
    ? api.tx.market.publishAppOrder(id, price, volume, tag, noRestrictions)
    : kind === 'dataset'
      ? api.tx.market.publishDatasetOrder(id, price, volume, tag, noRestrictions)
      : api.tx.market.publishPoolOrder(id, price, volume, category, trust, tag, noRestrictions, ad);
  return findEvent(await send(api, tx, signer), 'market', 'OrderPublished').data.id.toNumber();
}

// Approves `ids` through the whole governance path at once, as on a dev chain: the
// referendum by `proposer`, an aye from `voter` (who holds most of the dev chain's RLC).
// Resolves once every contract reads `Approved`.
export async function approveByReferendum (api, ids, proposer, voter, seconds = 300) {
  const referendum = await submitApproval(api, proposer, ids);
  await vote(api, voter, referendum, true, 9_000_000n * RLC, 'Locked1x');
  for (let i = 0; i < seconds * 2; i++) {
    const statuses = await Promise.all(ids.map(async (id) => (await api.query.registry.contracts(id)).unwrap().status.toString()));
    if (statuses.every((s) => s === 'Approved')) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`contracts ${ids} not approved within ${seconds} s`);
}
