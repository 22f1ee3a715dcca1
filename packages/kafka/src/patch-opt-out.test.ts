import { strict as assert } from 'node:assert';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { ConnectionError, TimeoutError } from '@brokerkit/core';
import { driverFactory, patchesWanted } from './driver.js';

// node:test runs each file in a process of its own: nothing else here has touched kafkajs' modules.
const require = createRequire(import.meta.url);
const QUEUE = 'kafkajs/src/network/requestQueue/index';
const MODULES: [string, symbol][] = [
  ['kafkajs/src/protocol/recordBatch/record/v0/decoder', Symbol.for('brokerkit.kafkajs-record-decoder')],
  ['kafkajs/src/protocol/recordBatch/record/v0', Symbol.for('brokerkit.kafkajs-record-encoder')],
  ['kafkajs/src/protocol/recordBatch/header/v0', Symbol.for('brokerkit.kafkajs-header-encoder')],
];
/** Which of kafkajs' record modules are brokerkit's replacements now, and whether its request queue has brokerkit's timer. */
const replaced = (): string[] => [
  ...MODULES.filter(([path, mark]) => (require.cache[require.resolve(path)]?.exports as Record<symbol, unknown> | undefined)?.[mark] === true).map(([path]) => path),
  ...((require.cache[require.resolve(QUEUE)]?.exports as { prototype: Record<symbol, unknown> } | undefined)?.prototype[Symbol.for('brokerkit.kafkajs-request-queue-timer')] === true ? [QUEUE] : []),
];

/** Open a connection to a port where nothing listens: the codecs are decided before connecting. */
async function openUnreachable(query: string): Promise<void> {
  await assert.rejects(driverFactory.open(new URL(`kafka://127.0.0.1:1?connectTimeoutMs=300${query}`)), (e: unknown) => e instanceof ConnectionError || e instanceof TimeoutError);
}

describe("opting out of brokerkit's changes to kafkajs", () => {
  it('the environment variable wins over the URL', () => {
    assert.equal(patchesWanted(true, {}), true);
    assert.equal(patchesWanted(false, {}), false);
    assert.equal(patchesWanted(true, { BROKERKIT_KAFKA_PATCH_KAFKAJS: 'false' }), false);
    assert.equal(patchesWanted(true, { BROKERKIT_KAFKA_PATCH_KAFKAJS: '0' }), false);
    assert.equal(patchesWanted(true, { BROKERKIT_KAFKA_PATCH_KAFKAJS: 'true' }), true);
  });

  it("patchKafkajs=false on the URL leaves kafkajs' own codecs and request queue in place; the default replaces them", async () => {
    await openUnreachable('&patchKafkajs=false');
    assert.deepEqual(replaced(), []);
    process.env.BROKERKIT_KAFKA_PATCH_KAFKAJS = 'false';
    try {
      await openUnreachable('');
      assert.deepEqual(replaced(), [], 'the environment variable keeps them too');
    } finally {
      delete process.env.BROKERKIT_KAFKA_PATCH_KAFKAJS;
    }
    await openUnreachable('');
    assert.deepEqual(replaced(), [...MODULES.map(([path]) => path), QUEUE]);
  });
});
