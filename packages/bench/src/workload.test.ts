import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { BenchBody, BenchTarget } from './target.js';
import { runPacedTurns, type WorkloadOptions } from './workload.js';

/** A side that hands each message sent to its queue's handler at once, recording what it was asked. */
function loopback(name: string, log: string[]): BenchTarget {
  const handlers = new Map<string, (body: BenchBody) => void>();
  return {
    setup: async () => undefined,
    send: async (queue, body) => {
      log.push(`${name} ${queue.split('-').slice(-2).join('-')}`);
      setImmediate(() => handlers.get(queue)?.(body));
    },
    sendBatch: async () => undefined,
    consume: async (queue, _concurrency, handler) => {
      handlers.set(queue, handler);
      return async () => void handlers.delete(queue);
    },
    close: async () => undefined,
  };
}

const options: WorkloadOptions = {
  messages: 10,
  consumeMessages: 10,
  sizeBytes: 64,
  concurrency: 4,
  singles: 10,
  batchSize: 10,
  latencyMessages: 10,
  latencyRatePerSec: 500,
  phaseTimeoutMs: 10_000,
};

describe('runPacedTurns', () => {
  it("sends each side's messages in turn, the order reversed every other pass, a warm-up first, and gives each side its own latencies", async () => {
    const log: string[] = [];
    const started = performance.now();
    const [first, second] = await runPacedTurns([loopback('a', log), loopback('b', log)], options, 'bench-test');
    const elapsedMs = performance.now() - started;
    // The warm-up: a fifth as many per side, on queues of its own.
    assert.deepEqual(log.slice(0, 4), ['a warm-0', 'b warm-1', 'b warm-1', 'a warm-0']);
    const main = log.filter((line) => line.includes('main'));
    assert.equal(main.length, 20);
    assert.deepEqual(main.slice(0, 6), ['a main-0', 'b main-1', 'b main-1', 'a main-0', 'a main-0', 'b main-1']);
    for (const samples of [first, second]) {
      assert.equal(samples?.length, 10, 'one latency per message of that side');
      assert.deepEqual(samples, [...(samples ?? [])].sort((x, y) => x - y), 'ascending');
      assert.ok(samples?.every((ms) => ms >= 0 && ms < 1_000));
    }
    // 500/s over both sides: 2 ms between sends, 3 gaps in the warm-up and 19 after: paced, not sent at once.
    assert.ok(elapsedMs >= (3 + 19) * 2, `paced: ${elapsedMs} ms`);
  });
});
