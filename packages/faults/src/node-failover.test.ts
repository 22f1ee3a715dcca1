import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { tally } from './node-failover.js';

const at = (id: string, time: number): { id: string; at: number } => ({ id, at: time });

describe('node-failover tally', () => {
  it('counts lost (confirmed only), duplicates and same-key order violations', () => {
    const arrivals = [at('k0:0', 10), at('k1:0', 20), at('k0:2', 30), at('k0:1', 40), at('k0:2', 50), at('k1:1', 60)];
    // k0:3 confirmed, never handled: lost. k1:2 failed to send: not lost, though not handled either.
    const confirmed = new Set(['k0:0', 'k0:1', 'k0:2', 'k0:3', 'k1:0', 'k1:1']);
    const figures = tally(arrivals, confirmed, [5, 15, 25, 35, 45, 55], { sent: 7, failedSends: 1, started: 0, faultedAt: 25, ended: 100 });
    assert.equal(figures.lost, 1);
    assert.equal(figures.duplicates, 1);
    assert.equal(figures.orderViolations, 1, 'k0:1 after k0:2');
    assert.equal(figures.handled, 5);
    assert.equal(figures.confirmed, 6);
  });

  it('measures the outage until the producer stopped, also when nothing was confirmed after the fault', () => {
    const figures = tally([at('k0:0', 10), at('k0:1', 20)], new Set(['k0:0', 'k0:1']), [8, 18], { sent: 5, failedSends: 3, started: 0, faultedAt: 20, ended: 1_000 });
    assert.equal(figures.longestWithoutSendMs, 982);
    assert.equal(figures.longestWithoutDeliveryMs, 980);
    assert.equal(figures.throughputBackMs, null, 'no delivery after the fault: never back');
  });

  it('says when throughput is back: the first second after the outage at 80 % of the rate before', () => {
    // 10 per second before the fault at 1 000 ms; nothing for 2 s; then 10 per second again.
    const before = Array.from({ length: 10 }, (_, i) => at(`k0:${i}`, i * 100));
    const after = Array.from({ length: 10 }, (_, i) => at(`k0:${10 + i}`, 3_000 + i * 100));
    const figures = tally([...before, ...after], new Set([...before, ...after].map((a) => a.id)), [], { sent: 20, failedSends: 0, started: 0, faultedAt: 1_000, ended: 4_000 });
    assert.equal(figures.throughputBackMs, 3_000, 'the second from 3 000 to 4 000 ms, counted from the fault');
  });
});
