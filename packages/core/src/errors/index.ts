/**
 * Every error brokerkit throws is a `BrokerkitError` with a stable `code`, a `retriable` flag
 * callers can branch on, and the underlying cause chained.
 */
export type ErrorCode =
  | 'CONFIG'
  | 'CONNECTION'
  | 'MESSAGE_TOO_LARGE'
  | 'ENCODING'
  | 'DECODING'
  | 'VALIDATION'
  | 'CLOSED'
  | 'TIMEOUT'
  | 'SEND'
  | 'TOPOLOGY'
  | 'UNSUPPORTED';

export class BrokerkitError extends Error {
  override readonly name: string = 'BrokerkitError';
  /** Stable identifier of the failure kind; safe to switch on. */
  readonly code: ErrorCode;
  /** True when the same call may succeed if tried again later. */
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** A URL, option or argument is invalid; `field` names the offending part. */
export class ConfigError extends BrokerkitError {
  override readonly name = 'ConfigError';
  constructor(
    readonly field: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('CONFIG', `invalid ${field}: ${message}`, options);
  }
}

/** The broker could not be reached, or the connection was lost. */
export class ConnectionError extends BrokerkitError {
  override readonly name = 'ConnectionError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CONNECTION', message, { ...options, retriable: true });
  }
}

/** The encoded message exceeds what the backend accepts; nothing was sent. */
export class MessageTooLargeError extends BrokerkitError {
  override readonly name = 'MessageTooLargeError';
  constructor(
    readonly sizeBytes: number,
    readonly maxBytes: number,
    backend: string,
  ) {
    super('MESSAGE_TOO_LARGE', `message of ${sizeBytes} bytes exceeds the ${backend} limit of ${maxBytes} bytes; nothing was sent`);
  }
}

/** The body could not be encoded by the codec; nothing was sent. */
export class EncodingError extends BrokerkitError {
  override readonly name = 'EncodingError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ENCODING', message, options);
  }
}

/** A received body could not be decoded; the message is dead-lettered with this error. */
export class DecodingError extends BrokerkitError {
  override readonly name = 'DecodingError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('DECODING', message, options);
  }
}

/** One problem a schema found: what is wrong and where (property path, when the schema tells one). */
export interface ValidationIssue {
  message: string;
  path: string;
}

/**
 * A body does not match its topic's schema. On send nothing was sent; on receive the message
 * is dead-lettered with this error (reason `validation-error`) and the consumer goes on.
 */
export class ValidationError extends BrokerkitError {
  override readonly name = 'ValidationError';
  constructor(
    readonly topic: string,
    readonly issues: readonly ValidationIssue[],
    where: string,
  ) {
    super('VALIDATION', `${where} does not match the schema of ${topic}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
  }
}

/** The producer, consumer or connection was already closed. */
export class ClosedError extends BrokerkitError {
  override readonly name = 'ClosedError';
  constructor(what: string) {
    super('CLOSED', `${what} is closed`);
  }
}

/** An operation did not complete within its deadline. */
export class TimeoutError extends BrokerkitError {
  override readonly name = 'TimeoutError';
  constructor(
    what: string,
    readonly timeoutMs: number,
    options: { cause?: unknown } = {},
  ) {
    super('TIMEOUT', `${what} did not complete within ${timeoutMs} ms`, { ...options, retriable: true });
  }
}

/** The broker refused or failed to accept a message. */
export class SendError extends BrokerkitError {
  override readonly name = 'SendError';
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super('SEND', message, options);
  }
}

/** Declaring a topic, subscription or queue failed, or clashes with what exists. */
export class TopologyError extends BrokerkitError {
  override readonly name = 'TopologyError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('TOPOLOGY', message, options);
  }
}

/** The backend cannot do what was asked, natively or emulated. */
export class UnsupportedError extends BrokerkitError {
  override readonly name = 'UnsupportedError';
  constructor(message: string) {
    super('UNSUPPORTED', message);
  }
}

/** Short description of any thrown value, for logs and dead-letter headers. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
