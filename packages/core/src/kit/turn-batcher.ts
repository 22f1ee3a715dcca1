interface Entry<T> {
  item: T;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Calls made during one turn of the event loop go to the broker as one request: a consumer
 * whose handlers finish together acks them in one round trip (XACK with many ids, SQS
 * DeleteMessageBatch), while a lone call still leaves on the next turn. Each call resolves or
 * rejects by its own entry's outcome.
 */
export class TurnBatcher<T> {
  private pending: Entry<T>[] = [];
  private scheduled = false;

  /**
   * @param maxBatch most items in one request (the broker's limit); a full batch leaves at once.
   * @param send sends one batch; resolves with an error per item that failed (or nothing when
   *   all succeeded); a rejection fails every item of the batch.
   */
  constructor(
    private readonly maxBatch: number,
    private readonly send: (items: T[]) => Promise<readonly (Error | undefined)[] | void>,
  ) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Send what was added so far now, without waiting for the turn to end (before a connection closes, say). */
  flush(): void {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      void this.sendBatch(batch);
    }
  }

  private async sendBatch(batch: Entry<T>[]): Promise<void> {
    let outcomes: readonly (Error | undefined)[] | void;
    try {
      outcomes = await this.send(batch.map((entry) => entry.item));
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const entry of batch) entry.reject(failure);
      return;
    }
    batch.forEach((entry, index) => {
      const failure = outcomes ? outcomes[index] : undefined;
      if (failure) entry.reject(failure);
      else entry.resolve();
    });
  }
}
