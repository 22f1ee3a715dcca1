import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DriverFactory } from '../contract/driver.js';
import { ConfigError } from '../errors/index.js';

/** The adapter package serving each built-in scheme. */
export const BUILTIN_SCHEMES: Readonly<Record<string, string>> = {
  memory: '@brokerkit/memory',
  kafka: '@brokerkit/kafka',
  amqp: '@brokerkit/rabbitmq',
  amqps: '@brokerkit/rabbitmq',
  sqs: '@brokerkit/sqs',
  pubsub: '@brokerkit/pubsub',
  redis: '@brokerkit/redis',
  rediss: '@brokerkit/redis',
  nats: '@brokerkit/nats',
};

const registered = new Map<string, DriverFactory>();

/** Make a driver available to `connect` (adapters are also found by package name on first use). */
export function registerDriver(factory: DriverFactory): void {
  for (const scheme of factory.schemes) registered.set(scheme, factory);
}

/** Schemes that `connect` accepts. */
export function knownSchemes(): string[] {
  return [...new Set([...Object.keys(BUILTIN_SCHEMES), ...registered.keys()])].sort();
}

export async function loadDriverFactory(scheme: string): Promise<DriverFactory> {
  const found = registered.get(scheme);
  if (found) return found;
  const packageName = BUILTIN_SCHEMES[scheme];
  if (!packageName) {
    throw new ConfigError('url scheme', `"${scheme}:" is not a known broker (known: ${knownSchemes().map((s) => `${s}://`).join(', ')})`);
  }
  const module = await importAdapter(packageName);
  const factory = (module as { driverFactory?: DriverFactory }).driverFactory;
  if (!factory) throw new ConfigError('url scheme', `${packageName} does not export a driverFactory`);
  registerDriver(factory);
  return factory;
}

async function importAdapter(packageName: string): Promise<unknown> {
  try {
    return await import(packageName);
  } catch (first) {
    // Resolve from the application's folder too: the adapter is the app's dependency, not core's.
    try {
      const resolved = createRequire(join(process.cwd(), 'package.json')).resolve(packageName);
      return await import(pathToFileURL(resolved).href);
    } catch {
      throw new ConfigError('url scheme', `this scheme needs the adapter package ${packageName}: install it next to @brokerkit/core`, {
        cause: first,
      });
    }
  }
}
