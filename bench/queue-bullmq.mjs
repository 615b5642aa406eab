// BullMQ on Redis, the peer of `scripts/bench-queues`: producers and a Worker in one Node process,
// closed loop. PRODUCERS producers each keep one `addBulk` of BATCH jobs in flight (the next
// once the last is acknowledged) until MESSAGES jobs are added; a Worker with CONCURRENCY slots
// processes them with a trivial processor and removes each on completion. The clock runs from
// the first add to the last completion. Prints one JSON line.
//
//   REDIS_PORT=6390 MESSAGES=20000 PRODUCERS=5 BATCH=10 CONCURRENCY=50 node bench/queue-bullmq.mjs
import { Queue, Worker } from "bullmq";

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const port = env("REDIS_PORT", 6390);
const messages = env("MESSAGES", 20000);
const producers = env("PRODUCERS", 5);
const batch = env("BATCH", 10);
const concurrency = env("CONCURRENCY", 50);
const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
const name = `bench-${Date.now()}`;

const queue = new Queue(name, { connection });
await queue.waitUntilReady();
let completed = 0;
let finish;
const finished = new Promise((resolve) => (finish = resolve));
const worker = new Worker(name, async (job) => job.data.n, { connection, concurrency, autorun: false });
worker.on("completed", () => {
  completed += 1;
  if (completed === messages) finish();
});
worker.on("failed", (job, error) => {
  console.error(`bullmq: job ${job?.id} failed: ${error}`);
  process.exit(1);
});
await worker.waitUntilReady();

const began = performance.now();
worker.run();
let next = 0;
async function produce() {
  while (next < messages) {
    const first = next;
    next = Math.min(next + batch, messages);
    const jobs = [];
    for (let n = first; n < next; n += 1) {
      jobs.push({ name: "m", data: { n }, opts: { removeOnComplete: true, removeOnFail: true } });
    }
    await queue.addBulk(jobs);
  }
}
await Promise.all(Array.from({ length: producers }, produce));
await finished;
const seconds = (performance.now() - began) / 1000;
console.log(
  JSON.stringify({
    peer: "bullmq",
    messages,
    producers,
    batch,
    consumers: concurrency,
    seconds: Number(seconds.toFixed(3)),
    per_second: Number((messages / seconds).toFixed(1)),
  }),
);
await worker.close();
await queue.obliterate({ force: true });
await queue.close();
