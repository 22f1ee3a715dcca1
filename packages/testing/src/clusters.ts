/**
 * The four clusters of scripts/brokers and docker-compose.yml's `cluster` profile: the compose
 * services that make each, and the one URL our adapters take for it. The ports are fixed (Kafka
 * and Redis hand clients the addresses their peers use), so native and compose clusters answer
 * at the same URL.
 */
export const CLUSTER_NAMES = ['redis-cluster', 'kafka-cluster', 'rabbitmq-cluster', 'nats-cluster'] as const;
export type ClusterName = (typeof CLUSTER_NAMES)[number];

export interface ClusterSpec {
  /** The compose services to bring up (their dependencies come with them). */
  services: string[];
  /** A service that runs once and exits (joins the nodes), rather than one that stays healthy. */
  oneShot?: string;
  url: string;
}

export const CLUSTERS: Readonly<Record<ClusterName, ClusterSpec>> = {
  'redis-cluster': {
    services: ['redis-cluster-create'],
    oneShot: 'redis-cluster-create',
    url: 'redis://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005',
  },
  'kafka-cluster': {
    services: ['kafka-c1', 'kafka-c2', 'kafka-c3'],
    url: 'kafka://127.0.0.1:19192,127.0.0.1:19292,127.0.0.1:19392',
  },
  'rabbitmq-cluster': {
    services: ['rabbitmq-c1', 'rabbitmq-c2', 'rabbitmq-c3'],
    url: 'amqp://guest:guest@127.0.0.1:5681,127.0.0.1:5682,127.0.0.1:5683',
  },
  'nats-cluster': {
    services: ['nats-c1', 'nats-c2', 'nats-c3'],
    url: 'nats://127.0.0.1:4231,127.0.0.1:4232,127.0.0.1:4233?replicas=3',
  },
};
