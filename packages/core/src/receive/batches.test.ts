import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ReceivedMessage } from '../contract/message.js';
import type { BatchHandler, HandlerContext } from '../contract/options.js';
import { BrokerkitError, ConfigError } from '../errors/index.js';
import { BatchCollector } from './batches.js';
import { messageSlots, resolveHandlerOptions } from './handler-options.js';

/** A message's attempt as the runner hands it over, with what its context was asked. */
function attempt(id: string, signal = new AbortController().signal): { message: ReceivedMessage; context: HandlerContext; asked: string[] } {
  const asked: string[] = [];
  const message = { id, body: id, key: undefined, headers: {}, publishedAt: new Date(), attempt: 1, topic: 't', subscription: 's', cloudEvent: undefined, native: undefined } as ReceivedMessage;
  const context: HandlerContext = {
    signal,
    retry: (delayMs?: number) => void asked.push(`retry ${delayMs ?? 'backoff'}`),
    deadLetter: (reason?: string) => void asked.push(`dead-letter ${reason}`),
  };
  return { message, context, asked };
}

const direct = (_messages: readonly ReceivedMessage[], call: () => Promise<void> | void): Promise<void> => Promise.resolve().then(call);
const settle = (promise: Promise<void>): Promise<string> => promise.then(() => 'done', (error: unknown) => `failed: ${(error as Error).message}`);

describe('BatchCollector', () => {
  it('runs a batch once it holds maxMessages, and a smaller one maxWaitMs after its first message', async () => {
    const sizes: number[] = [];
    const collector = new BatchCollector((messages) => void sizes.push(messages.length), { maxMessages: 3, maxWaitMs: 50 }, 1, direct);
    const started = Date.now();
    const outcomes = Array.from({ length: 5 }, (_, i) => attempt(`m${i}`)).map(({ message, context }) => settle(collector.handle(message, context)));
    assert.deepEqual(await Promise.all(outcomes), ['done', 'done', 'done', 'done', 'done']);
    assert.deepEqual(sizes, [3, 2]);
    assert.ok(Date.now() - started >= 45, 'the partial batch waited for maxWaitMs');
  });

  it('resolving acks all but those given to control; throwing fails the rest and keeps what control set', async () => {
    const handler: BatchHandler = (messages, control) => {
      control.retry(messages[0] as ReceivedMessage, 250);
      control.deadLetter(messages[1] as ReceivedMessage, 'bad row');
      if ((messages[2] as ReceivedMessage).id === 'b2') throw new Error('bulk insert failed');
    };
    const collector = new BatchCollector(handler, { maxMessages: 3, maxWaitMs: 1_000 }, 1, direct);
    for (const prefix of ['a', 'b']) {
      const three = [0, 1, 2].map((i) => attempt(`${prefix}${i}`));
      const outcomes = await Promise.all(three.map(({ message, context }) => settle(collector.handle(message, context))));
      assert.deepEqual(three.map(({ asked }) => asked), [['retry 250'], ['dead-letter bad row'], []]);
      assert.deepEqual(outcomes, prefix === 'a' ? ['done', 'done', 'done'] : ['done', 'done', 'failed: bulk insert failed']);
    }
  });

  it('control refuses a message that is not of the batch, with a typed error', async () => {
    let refused: unknown;
    const stranger = attempt('stranger').message;
    const collector = new BatchCollector(
      (_messages, control) => {
        try {
          control.retry(stranger);
        } catch (error) {
          refused = error;
        }
      },
      { maxMessages: 1, maxWaitMs: 0 },
      1,
      direct,
    );
    const { message, context } = attempt('m');
    await collector.handle(message, context);
    assert.ok(refused instanceof BrokerkitError && refused.code === 'CONFIG' && /control\.retry/.test(refused.message));
  });

  it('runs at most `concurrency` batches at once; full ones wait their turn', async () => {
    let running = 0;
    let most = 0;
    const collector = new BatchCollector(
      async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running -= 1;
      },
      { maxMessages: 2, maxWaitMs: 0 },
      2,
      direct,
    );
    await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(`m${i}`)).map(({ message, context }) => collector.handle(message, context)));
    assert.equal(most, 2);
  });

  it('does not run a batch whose consumer stopped while it waited', async () => {
    const stop = new AbortController();
    let ran = false;
    const collector = new BatchCollector(() => void (ran = true), { maxMessages: 10, maxWaitMs: 20 }, 1, direct);
    const { message, context } = attempt('m', stop.signal);
    const outcome = settle(collector.handle(message, context));
    stop.abort();
    assert.match(await outcome, /failed: .*stopped before the batch ran/);
    assert.equal(ran, false);
  });
});

describe('options.batch', () => {
  it('is checked field by field, and its slots are concurrency × maxMessages', () => {
    const resolved = resolveHandlerOptions('s', { concurrency: 2, batch: { maxMessages: 50 } });
    assert.deepEqual(resolved.batch, { maxMessages: 50, maxWaitMs: 100 });
    assert.equal(messageSlots(resolved), 100);
    for (const [batch, field] of [
      [{ maxMessages: 0 }, 'options.batch.maxMessages'],
      [{ maxMessages: 1.5 }, 'options.batch.maxMessages'],
      [{ maxMessages: 10, maxWaitMs: -1 }, 'options.batch.maxWaitMs'],
      [{ maxMessages: 10, wait: 5 }, 'options.batch.wait'],
      [{}, 'options.batch.maxMessages'],
    ] as const) {
      assert.throws(() => resolveHandlerOptions('s', { batch: batch as never }), (error: unknown) => error instanceof ConfigError && error.field === field, JSON.stringify(batch));
    }
    assert.throws(() => resolveHandlerOptions('s', { concurrency: 100, batch: { maxMessages: 10_000 } }), (error: unknown) => error instanceof ConfigError && error.field === 'options.batch.maxMessages');
  });
});
