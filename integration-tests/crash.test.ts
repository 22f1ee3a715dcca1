import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { connect, type ReceivedMessage } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import { startBrokers } from '@brokerkit/testing';
import { startHangingConsumer } from './fixtures/consumer-process.js';
import { BACKENDS_UNDER_TEST } from './fixtures/register.js';

const ACK_TIMEOUT_MS = 1_500;

describe('a consumer process killed mid-handler (SIGKILL)', () => {
  for (const backend of BACKENDS_UNDER_TEST) {
    it(`${backend}: the message goes to another instance with attempt 2, nothing lost`, async () => {
      const brokers = await startBrokers([backend]);
      after(() => brokers.stop());
      const url = brokers.urls[backend] as string;
      const queue = `bk-crash-${randomBytes(4).toString('hex')}`;
      const broker = await connect(url);
      after(() => broker.close());
      await broker.ensureQueue(queue);

      const child = await startHangingConsumer(url, queue, ACK_TIMEOUT_MS);
      after(() => child.kill());
      const seenByChild = child.seen;

      const { id } = await broker.producer().send(queue, { body: { job: 'survive SIGKILL' } });
      assert.ok(await waitUntil(() => seenByChild.length > 0, 15_000), 'the consumer process received the message');
      assert.deepEqual(seenByChild[0], { id, attempt: 1 });
      child.kill();

      const received: ReceivedMessage[] = [];
      await broker.consumer(queue, (message) => {
        received.push(message);
      }, { ackTimeoutMs: ACK_TIMEOUT_MS });
      assert.ok(await waitUntil(() => received.length > 0, ACK_TIMEOUT_MS + 20_000), 'another instance received it');
      assert.equal(received[0]?.id, id);
      assert.equal(received[0]?.attempt, 2);
    });
  }
});
