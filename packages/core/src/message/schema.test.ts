import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import * as v from 'valibot';
import { z } from 'zod';
import type { EncodedMessage } from '../contract/driver.js';
import type { Handler } from '../contract/options.js';
import { ConfigError, ValidationError } from '../errors/index.js';
import type { Broker } from '../front/broker.js';
import { jsonCodec } from './codec.js';
import { recordingDriver } from '../testing/recording-driver.js';
import { Producer } from '../send/producer.js';
import { defineTopic, validateBody } from './schema.js';

/** Records what would have left the process. */
function recordingProducer(): { producer: Producer; sent: EncodedMessage[] } {
  const { driver, sent } = recordingDriver();
  return { producer: new Producer(driver, jsonCodec), sent };
}

const Order = z.object({ orderId: z.number().int(), placedAt: z.iso.datetime().transform((s) => new Date(s)) });
const orders = defineTopic('orders', { schema: Order });

describe('typed topics (Standard Schema)', () => {
  it('rejects an invalid body at send with every issue named, and sends nothing of the batch', async () => {
    const { producer, sent } = recordingProducer();
    const bad = { orderId: 1.5, placedAt: 'yesterday' } as unknown as z.input<typeof Order>;
    const error = await producer.sendBatch(orders, [{ body: { orderId: 1, placedAt: '2026-11-24T10:00:00Z' } }, { body: bad }]).catch((e: unknown) => e);
    assert.ok(error instanceof ValidationError, String(error));
    assert.equal(error.code, 'VALIDATION');
    assert.deepEqual(error.issues.map((i) => i.path).sort(), ['orderId', 'placedAt']);
    assert.match(error.message, /the body of message 1 does not match the schema of orders/);
    assert.equal(sent.length, 0, 'a bad message in a batch sends nothing');
  });

  it('sends the body as given (the schema input) once it is valid', async () => {
    const { producer, sent } = recordingProducer();
    await producer.send(orders, { body: { orderId: 7, placedAt: '2026-11-24T10:00:00Z' } });
    assert.equal(sent.length, 1);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(sent[0]?.body)), { orderId: 7, placedAt: '2026-11-24T10:00:00Z' });
  });

  it('hands the schema output on receive (transforms applied); works with valibot and async schemas', async () => {
    const out = (await validateBody(Order, { orderId: 1, placedAt: '2026-11-24T10:00:00Z' }, 'orders', 'body')) as z.output<typeof Order>;
    assert.ok(out.placedAt instanceof Date);
    const Payment = v.pipeAsync(v.object({ cents: v.pipe(v.number(), v.minValue(1)) }), v.checkAsync(async (p) => p.cents < 1_000_000, 'too large'));
    await assert.rejects(validateBody(Payment, { cents: 5_000_000 }, 'payments', 'body'), /too large/);
    assert.deepEqual(await validateBody(Payment, { cents: 5 }, 'payments', 'body'), { cents: 5 });
  });

  it('refuses a definition without a Standard Schema', () => {
    assert.throws(() => defineTopic('orders', { schema: { parse: () => 1 } as never }), ConfigError);
    assert.throws(() => defineTopic('', { schema: Order }), ConfigError);
  });

  it('infers handler and send types from the schema (checked by tsc)', () => {
    // Compiled by `pnpm typecheck`, never called: the types are the test.
    const typeOnly = async (broker: Broker): Promise<void> => {
      const handler: Handler<z.output<typeof Order>> = (message) => {
        const when: Date = message.body.placedAt;
        const id: number = message.body.orderId;
        void when;
        void id;
      };
      await broker.subscriber(orders, 'billing', handler);
      await broker.consumer(orders, (message) => {
        const when: Date = message.body.placedAt;
        // @ts-expect-error orderId is a number, not a string
        const id: string = message.body.orderId;
        void when;
        void id;
      });
      const producer = broker.producer();
      // @ts-expect-error the schema input has placedAt as a string
      await producer.send(orders, { body: { orderId: 1, placedAt: new Date() } });
      // @ts-expect-error orderId is required
      await producer.send(orders, { body: { placedAt: '2026-11-24T10:00:00Z' } });
      await producer.send('untyped', { body: { anything: true } });
    };
    assert.equal(typeof typeOnly, 'function');
  });
});
