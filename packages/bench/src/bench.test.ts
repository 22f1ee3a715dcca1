import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { failureOf, poolLatencies } from './bench.js';

describe('failureOf', () => {
  it("names the thrown error of a run that died with an error object printed below it, not Node's version line", () => {
    const stderr = [
      'file:///work/packages/bench/dist/worker.js:31',
      '    await producer.send(record);',
      '    ^',
      '',
      "KafkaJSProtocolError: This server does not host this topic-partition",
      '    at createErrorFromCode (/k/src/protocol/error.js:581:10) {',
      "  type: 'UNKNOWN_TOPIC_OR_PARTITION',",
      '  retriable: true',
      '}',
      '',
      'Node.js v20.20.2',
      '',
    ].join('\n');
    assert.equal(failureOf(stderr), "KafkaJSProtocolError: This server does not host this topic-partition | type: 'UNKNOWN_TOPIC_OR_PARTITION', | retriable: true | }");
  });

  it('gives the last lines alone when they hold the error, and nothing for an empty stderr', () => {
    assert.equal(failureOf('warming up\nError: timed out after 60000 ms waiting for 2000 messages\n'), 'warming up | Error: timed out after 60000 ms waiting for 2000 messages');
    assert.equal(failureOf(''), '');
  });
});

describe('poolLatencies', () => {
  it("takes each side's percentiles over all its rounds' samples together, not per round", () => {
    // Round 1 of brokerkit has a slow tail, round 2 none: pooled, the tail is 1 % of 200 samples.
    const steady = Array.from({ length: 100 }, (_, index) => 1 + index / 100);
    const withTail = [...steady.slice(0, 98), 50, 60];
    const pooled = poolLatencies([
      { side: 'sdk', samplesMs: withTail },
      { side: 'raw', samplesMs: steady },
      { side: 'sdk', samplesMs: steady },
      { side: 'raw', samplesMs: steady },
    ]);
    assert.deepEqual(pooled.get('raw'), { p50Ms: 1.49, p95Ms: 1.94, p99Ms: 1.98 });
    // Nearest rank: the 198th of 200 sorted samples is the last steady one below the tail.
    assert.deepEqual(pooled.get('sdk'), { p50Ms: 1.49, p95Ms: 1.94, p99Ms: 1.99 });
    assert.equal(pooled.has('raw-meta'), false, 'a side without runs has no figures');
  });

  it('gives a side with no samples no figures (a run whose latency phase measured nothing)', () => {
    assert.equal(poolLatencies([{ side: 'sdk', samplesMs: [] }]).has('sdk'), false);
  });
});
