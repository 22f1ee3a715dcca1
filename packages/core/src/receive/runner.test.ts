import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Delivery, Driver, DriverSubscription, EncodedMessage, SubscriptionSpec } from '../contract/driver.js';
import type { Handler, SubscriberOptions } from '../contract/options.js';
import { jsonCodec } from '../message/codec.js';
import { resolveHandlerOptions } from './handler-options.js';
import { SubscriptionRunner } from './runner.js';

/**
 * A driver scripted by the test: deliveries are pushed by hand, every settle is logged.
 * It tests the portable layer's decisions, not a broker.
 */
class ScriptedDriver implements Driver {
  readonly backend = 'scripted';
  readonly capabilities: Driver['capabilities'] = {
    ordering: 'per-key-per-instance', deadLetter: 'emulated', delayedRetry: 'native', attemptCount: 'exact', redeliveryOnCrash: true,
    exactlyOnce: false, replay: false, maxMessageBytes: 1_000, ephemeralSubscriptions: 'none',
    delayedSend: 'none', maxDelayMs: 0, backlog: 'none', deadLetterReplay: 'emulated', notes: [],
  };
  readonly limits = { maxMessageBytes: 1_000, maxBatchMessages: 10, maxBatchBytes: 10_000 };
  readonly traits = { retryKeepsKeyOrder: false, idsFromBroker: false };
  readonly log: string[] = [];
  readonly requestedMax: number[] = [];
  /** While set, acks are logged when asked for but resolve only once it resolves (a slow broker). */
  private ackGate: Promise<void> | undefined;
  private queue: Delivery[] = [];
  private wake: (() => void) | undefined;

  /** Hold back the broker's answer to every ack from now on; the returned function lets them all through. */
  holdAcks(): () => void {
    let release: () => void = () => undefined;
    this.ackGate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.ackGate = undefined;
      release();
    };
  }

  push(id: string, options: { body?: unknown; key?: string; attempt?: number; raw?: Uint8Array } = {}): void {
    const { bytes, contentType } = jsonCodec.encode(options.body ?? { id });
    const message: EncodedMessage = { id, key: options.key, headers: { 'bk-content-type': contentType }, body: options.raw ?? bytes };
    const log = this.log;
    const gate = (): Promise<void> | undefined => this.ackGate;
    this.queue.push({
      message,
      publishedAt: new Date(),
      attempt: options.attempt ?? 1,
      native: undefined,
      async ack() {
        log.push(`ack ${id}`);
        await gate();
      },
      async nack(delayMs: number) {
        log.push(`nack ${id} ${delayMs}`);
      },
    });
    this.wake?.();
  }

  async ensureQueue(): Promise<void> {}
  async ensureSubscription(): Promise<void> {}
  async send(topic: string, messages: EncodedMessage[]) {
    for (const m of messages) this.log.push(`send ${topic} ${m.id} ${m.headers['bk-dead-letter-reason']} attempts=${m.headers['bk-attempts']}`);
    return messages.map((m) => ({ id: m.id }));
  }
  async subscribe(): Promise<DriverSubscription> {
    return {
      receive: async (max: number, signal: AbortSignal) => {
        this.requestedMax.push(max);
        if (this.queue.length === 0) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            signal.addEventListener('abort', () => resolve(), { once: true });
            setTimeout(resolve, 50);
          });
        }
        return this.queue.splice(0, max);
      },
      close: async () => {
        this.log.push('detach');
      },
    };
  }
  async ping() {
    return {};
  }
  async close(): Promise<void> {}
  async destroy(): Promise<void> {}
  native(): unknown {
    return undefined;
  }
}

const spec: SubscriptionSpec = { topic: 't', subscription: 's', durable: true, ordering: 'none', ackTimeoutMs: 30_000, maxInFlight: 1, maxAttempts: 3, deadLetterQueue: 's.dlq' };

async function start(handler: Handler, options: SubscriberOptions = {}) {
  const driver = new ScriptedDriver();
  const errors: Error[] = [];
  const resolved = resolveHandlerOptions('s', { retry: { maxAttempts: 3, backoff: { initialMs: 100, multiplier: 2, jitter: 0 } }, onError: (e) => errors.push(e), ...options });
  const runner = new SubscriptionRunner(driver, { ...spec, ordering: resolved.ordering }, resolved, jsonCodec, handler);
  await runner.start();
  return { driver, runner, errors };
}

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A handler that takes `ms` and records the most of its calls ever at work at once. */
function overlapProbe(ms: number): { handler: () => Promise<void>; maxActive: () => number } {
  let active = 0;
  let most = 0;
  return {
    handler: async () => {
      active += 1;
      most = Math.max(most, active);
      await new Promise((resolve) => setTimeout(resolve, ms));
      active -= 1;
    },
    maxActive: () => most,
  };
}

describe('SubscriptionRunner', () => {
  it('acks only after the handler finished', async () => {
    let finish: () => void = () => undefined;
    const { driver, runner } = await start(async () => new Promise<void>((resolve) => (finish = resolve)));
    driver.push('m1');
    await until(() => runner.stats.received === 1);
    assert.deepEqual(driver.log, []);
    finish();
    await until(() => driver.log.includes('ack m1'));
    await runner.close();
  });

  it('nacks a failure with the backoff for its attempt, and dead-letters (send, then ack) at maxAttempts', async () => {
    const { driver, runner } = await start(async () => {
      throw new Error('nope');
    });
    driver.push('a', { attempt: 1 });
    driver.push('b', { attempt: 2 });
    driver.push('c', { attempt: 3 });
    await until(() => driver.log.length >= 4);
    await runner.close();
    assert.deepEqual(driver.log.filter((l) => l !== 'detach').sort(), ['ack c', 'nack a 100', 'nack b 200', 'send s.dlq c max-attempts attempts=3'].sort());
    assert.ok(driver.log.indexOf('send s.dlq c max-attempts attempts=3') < driver.log.indexOf('ack c'), 'DLQ write must precede the ack');
  });

  it('a handler that throws a non-error (even undefined) failed: retried, not acked', async () => {
    const { driver, runner } = await start(async (message) => {
      throw message.id === 'u' ? undefined : 'a string';
    });
    driver.push('u');
    driver.push('s');
    await until(() => driver.log.length >= 2);
    await runner.close();
    assert.deepEqual(driver.log.filter((l) => l !== 'detach').sort(), ['nack s 100', 'nack u 100']);
  });

  it('honours an explicit retry delay and an explicit dead-letter', async () => {
    const { driver, runner } = await start(async (message, context) => {
      if (message.id === 'r') context.retry(1234);
      else context.deadLetter('poison');
    });
    driver.push('r');
    driver.push('p');
    await until(() => driver.log.length >= 3);
    await runner.close();
    assert.ok(driver.log.includes('nack r 1234'));
    assert.ok(driver.log.includes('send s.dlq p explicit attempts=1'));
  });

  it('dead-letters a body the codec cannot decode without calling the handler', async () => {
    let calls = 0;
    const { driver, runner } = await start(async () => {
      calls += 1;
    });
    driver.push('bad', { raw: new TextEncoder().encode('{not json') });
    await until(() => driver.log.includes('ack bad'));
    await runner.close();
    assert.equal(calls, 0);
    assert.ok(driver.log.includes('send s.dlq bad decode-error attempts=1'));
  });

  it('discards and reports, never loops, when dead-lettering is off', async () => {
    const { driver, runner, errors } = await start(async () => {
      throw new Error('always');
    }, { deadLetter: false });
    driver.push('x', { attempt: 3 });
    await until(() => driver.log.includes('ack x'));
    await runner.close();
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? '', /discarded after 3 attempts.*always/);
  });

  it('dead-letters a crash-looping message (delivered past maxAttempts, never settled) without calling the handler', async () => {
    let calls = 0;
    const { driver, runner } = await start(async () => {
      calls += 1;
    });
    driver.push('looping', { attempt: 4 });
    await until(() => driver.log.includes('ack looping'));
    await runner.close();
    assert.equal(calls, 0);
    assert.ok(driver.log.includes('send s.dlq looping max-attempts attempts=3'));
  });

  it('never runs more handlers than concurrency and asks the driver only for free slots', async () => {
    const probe = overlapProbe(10);
    const { driver, runner } = await start(probe.handler, { concurrency: 3 });
    for (let i = 0; i < 20; i += 1) driver.push(`m${i}`);
    await until(() => runner.stats.acked === 20);
    await runner.close();
    assert.equal(probe.maxActive(), 3);
    assert.ok(driver.requestedMax.every((max) => max >= 1 && max <= 3));
  });

  it('receives again while acks are on their way, holding at most 2 × concurrency unsettled', async () => {
    const probe = overlapProbe(1);
    const { driver, runner } = await start(probe.handler, { concurrency: 3 });
    const releaseAcks = driver.holdAcks();
    for (let i = 0; i < 20; i += 1) driver.push(`m${i}`);
    // Three handled and their acks asked for, then three more received and handled meanwhile.
    await until(() => driver.log.length === 6);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(runner.stats.received, 6, 'no more than 2 × concurrency held while acks are pending');
    assert.equal(runner.stats.held, 6);
    assert.equal(runner.stats.acked, 0, 'an ack counts once the broker confirmed it');
    releaseAcks();
    await until(() => runner.stats.acked === 20);
    await runner.close();
    assert.equal(probe.maxActive(), 3, 'never more handlers at work than concurrency');
  });

  it('close() waits for acks on their way as well as handlers', async () => {
    const { driver, runner } = await start(async () => undefined);
    const releaseAcks = driver.holdAcks();
    driver.push('pending-ack');
    await until(() => driver.log.includes('ack pending-ack'));
    const closed = runner.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(!driver.log.includes('detach'), 'not detached while an ack is on its way');
    releaseAcks();
    await closed;
    assert.deepEqual(driver.log, ['ack pending-ack', 'detach']);
  });

  it('close() waits for in-flight handlers and acks them', async () => {
    const { driver, runner } = await start(async () => new Promise((resolve) => setTimeout(resolve, 100)));
    driver.push('slow');
    await until(() => runner.stats.received === 1);
    await runner.close();
    assert.deepEqual(driver.log, ['ack slow', 'detach']);
  });

  it('after closeTimeoutMs, releases unfinished messages at once and ignores their late outcome', async () => {
    let release: () => void = () => undefined;
    let sawAbort = false;
    const { driver, runner } = await start(async (_m, context) => {
      context.signal.addEventListener('abort', () => (sawAbort = true));
      await new Promise<void>((resolve) => (release = resolve));
    }, { closeTimeoutMs: 50 });
    driver.push('stuck');
    await until(() => runner.stats.received === 1);
    await runner.close();
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(driver.log, ['nack stuck 0', 'detach']);
    assert.ok(sawAbort, 'the handler is told to stop');
  });

  it('a crash settles nothing', async () => {
    let release: () => void = () => undefined;
    const { driver, runner } = await start(async () => new Promise<void>((resolve) => (release = resolve)));
    driver.push('in-flight');
    await until(() => runner.stats.received === 1);
    runner.crash();
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(driver.log, []);
  });

  it("with ordering 'key' on a broker that would let a key overtake, retries in place holding the key", async () => {
    const calls: string[] = [];
    const { driver, runner } = await start(async (message) => {
      calls.push(`${message.id}#${message.attempt}`);
      if (message.id === 'k1' && message.attempt < 3) throw new Error('not yet');
    }, { ordering: 'key', concurrency: 4, retry: { maxAttempts: 5, backoff: { initialMs: 10, multiplier: 1, jitter: 0 } } });
    driver.push('k1', { key: 'same' });
    driver.push('k2', { key: 'same' });
    await until(() => runner.stats.acked === 2);
    await runner.close();
    assert.deepEqual(calls, ['k1#1', 'k1#2', 'k1#3', 'k2#1']);
    assert.ok(!driver.log.some((l) => l.startsWith('nack')), 'no nack: the retry happened in place');
  });

  it("on a broker that keeps key order itself, still retries in place while later messages of the key are held here", async () => {
    const calls: string[] = [];
    const { driver, runner } = await start(async (message) => {
      calls.push(`${message.id}#${message.attempt}`);
      if (message.id === 'g1' && message.attempt < 2) throw new Error('not yet');
    }, { ordering: 'key', concurrency: 4, retry: { maxAttempts: 5, backoff: { initialMs: 10, multiplier: 1, jitter: 0 } } });
    (driver as { traits: Driver['traits'] }).traits = { retryKeepsKeyOrder: true, idsFromBroker: false };
    // Delivered together, as an SQS FIFO receive hands out several messages of one group.
    driver.push('g1', { key: 'group' });
    driver.push('g2', { key: 'group' });
    await until(() => runner.stats.acked === 2);
    // A lone message of a key is handed back to the broker, which holds the key itself.
    driver.push('g3', { key: 'other' });
    driver.push('g1', { key: 'lone', attempt: 1 });
    await until(() => driver.log.some((l) => l.startsWith('nack g1')));
    await runner.close();
    assert.deepEqual(calls.slice(0, 3), ['g1#1', 'g1#2', 'g2#1']);
    assert.deepEqual(driver.log.filter((l) => l.startsWith('nack')), ['nack g1 10']);
  });

  it('200 retries waiting in place at once add no listener each: Node prints no warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const { driver, runner } = await start(async (message) => {
        if (message.attempt === 1) throw new Error('first attempt fails');
      }, { ordering: 'key', concurrency: 200, retry: { maxAttempts: 3, backoff: { initialMs: 60_000, multiplier: 1, jitter: 0 } } });
      for (let index = 0; index < 200; index += 1) driver.push(`w${index}`, { key: `key-${index}` });
      await until(() => runner.stats.retried === 200);
      // Let Node's warning (emitted on the next tick) surface before looking.
      await new Promise((resolve) => setImmediate(resolve));
      const closing = runner.close();
      await closing;
      // The close cut every wait short and handed each message back at once.
      assert.equal(driver.log.filter((l) => l.endsWith(' 0')).length, 200);
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.map((w) => `${w.name}: ${w.message}`), []);
  });
});
