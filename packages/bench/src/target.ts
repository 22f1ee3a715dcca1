import { CONTENT_TYPE_JSON, Header } from '@brokerkit/core';

/** A message body of the bench: when it was sent, and padding to the wanted size. */
export interface BenchBody {
  sentAt: number;
  pad: string;
}

/**
 * One side of the comparison: brokerkit, or a broker's own client doing the same work with
 * equivalent settings (same acks/confirms, batching, prefetch). Every method works on a queue
 * `setup()` declared, so messages sent before `consume()` are kept.
 */
export interface BenchTarget {
  setup(queue: string): Promise<void>;
  send(queue: string, body: BenchBody): Promise<void>;
  sendBatch(queue: string, bodies: BenchBody[]): Promise<void>;
  /** Start consuming with at most `concurrency` messages in flight; the handler's return acks. Resolves to a stop function. */
  consume(queue: string, concurrency: number, handler: (body: BenchBody) => void): Promise<() => Promise<void>>;
  /**
   * Delete what a run left on the broker (names starting with `prefix`, brokerkit's `.dlq` and
   * retry companions included). Raw targets only: they know the broker's admin calls.
   */
  cleanup?(prefix: string, names: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * What brokerkit writes besides the body for the bench's messages (JSON, no id, key or headers
 * of their own), for the raw side that carries it too (`--same-metadata`): the content type, and
 * an id on the backends where the broker does not name messages. Each raw target writes these
 * the way brokerkit's adapter does.
 */
export const METADATA = { contentTypeHeader: Header.contentType, contentType: CONTENT_TYPE_JSON, idHeader: 'bk-id' } as const;

export const now = (): number => performance.timeOrigin + performance.now();
export const encode = (body: BenchBody): Buffer => Buffer.from(JSON.stringify(body));
export const decode = (data: Buffer | Uint8Array | string): BenchBody => JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8')) as BenchBody;
