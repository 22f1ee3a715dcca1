import type { CloudEventAttributes, CloudEventOptions } from '../contract/cloud-event.js';
import type { Headers } from '../contract/message.js';
import { rejectUnknownKeys } from '../config/options.js';
import { ConfigError } from '../errors/index.js';

/**
 * CloudEvents 1.0 in binary content mode: the body is the event's data, the attributes travel
 * as message metadata named as each protocol binding says —
 * Kafka `ce_<name>` headers and a `content-type` header (Kafka binding);
 * RabbitMQ `cloudEvents:<name>` headers, datacontenttype in the AMQP content-type property
 * (AMQP binding); Pub/Sub `ce-<name>` attributes and `content-type` (Google's Pub/Sub binding);
 * Redis, SQS/SNS and memory have no binding: `ce-<name>` (the HTTP binding's names).
 */

const CORE = ['id', 'source', 'type', 'specversion', 'time', 'subject', 'datacontenttype', 'dataschema'] as const;
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;
const PREFIXES = ['ce_', 'ce-', 'cloudEvents:', 'cloudEvents_'] as const;
/** `<prefix>id` of each binding: the one lookup every received message pays. */
const ID_NAMES = PREFIXES.map((prefix) => `${prefix}id`);

/** The binding's attribute prefix for a backend, and whether datacontenttype goes in a `content-type` header. */
export function bindingOf(backend: string): { prefix: string; contentTypeHeader: boolean } {
  if (backend === 'kafka') return { prefix: 'ce_', contentTypeHeader: true };
  if (backend === 'rabbitmq') return { prefix: 'cloudEvents:', contentTypeHeader: false };
  return { prefix: 'ce-', contentTypeHeader: true };
}

/** Check options once (producer defaults merged with the message's own); ConfigError names what is missing or wrong. */
export function resolveCloudEvent(defaults: CloudEventOptions | undefined, own: CloudEventOptions | undefined): CloudEventOptions {
  if (own !== undefined) {
    if (own === null || typeof own !== 'object') throw new ConfigError('message.cloudEvent', 'expected { type?, source?, subject?, time?, dataschema?, extensions? }');
    rejectUnknownKeys('message.cloudEvent', own, ['type', 'source', 'subject', 'time', 'dataschema', 'extensions']);
  }
  const merged: CloudEventOptions = { ...defaults, ...own, extensions: { ...defaults?.extensions, ...own?.extensions } };
  for (const field of ['type', 'source'] as const) {
    const value = merged[field];
    if (typeof value !== 'string' || value === '') {
      throw new ConfigError(`cloudEvent.${field}`, `a CloudEvent needs a ${field} (set it on the message or in producer({ cloudEvents: { ${field} } }))`);
    }
  }
  for (const name of Object.keys(merged.extensions ?? {})) {
    if (!EXTENSION_NAME.test(name) || (CORE as readonly string[]).includes(name)) {
      throw new ConfigError(`cloudEvent.extensions.${name}`, 'extension names are 1–20 lower-case letters or digits and not a core attribute name');
    }
  }
  return merged;
}

/** The metadata entries that make the message a binary-mode CloudEvent on `backend`. */
export function cloudEventHeaders(backend: string, id: string, contentType: string, event: CloudEventOptions, now = new Date()): Headers {
  const { prefix, contentTypeHeader } = bindingOf(backend);
  const time = event.time === undefined ? now.toISOString() : event.time instanceof Date ? event.time.toISOString() : event.time;
  const attributes: Record<string, string | undefined> = {
    id,
    source: event.source,
    type: event.type,
    specversion: '1.0',
    time,
    subject: event.subject,
    dataschema: event.dataschema,
    ...event.extensions,
  };
  const headers: Headers = {};
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) headers[`${prefix}${name}`] = value;
  if (contentTypeHeader) headers['content-type'] = contentType;
  return headers;
}

/**
 * The CloudEvent a message carries, from any producer: attributes under the backend's binding
 * prefix (or another binding's, for messages bridged from elsewhere); undefined unless id,
 * source, type and specversion are all there.
 */
export function readCloudEvent(headers: Readonly<Headers>, contentType: string | undefined): CloudEventAttributes | undefined {
  // Runs for every delivery, nearly always to find nothing: a plain loop, no callback.
  let index = 0;
  while (index < ID_NAMES.length && headers[ID_NAMES[index] as string] === undefined) index += 1;
  if (index === ID_NAMES.length) return undefined;
  const prefix = PREFIXES[index] as string;
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (name.startsWith(prefix)) values[name.slice(prefix.length)] = value;
  const { id, source, type, specversion, time, subject, datacontenttype, dataschema, ...extensions } = values;
  if (!id || !source || !type || !specversion) return undefined;
  const event: CloudEventAttributes = { id, source, type, specversion, extensions };
  if (time !== undefined) event.time = time;
  if (subject !== undefined) event.subject = subject;
  const dataContentType = datacontenttype ?? headers['content-type'] ?? contentType;
  if (dataContentType !== undefined) event.datacontenttype = dataContentType;
  if (dataschema !== undefined) event.dataschema = dataschema;
  return event;
}
