import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { connect, registerDriver, type Broker } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import { driverFactory as memoryDriver } from '@brokerkit/memory';
import { dlq } from './dlq.js';
import { UsageError } from './usage-error.js';

registerDriver(memoryDriver);

const capture = (): { stream: Writable; text: () => string } => {
  let text = '';
  const stream = new Writable({ write: (chunk, _encoding, done) => ((text += String(chunk)), done()) });
  return { stream, text: () => text };
};

/** Three dead letters in `jobs.dlq`: n=0 and n=2 dead-lettered explicitly, n=1 after its attempts. */
async function deadLettered(url: string): Promise<{ broker: Broker; handled: number[] }> {
  const broker = await connect(url);
  const handled: number[] = [];
  let fixed = false;
  await broker.consumer<{ n: number }>(
    'jobs',
    async (message, control) => {
      if (fixed) return void handled.push(message.body.n);
      if (message.body.n % 2 === 0) return control.deadLetter('bad input');
      throw new Error('downstream was down');
    },
    { retry: { maxAttempts: 2, backoff: { initialMs: 10, jitter: 0 } } },
  );
  await broker.producer().sendBatch('jobs', [0, 1, 2].map((n) => ({ id: `job-${n}`, body: { n } })));
  assert.ok(await waitUntil(async () => (await broker.backlog('jobs.dlq')).messages === 3, 5_000), 'three dead letters');
  fixed = true;
  return { broker, handled };
}

describe('brokerkit dlq', () => {
  it('peeks (a table, or JSON), replays by reason with a summary, and purges the rest', async (t) => {
    const url = 'memory://cli-dlq';
    const { broker, handled } = await deadLettered(url);
    t.after(() => broker.close());
    const peek = capture();
    assert.equal(await dlq('peek', { url, subscription: 'jobs', idleMs: '200' }, peek.stream), 0);
    const lines = peek.text().trim().split('\n');
    assert.match(lines[0] ?? '', /^id\s+reason\s+attempts\s+dead-lettered at\s+from\s+last error\s+body$/);
    assert.equal(lines.length, 4);
    assert.match(peek.text(), /job-1\s+max-attempts\s+2\s+\S+\s+jobs\s+Error: downstream was down\s+\{"n":1\}/);

    const json = capture();
    await dlq('peek', { url, subscription: 'jobs', idleMs: '200', json: true, limit: '1' }, json.stream);
    const parsed = JSON.parse(json.text());
    assert.equal(parsed.queue, 'jobs.dlq');
    assert.equal(parsed.messages.length, 1);

    const replayed = capture();
    assert.equal(await dlq('replay', { url, subscription: 'jobs', reason: 'explicit', idleMs: '200' }, replayed.stream, capture().stream), 0);
    assert.match(replayed.text(), /^replayed 2, skipped 1, failed 0 \(seen 3 in /);
    assert.ok(await waitUntil(() => handled.length === 2, 5_000));
    assert.deepEqual(handled.sort(), [0, 2]);

    const purged = capture();
    assert.equal(await dlq('purge', { url, queue: 'jobs.dlq', idleMs: '200', json: true }, purged.stream, capture().stream), 0);
    assert.equal(JSON.parse(purged.text()).purged, 1);
    assert.equal((await broker.backlog('jobs.dlq')).messages, 0);
  });

  it('refuses a bad action, a missing URL or queue, and a bad number, naming it', async () => {
    await assert.rejects(dlq('list', { url: 'memory://x', subscription: 'a' }), (error: unknown) => error instanceof UsageError && /unknown action "list"/.test(error.message));
    await assert.rejects(dlq('peek', { subscription: 'a' }), (error: unknown) => error instanceof UsageError && /--url/.test(error.message));
    await assert.rejects(dlq('peek', { url: 'memory://x' }), (error: unknown) => error instanceof UsageError && /--subscription/.test(error.message));
    await assert.rejects(dlq('peek', { url: 'memory://x', subscription: 'a', limit: 'ten' }), (error: unknown) => error instanceof UsageError && /--limit/.test(error.message));
    await assert.rejects(dlq('purge', { url: 'memory://x', subscription: 'a', to: 'b' }), (error: unknown) => error instanceof UsageError && /--to/.test(error.message));
  });
});
