import { CONTENT_TYPE_BINARY, Header, MessageTooLargeError, encodedSizeBytes, type ReceivedMessage } from '@brokerkit/core';
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
    const overhead = encodedSizeBytes({ id, key: undefined, headers: { [Header.contentType]: CONTENT_TYPE_BINARY }, body: new Uint8Array(0) });
    const atLimit = new Uint8Array(limit - overhead).map((_, i) => (i * 31) % 256);
    let received: ReceivedMessage | undefined;
    await broker.consumer(queue, async (message) => {
      received = message;
    });
    const producer = broker.producer();
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
    return verdict({ limitBytes: limit, sentBodyBytes: atLimit.byteLength, roundTripped: intact, overLimitRejected: overError instanceof MessageTooLargeError }, [
      sendError !== undefined && `sending a message at the limit failed: ${String(sendError)}`,
      !received && 'the message at the limit never arrived',
      received && received.id !== id && 'the over-limit message was delivered',
      received && !intact && 'the body at the limit arrived changed',
      !(overError instanceof MessageTooLargeError) && `one byte over the limit gave ${overError === undefined ? 'no error' : String(overError)} instead of MessageTooLargeError`,
    ]);
  },
};
