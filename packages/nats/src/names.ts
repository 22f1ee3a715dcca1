import { createHash } from 'node:crypto';
import { ConfigError } from '@brokerkit/core';

/**
 * brokerkit names (`A–Z a–z 0–9 . _ -`) as NATS names. A topic's subject is its name, so the
 * `nats` CLI and other clients publish and subscribe to it as it is; dots separate subject
 * tokens, so a name with an empty token (`a..b`, a trailing dot) has no subject. Stream and
 * consumer names cannot hold dots: a name with one becomes `<dots as _>-<8 hex of its hash>`,
 * so `a.b` and `a_b` stay apart.
 */
export function subjectOf(topic: string): string {
  if (topic.split('.').some((token) => token === '')) throw new ConfigError('topic', `"${topic}" has an empty subject token (NATS subjects are dot-separated tokens)`);
  return topic;
}

/**
 * Where a delayed message of `topic` waits: a subject of its own per message (a schedule per
 * subject), inside the topic's stream; the server publishes it to the topic when due.
 */
export const scheduleSubjectsOf = (topic: string): string => `${subjectOf(topic)}.bk-schedule.*`;
export const scheduleSubjectFor = (topic: string, unique: string): string => `${subjectOf(topic)}.bk-schedule.${unique}`;

export function streamOf(topic: string): string {
  return natsName(topic);
}

export function consumerOf(subscription: string): string {
  return natsName(subscription);
}

function natsName(name: string): string {
  if (!name.includes('.')) return name;
  return `${name.replaceAll('.', '_')}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}
