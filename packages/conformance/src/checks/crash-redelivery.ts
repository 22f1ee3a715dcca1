import type { ReceivedMessage } from '@brokerkit/core';
import { waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

export const crashRedelivery: Check = {
  id: 'crash-redelivery',
  title: 'a connection dropped without ack redelivers the message to another instance',
  async run(context) {
    if (!context.capabilities.redeliveryOnCrash) return { status: 'unsupported', reason: 'backend reports no redelivery after a crash', figures: {} };
    const { ackTimeoutMs } = context.timing;
    const queue = context.unique('crash');
    const crashing = await context.open();
    await crashing.ensureQueue(queue);
    let receivedByFirst: ReceivedMessage | undefined;
    // The first instance takes the message and never finishes it.
    await crashing.consumer(queue, (message) => {
      receivedByFirst = message;
      return new Promise<void>(() => undefined);
    }, { ackTimeoutMs });
    await crashing.producer().send(queue, { body: { job: 'survive a crash' } });
    await waitUntil(() => receivedByFirst !== undefined, context.deadline(15_000));
    if (!receivedByFirst) return { status: 'fail', reason: 'the first instance never received the message', figures: {} };
    const crashedAt = Date.now();
    await crashing.destroy();
    let redelivered: ReceivedMessage | undefined;
    let redeliveredAfterMs = -1;
    const survivor = await context.open();
    await survivor.consumer(queue, async (message) => {
      if (redelivered) return;
      redelivered = message;
      redeliveredAfterMs = Date.now() - crashedAt;
    }, { ackTimeoutMs });
    await waitUntil(() => redelivered !== undefined, context.deadline(ackTimeoutMs + 20_000));
    const exact = context.capabilities.attemptCount === 'exact';
    const attempt = redelivered?.attempt ?? 0;
    return verdict({ redelivered: redelivered !== undefined, redeliveredAfterMs, attempt, ackTimeoutMs }, [
      !redelivered && 'the message was never redelivered after the crash',
      redelivered && redelivered.id !== receivedByFirst.id && 'a different message arrived',
      redelivered && exact && attempt !== 2 && `attempt ${attempt} ≠ 2 after one crashed delivery`,
      redelivered && !exact && attempt < 2 && `attempt ${attempt} did not grow`,
    ]);
  },
};
