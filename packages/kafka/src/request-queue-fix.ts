import { kafkajsModule } from './kafkajs-modules.js';

/** kafkajs' interval for a queue with requests waiting (`CHECK_PENDING_REQUESTS_INTERVAL`). */
const CHECK_PENDING_REQUESTS_MS = 10;
const FIXED = Symbol.for('brokerkit.kafkajs-request-queue-timer');

interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/**
 * kafkajs 2.2 reschedules its request queue's check after every reply, with nothing waiting
 * and no throttle too: `throttledUntil - Date.now()` is then about minus the epoch, which Node
 * runs after 1 ms — a timer a millisecond on every idle connection — and Node 24 prints a
 * TimeoutNegativeWarning for (kafkajs issues #1704, #1751; the fix is unreleased). The
 * replacement schedules the check only for waiting requests or a throttle to wait out, as
 * kafkajs means to. It is set on kafkajs' class, so every kafkajs client in the process has it.
 * Returns whether it is in place.
 */
export function fixRequestQueueTimer(): boolean {
  try {
    const RequestQueueClass = kafkajsModule<{ prototype: RequestQueue & { [FIXED]?: boolean } }>('network/requestQueue/index');
    const prototype = RequestQueueClass.prototype;
    if (prototype[FIXED]) return true;
    if (typeof prototype.scheduleCheckPendingRequests !== 'function') return false;
    prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueue): void {
      if (this.throttleCheckTimeoutId) return;
      let waitMs = this.throttledUntil - Date.now();
      if (this.pending.length > 0) waitMs = waitMs > 0 ? waitMs : CHECK_PENDING_REQUESTS_MS;
      else if (waitMs <= 0) return;
      this.throttleCheckTimeoutId = setTimeout(() => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      }, waitMs);
    };
    prototype[FIXED] = true;
    return true;
  } catch {
    return false;
  }
}
