// One bench run in its own process (so peak memory is its own): `worker.ts SIDE BACKEND URL OPTIONS_JSON`.
// Prints the figures as one JSON line on stdout. `turns:SIDE,SIDE…` as SIDE: the phases where
// those sides take turns in this process, single sends and paced latency; prints each side's
// sends per second and its latency samples.
import { registerDriver } from '@brokerkit/core';
import { driverFactory as kafka } from '@brokerkit/kafka';
import { driverFactory as memory } from '@brokerkit/memory';
import { driverFactory as nats } from '@brokerkit/nats';
import { driverFactory as pubsub } from '@brokerkit/pubsub';
import { driverFactory as rabbitmq } from '@brokerkit/rabbitmq';
import { driverFactory as redis } from '@brokerkit/redis';
import { driverFactory as sqs } from '@brokerkit/sqs';
import { randomBytes } from 'node:crypto';
import { RAW_BACKENDS, rawTarget } from './raw/index.js';
import { sdkTarget } from './sdk.js';
import type { BenchTarget } from './target.js';
import type { Side } from './bench.js';
import { runPacedTurns, runSingles, runWorkload, workloadQueues, type TurnsOutput, type WorkloadOptions } from './workload.js';

for (const factory of [memory, redis, rabbitmq, kafka, sqs, pubsub, nats]) registerDriver(factory);

const [mode, backend, url, optionsJson] = process.argv.slice(2) as [string, string, string, string];
const options = JSON.parse(optionsJson) as WorkloadOptions;
const turns = mode.startsWith('turns:');
const sides = (turns ? mode.slice('turns:'.length).split(',') : [mode]) as Side[];
const targets: BenchTarget[] = [];
for (const side of sides) targets.push(side === 'sdk' ? await sdkTarget(url) : await rawTarget(backend, url, side === 'raw-meta'));
const prefix = `bench-${randomBytes(4).toString('hex')}`;
// Deletes what the run made, with the raw client's admin calls: leave nothing behind, since an
// emulator keeps scanning every subscription it holds (pstest used 60 % of a core, idle, after
// a few bench runs), which slows every later run and test.
const raw = targets.find((_, index) => sides[index] !== 'sdk');
const cleaner: BenchTarget | undefined = raw ?? (RAW_BACKENDS.includes(backend) ? await rawTarget(backend, url) : undefined);
const clean = async (names: string, all: readonly string[]): Promise<void> => {
  await cleaner?.cleanup?.(names, all).catch((error: unknown) => process.stderr.write(`cleaning up ${names} failed: ${String(error)}\n`));
};
try {
  const figures = turns
    ? ({ singles: await runSingles(targets, options, prefix), latencySamplesMs: await runPacedTurns(targets, options, prefix) } satisfies TurnsOutput)
    : await runWorkload(targets[0] as BenchTarget, options, prefix, (queue) => clean(queue, [queue]));
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} finally {
  await clean(prefix, workloadQueues(prefix));
  if (cleaner !== undefined && !targets.includes(cleaner)) await cleaner.close();
  for (const target of targets) await target.close();
}
// Client libraries may keep timers after close; the figures are out.
process.exit(0);
