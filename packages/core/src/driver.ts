/**
 * `@brokerkit/core/driver`: what adapter authors build a backend with — the driver interface
 * and the helpers the built-in adapters share. Applications import `@brokerkit/core`; this door
 * may change between minor versions as adapters need, without breaking them.
 */
export type { Delivery, Driver, DriverFactory, DriverLimits, DriverSubscription, DriverTraits, EncodedMessage, PortableDelays, SubscriptionDeclaration, SubscriptionSpec } from './contract/driver.js';
export { DELIVER_AT_HEADER, delayQueueOf, withPortableDelays } from './front/portable-delays.js';
export { readUrlOptions, rejectUnknownKeys, requireNumber, type OptionSpec, type OptionValues } from './config/options.js';
export { hostAndPort, hostsOf, parseBrokerUrl } from './config/url.js';
export { backoffDelayMs } from './receive/backoff.js';
export { encodedSizeBytes } from './send/encode.js';
export { bindingOf as cloudEventBinding } from './message/cloud-events.js';
export { contextFromHeaders, messagingSystem } from './telemetry/telemetry.js';
export { asBuffer, firstContact, OncePerKey, OpenSubscriptions } from './kit/driver-helpers.js';
export { PushBuffer } from './kit/push-buffer.js';
export { isPartitioned, ownerOf, partitionCountRefused } from './kit/partitions.js';
export { TurnBatcher } from './kit/turn-batcher.js';
export { requireName } from './config/names.js';
export { SignalledSleeps, sleep, withDeadline } from './kit/timing.js';
