import { randomBytes } from 'node:crypto';
import { PublishBatchCommand, SNSClient, type MessageAttributeValue as SnsAttribute, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SendError, type Backlog, type Capabilities, type SendReceipt } from '@brokerkit/core';
import { firstContact, hostAndPort, OpenSubscriptions, readUrlOptions, sleep, type Driver, type DriverFactory, type DriverLimits, type DriverSubscription, type EncodedMessage, type SubscriptionDeclaration, type SubscriptionSpec } from '@brokerkit/core/driver';
import { toWire } from './attributes.js';
import { sqsCapabilities } from './capabilities.js';
import { fifoId } from './names.js';
import { SqsSubscription } from './subscription.js';
import { Topology } from './topology.js';

const urlOptions = {
  region: { type: 'string', pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/, default: 'us-east-1', doc: 'an AWS region such as us-east-1' },
  tls: { type: 'bool', default: false, doc: 'https to the emulator endpoint' },
  maxMessageBytes: { type: 'int', min: 1, max: 190_000, default: 190_000, doc: 'largest message in bytes (SQS takes 256 KiB on the wire; binary bodies grow by a third in base64)' },
  connectTimeoutMs: { type: 'int', min: 100, max: 120_000, default: 5_000, doc: 'time to reach the service' },
} as const;

/** SNS and SQS take at most 10 entries per batch call, 256 KiB in all. */
/** Rounds of PublishBatch for entries the service refused for a transient reason. */
const PUBLISH_ROUNDS = 4;

const BATCH_LIMITS = { maxBatchMessages: 10, maxBatchBytes: 190_000 };


class SqsDriver implements Driver {
  readonly backend = 'sqs';
  readonly capabilities: Capabilities;
  readonly limits: DriverLimits;
  // An in-flight FIFO message blocks its group, so a delayed retry keeps same-key order.
  /** Delayed sends: core's delay queue per topic, each wait a visibility timeout of at most 12 h. */
  readonly traits = { retryKeepsKeyOrder: true, idsFromBroker: false, portableDelays: { hopMs: 12 * 3_600_000 } };
  private readonly topology: Topology;
  private readonly subscriptions = new OpenSubscriptions<SqsSubscription>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly sns: SNSClient,
    maxMessageBytes: number,
  ) {
    this.capabilities = sqsCapabilities(maxMessageBytes);
    this.limits = { maxMessageBytes, ...BATCH_LIMITS };
    this.topology = new Topology(sqs, sns);
  }

  async ensureQueue(name: string): Promise<void> {
    await this.topology.ensureQueue(name);
  }

  async ensureSubscription(spec: SubscriptionDeclaration): Promise<void> {
    await this.topology.ensureSubscription(spec);
  }

  async send(topic: string, messages: EncodedMessage[]): Promise<SendReceipt[]> {
    const targets = await this.topology.publishTargets(topic);
    const wire = messages.map(toWire);
    for (const target of targets) {
      const entries = messages.map((message, index) => ({
        Id: String(index),
        Message: wire[index]!.body,
        MessageAttributes: wire[index]!.attributes as Record<string, SnsAttribute>,
        ...(target.fifo ? { MessageGroupId: fifoId(message.key ?? message.id), MessageDeduplicationId: fifoId(message.id) } : {}),
      }));
      await this.publishAll(topic, target.arn, entries, messages);
    }
    return messages.map((message) => ({ id: message.id }));
  }

  /**
   * One PublishBatch; entries the service refused for a transient reason are sent again (with
   * a short backoff), the others fail the send naming each message and its reason. A FIFO
   * retry reuses the deduplication id, so it cannot duplicate.
   */
  private async publishAll(topic: string, arn: string, entries: PublishBatchRequestEntry[], messages: EncodedMessage[]): Promise<void> {
    let remaining = entries;
    for (let round = 1; ; round += 1) {
      const reply = await this.sns.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: remaining }));
      const failed = reply.Failed ?? [];
      if (failed.length === 0) return;
      const permanent = failed.filter((entry) => entry.SenderFault);
      if (permanent.length > 0 || round === PUBLISH_ROUNDS) {
        const ids = failed.map((entry) => `${messages[Number(entry.Id)]?.id} (${entry.Code}: ${entry.Message})`);
        throw new SendError(`SNS refused ${failed.length} of ${messages.length} messages to ${topic}: ${ids.join(', ')}`, { retriable: permanent.length === 0 });
      }
      const retry = new Set(failed.map((entry) => entry.Id));
      remaining = remaining.filter((entry) => retry.has(entry.Id));
      await sleep(50 * 2 ** round);
    }
  }

  async subscribe(spec: SubscriptionSpec): Promise<DriverSubscription> {
    let subscription: SqsSubscription;
    if (spec.durable) {
      const queue = await this.topology.ensureSubscription(spec);
      subscription = new SqsSubscription(this.sqs, queue, spec.ackTimeoutMs);
    } else {
      const { queue, remove } = await this.topology.temporaryQueue(spec.topic, `${spec.subscription}-live-${randomBytes(4).toString('hex')}`);
      subscription = new SqsSubscription(this.sqs, queue, spec.ackTimeoutMs, remove);
    }
    return this.subscriptions.track(subscription);
  }

  async backlog(_topic: string, subscription: string): Promise<Backlog> {
    return { messages: await this.topology.backlog(subscription), approximate: true, counts: 'visible, in-flight and delayed messages (approximate)' };
  }

  async ping(): Promise<{ version?: string }> {
    await this.sqs.send(new ListQueuesCommand({ MaxResults: 1 }));
    return {};
  }

  async close(): Promise<void> {
    await this.subscriptions.settleAll();
    this.sqs.destroy();
    this.sns.destroy();
  }

  async destroy(): Promise<void> {
    // Stop receiving without deleting or releasing anything: the messages reappear after their visibility timeout.
    this.sqs.destroy();
    this.sns.destroy();
  }

  native(): { sqs: SQSClient; sns: SNSClient } {
    return { sqs: this.sqs, sns: this.sns };
  }
}

export const driverFactory: DriverFactory = {
  schemes: ['sqs'],
  async open(url: URL): Promise<Driver> {
    const options = readUrlOptions(url, urlOptions);
    const realAws = url.hostname === 'aws';
    const { host, port } = realAws ? { host: 'aws', port: 0 } : hostAndPort(url, 4566);
    const endpoint = realAws ? undefined : `${options.tls ? 'https' : 'http'}://${host}:${port}`;
    // Emulators accept any credentials; real AWS uses the default credential chain.
    const credentials = endpoint && !process.env.AWS_ACCESS_KEY_ID ? { accessKeyId: 'test', secretAccessKey: 'test' } : undefined;
    const config = {
      region: options.region,
      maxAttempts: 3,
      requestHandler: { connectionTimeout: options.connectTimeoutMs, requestTimeout: 30_000 },
      ...(endpoint ? { endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    };
    const sqs = new SQSClient(config);
    const sns = new SNSClient(config);
    await firstContact(
      `SQS at ${endpoint ?? `AWS ${options.region}`}`,
      () => sqs.send(new ListQueuesCommand({ MaxResults: 1 })),
      () => {
        sqs.destroy();
        sns.destroy();
      },
    );
    return new SqsDriver(sqs, sns, options.maxMessageBytes);
  },
};
