import { DecodingError, EncodingError } from '../errors/index.js';

/** Turns bodies into bytes and back; the content type travels with the message. */
export interface Codec {
  /** `text`: the bytes as UTF-8 text, when the format is text (lets drivers skip a decode). */
  encode(body: unknown): { bytes: Uint8Array; contentType: string; text?: string };
  decode(bytes: Uint8Array, contentType: string | undefined): unknown;
}

export const CONTENT_TYPE_JSON = 'application/json';
export const CONTENT_TYPE_BINARY = 'application/octet-stream';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** JSON for values, untouched bytes for `Uint8Array` (and Node Buffers). */
export const jsonCodec: Codec = {
  encode(body) {
    if (body instanceof Uint8Array) return { bytes: body, contentType: CONTENT_TYPE_BINARY };
    let text: string | undefined;
    try {
      text = JSON.stringify(body);
    } catch (cause) {
      throw new EncodingError(`body cannot be encoded as JSON: ${(cause as Error).message}`, { cause });
    }
    if (text === undefined) throw new EncodingError(`body of type ${typeof body} cannot be encoded as JSON`);
    return { bytes: encoder.encode(text), contentType: CONTENT_TYPE_JSON, text };
  },
  decode(bytes, contentType) {
    if (!isJson(contentType)) return bytes;
    try {
      return JSON.parse(decoder.decode(bytes)) as unknown;
    } catch (cause) {
      throw new DecodingError(`body is not valid JSON: ${(cause as Error).message}`, { cause });
    }
  },
};

/** `application/json`, with parameters (`; charset=utf-8`) or as a `+json` suffix (`application/cloudevents+json`). */
function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = (contentType.split(';')[0] as string).trim().toLowerCase();
  return type === CONTENT_TYPE_JSON || (type.startsWith('application/') && type.endsWith('+json'));
}
