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
    // Resolve from the application's folders too: the adapter is the app's dependency, not core's.
    // Its working directory, and the folder of the script node was started with (a service
    // started from elsewhere, `node /srv/app/main.js`).
    const from = [join(process.cwd(), 'package.json'), ...(process.argv[1] ? [process.argv[1]] : [])];
    for (const base of from) {
      let resolved: string;
      try {
        resolved = createRequire(base).resolve(packageName);
      } catch {
        continue;
      }
      return await import(pathToFileURL(resolved).href);
    }
    throw new ConfigError('url scheme', `this scheme needs the adapter package ${packageName}: install it next to @brokerkit/core`, {
      cause: first,
    });
  }
}
