// graphile-worker on PostgreSQL, the peer of `scripts/bench-queues`: producers and a worker pool
// in one Node process, closed loop. PRODUCERS producers each keep one `addJobs` of BATCH jobs in
// flight (one transaction each, the next once the last is acknowledged) until MESSAGES jobs are
// added; a worker with CONCURRENCY slots runs a no-op task on them (a job is deleted when it
// completes). The clock runs from the first add to the last completion. Prints one JSON line.
//
//   DATABASE_URL=postgres://bench@127.0.0.1:5440/bench MESSAGES=20000 node bench/queue-graphile.mjs
import { run, makeWorkerUtils } from "graphile-worker";
import { Logger } from "@graphile/logger";

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const connectionString = process.env.DATABASE_URL;
const messages = env("MESSAGES", 20000);
const producers = env("PRODUCERS", 5);
const batch = env("BATCH", 10);
const concurrency = env("CONCURRENCY", 10);
const localQueueSize = env("LOCAL_QUEUE_SIZE", 500);
const silent = new Logger(() => () => {});

const utils = await makeWorkerUtils({ connectionString, logger: silent });
await utils.migrate();
await utils.withPgClient((client) => client.query("DELETE FROM graphile_worker._private_jobs"));
await utils.withPgClient((client) => client.query("VACUUM ANALYZE graphile_worker._private_jobs"));

let completed = 0;
let finish;
const finished = new Promise((resolve) => (finish = resolve));
const runner = await run({
  connectionString,
  concurrency,
  noHandleSignals: true,
  pollInterval: 1000,
  logger: silent,
  preset: { worker: { localQueue: { size: localQueueSize }, completeJobBatchDelay: 0 } },
  taskList: {
    noop: async () => {
      completed += 1;
      if (completed === messages) setImmediate(finish);
    },
  },
});

const began = performance.now();
let next = 0;
async function produce() {
  while (next < messages) {
    const first = next;
    next = Math.min(next + batch, messages);
    const specs = [];
    for (let n = first; n < next; n += 1) {
      specs.push({ identifier: "noop", payload: { n } });
    }
    await utils.addJobs(specs);
  }
}
await Promise.all(Array.from({ length: producers }, produce));
await finished;
const seconds = (performance.now() - began) / 1000;
console.log(
  JSON.stringify({
    peer: "graphile-worker",
    messages,
    producers,
    batch,
    consumers: concurrency,
    seconds: Number(seconds.toFixed(3)),
    per_second: Number((messages / seconds).toFixed(1)),
  }),
);
await runner.stop();
await utils.release();
