import type { Harness, Timing } from './types.js';

/** An emulator runs here; a broker elsewhere (AWS) is held to the contract in full. */
function onThisMachine(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** What the suite knows about each backend: where its URL comes from and how it is timed. */
export interface BackendProfile {
  name: string;
  /** Environment variable holding its URL: BROKERKIT_<NAME>_URL. */
  envVar: string;
  /** URL used when none is given (only the embedded broker has one). */
  defaultUrl?: string;
  /** Same scheme, nothing listening: for the unreachable-broker check. */
  unreachableUrl?: string;
  timing?: Partial<Timing>;
  /** Defects of the emulator the suite runs this backend on here, applied when its URL names this machine. */
  emulatorDefects?: Harness['emulatorDefects'];
}

const profile = (name: string, rest: Omit<BackendProfile, 'name' | 'envVar'>): BackendProfile => ({
  name,
  envVar: `BROKERKIT_${name.toUpperCase()}_URL`,
  ...rest,
});

export const BACKENDS: Readonly<Record<string, BackendProfile>> = {
  memory: profile('memory', { defaultUrl: 'memory://' }),
  redis: profile('redis', { unreachableUrl: 'redis://127.0.0.1:1' }),
  rabbitmq: profile('rabbitmq', { unreachableUrl: 'amqp://guest:guest@127.0.0.1:1' }),
  kafka: profile('kafka', { unreachableUrl: 'kafka://127.0.0.1:1' }),
  // Visibility timeouts are whole seconds: a 300 ms retry delay becomes 1 s. The emulator
  // (moto) scans the whole queue on every receive, so its burst is kept small.
  sqs: profile('sqs', { unreachableUrl: 'sqs://127.0.0.1:1?region=us-east-1', timing: { backoffLateToleranceMs: 1_500, burstMessages: 300 } }),
  // Pub/Sub's shortest ack deadline is 10 s: a crashed delivery cannot come back sooner.
  pubsub: profile('pubsub', { unreachableUrl: 'pubsub://brokerkit?emulator=127.0.0.1:1', timing: { ackTimeoutMs: 10_000 } }),
  nats: profile('nats', { unreachableUrl: 'nats://127.0.0.1:1' }),
};

/**
 * The harness for a backend by name. The URL is the one given, else `BROKERKIT_<NAME>_URL`,
 * else the backend's default; with none, the error says how to provide one.
 */
export function harnessFor(name: string, url?: string, env: NodeJS.ProcessEnv = process.env): Harness {
  const known = BACKENDS[name];
  if (!known) throw new Error(`unknown backend "${name}" (known: ${Object.keys(BACKENDS).join(', ')})`);
  const resolved = url || env[known.envVar] || known.defaultUrl;
  if (!resolved) {
    throw new Error(
      `no URL for backend "${name}": set ${known.envVar}, pass --url ${name}=URL, or start the brokers with ./scripts/brokers up`,
    );
  }
  return {
    backend: name,
    url: resolved,
    ...(known.unreachableUrl ? { unreachableUrl: known.unreachableUrl } : {}),
    ...(known.timing ? { timing: known.timing } : {}),
    ...(known.emulatorDefects && onThisMachine(resolved) ? { emulatorDefects: known.emulatorDefects } : {}),
  };
}
