import { connect, type DeadLetter, type DeadLetterSummary } from '@brokerkit/core';
import { UsageError } from './usage-error.js';

export type DlqAction = 'peek' | 'replay' | 'purge';

export interface DlqOptions {
  url?: string;
  /** The subscription (or queue) whose dead letters to act on: its dead-letter queue is `<name>.dlq`. */
  subscription?: string;
  /** A dead-letter queue named by the `deadLetter` option. */
  queue?: string;
  reason?: string;
  limit?: string;
  to?: string;
  idleMs?: string;
  json?: boolean;
}

const ACTIONS: readonly DlqAction[] = ['peek', 'replay', 'purge'];
const CELL_CHARS = 60;

/**
 * `brokerkit dlq peek|replay|purge --url URL --subscription NAME [--reason R] [--limit N]`:
 * look into a dead-letter queue, send its messages back, or remove them. Replay and purge print
 * progress about once a second (to stderr) and a summary; exit 1 where some could not be acted on.
 */
export async function dlq(
  action: string,
  options: DlqOptions,
  out: NodeJS.WritableStream = process.stdout,
  progress: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  if (!ACTIONS.includes(action as DlqAction)) throw new UsageError(`unknown action ${JSON.stringify(action)}: expected ${ACTIONS.join(', ')}`);
  if (!options.url) throw new UsageError('--url is required (the broker to ask)');
  if ((options.subscription === undefined) === (options.queue === undefined)) throw new UsageError('give one of --subscription NAME (its dead-letter queue is NAME.dlq) or --queue DLQ');
  if (action !== 'replay' && options.to !== undefined) throw new UsageError('--to is for replay only');
  const limit = count('--limit', options.limit);
  const idleMs = count('--idle-ms', options.idleMs);
  const reason = options.reason;
  const scan = {
    ...(reason === undefined ? {} : { filter: (letter: DeadLetter) => letter.reason === reason }),
    ...(limit === undefined ? {} : { limit }),
    ...(idleMs === undefined ? {} : { idleMs }),
  };
  const broker = await connect(options.url);
  try {
    const letters = broker.deadLetters(options.queue !== undefined ? { queue: options.queue } : (options.subscription as string));
    if (action === 'peek') {
      const shown = await letters.peek(scan);
      out.write(options.json ? `${JSON.stringify({ queue: letters.queue, messages: shown.map(asJson) }, null, 2)}\n` : table(shown));
      return 0;
    }
    const onProgress = (summary: DeadLetterSummary): void => void progress.write(`${line(action as DlqAction, summary)}\n`);
    const summary = action === 'replay' ? await letters.replay({ ...scan, onProgress, ...(options.to === undefined ? {} : { to: options.to }) }) : await letters.purge({ ...scan, onProgress });
    out.write(options.json ? `${JSON.stringify({ queue: letters.queue, action, ...summary }, null, 2)}\n` : `${line(action as DlqAction, summary)}\n${summary.errors.map((error) => `  ${error}\n`).join('')}`);
    return summary.failed > 0 ? 1 : 0;
  } finally {
    await broker.close();
  }
}

function count(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new UsageError(`${flag} expects a whole number, got ${JSON.stringify(value)}`);
  return parsed;
}

function line(action: DlqAction, summary: DeadLetterSummary): string {
  const done = action === 'replay' ? summary.replayed : summary.purged;
  const rate = summary.durationMs > 0 ? `, ${Math.round((done * 1_000) / summary.durationMs)} msg/s` : '';
  const extra = summary.duplicates > 0 ? `, ${summary.duplicates} duplicates removed` : '';
  return `${action === 'replay' ? 'replayed' : 'purged'} ${done}, skipped ${summary.skipped}, failed ${summary.failed}${extra} (seen ${summary.seen} in ${(summary.durationMs / 1_000).toFixed(1)} s${rate})`;
}

function asJson(letter: DeadLetter): Record<string, unknown> {
  const { bytes, body, ...rest } = letter;
  return { ...rest, ...(letter.decodeError === undefined && !(body instanceof Uint8Array) ? { body } : { bodyBase64: Buffer.from(bytes).toString('base64') }) };
}

function table(letters: DeadLetter[]): string {
  if (letters.length === 0) return 'no dead letters\n';
  const cells = letters.map((letter) => [
    letter.id,
    letter.reason ?? '—',
    letter.attempts === undefined ? '—' : String(letter.attempts),
    letter.deadLetteredAt?.toISOString() ?? '—',
    letter.originalTopic === undefined ? '—' : letter.originalTopic === letter.originalSubscription ? letter.originalTopic : `${letter.originalTopic}/${letter.originalSubscription ?? '?'}`,
    cut(letter.lastError ?? ''),
    cut(letter.decodeError !== undefined || letter.body instanceof Uint8Array ? `${letter.bytes.byteLength} bytes` : JSON.stringify(letter.body)),
  ]);
  const header = ['id', 'reason', 'attempts', 'dead-lettered at', 'from', 'last error', 'body'];
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => (cell[column] ?? '').length)));
  const row = (cell: string[]): string => cell.map((text, column) => text.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [row(header), ...cells.map(row)].join('\n') + '\n';
}

const cut = (text: string): string => (text.length > CELL_CHARS ? `${text.slice(0, CELL_CHARS - 1)}…` : text).replace(/\s+/g, ' ');
