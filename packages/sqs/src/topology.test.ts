import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CreateTopicCommand, GetTopicAttributesCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ABSENT_TTL_MS, Topology } from './topology.js';

/**
 * What a send asks SNS about a topic's FIFO twin, seen from the client's side: the stand-in
 * client records each command and answers GetTopicAttributes when the test lets it. What is
 * tested is when the topology asks, not SNS (the integration suite runs FIFO against a real one).
 */
function recordingSns(): { sns: SNSClient; asked: string[]; answer: (exists: boolean) => void } {
  const asked: string[] = [];
  let pending: ((exists: boolean) => void)[] = [];
  const sns = {
    send: async (command: unknown) => {
      if (command instanceof CreateTopicCommand) return { TopicArn: `arn:aws:sns:us-east-1:000000000000:${command.input.Name}` };
      if (command instanceof GetTopicAttributesCommand) {
        asked.push(command.input.TopicArn as string);
        const exists = await new Promise<boolean>((resolve) => pending.push(resolve));
        if (!exists) throw Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException' });
        return { Attributes: {} };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as SNSClient;
  const answer = (exists: boolean): void => {
    const waiting = pending;
    pending = [];
    for (const resolve of waiting) resolve(exists);
  };
  return { sns, asked, answer };
}

const arns = (targets: { arn: string; fifo: boolean }[]): string[] => targets.map((target) => target.arn.split(':').pop() as string);
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Topology.publishTargets', () => {
  it("asks about the FIFO twin on a topic's first send, then again after a send every ABSENT_TTL_MS, which no send waits for", async () => {
    const { sns, asked, answer } = recordingSns();
    let now = 1_000_000;
    const topology = new Topology({} as SQSClient, sns, () => now);

    const first = topology.publishTargets('orders');
    await turn();
    assert.equal(asked.length, 1, 'the first send asks');
    answer(false);
    assert.deepEqual(arns(await first), ['orders']);

    now += ABSENT_TTL_MS - 1;
    assert.deepEqual(arns(await topology.publishTargets('orders')), ['orders']);
    topology.recheckFifoTwin('orders');
    assert.equal(asked.length, 1, 'within the TTL: no question');

    now += 1;
    // The twin exists now; its answer is held back, and the sends do not wait for it.
    for (let send = 0; send < 3; send += 1) {
      assert.deepEqual(arns(await topology.publishTargets('orders')), ['orders']);
      topology.recheckFifoTwin('orders');
    }
    await turn();
    assert.equal(asked.length, 2, 'one question in flight, however many sends');
    answer(true);
    await turn();
    assert.deepEqual(arns(await topology.publishTargets('orders')), ['orders', 'orders.fifo'], 'the sends after the answer go to the twin too');
    now += 10 * ABSENT_TTL_MS;
    topology.recheckFifoTwin('orders');
    assert.deepEqual(arns(await topology.publishTargets('orders')), ['orders', 'orders.fifo']);
    assert.equal(asked.length, 2, 'a twin found is not asked about again');
    topology.recheckFifoTwin('unsent');
    assert.equal(asked.length, 2, 'a topic never sent to is not asked about after a send');
  });
});
