import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { BUILTIN_SCHEMES } from '@brokerkit/core';
import { driverFactory } from './index.js';

test('connect() finds this adapter by its scheme without a registerDriver call', () => {
  for (const scheme of driverFactory.schemes) assert.equal(BUILTIN_SCHEMES[scheme], '@brokerkit/nats', `${scheme}:// is a built-in scheme`);
});
