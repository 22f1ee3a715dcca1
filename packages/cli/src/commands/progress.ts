import pc from 'picocolors';
import type { ProgressEvent } from '@brokerkit/conformance';

/** Prints one line per finished check on stderr, with a live "running" line on terminals. */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (event: ProgressEvent) => void {
  const live = stream.isTTY === true;
  return (event) => {
    const counter = `[${String(event.index + 1).padStart(2)}/${event.total}]`;
    if (event.kind === 'start') {
      if (live) stream.write(`\r\x1b[2K${pc.dim(`${event.backend} ${counter} ${event.check.id} …`)}`);
      return;
    }
    const { result } = event;
    const mark = result.status === 'pass' ? pc.green('✔') : result.status === 'fail' ? pc.red('✘') : pc.yellow('–');
    const reason = result.status === 'pass' ? '' : pc.dim(` ${result.reason ?? ''}`);
    stream.write(`${live ? '\r\x1b[2K' : ''}${event.backend} ${counter} ${mark} ${result.id} ${pc.dim(`${result.durationMs} ms`)}${reason}\n`);
  };
}
