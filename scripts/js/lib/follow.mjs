// Follows a request through finalised blocks: the deals made from it, each task's life
// (claims, commitments, consensus, reveals) and how it ended (certified, failed and refunded,
// never started and refunded), and what was spent. Only finalised blocks are read: a certified
// result the client reports can no longer be reverted.
import { formatRlc as formatPlanck } from './chain.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const short = (account) => { const a = account.toString(); return `${a.slice(0, 6)}…${a.slice(-4)}`; };

// How long the node may fail to answer before following gives up (it may be restarting).
const PATIENCE_MS = 120_000;

// A follower of request `request`, submitted in finalised block `from` for `volume` tasks
// at most `maxPerTask` each. `say(line)` gets progress; `claimer(tx)` signs the requester's
// own calls (refunds the chain does not make by itself); `onCompleted(taskId, blockHash)` runs
// as each task is certified. `run(matchBlocks)` follows until every task is settled and
// nothing is left unmatched — or, given `matchBlocks`, until that many blocks pass with tasks
// unmatched and no new deal (`unmatched: true`: the caller explains and cancels, then runs it
// again to see the cancellation and the deals through). Its state: deals, tasks by
// `deal/index`, money (spent on certified tasks, refunded).
export function requestFollower (api, { request, from, volume, maxPerTask, say, onCompleted, claimer }) {
  const deals = new Map();
  const tasks = new Map();
  const money = { spent: 0n, refunded: 0n };
  let unmatched = volume;
  let next = from;
  let lastDeal = from;
  const blockMs = BigInt(api.consts.babe.expectedBlockTime.toString());
  const ours = (task) => deals.has(task.deal.toNumber());
  const key = (task) => `${task.deal.toNumber()}/${task.index.toNumber()}`;
  const settled = () => unmatched === 0 && [...deals.values()].every((d) => d.settled === d.volume);
  const settle = (id, outcome, block) => {
    const entry = tasks.get(id) ?? {};
    if (entry.outcome) return;
    tasks.set(id, { ...entry, outcome, block });
    deals.get(Number(id.split('/')[0])).settled += 1;
  };
  // The chain's hook fails a started task whose contributions closed without consensus, and
  // settles reveals that are due; past its final deadline a task waits for someone's call, and
  // tasks nobody starts are refunded only when someone asks. The requester asks, every few
  // blocks until it is done (a refused call is tried again later).
  const ask = async (tx) => {
    try {
      await claimer(tx);
      return null;
    } catch (e) {
      return e.message;
    }
  };
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
      if (number < due || (entry.askedAt ?? -Infinity) > number - 5) continue;
      entry.askedAt = number;
      say(`deal ${deal}: ${entry.volume - started} task(s) not started by block #${due}; asking for their refund`);
      const refused = await ask(api.tx.poco.claimUnstarted(deal));
      if (refused) say(`deal ${deal}: claimUnstarted refused: ${refused}`);
    }
    for (const [id, entry] of tasks) {
      if (entry.outcome || entry.finalDeadline === undefined || number < entry.finalDeadline + 2) continue;
      if ((entry.askedAt ?? -Infinity) > number - 5) continue;
      entry.askedAt = number;
      const [deal, index] = id.split('/').map(Number);
      say(`task ${id}: past its final deadline (block #${entry.finalDeadline}); asking the chain to settle it`);
      // A task with a revealed result completes (`finalize`); one without fails.
      let refused = await ask(api.tx.poco.claimFailed({ deal, index }));
      if (refused && /UseFinalize/.test(refused)) refused = await ask(api.tx.poco.finalize({ deal, index }));
      if (refused) say(`task ${id}: not settled yet: ${refused}`);
    }
  };

  // Reads the events of finalised block `number` (at `hash`). Everything it needs from the
  // node is fetched before anything is counted, so a block whose reading failed is read again
  // whole, never counted twice.
  const read = async (number, hash) => {
    const at = `block #${number}`;
    const events = (await api.query.system.events.at(hash)).map(({ event }) => event);
    const dealRecords = new Map();
    const started = new Map();
    for (const { section, method, data } of events) {
      if (section === 'market' && method === 'DealMade' && data.request.toNumber() === request) {
        dealRecords.set(data.deal.toNumber(), (await api.query.market.deals.at(hash, data.deal)).unwrap());
      } else if (section === 'poco' && method === 'ReplicaClaimed' && data.started.isTrue && ours(data.task)) {
        const record = await api.query.poco.tasks.at(hash, data.task.deal, data.task.index);
        if (record.isSome) started.set(key(data.task), record.unwrap().finalDeadline.toNumber());
      }
    }
    const completed = [];
    for (const event of events) {
      const { section, method, data } = event;
      if (section === 'market' && method === 'DealMade' && data.request.toNumber() === request) {
        const deal = data.deal.toNumber();
        const volumeOfDeal = data.volume.toNumber();
        const record = dealRecords.get(deal);
        const price = data.pricePerTask.toBigInt();
        deals.set(deal, { volume: volumeOfDeal, price, settled: 0, record });
        unmatched -= volumeOfDeal;
        lastDeal = number;
        // The deal's price is at most the request's: the difference comes back at once.
        money.refunded += (maxPerTask - price) * BigInt(volumeOfDeal);
        const dataset = record.dataset.isSome ? `, data set ${record.dataset.unwrap().id} (${formatPlanck(record.dataset.unwrap().price)})` : '';
        say(`deal ${deal} made in ${at}: ${volumeOfDeal} task(s) at ${formatPlanck(price)} each — app ${record.app} (${formatPlanck(record.appPrice)}), pool ${record.pool} (${formatPlanck(record.poolPrice)})${dataset}, trust ${record.trust}`);
      } else if (section === 'market' && method === 'RequestWaiting' && data.id.toNumber() === request) {
        say(`request ${request}: ${data.remaining} task(s) wait for an offer until block #${data.expiresAt}`);
      } else if (section === 'market' && (method === 'RequestExpired' || method === 'OrderCancelled') && data.id.toNumber() === request) {
        money.refunded += data.paymentRefunded.toBigInt();
        say(`request ${request} ${method === 'RequestExpired' ? 'expired' : 'cancelled'} in ${at} with ${unmatched} task(s) unmatched; ${formatPlanck(data.paymentRefunded)} and its deposit back`);
        unmatched = 0;
      } else if (section === 'poco' && data.task && ours(data.task)) {
        const id = key(data.task);
        if (method === 'ReplicaClaimed') {
          if (started.has(id)) tasks.set(id, { ...tasks.get(id), finalDeadline: started.get(id) });
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
          money.spent += deals.get(data.task.deal.toNumber()).price;
          settle(id, 'certified', number);
          say(`task ${id}: certified in ${at}, digest ${data.digest.toHex()}`);
          completed.push(data.task);
        } else if (method === 'TaskFailed') {
          money.refunded += data.refunded.toBigInt();
          settle(id, 'failed', number);
          say(`task ${id}: FAILED in ${at} (no certified result in time); ${formatPlanck(data.refunded)} refunded`);
        }
      } else if (section === 'poco' && method === 'UnstartedRefunded' && deals.has(data.deal.toNumber())) {
        const deal = data.deal.toNumber();
        money.refunded += data.refunded.toBigInt();
        for (let i = data.from.toNumber(); i < data.from.toNumber() + data.tasks.toNumber(); i++) settle(`${deal}/${i}`, 'never started', number);
        say(`deal ${deal}: ${data.tasks} task(s) never started; ${formatPlanck(data.refunded)} refunded`);
      }
    }
    // Counted: a result that cannot be had now is reported, never read twice.
    for (const task of completed) {
      try {
        await onCompleted(task, hash);
      } catch (e) {
        tasks.get(key(task)).resultError = e.message;
        say(`task ${key(task)}: certified, but its result: ${e.message} (try again: iexec.mjs result ${task.deal} ${task.index})`);
      }
    }
  };

  const run = async (matchBlocks = null) => {
    let failingSince = null;
    for (;;) {
      try {
        const head = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
        for (; next <= head; next++) {
          await read(next, await api.rpc.chain.getBlockHash(next));
          if (settled()) return { unmatched: false, block: next };
          if (matchBlocks !== null && unmatched > 0 && next >= lastDeal + matchBlocks) {
            next += 1;
            return { unmatched: true, block: next - 1 };
          }
        }
        await overdue(head);
        failingSince = null;
      } catch (e) {
        // The node may be restarting: wait for it, within reason.
        failingSince ??= Date.now();
        if (Date.now() - failingSince > PATIENCE_MS) throw new Error(`the node does not answer: ${e.message}`);
        say(`(the node did not answer: ${e.message}; trying again)`);
      }
      await sleep(1000);
    }
  };

  return { run, deals, tasks, money, unmatchedTasks: () => unmatched };
}
