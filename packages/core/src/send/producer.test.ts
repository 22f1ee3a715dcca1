import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Driver, EncodedMessage } from '../contract/driver.js';
import type { SendReceipt } from '../contract/message.js';
import { ClosedError, SendError } from '../errors/index.js';
import { jsonCodec } from '../message/codec.js';
import { recordingDriver } from '../testing/recording-driver.js';
import { Producer } from './producer.js';

/** A driver whose `send` is the test's; batches of at most two messages. */
const driverWith = (send: (topic: string, batch: EncodedMessage[]) => Promise<SendReceipt[]>): Driver => recordingDriver(send).driver;

describe('Producer: what a failed driver send becomes', () => {
  it('a single send the driver rejects is a retriable SendError naming the topic, with the cause', async () => {
    const cause = new Error('socket hang up');
    const producer = new Producer(driverWith(() => Promise.reject(cause)), jsonCodec);
    await assert.rejects(producer.send('orders', { body: 1 }), (error: unknown) => {
      assert.ok(error instanceof SendError);
      assert.equal(error.retriable, true);
      assert.equal(error.cause, cause);
      assert.match(error.message, /sending to orders failed after 0 of 1 messages were accepted: .*socket hang up/);
      return true;
    });
  });

  it('a driver that throws before returning a promise rejects the send, not the caller', async () => {
    const producer = new Producer(
      driverWith(() => {
        throw new Error('not connected');
      }),
      jsonCodec,
    );
    const sent = producer.send('orders', { body: 1 });
    await assert.rejects(sent, (error: unknown) => error instanceof SendError && /not connected/.test(error.message));
  });

  it("passes brokerkit's own errors through as they are", async () => {
    const refused = new SendError('message too old for the broker', { retriable: false });
    const producer = new Producer(driverWith(() => Promise.reject(refused)), jsonCodec);
    await assert.rejects(producer.send('orders', { body: 1 }), (error: unknown) => error === refused);
  });

  it('a batch over several driver calls says how many were accepted before the failure', async () => {
    let calls = 0;
    const producer = new Producer(
      driverWith(async (_topic, batch) => {
        calls += 1;
        if (calls === 2) throw new Error('leader moved');
        return batch.map((message) => ({ id: message.id }));
      }),
      jsonCodec,
    );
    await assert.rejects(producer.sendBatch('orders', [{ body: 1 }, { body: 2 }, { body: 3 }]), /failed after 2 of 3 messages were accepted: .*leader moved/);
    assert.equal(calls, 2);
  });

  it('an empty batch sends nothing and resolves with no receipts', async () => {
    let calls = 0;
    const producer = new Producer(
      driverWith(async () => {
        calls += 1;
        return [];
      }),
      jsonCodec,
    );
    assert.deepEqual(await producer.sendBatch('orders', []), []);
    assert.equal(calls, 0);
  });

  it('close() waits for a send under way, then refuses new ones', async () => {
    let accept: () => void = () => undefined;
    const producer = new Producer(
      driverWith((_topic, batch) => new Promise((resolve) => (accept = () => resolve(batch.map((message) => ({ id: message.id })))))),
      jsonCodec,
    );
    const sent = producer.send('orders', { body: 1 });
    let closed = false;
    const closing = producer.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed, false, 'close() returned while a send was under way');
    accept();
    const receipt = await sent;
    await closing;
    assert.match(receipt.id, /^[0-9a-f-]{36}$/);
    await assert.rejects(producer.send('orders', { body: 2 }), ClosedError);
  });

  it('every close() waiting at once returns once the sends under way have settled, failed ones too', async () => {
    const settle: ((ok: boolean) => void)[] = [];
    const producer = new Producer(
      driverWith(
        (_topic, batch) =>
          new Promise((resolve, reject) => settle.push((ok) => (ok ? resolve(batch.map((message) => ({ id: message.id }))) : reject(new Error('refused'))))),
      ),
      jsonCodec,
    );
    const first = producer.send('orders', { body: 1 });
    const second = producer.sendBatch('orders', [{ body: 2 }, { body: 3 }]);
    let closed = 0;
    const closing = [producer.close(), producer.close()].map((close) => close.then(() => (closed += 1)));
    await new Promise((resolve) => setImmediate(resolve));
    settle[0]?.(false);
    await assert.rejects(first, SendError);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed, 0, 'one send is still under way');
    settle[1]?.(true);
    assert.equal((await second).length, 2);
    await Promise.all(closing);
    assert.equal(closed, 2);
  });
});
