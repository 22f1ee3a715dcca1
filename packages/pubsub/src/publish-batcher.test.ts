import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { IncompleteReplyError, PublishBatcher, type PublishItem } from './publish-batcher.js';

const item = (text: string, attributes: Record<string, string> = {}): PublishItem => ({ data: Buffer.from(text), attributes });

/** A batcher whose requests are recorded and answered with `id-<text>` per message, unless `answer` says otherwise. */
function recording(limits: { maxMessages?: number; maxBytes?: number } = {}, answer?: (items: PublishItem[]) => Promise<(string | undefined)[]>) {
  const requests: string[][] = [];
  const batcher = new PublishBatcher({ maxMessages: limits.maxMessages ?? 1_000, maxBytes: limits.maxBytes ?? 1_000_000, windowMs: 1 }, async (items) => {
    requests.push(items.map((i) => i.data.toString()));
    return answer ? answer(items) : items.map((i) => `id-${i.data.toString()}`);
  });
  return { batcher, requests };
}

describe('PublishBatcher', () => {
  it('sends made within the window share one request, in order, and each gets its own ids', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { batcher, requests } = recording();
    const first = batcher.add([item('a'), item('b')]);
    const second = batcher.add([item('c')]);
    assert.equal(requests.length, 0, 'nothing leaves before the window ends');
    t.mock.timers.tick(1);
    assert.deepEqual(await first, ['id-a', 'id-b']);
    assert.deepEqual(await second, ['id-c']);
    assert.deepEqual(requests, [['a', 'b', 'c']]);
  });

  it('a full request leaves at once, and a send that would overfill one waits for the next, whole', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { batcher, requests } = recording({ maxMessages: 3 });
    const first = batcher.add([item('a'), item('b')]);
    const second = batcher.add([item('c'), item('d')]);
    assert.deepEqual(requests, [['a', 'b']], 'the waiting send left before the one that did not fit');
    const third = batcher.add([item('e')]);
    assert.deepEqual(requests, [['a', 'b'], ['c', 'd', 'e']], 'a request that reached the limit left without waiting');
    assert.deepEqual(await Promise.all([first, second, third]), [['id-a', 'id-b'], ['id-c', 'id-d'], ['id-e']]);
  });

  it('counts data and attribute bytes against the request limit', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { batcher, requests } = recording({ maxBytes: 20 });
    const first = batcher.add([item('0123456789')]);
    const second = batcher.add([item('x', { 'bk-id': 'abcdef' })]);
    assert.deepEqual(requests, [['0123456789']], '10 bytes waited; with 12 more (1 of data, 11 of attribute) they would be over 20');
    t.mock.timers.tick(1);
    await Promise.all([first, second]);
    assert.deepEqual(requests, [['0123456789'], ['x']]);
  });

  it('a failed request fails every send in it; a reply short of ids fails the sends it does not cover', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const refused = new Error('UNAVAILABLE');
    const failing = recording({}, () => Promise.reject(refused));
    const a = failing.batcher.add([item('a')]);
    const b = failing.batcher.add([item('b')]);
    t.mock.timers.tick(1);
    await assert.rejects(a, (error: unknown) => error === refused);
    await assert.rejects(b, (error: unknown) => error === refused);

    const short = recording({}, async (items) => items.slice(1).map((i) => `id-${i.data.toString()}`));
    const c = short.batcher.add([item('c')]);
    const d = short.batcher.add([item('d')]);
    t.mock.timers.tick(1);
    await assert.rejects(c, (error: unknown) => error instanceof IncompleteReplyError && /named 1 message ids for 2 messages/.test(error.message));
    await assert.rejects(d, IncompleteReplyError);
  });

  it('flush() sends what waits without waiting for the window', async () => {
    const { batcher, requests } = recording();
    let replied = false;
    const sent = batcher.add([item('a')]).then((ids) => ((replied = true), ids));
    const flushed = batcher.flush();
    assert.deepEqual(requests, [['a']]);
    await flushed;
    await Promise.resolve();
    assert.equal(replied, true, 'flush() resolved once the request had its reply');
    assert.deepEqual(await sent, ['id-a']);
    await batcher.flush();
    assert.equal(requests.length, 1, 'nothing waiting, nothing sent');
  });
});
