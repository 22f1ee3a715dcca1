import { withDeadline } from '../kit/timing.js';
import { TimeoutError } from '../errors/index.js';

/** Anything with a graceful close: a Broker, Subscriber, Producer, or your own resource. */
export interface Closeable {
  close(): Promise<void>;
}

export interface CloseOnSignalsOptions {
  /** Default SIGTERM and SIGINT. */
  signals?: NodeJS.Signals[];
  /**
   * How long all closes together may take (default 30 s; keep it under your orchestrator's
   * grace period, e.g. Kubernetes' 30 s, and above the consumers' closeTimeoutMs).
   */
  deadlineMs?: number;
  /** End the process when done (default true): exit code 0 after a clean close, 1 otherwise. */
  exit?: boolean;
  /** Told when a signal arrives, and how the close went. */
  onSignal?: (signal: NodeJS.Signals) => void;
  onClosed?: (result: { clean: boolean; error?: Error; elapsedMs: number }) => void;
}

/**
 * Wire SIGTERM/SIGINT to a graceful close: consumers stop fetching, finish in-flight
 * handlers and settle them, then connections close — all within a deadline. A second signal
 * while closing exits at once (code 130), as users expect from Ctrl-C twice. Returns a
 * function that removes the handlers.
 */
export function closeOnSignals(targets: Closeable | Closeable[], options: CloseOnSignalsOptions = {}): () => void {
  const list = Array.isArray(targets) ? targets : [targets];
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const deadlineMs = options.deadlineMs ?? 30_000;
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      if (options.exit !== false) process.exit(130);
      return;
    }
    closing = true;
    options.onSignal?.(signal);
    const started = Date.now();
    const all = Promise.all(list.map((target) => target.close())).then(() => undefined);
    withDeadline(all, deadlineMs, () => new TimeoutError('closing on ' + signal, deadlineMs))
      .then(
        () => ({ clean: true }),
        (error: unknown) => ({ clean: false, error: error instanceof Error ? error : new Error(String(error)) }),
      )
      .then((result) => {
        options.onClosed?.({ ...result, elapsedMs: Date.now() - started });
        if (options.exit !== false) process.exit(result.clean ? 0 : 1);
      })
      .catch(() => undefined);
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
