/**
 * `@brokerkit/core`: what applications use — connect by URL, producers, consumers and
 * subscribers, typed topics, errors. Adapter authors find the driver interface and its
 * helpers at `@brokerkit/core/driver`.
 */
export type { Backlog, Capabilities, Provision } from './contract/capabilities.js';
export { Header, RESERVED_HEADER_PREFIX } from './contract/message.js';
export type { DeadLetterReason, Headers, OutgoingMessage, ReceivedMessage, SendReceipt } from './contract/message.js';
export type {
  BackoffOptions,
  BatchControl,
  BatchHandler,
  BatchHandlerOptions,
  BatchOptions,
  BatchSubscriberOptions,
  DeadLetterOption,
  Handler,
  HandlerContext,
  HandlerOptions,
  RetryOptions,
  SubscriberOptions,
} from './contract/options.js';
export { BUILTIN_SCHEMES, knownSchemes, registerDriver } from './config/registry.js';
export { maskCredentials } from './config/url.js';
export * from './errors/index.js';
export { Broker, type HealthReport } from './front/broker.js';
export { DeadLetters, type DeadLetter, type DeadLetterScanOptions, type DeadLetterSummary, type ReplayOptions } from './front/dead-letters.js';
export { closeOnSignals, type Closeable, type CloseOnSignalsOptions } from './front/process.js';
export { CONTENT_TYPE_BINARY, CONTENT_TYPE_JSON, jsonCodec, type Codec } from './message/codec.js';
export { connect, DEFAULT_CONNECT_TIMEOUT_MS, type ConnectConfig, type ConnectOptions } from './front/connect.js';
export { uuidV7, uuidV7Time } from './message/ids.js';
export { Producer, type ProducerOptions } from './send/producer.js';
export { defineTopic, type BodyIn, type BodyOut, type TopicDefinition, type TopicRef } from './message/schema.js';
export type { CloudEventAttributes, CloudEventOptions } from './contract/cloud-event.js';
export { readCloudEvent } from './message/cloud-events.js';
export { DEFAULT_ACK_TIMEOUT_MS, DEFAULT_BACKOFF, DEFAULT_MAX_ATTEMPTS } from './receive/handler-options.js';
export type { RunnerStats } from './receive/runner.js';
export { Subscriber, type Consumer, type SubscriberHealth } from './front/subscriber.js';
