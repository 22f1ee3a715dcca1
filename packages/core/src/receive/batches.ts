import type { ReceivedMessage } from '../contract/message.js';
import type { BatchControl, BatchHandler, BatchOptions, HandlerContext } from '../contract/options.js';
import { BrokerkitError } from '../errors/index.js';

/** One message's attempt, waiting in a batch for the batch's outcome. */
interface Waiting {
  message: ReceivedMessage;
  context: HandlerContext;
  done: () => void;
  failed: (error: unknown) => void;
}

/** Runs a batch handler's call, inside the batch's span (`ConsumeTelemetry.batch`). */
export type RunBatch = (messages: readonly ReceivedMessage[], call: () => Promise<void> | void) => Promise<void>;

/**
 * A batch handler behind the runner's per-message handler: each message's attempt joins the
 * open batch and waits for the batch's outcome. So every per-message rule applies to batched
 * messages unchanged: attempts, backoff, dead-lettering, key order (a key's next message joins
 * a batch only once its previous one is settled), leases and close. A batch runs when it holds
 * `maxMessages`, or `maxWaitMs` after its first message; at most `concurrency` run at once, and
 * full batches wait their turn meanwhile.
 */
export class BatchCollector {
  private open: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly ready: Waiting[][] = [];
  private running = 0;

  constructor(
    private readonly handler: BatchHandler,
    private readonly options: Required<BatchOptions>,
    private readonly concurrency: number,
    private readonly run: RunBatch,
  ) {}

  /** The runner's handler for one message: resolves or rejects with its batch. */
  readonly handle = (message: ReceivedMessage, context: HandlerContext): Promise<void> =>
    new Promise<void>((done, failed) => {
      this.open.push({ message, context, done, failed });
      if (this.open.length >= this.options.maxMessages) this.seal();
      else if (this.open.length === 1) this.timer = setTimeout(() => this.seal(), this.options.maxWaitMs);
    });

  private seal(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.open.length === 0) return;
    this.ready.push(this.open);
    this.open = [];
    this.next();
  }

  private next(): void {
    while (this.running < this.concurrency) {
      const batch = this.ready.shift();
      if (batch === undefined) return;
      this.running += 1;
      void this.runBatch(batch).finally(() => {
        this.running -= 1;
        this.next();
      });
    }
  }

  /**
   * Call the handler once for the batch. `control.retry()` and `control.deadLetter()` set that
   * message's outcome at once (through its own context, which checks the arguments); the batch's
   * outcome applies to the rest: resolved, acked; thrown, retried.
   */
  private async runBatch(batch: Waiting[]): Promise<void> {
    const signal = (batch[0] as Waiting).context.signal;
    if (signal.aborted) {
      // Crashed or past the close timeout while the batch waited: the handler does not run, and nothing is settled.
      const stopped = new BrokerkitError('CLOSED', 'the consumer stopped before the batch ran');
      for (const waiting of batch) waiting.failed(stopped);
      return;
    }
    let members: Map<ReceivedMessage, Waiting> | undefined;
    const given = new Set<Waiting>();
    const member = (message: ReceivedMessage, call: string): Waiting => {
      members ??= new Map(batch.map((waiting) => [waiting.message, waiting]));
      const found = members.get(message);
      if (!found) throw new BrokerkitError('CONFIG', `${call}: expected a message of this batch (one of the array the handler was given)`);
      return found;
    };
    const control: BatchControl = {
      signal,
      retry: (message, delayMs) => {
        const waiting = member(message, 'control.retry(message, delayMs)');
        waiting.context.retry(delayMs);
        given.add(waiting);
      },
      deadLetter: (message, reason) => {
        const waiting = member(message, 'control.deadLetter(message, reason)');
        waiting.context.deadLetter(reason);
        given.add(waiting);
      },
    };
    const messages = batch.map((waiting) => waiting.message);
    try {
      await this.run(messages, () => this.handler(messages, control));
    } catch (error) {
      for (const waiting of batch) {
        if (given.has(waiting)) waiting.done();
        else waiting.failed(error);
      }
      return;
    }
    for (const waiting of batch) waiting.done();
  }
}
