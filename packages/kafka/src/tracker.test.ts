import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { PartitionTracker } from './tracker.js';

describe('PartitionTracker', () => {
  it('commits only the contiguous done prefix', () => {
    const tracker = new PartitionTracker(10, null);
    for (const offset of [10, 11, 12]) assert.equal(tracker.accept(offset), true);
    assert.equal(tracker.complete(11), false, '11 done, 10 still running: nothing to commit');
    assert.equal(tracker.committedOffset, 10);
    assert.equal(tracker.complete(10), true);
    assert.equal(tracker.committedOffset, 12, '10 and 11 done: commit 12');
    assert.equal(tracker.complete(12), true);
    assert.equal(tracker.committedOffset, 13);
  });

  it('a re-fetch does not hand out an offset twice', () => {
    const tracker = new PartitionTracker(0, null);
    assert.equal(tracker.accept(0), true);
    assert.equal(tracker.accept(1), true);
    tracker.complete(1);
    assert.equal(tracker.accept(0), false, 'in flight');
    assert.equal(tracker.accept(1), false, 'done, not committed yet');
    tracker.release(0);
    assert.equal(tracker.accept(0), true, 'released: may be handed out again');
  });

  it('offsets the fetch jumps over (compaction, transaction markers) do not block the commit', () => {
    const tracker = new PartitionTracker(0, null);
    tracker.accept(0);
    tracker.accept(3);
    tracker.complete(0);
    assert.equal(tracker.committedOffset, 3, '1 and 2 are not in the log: commit up to 3, which is still running');
    tracker.complete(3);
    assert.equal(tracker.committedOffset, 4);
  });

  it('offsets an earlier owner handed out count one more delivery; others none', () => {
    const first = new PartitionTracker(5, null);
    first.accept(5);
    first.accept(6);
    assert.equal(first.deliver(5), 0);
    assert.equal(first.deliver(6), 0);
    assert.equal(first.needsMark(), true);
    const mark = first.mark();
    assert.deepEqual(mark, { offset: '5', metadata: JSON.stringify({ d: '6', n: 0 }) });
    assert.equal(first.needsMark(), false);
    first.accept(7);
    first.accept(8);
    assert.equal(first.deliver(7), 0);
    assert.equal(first.mark().metadata, JSON.stringify({ d: '8', n: 0 }), 'a mark covers everything fetched');
    assert.equal(first.deliver(8), 0);
    assert.equal(first.needsMark(), false, 'so handing out 8 needs no new commit');

    // The owner crashed; the next one reads the mark.
    const next = new PartitionTracker(5, mark.metadata);
    next.accept(5);
    next.accept(7);
    assert.equal(next.deliver(5), 1, 'handed out once before');
    assert.equal(next.deliver(7), 0, 'never handed out');
    // A second crash: the inherited range counts two extra deliveries.
    const third = new PartitionTracker(5, next.mark().metadata);
    third.accept(5);
    assert.equal(third.deliver(5), 2);
  });

  it('a mark past the committed offset only', () => {
    const tracker = new PartitionTracker(0, JSON.stringify({ d: '3', n: 0 }));
    tracker.accept(0);
    tracker.deliver(0);
    tracker.complete(0);
    assert.equal(tracker.deliver(1), 1);
    const stale = new PartitionTracker(10, JSON.stringify({ d: '3', n: 4 }));
    stale.accept(10);
    assert.equal(stale.deliver(10), 0, 'a mark behind the committed offset is history');
    assert.equal(new PartitionTracker(0, 'not json').accept(0), true);
  });
});
