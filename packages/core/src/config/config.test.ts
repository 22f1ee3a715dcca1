import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors/index.js';
import { resolveHandlerOptions } from '../receive/handler-options.js';
import { requireName } from './names.js';
import { connect } from '../front/connect.js';
import { readUrlOptions } from './options.js';
import { hostAndPort, hostsOf, maskCredentials, parseBrokerUrl } from './url.js';

/** The field a ConfigError names, failing the test when something else is thrown. */
function fieldOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.field;
  }
  return assert.fail('no error thrown');
}

async function fieldOfAsync(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.field;
  }
  return assert.fail('no error thrown');
}

const specs = {
  partitions: { type: 'int', min: 1, max: 100, default: 3, doc: 'partitions per topic' },
  clientId: { type: 'string', pattern: /^[a-z]+$/, doc: 'lowercase letters' },
  tls: { type: 'bool', default: false, doc: 'use TLS' },
  mode: { type: 'enum', values: ['fast', 'safe'], doc: 'mode' },
} as const;

describe('readUrlOptions', () => {
  it('fills defaults and parses typed values', () => {
    assert.deepEqual(readUrlOptions(new URL('x://h'), specs), { partitions: 3, tls: false });
    assert.deepEqual(readUrlOptions(new URL('x://h?partitions=7&clientId=abc&tls=true&mode=safe'), specs), { partitions: 7, clientId: 'abc', tls: true, mode: 'safe' });
  });

  it('names the offending option in every error', () => {
    for (const [query, field] of [
      ['bogus=1', 'option "bogus"'],
      ['partitions=x', 'option "partitions"'],
      ['partitions=0', 'option "partitions"'],
      ['partitions=101', 'option "partitions"'],
      ['partitions=2&partitions=3', 'option "partitions"'],
      ['clientId=ABC', 'option "clientId"'],
      ['clientId=', 'option "clientId"'],
      ['tls=yes', 'option "tls"'],
      ['mode=slow', 'option "mode"'],
    ] as const) {
      assert.equal(fieldOf(() => readUrlOptions(new URL(`x://h?${query}`), specs)), field, query);
    }
  });

  it('lists the accepted options for an unknown one', () => {
    assert.throws(() => readUrlOptions(new URL('x://h?colour=red'), specs), /accepted: partitions, clientId, tls, mode/);
  });
});

describe('broker URLs', () => {
  it('rejects empty, non-string and malformed URLs naming "url"', () => {
    for (const bad of ['', '   ', 42, undefined, 'no scheme here', 'redis://[::1']) assert.equal(fieldOf(() => parseBrokerUrl(bad)), 'url', String(bad));
  });

  it('never shows a password in errors', () => {
    assert.equal(maskCredentials('amqp://guest:secret@h:5672/'), 'amqp://guest:***@h:5672/');
    try {
      parseBrokerUrl('amqp://guest:secret@[bad');
    } catch (error) {
      assert.doesNotMatch((error as Error).message, /secret/);
    }
  });

  it('reads host and port with the default port', () => {
    assert.deepEqual(hostAndPort(new URL('redis://10.0.0.1'), 6379), { host: '10.0.0.1', port: 6379 });
    assert.deepEqual(hostAndPort(new URL('redis://[::1]:7000'), 6379), { host: '::1', port: 7000 });
    assert.equal(fieldOf(() => hostAndPort(new URL('redis:///0'), 6379)), 'url host');
  });

  it('reads a comma-separated host list, keeping credentials, path and query', () => {
    const url = parseBrokerUrl('amqp://u:p%40ss@h1:5672,10.0.0.2,[::1]:5674/vhost?heartbeat=5');
    assert.deepEqual(hostsOf(url, 5672), [
      { host: 'h1', port: 5672 },
      { host: '10.0.0.2', port: 5672 },
      { host: '::1', port: 5674 },
    ]);
    assert.equal(url.hostname, 'h1');
    assert.equal(decodeURIComponent(url.password), 'p@ss');
    assert.equal(url.pathname, '/vhost');
    assert.equal(url.searchParams.get('heartbeat'), '5');
    assert.deepEqual(hostsOf(parseBrokerUrl('redis://127.0.0.1:7000/0'), 6379), [{ host: '127.0.0.1', port: 7000 }]);
  });

  it('names the bad entry of a malformed host list', () => {
    for (const [bad, entry] of [
      ['redis://h1:7000,,h2:7001', '""'],
      ['redis://h1:7000,h2:port', '"h2:port"'],
      ['kafka://h1:9092,h 2:9093', '"h 2:9093"'],
    ] as const) {
      assert.throws(() => parseBrokerUrl(bad), (error: unknown) => error instanceof ConfigError && error.field === 'url hosts' && error.message.includes(entry), bad);
    }
    assert.throws(() => hostsOf(parseBrokerUrl('redis://h1:7000,h2:99999'), 6379), (error: unknown) => error instanceof ConfigError && /out of range/.test(error.message));
  });

  it('connect names the scheme when it is unknown, and the config field when an object is wrong', async () => {
    assert.equal(await fieldOfAsync(() => connect('nosuch://h')), 'url scheme');
    assert.equal(await fieldOfAsync(() => connect({ backend: 'Memory!' })), 'config.backend');
    assert.equal(await fieldOfAsync(() => connect({ backend: 'memory', colour: 'red' } as never)), 'config.colour');
    assert.equal(await fieldOfAsync(() => connect('memory://', { timeout: 1 } as never)), 'connect options.timeout');
  });
});

describe('resolveHandlerOptions', () => {
  it('fills defaults: dead-letter queue <subscription>.dlq, 5 attempts, concurrency 1', () => {
    const resolved = resolveHandlerOptions('orders');
    assert.equal(resolved.deadLetterQueue, 'orders.dlq');
    assert.equal(resolved.retry.maxAttempts, 5);
    assert.equal(resolved.concurrency, 1);
    assert.equal(resolved.ordering, 'none');
    assert.equal(resolved.durable, true);
  });

  it('turns dead-lettering off with false', () => {
    assert.equal(resolveHandlerOptions('orders', { deadLetter: false }).deadLetterQueue, undefined);
  });

  it('names every invalid option', () => {
    const cases: [object, string][] = [
      [{ concurrency: 0 }, 'options.concurrency'],
      [{ concurrency: 1.5 }, 'options.concurrency'],
      [{ concurrency: '4' }, 'options.concurrency'],
      [{ ordering: 'partition' }, 'options.ordering'],
      [{ retry: { maxAttempts: 0 } }, 'options.retry.maxAttempts'],
      [{ retry: { tries: 3 } }, 'options.retry.tries'],
      [{ retry: { backoff: { initialMs: -1 } } }, 'options.retry.backoff.initialMs'],
      [{ retry: { backoff: { initialMs: 500, maxMs: 100 } } }, 'options.retry.backoff.maxMs'],
      [{ retry: { backoff: { multiplier: 0.5 } } }, 'options.retry.backoff.multiplier'],
      [{ retry: { backoff: { jitter: 2 } } }, 'options.retry.backoff.jitter'],
      [{ retry: { backoff: { delay: 2 } } }, 'options.retry.backoff.delay'],
      [{ deadLetter: '' }, 'options.deadLetter'],
      [{ deadLetter: 'orders' }, 'options.deadLetter'],
      [{ ackTimeoutMs: 5 }, 'options.ackTimeoutMs'],
      [{ durable: 'no' }, 'options.durable'],
      [{ maxAttempts: 3 }, 'options.maxAttempts'],
    ];
    for (const [options, field] of cases) assert.equal(fieldOf(() => resolveHandlerOptions('orders', options as never)), field, JSON.stringify(options));
  });
});

describe('requireName', () => {
  it('accepts portable names and rejects the rest naming the field', () => {
    for (const good of ['orders', 'orders.dlq', 'a-b_c.9', '9lives']) assert.equal(requireName('topic', good), good);
    for (const bad of ['', 'has space', '.hidden', 'x'.repeat(201), 'ünï', 7]) assert.equal(fieldOf(() => requireName('topic', bad)), 'topic');
  });
});
