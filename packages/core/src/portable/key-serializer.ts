/**
 * Runs tasks one at a time per key, in submission order; different keys run in parallel.
 * Tasks without a key run at once.
 */
export class KeySerializer {
  private readonly tails = new Map<string, Promise<void>>();

  run(key: string | undefined, task: () => Promise<void>): Promise<void> {
    if (key === undefined) return task();
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(task, task);
    const tail = current.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return current;
  }

  /** Keys with a running or queued task. */
  get activeKeys(): number {
    return this.tails.size;
  }
}
