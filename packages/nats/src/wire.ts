import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { EncodedMessage } from '@brokerkit/core/driver';

/**
 * How a message travels in NATS: body as the payload, headers as NATS headers. NATS has no
 * message id or key of its own, so both travel as headers (`bk-id`, `bk-key`) and are taken
 * off on receive; a message another client published has none: its id is `<stream>/<seq>`.
 */
export const ID_HEADER = 'bk-id';
export const KEY_HEADER = 'bk-key';

/** Headers the server adds to a message a schedule published (`Nats-Scheduler`, `Nats-Schedule-Next`): not the sender's. */
const isScheduleHeader = (name: string): boolean => name.startsWith('Nats-Schedule');

export function toHeaders(message: EncodedMessage): MsgHdrs {
  const headers = natsHeaders();
  for (const name in message.headers) headers.set(name, message.headers[name] as string);
  if (message.id !== '') headers.set(ID_HEADER, message.id);
  if (message.key !== undefined) headers.set(KEY_HEADER, message.key);
  return headers;
}

export function fromNats(stream: string, seq: number, raw: MsgHdrs | undefined, body: Uint8Array): EncodedMessage {
  const headers: Record<string, string> = {};
  let id: string | undefined;
  let key: string | undefined;
  if (raw) {
    for (const [name, values] of raw) {
      const value = values[0];
      if (value === undefined) continue;
      if (name === ID_HEADER) id = value;
      else if (name === KEY_HEADER) key = value;
      else if (!isScheduleHeader(name)) headers[name] = value;
    }
  }
  return { id: id ?? `${stream}/${seq}`, key, headers, body };
}
