import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { TurnBatcher } from './turn-batcher.js';

describe('TurnBatcher', () => {
  it('sends the calls of one turn as one batch, and later calls as another', async () => {
    const sent: number[][] = [];
    const batcher = new TurnBatcher<number>(100, async (items) => {
      sent.push(items);
    });
    await Promise.all([1, 2, 3].map((n) => batcher.add(n)));
    await batcher.add(4);
    assert.deepEqual(sent, [[1, 2, 3], [4]]);
  });

  it('never sends more than the batch limit in one request', async () => {
    const sent: number[][] = [];
    const batcher = new TurnBatcher<number>(2, async (items) => {
      sent.push(items);
    });
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)));
    assert.deepEqual(sent, [[1, 2], [3, 4], [5]]);
  });

  it('rejects only the entries that failed, and every entry when the request fails', async () => {
    const partial = new TurnBatcher<string>(10, async (items) => items.map((item) => (item === 'bad' ? new Error(`refused ${item}`) : undefined)));
    const outcomes = await Promise.allSettled(['a', 'bad', 'b'].map((item) => partial.add(item)));
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /refused bad/);

    const down = new TurnBatcher<string>(10, () => Promise.reject(new Error('connection lost')));
    const all = await Promise.allSettled(['a', 'b'].map((item) => down.add(item)));
    assert.deepEqual(all.map((o) => o.status), ['rejected', 'rejected']);
  });
});
