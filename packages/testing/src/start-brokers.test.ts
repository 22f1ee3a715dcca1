import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { BrokerUnavailableError, startBrokers } from './start-brokers.js';

describe('startBrokers', () => {
  it('uses BROKERKIT_<NAME>_URL as given and starts nothing', async () => {
    const brokers = await startBrokers(['redis', 'kafka'], { BROKERKIT_REDIS_URL: 'redis://10.1.2.3:6379/0', BROKERKIT_KAFKA_URL: 'kafka://h:9092' });
    assert.deepEqual(brokers.urls, { redis: 'redis://10.1.2.3:6379/0', kafka: 'kafka://h:9092' });
    assert.deepEqual(brokers.sources, { redis: 'env', kafka: 'env' });
    await brokers.stop();
  });

  it('rejects an unknown broker name', async () => {
    await assert.rejects(startBrokers(['nats' as never], {}), BrokerUnavailableError);
  });

  it('without a URL and without a Docker engine, fails naming both ways to provide the broker', async () => {
    // Point testcontainers at a socket that cannot exist, whatever this machine has.
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent/brokerkit/docker.sock';
    after(() => {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    });
    await assert.rejects(
      startBrokers(['redis'], {}),
      (error: unknown) => error instanceof BrokerUnavailableError && /BROKERKIT_REDIS_URL/.test(error.message) && /scripts\/brokers up redis/.test(error.message) && /Docker engine/.test(error.message),
    );
  });
});
