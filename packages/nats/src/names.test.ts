import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { ConfigError } from '@brokerkit/core';
import { consumerOf, streamOf, subjectOf } from './names.js';

it('names: subjects as given, stream and consumer names without dots and apart from look-alikes', () => {
  assert.equal(subjectOf('orders.dlq'), 'orders.dlq');
  assert.equal(streamOf('orders'), 'orders');
  assert.match(streamOf('orders.dlq'), /^orders_dlq-[0-9a-f]{8}$/);
  assert.notEqual(streamOf('a.b'), streamOf('a_b'));
  assert.equal(consumerOf('billing'), 'billing');
  assert.throws(() => subjectOf('a..b'), (error: unknown) => error instanceof ConfigError && error.field === 'topic');
  assert.throws(() => subjectOf('trailing.'), ConfigError);
});

it('message schedules are used from server 2.12 on', async () => {
  const { hasSchedules } = await import('./driver.js');
  assert.equal(hasSchedules('2.15.3'), true);
  assert.equal(hasSchedules('2.12.0'), true);
  assert.equal(hasSchedules('2.11.9'), false);
  assert.equal(hasSchedules('3.0.0'), true);
  assert.equal(hasSchedules(undefined), false);
});
