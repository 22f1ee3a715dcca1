// Report fixtures the report tests share (no tests of its own).
import type { ComparisonReport } from './model.js';

/** Two clusters' failover figures, as `compare --failover` attaches them. */
export const failoverFixture = (): NonNullable<ComparisonReport['failover']> => ({
  'redis-cluster': {
    backend: 'redis',
    scenarios: {
      'node-failover': { status: 'pass', sent: 18_048, confirmed: 17_943, handled: 17_943, lost: 0, duplicates: 2, recoveryMs: 5_261, details: { runs: 3, orderViolations: 96, longestWithoutSendMs: 4_236, longestWithoutDeliveryMs: 4_215 } },
      'node-pause': { status: 'fail', sent: 18_034, confirmed: 18_034, handled: 17_947, lost: 87, duplicates: 4, recoveryMs: 11_062, details: { runs: 3, orderViolations: 137, longestWithoutSendMs: 10_020, longestWithoutDeliveryMs: 10_047 } },
    },
  },
  'kafka-cluster': {
    backend: 'kafka',
    scenarios: { 'node-failover': { status: 'pass', sent: 18_032, confirmed: 18_001, handled: 18_016, lost: 0, duplicates: 7, recoveryMs: null, details: { runs: 3, orderViolations: 0, longestWithoutSendMs: 13_094, longestWithoutDeliveryMs: 12_894 } } },
  },
});
