import { createRequire } from 'node:module';

/**
 * Replacing one of kafkajs' internal modules in Node's module cache, the way brokerkit's faster
 * record encoders and decoder are put in place (record-encoder.ts, record-decoder.ts).
 *
 * kafkajs (2.2) loads its record codecs lazily: the produce request and the fetch response
 * modules require them the first time a record is produced or fetched, and keep what they got.
 * Replacing a cached module's exports before then makes every kafkajs client in the process use
 * the replacement. Each replacement is checked against kafkajs' own on samples when installed,
 * and kafkajs' own stays when a check fails, when kafkajs is laid out otherwise, or when the
 * module that takes it has loaded already (too late: that client keeps kafkajs' own). Only
 * speed differs.
 */

const require = createRequire(import.meta.url);

/** Where a module is in kafkajs 2.2, e.g. `protocol/recordBatch/record/v0`. */
const pathOf = (module: string): string => require.resolve(`kafkajs/src/${module}`);

/** kafkajs' module `module` as it is now in the cache (loading it if need be). */
export function kafkajsModule<T>(module: string): T {
  return require(pathOf(module)) as T;
}

export interface Replacement<T> {
  /** The module replaced, e.g. `protocol/recordBatch/record/v0`. */
  module: string;
  /** The module that takes it when it loads: once that is loaded, replacing is too late. */
  takenBy: string;
  /** Set on the replacement, so that a second install (another copy of brokerkit) finds it. */
  mark: symbol;
  /** The replacement, made from kafkajs' own. */
  make(stock: T): T;
  /** The replacement agrees with kafkajs' own on every sample (it throws or returns false when not). */
  check(stock: T, replacement: T): boolean;
}

/** Put `replacement` in kafkajs' place; whether it is in use now. */
export function replaceKafkajsModule<T extends object>(replacement: Replacement<T>): boolean {
  try {
    const path = pathOf(replacement.module);
    const cached = require.cache[path];
    const current = cached?.exports as (T & { [key: symbol]: unknown }) | undefined;
    if (current?.[replacement.mark] === true) return true;
    if (require.cache[pathOf(replacement.takenBy)] !== undefined) return false;
    const stock = require(path) as T;
    const entry = require.cache[path];
    if (entry === undefined || typeof stock !== 'function') return false;
    const made = replacement.make(stock);
    if (!replacement.check(stock, made)) return false;
    entry.exports = Object.assign(made, { [replacement.mark]: true });
    return true;
  } catch {
    // kafkajs is laid out differently, or a sample failed: its own module stays.
    return false;
  }
}
