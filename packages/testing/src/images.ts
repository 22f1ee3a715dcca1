/**
 * The same brokers as scripts/brokers and docker-compose.yml, as containers: image, port, how
 * to tell it is ready, and the URL our adapters take.
 */
export interface ContainerSpec {
  image: string;
  port: number;
  command?: string[];
  environment?: Record<string, string>;
  /** A line in the container's log that means it serves. */
  readyLog: RegExp;
  url(host: string, port: number): string;
}

export const BROKER_NAMES = ['redis', 'rabbitmq', 'kafka', 'sqs', 'pubsub', 'nats'] as const;
export type BrokerName = (typeof BROKER_NAMES)[number];

export const CONTAINERS: Readonly<Record<BrokerName, ContainerSpec>> = {
  redis: {
    image: 'redis:7.0',
    port: 6379,
    readyLog: /Ready to accept connections/,
    url: (host, port) => `redis://${host}:${port}/0`,
  },
  rabbitmq: {
    image: 'rabbitmq:3.13-management',
    port: 5672,
    readyLog: /Server startup complete/,
    url: (host, port) => `amqp://guest:guest@${host}:${port}`,
  },
  kafka: {
    // A fixed host port: Kafka advertises the address clients must use.
    image: 'apache/kafka:4.1.1',
    port: 9092,
    readyLog: /Kafka Server started/,
    url: (host, port) => `kafka://${host}:${port}`,
  },
  sqs: {
    image: 'motoserver/moto:5.2.5',
    port: 5000,
    readyLog: /Running on/,
    url: (host, port) => `sqs://${host}:${port}?region=us-east-1`,
  },
  pubsub: {
    image: 'gcr.io/google.com/cloudsdktool/google-cloud-cli:emulators',
    port: 8085,
    command: ['gcloud', 'beta', 'emulators', 'pubsub', 'start', '--host-port=0.0.0.0:8085', '--project=brokerkit'],
    readyLog: /Server started/,
    url: (host, port) => `pubsub://brokerkit?emulator=${host}:${port}`,
  },
  nats: {
    image: 'nats:2.15.3',
    port: 4222,
    command: ['-js'],
    readyLog: /Server is ready/,
    url: (host, port) => `nats://${host}:${port}`,
  },
};
