import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { BenchReport, Ratios, RunFigures } from '@brokerkit/bench';
import { renderBench } from './bench.js';

const figures = (scale: number): RunFigures => ({
  produceSingleMsgsPerSec: 1_000 * scale,
  produceMsgsPerSec: 50_000 * scale,
  produceMBPerSec: 12.5 * scale,
  consumeMsgsPerSec: 40_000 * scale,
  p50Ms: 1,
  p95Ms: 2,
  p99Ms: 4,
  p50InTurnsMs: 0.8,
  p99InTurnsMs: 3 * scale,
  peakRssBytes: 100 * 1_048_576,
  produceCpuUsPerMsg: 10,
  consumeCpuUsPerMsg: 8,
});
const ratios = (value: number): Ratios => ({ produce: value, produceSingle: value, consume: value, p99: 1, p99InTurns: 1.25, produceCpu: 1, consumeCpu: 1 });
const ranges = (low: number, high: number): Record<keyof Ratios, [number, number]> =>
  ({ produce: [low, high], produceSingle: [low, high], consume: [low, high], p99: [1, 1], p99InTurns: [1.1, 1.4], produceCpu: [1, 1], consumeCpu: [1, 1] });

const report: BenchReport = {
  backend: 'kafka',
  url: 'kafka://127.0.0.1:9092',
  messages: 1_000,
  consumeMessages: 1_000,
  sizeBytes: 256,
  concurrency: 16,
  rounds: 3,
  generatedAt: '2026-11-25T00:00:00.000Z',
  sdk: figures(0.9),
  raw: figures(1),
  ratios: ratios(0.9),
  ratioRanges: ranges(0.85, 0.95),
  runs: [],
};

// Colour codes out: the assertions read the text.
// eslint-disable-next-line no-control-regex
const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, '');
const row = (text: string, label: string): string[] => (plain(text).split('\n').find((line) => line.includes(label)) ?? '').split('│').map((cell) => cell.trim()).filter(Boolean);

describe('renderBench', () => {
  it('shows brokerkit, the raw client and the paired ratio with its range per row', () => {
    const text = renderBench(report);
    assert.deepEqual(row(text, 'consume with ack'), ['consume with ack', '36000 msg/s', '40000 msg/s', '0.90', '0.85–0.95']);
    assert.doesNotMatch(plain(text), /metadata/);
  });

  it('shows the latency of the sides taking turns in one process on rows of its own, with the pooled ratio and its range', () => {
    const text = renderBench({ ...report, sdk: { ...figures(1), p99InTurnsMs: 3.6 } });
    assert.deepEqual(row(text, 'latency p99, sides taking turns'), ['latency p99, sides taking turns', '3.6 ms', '3 ms', '1.25', '1.10–1.40']);
    assert.deepEqual(row(text, 'latency p50, sides taking turns'), ['latency p50, sides taking turns', '0.8 ms', '0.8 ms', '1.00']);
  });

  it('with --same-metadata, adds the raw client carrying brokerkit\'s metadata and brokerkit against it', () => {
    const text = renderBench({ ...report, rawSameMetadata: figures(0.95), ratiosSameMetadata: ratios(0.97), ratioRangesSameMetadata: ranges(0.93, 1.01) });
    assert.match(plain(text), /raw \+ brokerkit metadata/);
    assert.deepEqual(row(text, 'consume with ack'), ['consume with ack', '36000 msg/s', '40000 msg/s', '0.90', '0.85–0.95', '38000 msg/s', '0.97', '0.93–1.01']);
  });
});
