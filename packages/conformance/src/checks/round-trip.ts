import { deepStrictEqual } from 'node:assert';
import type { ReceivedMessage } from '@brokerkit/core';
import { waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);

/** Cases sent and compared field by field on receipt; `named: false` goes without an id (the receipt names it). */
const cases: { id: string; named?: false; body: unknown; key: string | undefined; headers: Record<string, string> }[] = [
  { id: 'json', body: { text: 'grüße, 世界 🚀', n: 42, f: 1.5, nested: { list: [1, null, true, 'x'] } }, key: 'ключ-🔑', headers: { 'x-trace': 'abc', 'x-unicode': 'é ✓' } },
  { id: 'binary-256', body: allBytes, key: undefined, headers: {} },
  { id: 'binary-empty', body: new Uint8Array(0), key: 'empty', headers: {} },
  { id: 'json-string', body: 'just a string', key: undefined, headers: { empty: '' } },
  { id: 'unnamed', named: false, body: { n: 1 }, key: undefined, headers: {} },
];

export const roundTrip: Check = {
  id: 'round-trip',
  title: 'JSON and binary bodies, unicode key, headers and ids (given, or named by the receipt) survive a round trip',
  async run(context) {
    const broker = await context.open();
    const queue = context.unique('round-trip');
    await broker.ensureQueue(queue);
    const received = new Map<string, ReceivedMessage>();
    await broker.consumer(queue, async (message) => {
      received.set(message.id, message);
    });
    const producer = broker.producer();
    const sentAt = Date.now();
    const idOf = new Map<string, string>();
    const mismatches: string[] = [];
    for (const item of cases) {
      const id = item.named === false ? undefined : `${queue}-${item.id}`;
      const receipt = await producer.send(queue, { id, body: item.body, key: item.key, headers: item.headers });
      if (id !== undefined && receipt.id !== id) mismatches.push(`${item.id}: receipt id ${receipt.id} ≠ ${id}`);
      idOf.set(item.id, receipt.id);
    }
    await waitUntil(() => received.size >= cases.length, context.deadline(15_000));
    for (const item of cases) {
      const got = received.get(idOf.get(item.id) as string);
      if (!got) continue;
      if (!sameBody(got.body, item.body)) mismatches.push(`${item.id}: body differs`);
      if (got.key !== item.key) mismatches.push(`${item.id}: key ${JSON.stringify(got.key)} ≠ ${JSON.stringify(item.key)}`);
      for (const [name, value] of Object.entries(item.headers)) {
        if (got.headers[name] !== value) mismatches.push(`${item.id}: header ${name}=${JSON.stringify(got.headers[name])}`);
      }
      if (got.attempt !== 1) mismatches.push(`${item.id}: attempt ${got.attempt} ≠ 1`);
      if (got.topic !== queue || got.subscription !== queue) mismatches.push(`${item.id}: topic/subscription not reported`);
      if (Math.abs(got.publishedAt.getTime() - sentAt) > 60_000) mismatches.push(`${item.id}: publishedAt ${got.publishedAt.toISOString()} is off`);
    }
    const missing = cases.filter((item) => !received.has(idOf.get(item.id) as string)).length;
    return verdict({ sent: cases.length, received: received.size, missing, mismatches: mismatches.length }, [
      missing > 0 && `${missing} of ${cases.length} messages never arrived under the id their receipt named (ids seen: ${[...received.keys()].join(', ')})`,
      mismatches.length > 0 && mismatches.join(', '),
    ]);
  },
};

function sameBody(actual: unknown, expected: unknown): boolean {
  if (expected instanceof Uint8Array) {
    return actual instanceof Uint8Array && Buffer.from(actual).equals(Buffer.from(expected));
  }
  try {
    deepStrictEqual(actual, expected);
    return true;
  } catch {
    return false;
  }
}
