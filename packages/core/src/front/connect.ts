import { rejectUnknownKeys } from '../config/options.js';
import { loadDriverFactory } from '../config/registry.js';
import { maskCredentials, parseBrokerUrl } from '../config/url.js';
import { BrokerkitError, ConfigError, ConnectionError, TimeoutError, describeError } from '../errors/index.js';
import { Broker } from './broker.js';
import { withPortableDelays } from './portable-delays.js';
import { jsonCodec, type Codec } from '../message/codec.js';
import { withDeadline } from '../kit/timing.js';

export interface ConnectOptions {
  /** Body codec; JSON (with raw bytes passed through) by default. */
  codec?: Codec;
  /** Give up reaching the broker after this long with a ConnectionError (default 10 000). */
  connectTimeoutMs?: number;
}

/** The same as a URL, as an object: `{ backend: 'redis', address: '127.0.0.1:6379', options: { … } }`. */
export interface ConnectConfig extends ConnectOptions {
  backend: string;
  /** host:port, project, or path: what follows `scheme://` in the URL. */
  address?: string;
  /** Query options of the URL. */
  options?: Record<string, string | number | boolean>;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Open a connection to the broker a URL names (`memory://`, `kafka://host:9092`, `amqp://…`,
 * `sqs://…`, `pubsub://project`, `redis://…`). The scheme picks the adapter; swapping the URL
 * is all it takes to change brokers.
 */
export async function connect(target: string | ConnectConfig, options: ConnectOptions = {}): Promise<Broker> {
  const { urlText, settings } = normalize(target, options);
  const url = parseBrokerUrl(urlText);
  const scheme = url.protocol.replace(/:$/, '');
  const factory = await loadDriverFactory(scheme);
  const timeoutMs = settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const masked = maskCredentials(url);
  try {
    const opened = await withDeadline(factory.open(url), timeoutMs, () => new TimeoutError(`connecting to ${masked}`, timeoutMs));
    const driver = opened.traits.portableDelays ? withPortableDelays(opened, opened.traits.portableDelays) : opened;
    return new Broker(driver, settings.codec ?? jsonCodec, masked);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (error instanceof BrokerkitError && error.code === 'CONNECTION') throw error;
    throw new ConnectionError(`cannot reach ${masked}: ${describeError(error)}`, { cause: error });
  }
}

function normalize(target: string | ConnectConfig, options: ConnectOptions): { urlText: string; settings: ConnectOptions } {
  rejectUnknownKeys('connect options', options, ['codec', 'connectTimeoutMs']);
  if (typeof target === 'string') return { urlText: target, settings: options };
  if (target === null || typeof target !== 'object') throw new ConfigError('url', 'expected a broker URL or a { backend, address, options } object');
  rejectUnknownKeys('config', target, ['backend', 'address', 'options', 'codec', 'connectTimeoutMs']);
  if (typeof target.backend !== 'string' || !/^[a-z][a-z0-9+.-]*$/.test(target.backend)) {
    throw new ConfigError('config.backend', `expected a backend name such as "memory" or "kafka", got ${JSON.stringify(target.backend)}`);
  }
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(target.options ?? {})) query.set(name, String(value));
  const search = query.size > 0 ? `?${query.toString()}` : '';
  const { backend, address = '', options: _query, ...settings } = target;
  return { urlText: `${backend}://${address}${search}`, settings: { ...settings, ...options } };
}
