import type { DriverSubscription } from '../contract/driver.js';

/**
 * One in-flight or finished creation per key (a topic declared once per process, however many
 * callers ask at once); a failed creation is forgotten so the next caller tries again.
 */
export class OncePerKey<T> {
  private readonly entries = new Map<string, Promise<T>>();

  get(key: string, create: () => Promise<T>): Promise<T> {
    let pending = this.entries.get(key);
    if (!pending) {
      pending = create();
      this.entries.set(key, pending);
      pending.catch(() => {
        if (this.entries.get(key) === pending) this.entries.delete(key);
      });
    }
    return pending;
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
