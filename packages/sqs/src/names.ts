import { createHash } from 'node:crypto';

const MAX_NAME = 80;

/**
 * SQS queue and SNS topic names allow letters, digits, `-` and `_` (80 characters; FIFO ones
 * end in `.fifo`). brokerkit names may hold `.` (`orders.dlq`): other characters become `_`,
 * and a name too long keeps its start plus a hash, so distinct long names stay distinct.
 */
export function awsName(name: string, fifo: boolean): string {
  const suffix = fifo ? '.fifo' : '';
  let safe = name.replace(/[^A-Za-z0-9_-]/g, '_');
  const room = MAX_NAME - suffix.length;
  if (safe.length > room) safe = `${safe.slice(0, room - 9)}_${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
  return `${safe}${suffix}`;
}

/** FIFO group and deduplication ids: 1–128 printable ASCII characters; other values are hashed. */
export function fifoId(value: string): string {
  return /^[\x21-\x7e]{1,128}$/.test(value) ? value : createHash('sha256').update(value).digest('hex');
}
