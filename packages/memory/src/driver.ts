import { randomUUID } from 'node:crypto';
import type { Backlog, Capabilities, SendReceipt } from '@brokerkit/core';
import type { Delivery, Driver, DriverFactory, DriverLimits, DriverSubscription, EncodedMessage, SubscriptionDeclaration, SubscriptionSpec } from '@brokerkit/core/driver';
import { ClosedError, TopologyError } from '@brokerkit/core';
import { readUrlOptions } from '@brokerkit/core/driver';
import { brokerNamed, type MemoryBroker } from './broker.js';
import type { Lease, MemorySubscription, StoredMessage } from './state.js';

export const VERSION = '0.1.0';
const DEFAULT_MAX_MESSAGE_BYTES = 1_048_576;
/** How long one receive waits for messages before the loop calls again. */
const RECEIVE_WAIT_MS = 1_000;

const urlOptions = {
  maxMessageBytes: { type: 'int', min: 1, max: 256 * 1_048_576, default: DEFAULT_MAX_MESSAGE_BYTES, doc: 'largest message in bytes' },
} as const;

function capabilities(maxMessageBytes: number): Capabilities {
  return {
    ordering: 'per-key',
    deadLetter: 'native',
    delayedRetry: 'native',
    attemptCount: 'exact',
    redeliveryOnCrash: true,
    exactlyOnce: false,
    replay: false,
    maxMessageBytes,
    ephemeralSubscriptions: 'native',
    delayedSend: 'native',
    deadLetterReplay: 'emulated',
    maxDelayMs: 2_147_483_647,
    backlog: 'exact',
    notes: [
      'delayed send: held in the process until due (one timer for all), then published to the subscriptions the topic has then; at most 24.8 days (a Node timer)',
      'in-process: messages live as long as the process; a crash of the process loses them',
      'a dropped connection redelivers its unacked messages at once; an expired lease after ackTimeoutMs',
      "ordering 'key' holds a key across all instances while one of its messages is leased or waits for a retry",
    ],
  };
}

class MemoryDriver implements Driver {
  readonly backend = 'memory';
  readonly capabilities: Capabilities;
  readonly limits: DriverLimits;
  readonly traits = { retryKeepsKeyOrder: true, idsFromBroker: false };
  /** Identifies this connection's leases, released at once if it is destroyed. */
  private readonly owner = Symbol('memory-connection');
  private closed = false;
  /** Subscriptions not yet closed: a dropped connection detaches them. */
  private readonly attached = new Set<MemoryDriverSubscription>();

  constructor(
    private readonly broker: MemoryBroker,
    maxMessageBytes: number,
  ) {
    this.capabilities = capabilities(maxMessageBytes);
    this.limits = { maxMessageBytes, maxBatchMessages: 10_000, maxBatchBytes: 64 * 1_048_576 };
  }

  async ensureQueue(name: string): Promise<void> {
    this.assertOpen();
    this.broker.ensureSubscription(name, name);
  }

  async ensureSubscription(spec: SubscriptionDeclaration): Promise<void> {
    this.assertOpen();
    this.broker.ensureSubscription(spec.topic, spec.subscription);
    if (spec.deadLetterQueue !== undefined) await this.ensureQueue(spec.deadLetterQueue);
  }

  /** Everything not yet acked: ready, held behind a key, waiting for a retry, and leased. */
  async backlog(topic: string, subscription: string): Promise<Backlog> {
    this.assertOpen();
    const found = this.broker.subscriptionOf(topic, subscription);
    if (!found) throw new TopologyError(`no subscription ${subscription} of ${topic} (declare it with ensureSubscription or ensureQueue)`);
    const oldest = found.oldestPublishedAtMs;
    return { messages: found.depth, ...(oldest === undefined ? {} : { oldestAgeMs: Math.max(0, Date.now() - oldest) }), approximate: false, counts: 'ready, retrying and in-flight messages' };
  }

  async send(topic: string, messages: EncodedMessage[]): Promise<SendReceipt[]> {
    this.assertOpen();
    return messages.map((message) => {
      this.broker.publish(topic, message);
      return { id: message.id };
    });
  }

  async subscribe(spec: SubscriptionSpec): Promise<DriverSubscription> {
    this.assertOpen();
    const name = spec.durable ? spec.subscription : `${spec.subscription}.ephemeral.${randomUUID()}`;
    const subscription = this.broker.ensureSubscription(spec.topic, name);
    const leave = subscription.attach(spec.ordering);
    const detach = spec.durable ? leave : () => this.broker.removeSubscription(spec.topic, name);
    const attached = new MemoryDriverSubscription(this.broker, subscription, spec.ackTimeoutMs, this.owner, () => {
      this.attached.delete(attached);
      detach();
    });
    this.attached.add(attached);
    return attached;
  }

  async ping(): Promise<{ version?: string }> {
    this.assertOpen();
    return { version: `brokerkit-memory ${VERSION}` };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async destroy(): Promise<void> {
    this.closed = true;
    for (const subscription of [...this.attached]) await subscription.close();
    this.broker.releaseOwner(this.owner);
  }

  native(): MemoryBroker {
    return this.broker;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('memory connection');
  }
}

class MemoryDriverSubscription implements DriverSubscription {
  constructor(
    private readonly broker: MemoryBroker,
    private readonly subscription: MemorySubscription,
    private readonly leaseMs: number,
    private readonly owner: symbol,
    private readonly detach: () => void,
  ) {}

  async receive(max: number, signal: AbortSignal): Promise<Delivery[]> {
    let leases = this.subscription.take(max, this.owner, this.leaseMs);
    if (leases.length === 0 && !signal.aborted) {
      await this.subscription.waitForMessages(RECEIVE_WAIT_MS, signal);
      if (signal.aborted) return [];
      leases = this.subscription.take(max, this.owner, this.leaseMs);
    }
    return leases.map((lease) => this.toDelivery(lease));
  }

  async close(): Promise<void> {
    this.detach();
  }

  private toDelivery(lease: Lease): Delivery {
    return new MemoryDelivery(this.broker, this.subscription, lease.token, lease.stored, this.leaseMs);
  }
}

export const driverFactory: DriverFactory = {
  schemes: ['memory'],
  async open(url: URL): Promise<Driver> {
    const options = readUrlOptions(url, urlOptions);
    return new MemoryDriver(brokerNamed(url.hostname || 'default'), options.maxMessageBytes);
  },
};

/**
 * A leased message. A class rather than an object of closures: one is made per delivery, and
 * four closures each (ack, nack, extend, dead-letter) were most of what consuming allocated.
 */
class MemoryDelivery implements Delivery {
  // Own fields, not getters: a wrapper that spreads a delivery ({ ...delivery, ack }) keeps them.
  readonly message: EncodedMessage;
  readonly attempt: number;
  readonly publishedAt: Date;
  readonly native: StoredMessage;

  constructor(
    private readonly broker: MemoryBroker,
    private readonly subscription: MemorySubscription,
    private readonly token: number,
    stored: StoredMessage,
    private readonly leaseMs: number,
  ) {
    this.message = stored.message;
    this.attempt = stored.deliveries;
    this.publishedAt = new Date(stored.publishedAtMs);
    this.native = stored;
  }

  async ack(): Promise<void> {
    this.subscription.ack(this.token);
  }

  async nack(delayMs: number): Promise<void> {
    this.subscription.nack(this.token, delayMs);
  }

  async extendLease(ms: number): Promise<void> {
    this.subscription.extend(this.token, ms || this.leaseMs);
  }

  async deadLetter(queue: string, message: EncodedMessage): Promise<void> {
    // Both steps happen in one synchronous turn: atomic, as a native dead-letter is.
    if (!this.subscription.isLeased(this.token)) return;
    this.broker.publish(queue, message);
    this.subscription.ack(this.token);
  }
}
