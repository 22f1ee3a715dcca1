import type { Driver, EncodedMessage } from '../contract/driver.js';
import type { SendReceipt } from '../contract/message.js';

/**
 * A driver for core's unit tests that keeps what it was given to send and accepts it (or does
 * what `send` says). Only `send` and the limits are real: enough for a Producer. Not built
 * into dist (tsconfig excludes src/testing).
 */
export function recordingDriver(send?: (topic: string, batch: EncodedMessage[]) => Promise<SendReceipt[]>): { driver: Driver; sent: EncodedMessage[] } {
  const sent: EncodedMessage[] = [];
  const driver = {
    backend: 'kafka',
    limits: { maxMessageBytes: 10_000, maxBatchMessages: 2, maxBatchBytes: 100_000 },
    traits: { retryKeepsKeyOrder: false, idsFromBroker: false },
    send:
      send ??
      (async (_topic: string, batch: EncodedMessage[]) => {
        sent.push(...batch);
        return batch.map((message) => ({ id: message.id }));
      }),
  } as unknown as Driver;
  return { driver, sent };
}
