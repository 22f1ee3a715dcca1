import { strict as assert } from 'node:assert';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SqsSubscription } from './subscription.js';

/**
 * The signal a long poll is given, seen from the client's side: the stand-in client records
 * each call's abortSignal and answers with no messages. What is tested is how the subscription
 * builds that signal, not SQS (the conformance and integration suites run against a real one).
 */
function recordingClient(): { client: SQSClient; signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  const client = {
    send: async (_command: unknown, options?: { abortSignal?: AbortSignal }) => {
      signals.push(options?.abortSignal as AbortSignal);
      return { Messages: [] };
    },
  } as unknown as SQSClient;
  return { client, signals };
}

describe('SqsSubscription long polls', () => {
  it('share one combined signal per receive signal: no new AbortSignal.any (kept by Node in its sources) for every poll', async () => {
    const { client, signals } = recordingClient();
    const subscription = new SqsSubscription(client, { url: 'http://127.0.0.1:4566/000000000000/q', arn: 'arn:aws:sqs:us-east-1:000000000000:q', fifo: false }, 30_000);
    const fetching = new AbortController();
    for (let i = 0; i < 5; i += 1) await subscription.receive(10, fetching.signal);
    assert.equal(signals.length, 5);
    assert.equal(new Set(signals).size, 1, 'every poll of one receive signal gets the same combined signal');
    assert.equal(getEventListeners(fetching.signal, 'abort').length, 0, 'no listener left on the receive signal');

    const other = new AbortController();
    await subscription.receive(10, other.signal);
    assert.notEqual(signals[5], signals[0], 'another receive signal is combined afresh');
    other.abort();
    assert.ok(signals[5]?.aborted, "aborting the receive's signal cuts its poll short");
    assert.ok(!signals[0]?.aborted);

    await subscription.close();
    assert.ok(signals[0]?.aborted, 'closing the subscription cuts every poll short');
    assert.deepEqual(await subscription.receive(10, fetching.signal), [], 'a closed subscription receives nothing');
  });
});
