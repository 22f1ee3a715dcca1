import { MessageTooLargeError, type ReceivedMessage } from '@brokerkit/core';
import { waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

export const sizeLimit: Check = {
  id: 'size-limit',
  title: 'a message exactly at the size limit round-trips; one byte over is a typed error at send',
  async run(context) {
    const limit = context.capabilities.maxMessageBytes;
    const broker = await context.open();
    const queue = context.unique('size');
    const id = `${queue}-at-limit`;
    const producer = broker.producer();
    // What brokerkit adds to every message (content type; trace context when an OpenTelemetry
    // SDK is registered) counts toward the limit: learn it from the size a far-too-large
    // message is refused with, so "at the limit" is exact whatever is registered.
    const probe = await producer.send(queue, { id: `${queue}-probe`, body: new Uint8Array(limit + 1) }).catch((error: unknown) => error);
    if (!(probe instanceof MessageTooLargeError)) {
      return { status: 'fail', reason: `a body of limit + 1 bytes gave ${probe instanceof Error ? String(probe) : 'no error'} instead of MessageTooLargeError`, figures: { limitBytes: limit } };
    }
    const overhead = probe.sizeBytes - (limit + 1);
    const atLimit = new Uint8Array(limit - overhead).map((_, i) => (i * 31) % 256);
    let received: ReceivedMessage | undefined;
    await broker.consumer(queue, async (message) => {
      received = message;
    });
    let overError: unknown;
    try {
      await producer.send(queue, { id: `${queue}-over`, body: new Uint8Array(limit - overhead + 1) });
    } catch (error) {
      overError = error;
    }
    let sendError: unknown;
    try {
      await producer.send(queue, { id, body: atLimit });
    } catch (error) {
      sendError = error;
    }
    await waitUntil(() => received !== undefined, context.deadline(20_000));
    const intact = received?.body instanceof Uint8Array && Buffer.from(received.body).equals(Buffer.from(atLimit));
    return verdict({ limitBytes: limit, metadataBytes: overhead, sentBodyBytes: atLimit.byteLength, roundTripped: intact, overLimitRejected: overError instanceof MessageTooLargeError }, [
      sendError !== undefined && `sending a message at the limit failed: ${String(sendError)}`,
      !received && 'the message at the limit never arrived',
      received && received.id !== id && 'the over-limit message was delivered',
      received && !intact && 'the body at the limit arrived changed',
      !(overError instanceof MessageTooLargeError) && `one byte over the limit gave ${overError === undefined ? 'no error' : String(overError)} instead of MessageTooLargeError`,
    ]);
  },
};
