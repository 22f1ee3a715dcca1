import { CreateTopicCommand, GetTopicAttributesCommand, SubscribeCommand, UnsubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand, type QueueAttributeName, type SQSClient } from '@aws-sdk/client-sqs';
import { TopologyError, describeError } from '@brokerkit/core';
import { sleep, type SubscriptionDeclaration } from '@brokerkit/core/driver';
import { adoptStandardQueue } from './adopt.js';
import { awsName } from './names.js';

export interface QueueRef {
  url: string;
  arn: string;
  fifo: boolean;
}

const BACKLOG_ATTRIBUTES: QueueAttributeName[] = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'];

/** How long "this topic has no FIFO twin" is believed before asking again. */
const ABSENT_TTL_MS = 2_000;
/** Timers and clocks of two processes do not tick alike: a little more than the TTL. */
const TTL_MARGIN_MS = 100;

/**
 * Topics are SNS topics; every subscription (and every queue) is an SQS queue subscribed to
 * its topic with raw delivery. `ordering: 'key'` makes both FIFO (`.fifo` twins of the same
 * names). Everything is created idempotently; attributes are *set* after creation, so two
 * declarations with other options never clash (the last one wins).
 */
export class Topology {
  private readonly topics = new Map<string, string>();
  private readonly queues = new Map<string, QueueRef>();
  private readonly absentFifoTopics = new Map<string, number>();
  /** When this process created or first found each FIFO twin. */
  private readonly fifoTopicsSeenAt = new Map<string, number>();
  /** FIFO queues whose standard twin this process has adopted already. */
  private readonly adopted = new Set<string>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly sns: SNSClient,
  ) {}

  async ensureQueue(name: string): Promise<QueueRef> {
    const topicArn = await this.topic(name, false);
    const queue = await this.queue(name, false);
    await this.subscribe(topicArn, queue);
    return queue;
  }

  /** Undecided ordering declares the standard queue; a key-ordered attach later adopts it (`adoptStandardQueue`). */
  async ensureSubscription(spec: SubscriptionDeclaration): Promise<QueueRef> {
    const fifo = spec.ordering === 'key';
    const topicArn = await this.topic(spec.topic, fifo);
    const queue = await this.queue(spec.subscription, fifo);
    await this.subscribe(topicArn, queue);
    if (spec.deadLetterQueue !== undefined) {
      const deadLetter = await this.ensureQueue(spec.deadLetterQueue);
      // Native redrive catches consumers that crash before settling, one delivery after core's
      // crash-loop guard would (at attempt maxAttempts + 1, with metadata): with maxReceiveCount =
      // maxAttempts, one redelivery too many (a lease lapsing under load) moved a message
      // natively, without the metadata a replay needs. A FIFO queue may only redrive to a FIFO
      // queue; there the portable layer's guard alone does it.
      if (!fifo) await this.setAttributes(queue, { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount: spec.maxAttempts + 1 }) });
    }
    if (fifo) {
      await this.untilEveryProducerKnows(awsName(spec.topic, true));
      if (!this.adopted.has(queue.url)) {
        await adoptStandardQueue(this.sqs, this.sns, await this.topic(spec.topic, false), awsName(spec.subscription, false), queue.url);
        this.adopted.add(queue.url);
      }
    }
    return queue;
  }

  /**
   * The approximate counts of the subscription's queues that exist: the FIFO one and the
   * standard one (both while a key-ordered subscription adopts a standard queue).
   */
  async backlog(subscription: string): Promise<number> {
    let messages = 0;
    let found = false;
    for (const fifo of [false, true]) {
      let url: string | undefined;
      try {
        url = (await this.sqs.send(new GetQueueUrlCommand({ QueueName: awsName(subscription, fifo) }))).QueueUrl;
      } catch (error) {
        if (/NonExistentQueue|does not exist/i.test(describeError(error))) continue;
        throw error;
      }
      if (!url) continue;
      found = true;
      const { Attributes = {} } = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: BACKLOG_ATTRIBUTES }));
      for (const name of BACKLOG_ATTRIBUTES) messages += Number(Attributes[name] ?? 0);
    }
    if (!found) throw new TopologyError(`no subscription ${subscription}: no SQS queue ${awsName(subscription, false)} (declare it with ensureSubscription or ensureQueue)`);
    return messages;
  }

  /** A temporary queue for an ephemeral subscriber, subscribed to the topic; `remove` deletes both. */
  async temporaryQueue(topic: string, name: string): Promise<{ queue: QueueRef; remove: () => Promise<void> }> {
    const topicArn = await this.topic(topic, false);
    const queue = await this.queue(name, false);
    const subscriptionArn = await this.subscribe(topicArn, queue);
    return {
      queue,
      remove: async () => {
        this.forget(queue);
        if (subscriptionArn) await this.sns.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn })).catch(() => undefined);
        await this.sqs.send(new DeleteQueueCommand({ QueueUrl: queue.url })).catch(() => undefined);
      },
    };
  }

  /** SNS topics a send to `topic` goes to: the standard one (created if missing) and its FIFO twin where one exists. */
  async publishTargets(topic: string): Promise<{ arn: string; fifo: boolean }[]> {
    const standard = await this.topic(topic, false);
    const targets = [{ arn: standard, fifo: false }];
    const fifoName = awsName(topic, true);
    const known = this.topics.get(fifoName);
    if (known) return [...targets, { arn: known, fifo: true }];
    const absentSince = this.absentFifoTopics.get(fifoName);
    if (absentSince !== undefined && Date.now() - absentSince < ABSENT_TTL_MS) return targets;
    const fifoArn = standard.replace(/:[^:]+$/, `:${fifoName}`);
    // "Absent" dates from the question, not the answer: a twin made while it was on its way
    // is not believed absent for longer than ABSENT_TTL_MS after it was made.
    const asked = Date.now();
    try {
      await this.sns.send(new GetTopicAttributesCommand({ TopicArn: fifoArn }));
      this.topics.set(fifoName, fifoArn);
      this.fifoTopicsSeenAt.set(fifoName, Date.now());
      return [...targets, { arn: fifoArn, fifo: true }];
    } catch {
      this.absentFifoTopics.set(fifoName, asked);
      return targets;
    }
  }

  /**
   * A producer in another process may believe "no twin" for ABSENT_TTL_MS from a question it
   * asked before the twin existed, so at the latest before this process saw it. Once that has
   * passed since then, every producer sends to the twin: a send made after a key-ordered
   * declaration returns reaches it (a second declaration soon after the first waits the rest).
   */
  private async untilEveryProducerKnows(fifoName: string): Promise<void> {
    const wait = (this.fifoTopicsSeenAt.get(fifoName) ?? 0) + ABSENT_TTL_MS + TTL_MARGIN_MS - Date.now();
    if (wait > 0) await sleep(wait);
  }

  forget(queue: QueueRef): void {
    for (const [name, ref] of this.queues) if (ref.url === queue.url) this.queues.delete(name);
  }

  private async topic(name: string, fifo: boolean): Promise<string> {
    const awsTopic = awsName(name, fifo);
    const cached = this.topics.get(awsTopic);
    if (cached) return cached;
    const created = await this.attempt(`SNS topic ${awsTopic}`, () =>
      this.sns.send(new CreateTopicCommand({ Name: awsTopic, ...(fifo ? { Attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'false' } } : {}) })),
    );
    const arn = created.TopicArn as string;
    this.topics.set(awsTopic, arn);
    this.absentFifoTopics.delete(awsTopic);
    if (fifo) this.fifoTopicsSeenAt.set(awsTopic, Date.now());
    return arn;
  }

  private async queue(name: string, fifo: boolean): Promise<QueueRef> {
    const awsQueue = awsName(name, fifo);
    const cached = this.queues.get(awsQueue);
    if (cached) return cached;
    const created = await this.attempt(`SQS queue ${awsQueue}`, () =>
      this.sqs.send(new CreateQueueCommand({ QueueName: awsQueue, ...(fifo ? { Attributes: { FifoQueue: 'true' } } : {}) })),
    );
    const url = created.QueueUrl as string;
    const attributes = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    const ref = { url, arn: attributes.Attributes?.QueueArn as string, fifo };
    this.queues.set(awsQueue, ref);
    return ref;
  }

  /** Let the topic write to the queue, then subscribe it with raw delivery (attributes kept). */
  private async subscribe(topicArn: string, queue: QueueRef): Promise<string | undefined> {
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: queue.arn, Condition: { ArnLike: { 'aws:SourceArn': topicArn.replace(/:[^:]+$/, ':*') } } }],
    };
    await this.setAttributes(queue, { Policy: JSON.stringify(policy) });
    const subscribed = await this.attempt(`subscription of ${queue.arn} to ${topicArn}`, () =>
      this.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queue.arn, Attributes: { RawMessageDelivery: 'true' }, ReturnSubscriptionArn: true })),
    );
    return subscribed.SubscriptionArn;
  }

  private async setAttributes(queue: QueueRef, attributes: Record<string, string>): Promise<void> {
    await this.attempt(`attributes of ${queue.url}`, () => this.sqs.send(new SetQueueAttributesCommand({ QueueUrl: queue.url, Attributes: attributes })));
  }

  private async attempt<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw new TopologyError(`declaring ${what} failed: ${describeError(error)}`, { cause: error });
    }
  }
}
