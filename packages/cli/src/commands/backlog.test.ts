import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { connect, registerDriver } from '@brokerkit/core';
import { driverFactory as memoryDriver } from '@brokerkit/memory';
import { backlog } from './backlog.js';
import { UsageError } from './usage-error.js';

registerDriver(memoryDriver);

const capture = (): { stream: Writable; text: () => string } => {
  let text = '';
  const stream = new Writable({ write: (chunk, _encoding, done) => ((text += String(chunk)), done()) });
  return { stream, text: () => text };
};

describe('brokerkit backlog', () => {
  it('prints each subscription and queue with its count, and names one it could not ask (exit 1)', async () => {
    const url = 'memory://cli-backlog';
    const broker = await connect(url);
    await broker.ensureQueue('jobs');
    await broker.ensureSubscription('orders', 'billing');
    await broker.producer().sendBatch('jobs', [{ body: 1 }, { body: 2 }]);
    await broker.producer().send('orders', { body: 3 });
    const out = capture();
    const code = await backlog(['jobs', 'orders/billing', 'orders/nobody'], { url }, out.stream);
    const lines = out.text().trim().split('\n');
    assert.match(lines[0] ?? '', /^subscription\s+messages\s+oldest\s+what is counted$/);
    assert.match(lines[1] ?? '', /^jobs\s+2\s/);
    assert.match(lines[2] ?? '', /^orders\/billing\s+1\s/);
    assert.match(lines[3] ?? '', /^orders\/nobody\s+—.*TopologyError: no subscription nobody of orders/);
    assert.equal(code, 1);
    await broker.close();
  });

  it('writes JSON with --json, and refuses to run without a URL or a name', async () => {
    const out = capture();
    assert.equal(await backlog(['empty'], { url: 'memory://cli-backlog-json', json: true }, out.stream), 1);
    assert.equal(JSON.parse(out.text()).subscriptions[0].subscription, 'empty');
    await assert.rejects(backlog(['jobs'], {}), UsageError);
    await assert.rejects(backlog([], { url: 'memory://' }), UsageError);
  });
});
