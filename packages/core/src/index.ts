/**
 * `@brokerkit/core`: what applications use — connect by URL, producers, consumers and
 * subscribers, typed topics, errors. Adapter authors find the driver interface and its
 * helpers at `@brokerkit/core/driver`.
 */
export type { Capabilities, Provision } from './contract/capabilities.js';
export { Header, RESERVED_HEADER_PREFIX } from './contract/message.js';
export type { DeadLetterReason, Headers, OutgoingMessage, ReceivedMessage, SendReceipt } from './contract/message.js';
export type { BackoffOptions, DeadLetterOption, Handler, HandlerContext, HandlerOptions, RetryOptions, SubscriberOptions } from './contract/options.js';
export { BUILTIN_SCHEMES, knownSchemes, registerDriver } from './config/registry.js';
export { maskCredentials } from './config/url.js';
export * from './errors/index.js';
export { Broker, type HealthReport } from './portable/broker.js';
export { closeOnSignals, type Closeable, type CloseOnSignalsOptions } from './portable/process.js';
export { CONTENT_TYPE_BINARY, CONTENT_TYPE_JSON, jsonCodec, type Codec } from './portable/codec.js';
export { connect, DEFAULT_CONNECT_TIMEOUT_MS, type ConnectConfig, type ConnectOptions } from './portable/connect.js';
export { uuidV7, uuidV7Time } from './portable/ids.js';
export { Producer, type ProducerOptions } from './portable/producer.js';
export { defineTopic, type BodyIn, type BodyOut, type TopicDefinition, type TopicRef } from './portable/schema.js';
export { readCloudEvent, type CloudEventAttributes, type CloudEventOptions } from './portable/cloud-events.js';
export { DEFAULT_ACK_TIMEOUT_MS, DEFAULT_BACKOFF, DEFAULT_MAX_ATTEMPTS } from './portable/resolve-options.js';
export type { RunnerStats } from './portable/runner.js';
export { Subscriber, type Consumer, type SubscriberHealth } from './portable/subscriber.js';
