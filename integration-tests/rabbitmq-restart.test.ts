import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { SendError, ConnectionError, connect } from '@brokerkit/core';
import { Tally, waitUntil } from '@brokerkit/conformance';
import { startBrokers } from '@brokerkit/testing';
import './fixtures/register.js';

const run = promisify(execFile);
const brokersScript = fileURLToPath(new URL('../scripts/brokers', import.meta.url));
const ours = existsSync(fileURLToPath(new URL('../.brokers/rabbitmq/pid', import.meta.url)));

describe('rabbitmq application restart during consumption', () => {
  it(
    'loses nothing that was confirmed; producer and consumer recover by themselves',
    { skip: ours ? false : 'RabbitMQ was not started by scripts/brokers in this checkout, so the test cannot restart it' },
    async () => {
      const brokers = await startBrokers(['rabbitmq']);
      const broker = await connect(brokers.urls.rabbitmq as string);
      after(async () => {
        await broker.close();
        await brokers.stop();
      });
      const queue = `bk-restart-${randomBytes(4).toString('hex')}`;
      const received = new Tally();
      const errors: Error[] = [];
      await broker.consumer(queue, (message) => {
        received.record(message.id);
      }, { concurrency: 4, onError: (error) => errors.push(error) });

      const producer = broker.producer();
      const confirmed: string[] = [];
      let failedSends = 0;
      let bounced: Promise<unknown> | undefined;
      let bounceEndedAt = 0;
      for (let i = 0; i < 300; i += 1) {
        if (i === 60) bounced = run(brokersScript, ['bounce', 'rabbitmq']).then(() => (bounceEndedAt = Date.now()));
        // Paced, so the restart falls in the middle of the stream.
        await new Promise((resolve) => setTimeout(resolve, 25));
        const id = `${queue}-${i}`;
        // A send during the outage fails with a typed, retriable error; the test retries it as an application would.
        for (let tries = 0; ; tries += 1) {
          try {
            await producer.send(queue, { id, body: { i } });
            confirmed.push(id);
            break;
          } catch (error) {
            assert.ok(error instanceof SendError || error instanceof ConnectionError, `typed error, got ${String(error)}`);
            failedSends += 1;
            assert.ok(tries < 200, 'the producer never recovered');
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      }
      const lastSendAt = Date.now();
      await bounced;
      assert.ok(bounceEndedAt > 0 && bounceEndedAt < lastSendAt, 'the restart happened while messages were still being sent');
      assert.ok(await waitUntil(() => received.hasAll(confirmed), 60_000), `missing after restart: ${received.missingFrom(confirmed).length} of ${confirmed.length}`);
      assert.equal(confirmed.length, 300);
      console.log(`restart: ${confirmed.length} confirmed, ${received.distinct} received, ${received.duplicates} duplicates, ${failedSends} sends retried, ${errors.length} consumer errors reported`);
    },
  );
});
