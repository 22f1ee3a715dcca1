import { strict as assert } from 'node:assert';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { ConnectionError, TimeoutError } from '@brokerkit/core';
import { codecsWanted, driverFactory } from './driver.js';

// node:test runs each file in a process of its own: nothing else here has touched kafkajs' modules.
const require = createRequire(import.meta.url);
const MODULES: [string, symbol][] = [
  ['kafkajs/src/protocol/recordBatch/record/v0/decoder', Symbol.for('brokerkit.kafkajs-record-decoder')],
  ['kafkajs/src/protocol/recordBatch/record/v0', Symbol.for('brokerkit.kafkajs-record-encoder')],
  ['kafkajs/src/protocol/recordBatch/header/v0', Symbol.for('brokerkit.kafkajs-header-encoder')],
];
/** Which of kafkajs' record modules are brokerkit's replacements now. */
const replaced = (): string[] => MODULES.filter(([path, mark]) => (require.cache[require.resolve(path)]?.exports as Record<symbol, unknown> | undefined)?.[mark] === true).map(([path]) => path);

/** Open a connection to a port where nothing listens: the codecs are decided before connecting. */
async function openUnreachable(query: string): Promise<void> {
  await assert.rejects(driverFactory.open(new URL(`kafka://127.0.0.1:1?connectTimeoutMs=300${query}`)), (e: unknown) => e instanceof ConnectionError || e instanceof TimeoutError);
}

describe("opting out of brokerkit's kafkajs codecs", () => {
  it('the environment variable wins over the URL', () => {
    assert.equal(codecsWanted(true, {}), true);
    assert.equal(codecsWanted(false, {}), false);
    assert.equal(codecsWanted(true, { BROKERKIT_KAFKA_REPLACE_CODECS: 'false' }), false);
    assert.equal(codecsWanted(true, { BROKERKIT_KAFKA_REPLACE_CODECS: '0' }), false);
    assert.equal(codecsWanted(true, { BROKERKIT_KAFKA_REPLACE_CODECS: 'true' }), true);
  });

  it("replaceCodecs=false on the URL leaves kafkajs' own modules in place; the default replaces them", async () => {
    await openUnreachable('&replaceCodecs=false');
    assert.deepEqual(replaced(), []);
    process.env.BROKERKIT_KAFKA_REPLACE_CODECS = 'false';
    try {
      await openUnreachable('');
      assert.deepEqual(replaced(), [], 'the environment variable keeps them too');
    } finally {
      delete process.env.BROKERKIT_KAFKA_REPLACE_CODECS;
    }
    await openUnreachable('');
    assert.deepEqual(replaced(), MODULES.map(([path]) => path));
  });
});
