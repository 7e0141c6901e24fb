// Follows a request through finalised blocks: the deals made from it, each task's life
// (claims, commitments, consensus, reveals) and how it ended (certified, failed and refunded,
// never started and refunded), and what was spent. Only finalised blocks are read: a certified
// result the client reports can no longer be reverted.
import { formatRlc as formatPlanck } from './chain.mjs';

// Finalised block numbers, polled: a subscription would miss nothing either, but a poll also
// survives a node that restarts.
async function finalizedNumber (api) {
  const hash = await api.rpc.chain.getFinalizedHead();
  return (await api.rpc.chain.getHeader(hash)).number.toNumber();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const short = (account) => { const a = account.toString(); return `${a.slice(0, 6)}…${a.slice(-4)}`; };

// Follows request `request` (submitted in block `from`, wanting `volume` tasks) until every
// task it got is settled and nothing of it is left unmatched. `say(line)` gets progress;
// `claimer(tx)` signs the requester's own calls (refunds the chain does not make by itself);
// `onCompleted(taskId, blockHash)` runs as each task is certified. When no deal is made within
// `matchBlocks` blocks, resolves early with `unmatched: true` (the caller explains and
// cancels). Resolves with what happened, tasks by `deal/index`.
export async function followRequest (api, { request, from, volume, matchBlocks, say, onCompleted, claimer }) {
  const deals = new Map();
  const tasks = new Map();
  let unmatched = volume;
  let next = from;
  const money = { spent: 0n, refunded: 0n };
  const ours = (task) => deals.has(task.deal.toNumber());
  const key = (task) => `${task.deal.toNumber()}/${task.index.toNumber()}`;
  const settled = () => unmatched === 0 && [...deals.values()].every((d) => d.settled === d.volume);
  const settle = (id, outcome, block) => {
    const [deal] = id.split('/');
    const entry = tasks.get(id) ?? {};
    if (entry.outcome) return;
    tasks.set(id, { ...entry, outcome, block });
    deals.get(Number(deal)).settled += 1;
  };
  // Past its final deadline a started task fails; the chain's hook does it, and if the hook's
  // queue spilled the requester asks for it (once). Tasks nobody starts are refunded only when
  // someone asks, `final_ratio × T` after the deal's last start: the requester asks.
  const blockMs = BigInt(api.consts.babe.expectedBlockTime.toString());
  const overdue = async (number) => {
    for (const [deal, entry] of deals) {
      if (entry.settled === entry.volume) continue;
      const progress = await api.query.poco.progress(deal);
      const started = progress.isSome ? progress.unwrap().next.toNumber() : 0;
      const lastStart = progress.isSome ? progress.unwrap().lastStart.toNumber() : entry.record.createdAt.toNumber();
      if (started >= entry.volume) continue;
      const terms = entry.record.terms;
      const span = (BigInt(terms.taskSeconds.toNumber()) * BigInt(terms.finalRatio.toNumber()) * 1000n + blockMs - 1n) / blockMs;
      const due = lastStart + Number(span);
      if (number < due || entry.askedUnstarted === due) continue;
      entry.askedUnstarted = due;
      say(`deal ${deal}: ${entry.volume - started} task(s) not started by block #${due}; asking for their refund`);
      try {
        await claimer(api.tx.poco.claimUnstarted(deal));
      } catch (e) {
        say(`deal ${deal}: claimUnstarted refused: ${e.message}`);
      }
    }
    for (const [id, entry] of tasks) {
      if (entry.outcome || entry.finalDeadline === undefined || entry.askedFail || number < entry.finalDeadline + 2) continue;
      entry.askedFail = true;
      const [deal, index] = id.split('/').map(Number);
      say(`task ${id}: past its final deadline (block #${entry.finalDeadline}); asking the chain to fail it`);
      try {
        await claimer(api.tx.poco.claimFailed({ deal, index }));
      } catch (e) {
        say(`task ${id}: claimFailed refused: ${e.message}`);
      }
    }
  };

  for (;;) {
    const head = await finalizedNumber(api);
    for (; next <= head; next++) {
      const hash = await api.rpc.chain.getBlockHash(next);
      for (const { event } of await api.query.system.events.at(hash)) {
        const { section, method, data } = event;
        const at = `block #${next}`;
        if (section === 'market' && method === 'DealMade' && data.request.toNumber() === request) {
          const deal = data.deal.toNumber();
          const volumeOfDeal = data.volume.toNumber();
          const record = (await api.query.market.deals.at(hash, deal)).unwrap();
          deals.set(deal, { volume: volumeOfDeal, price: data.pricePerTask.toBigInt(), settled: 0, record });
          unmatched -= volumeOfDeal;
          say(`deal ${deal} made in ${at}: ${volumeOfDeal} task(s) at ${formatPlanck(data.pricePerTask)} each — app ${record.app} (${formatPlanck(record.appPrice)}), pool ${record.pool} (${formatPlanck(record.poolPrice)})${record.dataset.isSome ? `, data set ${record.dataset.unwrap().id} (${formatPlanck(record.dataset.unwrap().price)})` : ''}, trust ${record.trust}`);
        } else if (section === 'market' && method === 'RequestWaiting' && data.id.toNumber() === request) {
          say(`request ${request}: ${data.remaining} task(s) wait for an offer until block #${data.expiresAt}`);
        } else if (section === 'market' && (method === 'RequestExpired' || method === 'OrderCancelled') && data.id.toNumber() === request) {
          money.refunded += data.paymentRefunded.toBigInt();
          say(`request ${request} ${method === 'RequestExpired' ? 'expired' : 'cancelled'} in ${at} with ${unmatched} task(s) unmatched; ${formatPlanck(data.paymentRefunded)} refunded`);
          unmatched = 0;
        } else if (section === 'poco' && data.task && ours(data.task)) {
          const id = key(data.task);
          if (method === 'ReplicaClaimed') {
            if (data.started.isTrue) {
              const record = (await api.query.poco.tasks.at(hash, data.task.deal, data.task.index)).unwrap();
              tasks.set(id, { ...tasks.get(id), finalDeadline: record.finalDeadline.toNumber() });
            }
            say(`task ${id}: claimed by worker ${short(data.worker)} (${at})`);
          } else if (method === 'ReplicaReleased') {
            say(`task ${id}: worker ${short(data.worker)} handed its replica back`);
          } else if (method === 'Contributed') {
            say(`task ${id}: result committed by ${short(data.worker)}`);
          } else if (method === 'ConsensusReached') {
            say(`task ${id}: consensus on a result; its workers reveal before block #${data.deadline}`);
          } else if (method === 'Revealed') {
            say(`task ${id}: revealed by ${short(data.worker)}`);
          } else if (method === 'TaskReopened') {
            say(`task ${id}: no winner revealed in time; ${data.discarded} contribution(s) discarded, the task takes contributions again`);
          } else if (method === 'TaskCompleted') {
            const deal = deals.get(data.task.deal.toNumber());
            money.spent += deal.price;
            settle(id, 'certified', next);
            say(`task ${id}: certified in ${at}, digest ${data.digest.toHex()}`);
            await onCompleted(data.task, hash);
          } else if (method === 'TaskFailed') {
            money.refunded += data.refunded.toBigInt();
            settle(id, 'failed', next);
            say(`task ${id}: FAILED in ${at} (no certified result in time); ${formatPlanck(data.refunded)} refunded`);
          }
        } else if (section === 'poco' && method === 'UnstartedRefunded' && deals.has(data.deal.toNumber())) {
          const deal = data.deal.toNumber();
          money.refunded += data.refunded.toBigInt();
          for (let i = data.from.toNumber(); i < data.from.toNumber() + data.tasks.toNumber(); i++) settle(`${deal}/${i}`, 'never started', next);
          say(`deal ${deal}: ${data.tasks} task(s) never started; ${formatPlanck(data.refunded)} refunded`);
        }
      }
      if (settled()) return { deals, tasks, money, unmatched: false, block: next };
      if (deals.size === 0 && unmatched === volume && next >= from + matchBlocks) {
        return { deals, tasks, money, unmatched: true, block: next };
      }
    }
    await overdue(head);
    await sleep(1000);
  }
}
