// Graceful shutdown, as a container stops a service: on SIGTERM the consumer stops taking
// messages, the handlers under way finish and are acked, the connection closes and the process
// exits 0 — before the orchestrator's kill (Kubernetes waits 30 s by default; stay below it).
//   node --import tsx examples/graceful-shutdown.ts   then Ctrl-C, or: kill -TERM <pid>
// In a container, run node as PID 1 through an init (`docker run --init`, or tini) or call it
// directly in CMD's exec form, so the signal reaches node: see examples/Dockerfile.
import { closeOnSignals, connect } from '@brokerkit/core';

const queue = `jobs${process.env.EXAMPLE_SUFFIX ?? ''}`;
const broker = await connect(process.env.BROKER_URL ?? 'memory://');

await broker.consumer<{ job: number }>(
  queue,
  async (message, { signal }) => {
    console.log(`started job ${message.body.job}`);
    // Work that takes a while; `signal` says the consumer is closing, for work that can stop early.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    console.log(`finished job ${message.body.job}${signal.aborted ? ' (while closing)' : ''}`);
  },
  { concurrency: 2 },
);

closeOnSignals(broker, {
  deadlineMs: 25_000,
  onSignal: (name) => console.log(`${name}: finishing the jobs under way, then closing`),
  onClosed: ({ clean, elapsedMs }) => console.log(clean ? `closed cleanly in ${elapsedMs} ms` : `not closed within the deadline (${elapsedMs} ms)`),
});

// Work to do (in a real service another process sends it).
await broker.producer().sendBatch(queue, Array.from({ length: 10 }, (_, n) => ({ body: { job: n + 1 } })));
console.log(`ready (pid ${process.pid})`);
