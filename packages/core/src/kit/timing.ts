/** Resolves after `ms`, or at once (false) when `signal` aborts; the timer never outlives it. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Sleeps that one signal cuts short together, with a single listener on the signal however
 * many wait: a listener per sleep (as `sleep` adds) makes Node warn of a possible leak past
 * ten, which many retries waiting at once would reach.
 */
export class SignalledSleeps {
  private readonly waiting = new Set<() => void>();

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', () => this.cutAll(), { once: true });
  }

  /** Resolves true after `ms`, or false at once when the signal aborts. */
  sleep(ms: number): Promise<boolean> {
    if (this.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const cut = (): void => {
        clearTimeout(timer);
        this.waiting.delete(cut);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.waiting.delete(cut);
        resolve(true);
      }, ms);
      this.waiting.add(cut);
    });
  }

  private cutAll(): void {
    for (const cut of [...this.waiting]) cut();
  }
}

/** Race `promise` against a deadline; `onTimeout` builds the error thrown when it passes. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after the I/O callbacks already due have run (a `setImmediate` turn). */
export function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
