import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { failoverFixture } from './fixtures.test.js';
import { renderMarkdown } from './markdown.js';
import { emulatorFailures, failedChecks, failoverRows, faultText, splitChecks, summaryOf, type ComparisonReport } from './model.js';
import { renderMatrix } from './terminal.js';

describe('faultText', () => {
  it('shows crash-recovery as the time per round after the kill, beside the lease and what it is', () => {
    const report: ComparisonReport = {
      generatedAt: '2026-12-05T00:00:00.000Z',
      backends: {
        redis: {
          url: 'redis://127.0.0.1:6379/0',
          capabilities: null,
          checks: {},
          faults: {
            'crash-recovery': { status: 'pass', lost: 0, duplicates: 0, sent: 1_100, recoveryMs: 6_339, details: { leaseMs: 5_000, lease: 'idle entries are claimed', recovery100Ms: 6_126, recovery1000Ms: 6_339 } },
            poison: { status: 'pass', lost: 0, duplicates: 1, sent: 21 },
            'key-crash': { status: 'pass', lost: 0, duplicates: 1, sent: 6_000, recoveryMs: 3_479, details: { kills: 3, consumers: 3, ordering: 'key', violations: 0, handoverMs: '2643, 3479, 2782', longestHandoverMs: 3_479 } },
          },
        },
      },
    };
    assert.equal(faultText(report, 'redis', 'crash-recovery'), 'pass: 100 in 6.1 s, 1000 in 6.3 s after the kill; lease 5 s (idle entries are claimed)');
    assert.equal(faultText(report, 'redis', 'poison'), 'pass: 0 lost, 1 dup of 21');
    assert.equal(faultText(report, 'redis', 'key-crash'), 'pass: 0 order violations over 3 instances, keys moved within 3.5 s of a kill; 0 lost, 1 dup of 6000');
  });
});

describe('failover rows', () => {
  it('one row per cluster and scenario that ran, with lost, order and the outage in seconds', () => {
    const report: ComparisonReport = { generatedAt: '2026-12-05T00:00:00.000Z', backends: {}, failover: failoverFixture() };
    const rows = failoverRows(report);
    assert.deepEqual(rows.map((row) => [row.cluster, row.scenario, row.lost]), [
      ['redis-cluster', 'node-failover', 0],
      ['redis-cluster', 'node-pause', 87],
      ['kafka-cluster', 'node-failover', 0],
    ]);
    assert.deepEqual(rows[1]?.cells, ['redis-cluster', 'leader SIGSTOPped 10 s', '3', '18034 / 18034', '87', '4', '137', '10.0 s', '10.0 s', '11.1 s']);
    assert.equal(rows[2]?.cells[9], 'not within a run');
    const markdown = renderMarkdown(report);
    assert.match(markdown, /## Failover/);
    assert.match(markdown, /\| redis-cluster \| leader SIGSTOPped 10 s \| 3 \| 18034 \/ 18034 \| \*\*87\*\* \|/);
    assert.match(renderMatrix(report), /failover: cluster/);
    assert.match(markdown, /- \*\*redis-cluster\*\*: Redis replicates asynchronously/);
  });
});

describe('failed checks', () => {
  it('a check that failed as its emulator is known to is listed apart and does not fail the run; any other failure does', () => {
    const check = (status: 'pass' | 'fail', emulatorDefect?: string) => ({ title: 't', status, figures: {}, durationMs: 1, ...(emulatorDefect ? { emulatorDefect } : {}) });
    const report: ComparisonReport = {
      generatedAt: '2026-12-06T00:00:00.000Z',
      backends: {
        sqs: { url: 'sqs://127.0.0.1:4566', capabilities: null, checks: { 'key-handover': check('fail', 'moto returns a group last-first'), 'round-trip': check('pass') } },
        redis: { url: 'redis://127.0.0.1:6379/0', capabilities: null, checks: { 'round-trip': check('pass') } },
      },
    };
    assert.equal(failedChecks(report), 0);
    assert.deepEqual(emulatorFailures(report), ['sqs key-handover']);
    report.backends.redis!.checks['round-trip'] = check('fail');
    assert.equal(failedChecks(report), 1);
  });
});

describe('what differs, first', () => {
  const check = (status: 'pass' | 'unsupported', figures: Record<string, number> = {}, reason?: string) => ({ title: 't', status, figures, durationMs: 1, ...(reason ? { reason } : {}) });
  const report: ComparisonReport = {
    generatedAt: '2026-12-06T00:00:00.000Z',
    backends: {
      fast: { url: 'memory://', capabilities: null, checks: { 'round-trip': check('pass'), 'crash-redelivery': check('pass', { redeliveredAfterMs: 12 }), backlog: check('pass') } },
      slow: { url: 'kafka://', capabilities: null, checks: { 'round-trip': check('pass'), 'crash-redelivery': check('pass', { redeliveredAfterMs: 10_000 }), backlog: check('unsupported', {}, 'not told') } },
    },
  };

  it('rows every backend passes are apart from the rest', () => {
    assert.deepEqual(splitChecks(report), { differ: ['backlog'], same: ['round-trip', 'crash-redelivery'] });
  });

  it("a backend's summary names what it cannot do and the figures where it trails the best", () => {
    assert.deepEqual(summaryOf(report, 'fast').weaker, []);
    assert.deepEqual(summaryOf(report, 'slow').weaker, ['backlog unsupported (not told)', 'redelivery after crash 10000 ms (best 12 ms)']);
  });
});
