import { randomBytes } from 'node:crypto';
import { waitUntil } from '@brokerkit/conformance';
import { BrokerkitError, ConfigError, connect, EncodingError, Header, jsonCodec, MessageTooLargeError, type Broker, type Codec } from '@brokerkit/core';
import { sleep } from '@brokerkit/core/driver';
import type { ScenarioResult } from './report.js';

/** URLs with a wrong password, where the broker checks one (emulators and these listeners do not). */
function wrongCredentials(backend: string, url: string): string | undefined {
  const parsed = new URL(url);
  if (backend === 'rabbitmq') {
    parsed.password = 'wrong-password';
    return parsed.toString();
  }
  // Redis here runs without requirepass: ioredis then sends no AUTH failure, only a warning.
  return undefined;
}

/** Hands bodies over as the bytes they are. */
const bytesCodec: Codec = { encode: (body) => jsonCodec.encode(body), decode: (bytes) => bytes };

/** A codec that claims JSON and writes bytes no JSON parser takes: how a foreign producer's garbage looks. */
const lyingCodec: Codec = {
  encode: () => ({ bytes: new TextEncoder().encode('{"truncated": '), contentType: 'application/json' }),
  decode: (bytes) => bytes,
};

async function typedFailure(action: () => Promise<unknown>, want: abstract new (...args: never[]) => BrokerkitError): Promise<{ ok: boolean; ms: number; message: string }> {
  const started = Date.now();
  try {
    const result = await action();
    // Succeeded where it should not: close what it opened, then report.
    if (result && typeof (result as { close?: unknown }).close === 'function') await (result as { close(): Promise<void> }).close().catch(() => undefined);
    return { ok: false, ms: Date.now() - started, message: 'no error' };
  } catch (error) {
    return { ok: error instanceof want, ms: Date.now() - started, message: (error as Error).message };
  }
}

/**
 * Bad input as a new user produces it: malformed URLs, unknown options, wrong credentials,
 * oversized and non-encodable bodies (typed errors, nothing sent), and bodies the codec cannot
 * read on receive (dead-lettered with reason decode-error while the consumer keeps going).
 */
export async function badInput(broker: Broker, backend: string, url: string): Promise<ScenarioResult> {
  const scheme = new URL(url).protocol;
  const failures: string[] = [];
  const details: Record<string, number | string | boolean> = {};
  const expect = (name: string, result: { ok: boolean; ms: number; message: string }): void => {
    details[name] = result.ok ? `typed error in ${result.ms} ms` : `WRONG: ${result.message}`;
    if (!result.ok) failures.push(`${name}: ${result.message}`);
  };

  expect('malformedUrl', await typedFailure(() => connect(`${scheme}//127.0.0.1:notaport`), ConfigError));
  const withOption = new URL(url);
  withOption.searchParams.set('bogusOption', '1');
  const unknown = await typedFailure(() => connect(withOption.toString()), ConfigError);
  expect('unknownOption', { ...unknown, ok: unknown.ok && unknown.message.includes('bogusOption') });
  const wrong = wrongCredentials(backend, url);
  if (wrong) {
    const result = await typedFailure(() => connect(wrong, { connectTimeoutMs: 5_000 }), BrokerkitError);
    expect('wrongCredentials', { ...result, ok: result.ok && result.ms < 15_000 });
  } else {
    details.wrongCredentials = 'not applicable: this server checks no credentials';
  }

  const queue = `bk-faults-bad-${randomBytes(4).toString('hex')}`;
  const handled: string[] = [];
  const deadLettered = new Map<string, string>();
  const consumer = await broker.consumer(queue, (message) => {
    handled.push(message.id);
  });
  // The dead letters hold the undecodable bytes as they were: read them without decoding.
  const reader = await connect(url, { codec: bytesCodec });
  const dlq = await reader.consumer(`${queue}.dlq`, (message) => {
    deadLettered.set(message.id, message.headers[Header.deadLetterReason] ?? '');
  });
  const liar = await connect(url, { codec: lyingCodec });
  try {
    const producer = broker.producer();
    const limit = broker.capabilities.maxMessageBytes;
    expect('oversized', await typedFailure(() => producer.send(queue, { body: new Uint8Array(limit + 1) }), MessageTooLargeError));
    expect('bigint', await typedFailure(() => producer.send(queue, { body: { n: 10n } }), EncodingError));
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect('circular', await typedFailure(() => producer.send(queue, { body: circular }), EncodingError));

    const garbage = (await liar.producer().sendBatch(queue, Array.from({ length: 5 }, () => ({ body: 'ignored' })))).map((r) => r.id);
    await sleep(50);
    const after = (await producer.send(queue, { body: { fine: true } })).id;
    await waitUntil(() => garbage.every((id) => deadLettered.has(id)) && handled.includes(after), 120_000);
    const undecodedToDlq = garbage.filter((id) => deadLettered.get(id) === 'decode-error').length;
    details.undecodableDeadLettered = `${undecodedToDlq}/${garbage.length} with reason decode-error`;
    details.consumerKeptRunning = handled.includes(after);
    if (undecodedToDlq !== garbage.length) failures.push(`${garbage.length - undecodedToDlq} undecodable messages not dead-lettered with decode-error`);
    if (!handled.includes(after)) failures.push('the consumer stopped after undecodable messages');
    const wrongHandled = handled.filter((id) => garbage.includes(id)).length;
    if (wrongHandled > 0) failures.push(`${wrongHandled} undecodable messages reached the handler`);
    return {
      status: failures.length === 0 ? 'pass' : 'fail',
      ...(failures.length ? { reason: failures.join('; ') } : {}),
      sent: garbage.length + 1,
      confirmed: garbage.length + 1,
      handled: handled.length + deadLettered.size,
      lost: garbage.filter((id) => !deadLettered.has(id)).length + (handled.includes(after) ? 0 : 1),
      duplicates: 0,
      recoveryMs: null,
      details,
    };
  } finally {
    await Promise.allSettled([consumer.close(), dlq.close(), liar.close(), reader.close()]);
  }
}
