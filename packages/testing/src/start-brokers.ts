import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CLUSTER_NAMES, CLUSTERS, type ClusterName } from './clusters.js';
import { BROKER_NAMES, CONTAINERS, type BrokerName } from './images.js';

/** A single-node broker or a three-node cluster, by the names scripts/brokers uses. */
export type ProvidedName = BrokerName | ClusterName;

/** Running brokers for a test: their URLs, and how to stop what was started for it. */
export interface StartedBrokers {
  urls: Partial<Record<ProvidedName, string>>;
  /** Where each URL came from: the environment, a container, or docker-compose's `cluster` profile. */
  sources: Partial<Record<ProvidedName, 'env' | 'container' | 'compose'>>;
  /** Stop the containers this call started; brokers given by URL are left alone. */
  stop(): Promise<void>;
}

/** Thrown when a broker can be had neither from the environment nor from Docker. */
export class BrokerUnavailableError extends Error {
  override readonly name = 'BrokerUnavailableError';
}

/** `BROKERKIT_KAFKA_URL`, `BROKERKIT_KAFKA_CLUSTER_URL`: what `scripts/brokers env` exports. */
export const envVarFor = (name: ProvidedName): string => `BROKERKIT_${name.toUpperCase().replaceAll('-', '_')}_URL`;

export interface StartBrokersOptions {
  /**
   * The docker-compose.yml whose `cluster` profile starts the clusters when no URL is set;
   * by default the nearest one from the working directory up.
   */
  composeFile?: string;
}

const KNOWN: readonly string[] = [...BROKER_NAMES, ...CLUSTER_NAMES];
const isCluster = (name: ProvidedName): name is ClusterName => (CLUSTER_NAMES as readonly string[]).includes(name);

/**
 * Brokers for integration tests. For each name: `BROKERKIT_<NAME>_URL` when set; else, where a
 * Docker engine answers, a container started with testcontainers (a cluster: the services of
 * docker-compose.yml's `cluster` profile); else a BrokerUnavailableError naming both ways to
 * provide it. Never a silent skip.
 */
export async function startBrokers(names: readonly ProvidedName[], env: NodeJS.ProcessEnv = process.env, options: StartBrokersOptions = {}): Promise<StartedBrokers> {
  for (const name of names) {
    if (!KNOWN.includes(name)) throw new BrokerUnavailableError(`unknown broker "${name}" (known: ${KNOWN.join(', ')})`);
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
      const started = isCluster(name) ? await startCluster(testcontainers, name, options.composeFile) : await startContainer(testcontainers, name);
      urls[name] = started.url;
      sources[name] = isCluster(name) ? 'compose' : 'container';
      stops.push(started.stop);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls, sources, stop };
}

type Testcontainers = typeof import('testcontainers');

async function loadDocker(names: ProvidedName[]): Promise<Testcontainers> {
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

/** The nearest docker-compose.yml from `from` up, or undefined. */
export function findComposeFile(from: string = process.cwd()): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const file = join(dir, 'docker-compose.yml');
    if (existsSync(file)) return file;
    if (dirname(dir) === dir) return undefined;
  }
}

async function startCluster(testcontainers: Testcontainers, name: ClusterName, composeFile = findComposeFile()): Promise<{ url: string; stop: () => Promise<void> }> {
  if (!composeFile || !existsSync(composeFile)) {
    throw new BrokerUnavailableError(
      `no ${envVarFor(name)} and no docker-compose.yml (${composeFile ?? 'none found from ' + process.cwd()}) to start ${name} from: ` +
        `pass { composeFile } with brokerkit's docker-compose.yml, or start it natively — eval "$(./scripts/brokers up ${name})"`,
    );
  }
  const spec = CLUSTERS[name];
  // Every node has a health check; the service that joins the Redis nodes runs once and exits.
  let environment = new testcontainers.DockerComposeEnvironment(dirname(composeFile), composeFile.slice(dirname(composeFile).length + 1))
    .withProfiles('cluster')
    .withDefaultWaitStrategy(testcontainers.Wait.forHealthCheck())
    .withStartupTimeout(300_000);
  if (spec.oneShot) environment = environment.withWaitStrategy(`${spec.oneShot}-1`, testcontainers.Wait.forOneShotStartup());
  const started = await environment.up(spec.services);
  return {
    url: spec.url,
    stop: async () => {
      await started.down();
    },
  };
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
