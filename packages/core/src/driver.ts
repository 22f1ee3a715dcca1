/**
 * `@brokerkit/core/driver`: what adapter authors build a backend with — the driver interface
 * and the helpers the built-in adapters share. Applications import `@brokerkit/core`; this door
 * may change between minor versions as adapters need, without breaking them.
 */
export type { Delivery, Driver, DriverFactory, DriverLimits, DriverSubscription, DriverTraits, EncodedMessage, SubscriptionDeclaration, SubscriptionSpec } from './contract/driver.js';
export { readUrlOptions, rejectUnknownKeys, requireNumber, type OptionSpec, type OptionValues } from './config/options.js';
export { hostAndPort, parseBrokerUrl } from './config/url.js';
export { backoffDelayMs } from './portable/backoff.js';
export { encodedSizeBytes } from './portable/encode.js';
export { bindingOf as cloudEventBinding } from './portable/cloud-events.js';
export { contextFromHeaders, messagingSystem } from './portable/telemetry.js';
export { asBuffer, firstContact, OncePerKey, OpenSubscriptions } from './portable/driver-helpers.js';
export { PushBuffer } from './portable/push-buffer.js';
export { TurnBatcher } from './portable/turn-batcher.js';
export { requireName } from './portable/resolve-options.js';
export { SignalledSleeps, sleep, withDeadline } from './portable/timing.js';
