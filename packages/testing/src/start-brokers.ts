import { BROKER_NAMES, CONTAINERS, type BrokerName } from './images.js';

/** Running brokers for a test: their URLs, and how to stop what was started for it. */
export interface StartedBrokers {
  urls: Partial<Record<BrokerName, string>>;
  /** Where each URL came from. */
  sources: Partial<Record<BrokerName, 'env' | 'container'>>;
  /** Stop the containers this call started; brokers given by URL are left alone. */
  stop(): Promise<void>;
}

/** Thrown when a broker can be had neither from the environment nor from Docker. */
export class BrokerUnavailableError extends Error {
  override readonly name = 'BrokerUnavailableError';
}

export const envVarFor = (name: BrokerName): string => `BROKERKIT_${name.toUpperCase()}_URL`;

/**
 * Brokers for integration tests. For each name: `BROKERKIT_<NAME>_URL` when set; else, where a
 * Docker engine answers, a container started with testcontainers; else a BrokerUnavailableError
 * naming both ways to provide it. Never a silent skip.
 */
export async function startBrokers(names: readonly BrokerName[], env: NodeJS.ProcessEnv = process.env): Promise<StartedBrokers> {
  for (const name of names) {
    if (!BROKER_NAMES.includes(name)) throw new BrokerUnavailableError(`unknown broker "${name}" (known: ${BROKER_NAMES.join(', ')})`);
  }
  const urls: StartedBrokers['urls'] = {};
  const sources: StartedBrokers['sources'] = {};
  const needContainers = names.filter((name) => {
    const url = env[envVarFor(name)];
    if (url) {
      urls[name] = url;
      sources[name] = 'env';
    }
    return !url;
  });
  if (needContainers.length === 0) return { urls, sources, stop: async () => undefined };
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(stops.map((s) => s()));
  };
  try {
    const testcontainers = await loadDocker(needContainers);
    for (const name of needContainers) {
      const started = await startContainer(testcontainers, name);
      urls[name] = started.url;
      sources[name] = 'container';
      stops.push(started.stop);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls, sources, stop };
}

type Testcontainers = typeof import('testcontainers');

async function loadDocker(names: BrokerName[]): Promise<Testcontainers> {
  const testcontainers = await import('testcontainers');
  try {
    await testcontainers.getContainerRuntimeClient();
  } catch (cause) {
    const ways = names.map((name) => `  ${envVarFor(name)}`).join('\n');
    throw new BrokerUnavailableError(
      `no URL and no Docker engine for: ${names.join(', ')}.\n` +
        `Either start them natively and export their URLs — eval "$(./scripts/brokers up ${names.join(' ')})" sets\n${ways}\n` +
        `— or run a Docker engine, so testcontainers can start them.`,
      { cause },
    );
  }
  return testcontainers;
}

async function startContainer(testcontainers: Testcontainers, name: BrokerName): Promise<{ url: string; stop: () => Promise<void> }> {
  const spec = CONTAINERS[name];
  let container = new testcontainers.GenericContainer(spec.image).withWaitStrategy(testcontainers.Wait.forLogMessage(spec.readyLog)).withStartupTimeout(180_000);
  if (name === 'kafka') {
    // Kafka hands clients the advertised address, so the host port must be the one advertised.
    container = container
      .withExposedPorts({ container: 9092, host: 9092 })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
        KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://127.0.0.1:9092',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
        KAFKA_NUM_PARTITIONS: '3',
      });
  } else {
    container = container.withExposedPorts(spec.port);
  }
  if (spec.command) container = container.withCommand(spec.command);
  if (spec.environment) container = container.withEnvironment(spec.environment);
  const started = await container.start();
  const port = name === 'kafka' ? 9092 : started.getMappedPort(spec.port);
  return {
    url: spec.url(started.getHost() === 'localhost' ? '127.0.0.1' : started.getHost(), port),
    stop: async () => {
      await started.stop();
    },
  };
}
