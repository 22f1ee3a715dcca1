import { DeleteMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { TurnBatcher } from '@brokerkit/core/driver';

/** SQS deletes at most 10 receipts per call. */
const MAX_BATCH = 10;

/**
 * Acks as `DeleteMessageBatch`: receipts handed in during one turn of the event loop (up to
 * ten) go in one call, so a consumer finishing many handlers at once pays one round trip,
 * while a lone ack still leaves at once. Each ack resolves only when its own entry succeeded.
 */
export class BatchDeleter {
  private readonly batcher = new TurnBatcher<string>(MAX_BATCH, (receipts) => this.sendBatch(receipts));

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  delete(receipt: string): Promise<void> {
    return this.batcher.add(receipt);
  }

  private async sendBatch(receipts: string[]): Promise<(Error | undefined)[]> {
    let reply;
    try {
      reply = await this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: receipts.map((receipt, index) => ({ Id: String(index), ReceiptHandle: receipt })) }));
    } catch (error) {
      throw new Error(`SQS DeleteMessageBatch failed: ${(error as Error).message}`, { cause: error });
    }
    const failed = new Map((reply.Failed ?? []).map((entry) => [Number(entry.Id), `${entry.Code}: ${entry.Message}`]));
    return receipts.map((_, index) => {
      const reason = failed.get(index);
      return reason === undefined ? undefined : new Error(`SQS refused to delete the message: ${reason}`);
    });
  }
}
