import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { PartitionTracker } from './tracker.js';

describe('PartitionTracker', () => {
  it('commits only the contiguous done prefix', () => {
    const tracker = new PartitionTracker(10n, null);
    for (const offset of [10n, 11n, 12n]) assert.equal(tracker.accept(offset), true);
    assert.equal(tracker.complete(11n), false, '11 done, 10 still running: nothing to commit');
    assert.equal(tracker.committedOffset, 10n);
    assert.equal(tracker.complete(10n), true);
    assert.equal(tracker.committedOffset, 12n, '10 and 11 done: commit 12');
    assert.equal(tracker.complete(12n), true);
    assert.equal(tracker.committedOffset, 13n);
  });

  it('a re-fetch does not hand out an offset twice', () => {
    const tracker = new PartitionTracker(0n, null);
    assert.equal(tracker.accept(0n), true);
    assert.equal(tracker.accept(1n), true);
    tracker.complete(1n);
    assert.equal(tracker.accept(0n), false, 'in flight');
    assert.equal(tracker.accept(1n), false, 'done, not committed yet');
    tracker.release(0n);
    assert.equal(tracker.accept(0n), true, 'released: may be handed out again');
  });

  it('offsets the fetch jumps over (compaction, transaction markers) do not block the commit', () => {
    const tracker = new PartitionTracker(0n, null);
    tracker.accept(0n);
    tracker.accept(3n);
    tracker.complete(0n);
    assert.equal(tracker.committedOffset, 3n, '1 and 2 are not in the log: commit up to 3, which is still running');
    tracker.complete(3n);
    assert.equal(tracker.committedOffset, 4n);
  });

  it('offsets an earlier owner handed out count one more delivery; others none', () => {
    const first = new PartitionTracker(5n, null);
    first.accept(5n);
    first.accept(6n);
    assert.equal(first.deliver(5n), 0);
    assert.equal(first.deliver(6n), 0);
    assert.equal(first.needsMark(), true);
    const mark = first.mark();
    assert.deepEqual(mark, { offset: '5', metadata: JSON.stringify({ d: '6', n: 0 }) });
    assert.equal(first.needsMark(), false);
    first.accept(7n);
    first.accept(8n);
    assert.equal(first.deliver(7n), 0);
    assert.equal(first.mark().metadata, JSON.stringify({ d: '8', n: 0 }), 'a mark covers everything fetched');
    assert.equal(first.deliver(8n), 0);
    assert.equal(first.needsMark(), false, 'so handing out 8 needs no new commit');

    // The owner crashed; the next one reads the mark.
    const next = new PartitionTracker(5n, mark.metadata);
    next.accept(5n);
    next.accept(7n);
    assert.equal(next.deliver(5n), 1, 'handed out once before');
    assert.equal(next.deliver(7n), 0, 'never handed out');
    // A second crash: the inherited range counts two extra deliveries.
    const third = new PartitionTracker(5n, next.mark().metadata);
    third.accept(5n);
    assert.equal(third.deliver(5n), 2);
  });

  it('a mark past the committed offset only', () => {
    const tracker = new PartitionTracker(0n, JSON.stringify({ d: '3', n: 0 }));
    tracker.accept(0n);
    tracker.deliver(0n);
    tracker.complete(0n);
    assert.equal(tracker.deliver(1n), 1);
    const stale = new PartitionTracker(10n, JSON.stringify({ d: '3', n: 4 }));
    stale.accept(10n);
    assert.equal(stale.deliver(10n), 0, 'a mark behind the committed offset is history');
    assert.equal(new PartitionTracker(0n, 'not json').accept(0n), true);
  });
});
