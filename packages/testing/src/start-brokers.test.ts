import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLUSTER_NAMES, CLUSTERS } from './clusters.js';
import { BrokerUnavailableError, envVarFor, findComposeFile, startBrokers } from './start-brokers.js';

describe('startBrokers', () => {
  it('uses BROKERKIT_<NAME>_URL as given and starts nothing', async () => {
    const brokers = await startBrokers(['redis', 'kafka'], { BROKERKIT_REDIS_URL: 'redis://10.1.2.3:6379/0', BROKERKIT_KAFKA_URL: 'kafka://h:9092' });
    assert.deepEqual(brokers.urls, { redis: 'redis://10.1.2.3:6379/0', kafka: 'kafka://h:9092' });
    assert.deepEqual(brokers.sources, { redis: 'env', kafka: 'env' });
    await brokers.stop();
  });

  it('knows the clusters by the names and variables scripts/brokers uses', async () => {
    assert.equal(envVarFor('kafka-cluster'), 'BROKERKIT_KAFKA_CLUSTER_URL');
    const url = 'amqp://guest:guest@10.0.0.1:5672,10.0.0.2:5672';
    const brokers = await startBrokers(['rabbitmq-cluster', 'redis'], { BROKERKIT_RABBITMQ_CLUSTER_URL: url, BROKERKIT_REDIS_URL: 'redis://h:6379/0' });
    assert.deepEqual(brokers.urls, { 'rabbitmq-cluster': url, redis: 'redis://h:6379/0' });
    assert.deepEqual(brokers.sources, { 'rabbitmq-cluster': 'env', redis: 'env' });
    await brokers.stop();
  });

  it("finds the repository's docker-compose.yml, whose cluster profile has every service a cluster names", () => {
    const file = findComposeFile(fileURLToPath(new URL('.', import.meta.url)));
    assert.ok(file, 'no docker-compose.yml above packages/testing');
    const compose = readFileSync(file, 'utf8');
    for (const name of CLUSTER_NAMES) {
      for (const service of CLUSTERS[name].services) assert.match(compose, new RegExp(`^  ${service}:`, 'm'), `${name}: service ${service} missing`);
    }
    assert.equal(findComposeFile('/'), undefined);
  });

  it('rejects an unknown broker name', async () => {
    await assert.rejects(startBrokers(['activemq' as never], {}), BrokerUnavailableError);
  });

  it('without a URL and without a Docker engine, fails naming both ways to provide the broker (or cluster)', async () => {
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
    await assert.rejects(
      startBrokers(['kafka-cluster'], {}),
      (error: unknown) => error instanceof BrokerUnavailableError && /BROKERKIT_KAFKA_CLUSTER_URL/.test(error.message) && /scripts\/brokers up kafka-cluster/.test(error.message),
    );
  });
});
