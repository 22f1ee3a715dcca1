/** A key's queue of tasks: the promise the next task waits for, and how many are not done. */
interface KeyQueue {
  tail: Promise<void>;
  pending: number;
}

/**
 * Runs tasks one at a time per key, in submission order; different keys run in parallel.
 * Tasks without a key run at once.
 */
export class KeySerializer {
  private readonly queues = new Map<string, KeyQueue>();

  run(key: string | undefined, task: () => Promise<void>): Promise<void> {
    if (key === undefined) return task();
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = { tail: Promise.resolve(), pending: 0 };
      this.queues.set(key, queue);
    }
    const owner = queue;
    owner.pending += 1;
    const current = owner.tail.then(task, task);
    owner.tail = current.then(
      () => this.finish(key, owner),
      () => this.finish(key, owner),
    );
    return current;
  }

  /** Tasks of `key` submitted and not finished, the running one included. */
  pending(key: string): number {
    return this.queues.get(key)?.pending ?? 0;
  }

  /** Keys with a running or queued task. */
  get activeKeys(): number {
    return this.queues.size;
  }

  private finish(key: string, queue: KeyQueue): void {
    queue.pending -= 1;
    if (queue.pending === 0 && this.queues.get(key) === queue) this.queues.delete(key);
  }
}
