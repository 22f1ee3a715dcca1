export { runBench, type BenchOptions, type BenchReport, type Ratios, type Side } from './bench.js';
export { RAW_BACKENDS } from './raw/index.js';
export type { RunFigures } from './workload.js';
export { runBatchBench, type BatchBenchOptions, type BatchBenchReport, type BatchBenchRow } from './batch-bench.js';
