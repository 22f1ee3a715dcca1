import { ListSubscriptionsByTopicCommand, UnsubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageBatchCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SendError } from '@brokerkit/core';
import { fifoId } from './names.js';

/** Time a moved message stays invisible in the standard queue while it is copied. */
const MOVE_VISIBILITY_SECONDS = 30;

/**
 * A subscription declared before its consumers chose an ordering is a standard queue. When a
 * key-ordered consumer attaches, its FIFO twin takes over: the standard queue is unsubscribed
 * from the topic (after every producer sends to the twin too), and what it holds — sent between
 * the declaration and this attach — is copied into the FIFO queue, then deleted. The copy keeps
 * each message's id as deduplication id, so a message that reached both queues arrives once.
 * Returns how many messages were moved.
 */
export async function adoptStandardQueue(sqs: SQSClient, sns: SNSClient, standardTopicArn: string, standardQueueName: string, fifoQueueUrl: string): Promise<number> {
  const standardUrl = await sqs
    .send(new GetQueueUrlCommand({ QueueName: standardQueueName }))
    .then((reply) => reply.QueueUrl)
    .catch(() => undefined);
  if (standardUrl === undefined) return 0;
  await unsubscribeQueue(sns, standardTopicArn, standardQueueName);
  let moved = 0;
  for (;;) {
    const reply = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: standardUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: MOVE_VISIBILITY_SECONDS, MessageAttributeNames: ['All'] }),
    );
    const messages = reply.Messages ?? [];
    if (messages.length === 0) return moved;
    const entries = messages.map((message, index) => {
      const id = message.MessageAttributes?.['bk-id']?.StringValue ?? (message.MessageId as string);
      const key = message.MessageAttributes?.['bk-key']?.StringValue ?? id;
      return { Id: String(index), MessageBody: message.Body ?? '', MessageAttributes: message.MessageAttributes, MessageGroupId: fifoId(key), MessageDeduplicationId: fifoId(id) };
    });
    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: fifoQueueUrl, Entries: entries }));
    if ((sent.Failed ?? []).length > 0) {
      // Left in the standard queue: they become visible again and the next attach moves them.
      throw new SendError(`moving ${standardQueueName}'s messages to its FIFO twin failed for ${sent.Failed?.length} of ${entries.length}: ${sent.Failed?.map((f) => f.Message).join('; ')}`, { retriable: true });
    }
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: standardUrl, Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle as string })) }));
    moved += messages.length;
  }
}

async function unsubscribeQueue(sns: SNSClient, topicArn: string, queueName: string): Promise<void> {
  let nextToken: string | undefined;
  do {
    const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, ...(nextToken ? { NextToken: nextToken } : {}) }));
    for (const subscription of page.Subscriptions ?? []) {
      if (subscription.Protocol === 'sqs' && subscription.Endpoint?.endsWith(`:${queueName}`) && subscription.SubscriptionArn) {
        await sns.send(new UnsubscribeCommand({ SubscriptionArn: subscription.SubscriptionArn }));
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
}
