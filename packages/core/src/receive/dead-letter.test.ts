import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { decideAfterFailure, withDeadLetterHeaders } from './dead-letter.js';

describe('decideAfterFailure', () => {
  it('retries until the attempts are spent, then dead-letters', () => {
    assert.deepEqual([1, 2, 3].map((attempt) => decideAfterFailure(attempt, 3, true)), ['retry', 'retry', 'dead-letter']);
  });

  it('never retries forever: past the limit (a broker that over-counts) it still dead-letters', () => {
    assert.equal(decideAfterFailure(9, 3, true), 'dead-letter');
  });

  it('with dead-lettering off, discards at the limit (reported by the caller) instead of looping', () => {
    assert.equal(decideAfterFailure(3, 3, false), 'discard');
    assert.equal(decideAfterFailure(2, 3, false), 'retry');
  });
});

describe('withDeadLetterHeaders', () => {
  const message = { id: 'm-1', key: 'k', headers: { 'x-app': 'v', 'bk-content-type': 'application/json' }, body: new Uint8Array([1]) };
  const facts = { topic: 'orders', subscription: 'billing', attempts: 3, reason: 'max-attempts' as const, lastError: 'Error: nope', publishedAt: new Date('2026-01-02T03:04:05Z') };

  it('keeps the original and records origin, attempts, reason, error and times', () => {
    const moved = withDeadLetterHeaders(message, facts, new Date('2026-01-02T03:05:00Z'));
    assert.equal(moved.id, 'm-1');
    assert.equal(moved.body, message.body);
    assert.deepEqual(moved.headers, {
      'x-app': 'v',
      'bk-content-type': 'application/json',
      'bk-dead-letter-reason': 'max-attempts',
      'bk-original-id': 'm-1',
      'bk-original-topic': 'orders',
      'bk-original-subscription': 'billing',
      'bk-original-published-at': '2026-01-02T03:04:05.000Z',
      'bk-attempts': '3',
      'bk-last-error': 'Error: nope',
      'bk-dead-lettered-at': '2026-01-02T03:05:00.000Z',
    });
  });

  it('bounds the error text so a huge stack cannot push the message over the size limit', () => {
    const moved = withDeadLetterHeaders(message, { ...facts, lastError: 'x'.repeat(50_000) });
    assert.equal(moved.headers['bk-last-error']?.length, 1_000);
  });
});
