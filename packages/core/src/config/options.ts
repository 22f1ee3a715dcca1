import { ConfigError } from '../errors/index.js';

/** How one URL query option is read and checked. */
export type OptionSpec =
  | { type: 'int'; min?: number; max?: number; default?: number; doc: string }
  | { type: 'string'; pattern?: RegExp; default?: string; doc: string }
  | { type: 'bool'; default?: boolean; doc: string }
  | { type: 'enum'; values: readonly string[]; default?: string; doc: string };

type ValueOf<S extends OptionSpec> = S extends { type: 'int' }
  ? number
  : S extends { type: 'bool' }
    ? boolean
    : string;

export type OptionValues<T extends Record<string, OptionSpec>> = {
  [K in keyof T]: T[K] extends { default: unknown } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
};

/**
 * Read `url`'s query options against `specs`. An unknown option, a repeated one or a value
 * of the wrong form is a ConfigError naming the option and listing what is accepted.
 */
export function readUrlOptions<T extends Record<string, OptionSpec>>(url: URL, specs: T): OptionValues<T> {
  const known = Object.keys(specs);
  const seen = new Set<string>();
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if ('default' in spec && spec.default !== undefined) values[name] = spec.default;
  }
  for (const [name, raw] of url.searchParams) {
    const spec = specs[name];
    if (!spec) {
      const accepted = known.length ? `accepted: ${known.join(', ')}` : 'this backend takes no options';
      throw new ConfigError(`option "${name}"`, `unknown option for ${url.protocol}// URLs (${accepted})`);
    }
    if (seen.has(name)) throw new ConfigError(`option "${name}"`, 'given more than once');
    seen.add(name);
    values[name] = parseValue(name, raw, spec);
  }
  return values as OptionValues<T>;
}

function parseValue(name: string, raw: string, spec: OptionSpec): number | string | boolean {
  const field = `option "${name}"`;
  switch (spec.type) {
    case 'int': {
      if (!/^-?\d+$/.test(raw)) throw new ConfigError(field, `"${raw}" is not a whole number (${spec.doc})`);
      const value = Number(raw);
      if (spec.min !== undefined && value < spec.min) throw new ConfigError(field, `${value} is below the minimum ${spec.min}`);
      if (spec.max !== undefined && value > spec.max) throw new ConfigError(field, `${value} is above the maximum ${spec.max}`);
      return value;
    }
    case 'bool':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new ConfigError(field, `"${raw}" is not true or false`);
    case 'enum':
      if (!spec.values.includes(raw)) throw new ConfigError(field, `"${raw}" is not one of ${spec.values.join(', ')}`);
      return raw;
    case 'string':
      if (raw === '') throw new ConfigError(field, 'is empty');
      if (spec.pattern && !spec.pattern.test(raw)) throw new ConfigError(field, `"${raw}" is malformed (${spec.doc})`);
      return raw;
  }
}

/** Check a numeric option given in code: a ConfigError naming it when out of range. */
export function requireNumber(field: string, value: unknown, range: { min?: number; max?: number; integer?: boolean }): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new ConfigError(field, `expected a number, got ${JSON.stringify(value)}`);
  if (range.integer && !Number.isInteger(value)) throw new ConfigError(field, `expected a whole number, got ${value}`);
  if (range.min !== undefined && value < range.min) throw new ConfigError(field, `${value} is below the minimum ${range.min}`);
  if (range.max !== undefined && value > range.max) throw new ConfigError(field, `${value} is above the maximum ${range.max}`);
  return value;
}

/** Reject keys of `given` that are not in `known`: a misspelt option must not be silently ignored. */
export function rejectUnknownKeys(what: string, given: object, known: readonly string[]): void {
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) {
      throw new ConfigError(`${what}.${key}`, `unknown option (accepted: ${known.join(', ')})`);
    }
  }
}
