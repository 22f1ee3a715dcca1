import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { backoffDelayMs } from './backoff.js';

const exact = { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0 };

describe('backoffDelayMs', () => {
  it('grows geometrically from initialMs', () => {
    assert.deepEqual([1, 2, 3, 4].map((a) => backoffDelayMs(a, exact)), [100, 200, 400, 800]);
  });

  it('is capped at maxMs', () => {
    assert.equal(backoffDelayMs(5, exact), 1_000);
    assert.equal(backoffDelayMs(60, exact), 1_000);
  });

  it('treats attempt 0 or below as the first', () => {
    assert.equal(backoffDelayMs(0, exact), 100);
  });

  it('with jitter draws from [base × (1 - jitter), base] and never lengthens a delay', () => {
    const jittered = { ...exact, jitter: 0.5 };
    assert.equal(backoffDelayMs(3, jittered, () => 0), 200);
    assert.equal(backoffDelayMs(3, jittered, () => 1), 400);
    assert.equal(backoffDelayMs(3, jittered, () => 0.5), 300);
  });

  it('full jitter can reach zero', () => {
    assert.equal(backoffDelayMs(2, { ...exact, jitter: 1 }, () => 0), 0);
  });

  it('multiplier 1 gives a constant delay', () => {
    assert.deepEqual([1, 2, 9].map((a) => backoffDelayMs(a, { ...exact, multiplier: 1 })), [100, 100, 100]);
  });
});
