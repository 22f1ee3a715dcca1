import type { DriverSubscription } from '../contract/driver.js';
import { ConnectionError, describeError } from '../errors/index.js';
import { withDeadline } from './timing.js';

/** `bytes` as a Buffer over the same memory, for clients that take Buffers; a Buffer is returned as is. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * One in-flight or finished creation per key (a topic declared once per process, however many
 * callers ask at once); a failed creation is forgotten so the next caller tries again.
 */
export class OncePerKey<T> {
  private readonly entries = new Map<string, Promise<T>>();
  private readonly finished = new Set<string>();

  get(key: string, create: () => Promise<T>): Promise<T> {
    let pending = this.entries.get(key);
    if (!pending) {
      const created = create();
      pending = created;
      this.entries.set(key, created);
      created.then(
        () => {
          if (this.entries.get(key) === created) this.finished.add(key);
        },
        () => {
          if (this.entries.get(key) === created) this.entries.delete(key);
        },
      );
    }
    return pending;
  }

  /** Whether `key`'s creation has succeeded: a caller on a hot path can skip waiting for it. */
  done(key: string): boolean {
    return this.finished.has(key);
  }
}

/**
 * The subscriptions a driver has open. `track()` hands the portable layer a subscription that
 * leaves the set when closed; the driver's own close (or crash-like destroy) settles the rest.
 */
export class OpenSubscriptions<T extends DriverSubscription> {
  private readonly open = new Set<T>();

  track(subscription: T): DriverSubscription {
    this.open.add(subscription);
    return {
      receive: (max, signal) => subscription.receive(max, signal),
      close: async () => {
        this.open.delete(subscription);
        await subscription.close();
      },
    };
  }

  /** Run `action` on every open subscription (they leave the set), failures included. */
  async settleAll(action: (subscription: T) => Promise<void> = (subscription) => subscription.close()): Promise<void> {
    const all = [...this.open];
    this.open.clear();
    await Promise.allSettled(all.map(action));
  }
}

/**
 * A driver's first round trip to its broker. Any failure becomes a ConnectionError saying
 * "cannot reach WHERE: …", after `release` has freed what was opened (not waited for). With
 * `timeoutMs`, a probe still running then fails as "cannot reach WHERE within N ms".
 */
export async function firstContact<T>(where: string, probe: () => Promise<T>, release: () => unknown, timeoutMs?: number): Promise<T> {
  let timedOut: ConnectionError | undefined;
  try {
    const pending = probe();
    return timeoutMs === undefined ? await pending : await withDeadline(pending, timeoutMs, () => (timedOut = new ConnectionError(`cannot reach ${where} within ${timeoutMs} ms`)));
  } catch (error) {
    const released = release();
    if (released instanceof Promise) released.catch(() => undefined);
    if (error === timedOut) throw error;
    throw new ConnectionError(`cannot reach ${where}: ${describeError(error)}`, { cause: error });
  }
}
