import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { failureOf } from './bench.js';

describe('failureOf', () => {
  it("names the thrown error of a run that died with an error object printed below it, not Node's version line", () => {
    const stderr = [
      'file:///work/packages/bench/dist/worker.js:31',
      '    await producer.send(record);',
      '    ^',
      '',
      "KafkaJSProtocolError: This server does not host this topic-partition",
      '    at createErrorFromCode (/k/src/protocol/error.js:581:10) {',
      "  type: 'UNKNOWN_TOPIC_OR_PARTITION',",
      '  retriable: true',
      '}',
      '',
      'Node.js v20.20.2',
      '',
    ].join('\n');
    assert.equal(failureOf(stderr), "KafkaJSProtocolError: This server does not host this topic-partition | type: 'UNKNOWN_TOPIC_OR_PARTITION', | retriable: true | }");
  });

  it('gives the last lines alone when they hold the error, and nothing for an empty stderr', () => {
    assert.equal(failureOf('warming up\nError: timed out after 60000 ms waiting for 2000 messages\n'), 'warming up | Error: timed out after 60000 ms waiting for 2000 messages');
    assert.equal(failureOf(''), '');
  });
});
