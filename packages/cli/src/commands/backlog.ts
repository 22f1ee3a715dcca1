import { connect, describeError, maskCredentials, type Backlog } from '@brokerkit/core';
import { UsageError } from './usage-error.js';

export interface BacklogOptions {
  url?: string;
  json?: boolean;
}

interface Row {
  topic: string;
  subscription: string;
  backlog?: Backlog;
  error?: string;
}

/**
 * `brokerkit backlog --url URL orders/billing emails`: each subscription (`topic/subscription`)
 * or queue (a bare name) with what its broker says it has not settled. Exit 1 if one could not
 * be asked (unknown, unsupported, unreachable).
 */
export async function backlog(names: string[], options: BacklogOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (!options.url) throw new UsageError('--url is required (the broker to ask)');
  if (names.length === 0) throw new UsageError('name at least one subscription (topic/subscription) or queue');
  const targets = names.map((name) => {
    const slash = name.indexOf('/');
    return slash < 0 ? { topic: name, subscription: name, queue: true } : { topic: name.slice(0, slash), subscription: name.slice(slash + 1), queue: false };
  });
  const broker = await connect(options.url);
  const rows: Row[] = [];
  try {
    for (const { topic, subscription, queue } of targets) {
      try {
        rows.push({ topic, subscription, backlog: await broker.backlog(topic, queue ? undefined : subscription) });
      } catch (error) {
        rows.push({ topic, subscription, error: describeError(error) });
      }
    }
  } finally {
    await broker.close();
  }
  if (options.json) out.write(`${JSON.stringify({ url: maskCredentials(options.url), subscriptions: rows }, null, 2)}\n`);
  else out.write(table(rows));
  return rows.some((row) => row.error) ? 1 : 0;
}

function table(rows: Row[]): string {
  const cells = rows.map((row) => [
    row.topic === row.subscription ? row.topic : `${row.topic}/${row.subscription}`,
    row.backlog ? `${row.backlog.approximate ? '~' : ''}${row.backlog.messages}` : '—',
    row.backlog?.oldestAgeMs === undefined ? '—' : seconds(row.backlog.oldestAgeMs),
    row.backlog ? row.backlog.counts : (row.error ?? ''),
  ]);
  const header = ['subscription', 'messages', 'oldest', 'what is counted'];
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => (cell[column] ?? '').length)));
  const line = (cell: string[]): string => cell.map((text, column) => (column === 1 ? text.padStart(widths[column] ?? 0) : text.padEnd(widths[column] ?? 0))).join('  ').trimEnd();
  return [line(header), ...cells.map(line)].join('\n') + '\n';
}

const seconds = (ms: number): string => (ms < 1_000 ? `${ms} ms` : `${(ms / 1_000).toFixed(1)} s`);
