import { CreateTopicCommand, DeleteTopicCommand, ListTopicsCommand, PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageBatchCommand, DeleteQueueCommand, GetQueueUrlCommand, ListQueuesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { connect } from '@brokerkit/core';
import { awsName } from '@brokerkit/sqs';
import { randomUUID } from 'node:crypto';
import { METADATA, decode, encode, type BenchBody, type BenchTarget } from '../target.js';

/**
 * The AWS SDK alone on the data path brokerkit uses: Publish / PublishBatch (10 per call) to
 * the SNS topic, ReceiveMessage (long poll, ≤ 10) and DeleteMessageBatch on the subscribed
 * queue. The topology (topic, queue, policy, subscription) is declared by brokerkit: it is not
 * part of what is measured.
 */
export async function sqsRaw(url: string, metadata: boolean): Promise<BenchTarget> {
  // With `metadata`, brokerkit's message attributes too: its id and the content type.
  const text = (value: string) => ({ DataType: 'String', StringValue: value });
  const attributesOf = metadata ? () => ({ MessageAttributes: { [METADATA.idHeader]: text(randomUUID()), [METADATA.contentTypeHeader]: text(METADATA.contentType) } }) : () => ({});
  const entry = (body: BenchBody) => ({ Message: encode(body).toString(), ...attributesOf() });
  const parsed = new URL(url);
  const config = {
    region: parsed.searchParams.get('region') ?? 'us-east-1',
    endpoint: `http://${parsed.host}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const sns = new SNSClient(config);
  const sqs = new SQSClient(config);
  const declarer = await connect(url);
  const topics = new Map<string, string>();
  const topicArn = async (queue: string): Promise<string> => {
    let arn = topics.get(queue);
    if (!arn) {
      arn = (await sns.send(new CreateTopicCommand({ Name: awsName(queue, false) }))).TopicArn as string;
      topics.set(queue, arn);
    }
    return arn;
  };
  return {
    setup: async (queue) => {
      await declarer.ensureQueue(queue);
    },
    send: async (queue, body) => {
      await sns.send(new PublishCommand({ TopicArn: await topicArn(queue), ...entry(body) }));
    },
    sendBatch: async (queue, bodies) => {
      const arn = await topicArn(queue);
      for (let i = 0; i < bodies.length; i += 10) {
        const entries = bodies.slice(i, i + 10).map((body, index) => ({ Id: String(index), ...entry(body) }));
        const reply = await sns.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: entries }));
        if (reply.Failed?.length) throw new Error(`${reply.Failed.length} entries refused`);
      }
    },
    cleanup: async (prefix) => {
      const awsPrefix = awsName(prefix, false);
      const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: awsPrefix, MaxResults: 1_000 }));
      for (const queueUrl of QueueUrls) await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      let next: string | undefined;
      do {
        const page = await sns.send(new ListTopicsCommand({ NextToken: next }));
        for (const { TopicArn } of page.Topics ?? []) {
          if (TopicArn?.split(':').pop()?.startsWith(awsPrefix)) await sns.send(new DeleteTopicCommand({ TopicArn }));
        }
        next = page.NextToken;
      } while (next);
    },
    consume: async (queue, concurrency, handler) => {
      const queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: awsName(queue, false) }))).QueueUrl as string;
      let running = true;
      const loop = (async () => {
        while (running) {
          const reply = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: Math.min(10, concurrency), WaitTimeSeconds: 1 }));
          const messages = reply.Messages ?? [];
          if (messages.length === 0) continue;
          for (const message of messages) handler(decode(message.Body ?? '{}'));
          await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle as string })) }));
        }
      })();
      return async () => {
        running = false;
        await loop.catch(() => undefined);
      };
    },
    close: async () => {
      await declarer.close();
      sns.destroy();
      sqs.destroy();
    },
  };
}
