// Replicas a worker daemon sustains on this machine with a trivial task (docs/benchmarks.md,
// "Worker on chain"): a real dev node, the test world of test/worker-world.mjs, one
// `iexec-worker run` with SLOTS slots, and one deal of VOLUME tasks of the demo π app (1,000
// samples, well under a millisecond) at trust 1. Prints, as `measured:` lines, the blocks and
// seconds from the first claim to the last certification, tasks per second, and the worker's
// CPU time and peak memory.
//   node scripts/js/bench-worker.mjs            (SLOTS=32 VOLUME=96 by default)
// Needs the debug build of scripts/build.sh, like the tests (IEXEC_NODE / IEXEC_WORKER to
// measure other binaries).
import { readFileSync } from 'node:fs';
import { RLC, send, findEvent } from './lib/chain.mjs';
import { startWorker, waitFor } from './test/helpers.mjs';
import { world, setUpWorld, tearDownWorld, joinWorkers, request, bestNumber, bob, charlie } from './test/worker-world.mjs';

const slots = Number(process.env.SLOTS ?? 32);
const volume = Number(process.env.VOLUME ?? 96);
const restrictions = { requester: null, app: null, dataset: null, pool: null };

// CPU seconds (user + system) of process `pid` so far.
function cpuSeconds (pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

try {
  await setUpWorld();
  joinWorkers();
  const { node, api, dir, ids } = world;
  // A pool order large enough for the deal, and cheaper than the world's own (volume 20), so
  // that the request's cost-only weights pick it.
  await send(api, api.tx.market.publishPoolOrder(ids.pool, 3n * RLC, volume, 'XS', 3, 0, restrictions, '[ Cpus = 2; Memory = 4096 ]'), bob());
  const worker = startWorker({ url: node.url, suri: '//Dave', dir, name: 'dave', slots });
  world.workers.push(worker);
  world.started.push(worker);
  await waitFor('the worker to start', async () => /worker started/.test(worker.output()), 60);
  const cpuBefore = cpuSeconds(worker.pid);
  const from = await bestNumber();
  const events = await send(api, api.tx.market.submitRequest({ ...request(ids.app, '1000', 1), volume }), charlie());
  const made = findEvent(events, 'market', 'DealMade').data;
  const deal = made.deal.toNumber();
  if (made.volume.toNumber() !== volume) throw new Error(`the deal has ${made.volume} tasks, not ${volume}`);
  await waitFor(`the ${volume} tasks to be certified`, async () => {
    const progress = await api.query.poco.progress(deal);
    if (!(progress.isSome && progress.unwrap().next.toNumber() === volume)) return false;
    const tasks = await Promise.all([...Array(volume).keys()].map((i) => api.query.poco.tasks(deal, i)));
    return tasks.every((t) => t.isSome && t.unwrap().status.isCompleted);
  }, 1800);
  const cpu = cpuSeconds(worker.pid) - cpuBefore;
  const status = readFileSync(`/proc/${worker.pid}/status`, 'utf8');
  const peak = Number(status.match(/VmHWM:\s+(\d+) kB/)[1]);
  const to = await bestNumber();
  let first;
  let last;
  const moments = new Map();
  for (let n = from + 1; n <= to; n++) {
    const hash = await api.rpc.chain.getBlockHash(n);
    for (const { event } of await api.query.system.events.at(hash)) {
      if (event.section !== 'poco' || event.data.task?.deal.toNumber() !== deal) continue;
      if (event.method === 'ReplicaClaimed') first ??= n;
      if (event.method === 'TaskCompleted') last = n;
    }
    if (n === first || n === last) moments.set(n, (await api.query.timestamp.now.at(hash)).toNumber());
  }
  const seconds = (moments.get(last) - moments.get(first)) / 1000;
  console.log(`measured: ${volume} trivial tasks at trust 1, one worker of ${slots} slots: first claim in block ${first}, last certified in ${last} (${last - first} blocks, ${seconds} s)`);
  console.log(`measured: ${(volume / seconds).toFixed(2)} tasks/s; worker CPU ${cpu.toFixed(1)} s (${(cpu * 1000 / volume).toFixed(0)} ms per task); worker peak memory ${Math.round(peak / 1024)} MiB`);
} finally {
  await tearDownWorld();
}
