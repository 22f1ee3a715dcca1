import { DeleteMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** SQS deletes at most 10 receipts per call. */
const MAX_BATCH = 10;

interface Pending {
  receipt: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Acks as `DeleteMessageBatch`: receipts handed in during one turn of the event loop (up to
 * ten) go in one call, so a consumer finishing many handlers at once pays one round trip,
 * while a lone ack still leaves at once. Each ack resolves only when its own entry succeeded.
 */
export class BatchDeleter {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  delete(receipt: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ receipt, resolve, reject });
      if (this.pending.length >= MAX_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = this.pending.length > MAX_BATCH;
    const batch = this.pending.splice(0, MAX_BATCH);
    if (this.pending.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    if (batch.length === 0) return;
    void this.sendBatch(batch);
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    try {
      const reply = await this.sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: batch.map((entry, index) => ({ Id: String(index), ReceiptHandle: entry.receipt })) }),
      );
      const failed = new Map((reply.Failed ?? []).map((entry) => [Number(entry.Id), `${entry.Code}: ${entry.Message}`]));
      batch.forEach((entry, index) => {
        const reason = failed.get(index);
        if (reason === undefined) entry.resolve();
        else entry.reject(new Error(`SQS refused to delete the message: ${reason}`));
      });
    } catch (error) {
      for (const entry of batch) entry.reject(new Error(`SQS DeleteMessageBatch failed: ${(error as Error).message}`, { cause: error }));
    }
  }
}
