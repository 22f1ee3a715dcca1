import { ConfigError } from '../errors/index.js';

/** Names of topics, queues and subscriptions: portable across every backend's naming rules. */
export function requireName(field: string, name: unknown): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(name)) {
    throw new ConfigError(field, `${JSON.stringify(name)} is not a valid name (1–200 of A–Z a–z 0–9 . _ -, starting with a letter or digit)`);
  }
  return name;
}

/** A MIME type such as `application/json` (parameters allowed). */
export function requireContentType(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/.test(value)) {
    throw new ConfigError(field, `expected a content type such as 'application/json' or 'application/octet-stream', got ${JSON.stringify(value)}`);
  }
  return value;
}
