import { spawn, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const worker = fileURLToPath(new URL(`./consumer-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** A consumer process (`consumer-worker`) and whether it has attached. */
export interface WorkerProcess {
  child: ChildProcess;
  ready: boolean;
  /** Not exited or killed yet. */
  readonly alive: boolean;
}

export interface WorkerSpec {
  url: string;
  queue: string;
  ackTimeoutMs: number;
  mode?: 'handle' | 'hold' | 'key';
  concurrency?: number;
}

/** Start a consumer process; `onLine` gets each line it prints other than `ready`. */
export function startWorker(spec: WorkerSpec, onLine: (line: string) => void): WorkerProcess {
  const args = [worker, spec.url, spec.queue, String(spec.ackTimeoutMs), spec.mode ?? 'handle', String(spec.concurrency ?? 8)];
  const child = spawn(process.execPath, [...process.execArgv, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const member: WorkerProcess = {
    child,
    ready: false,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
  };
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') member.ready = true;
      else if (line) onLine(line);
    }
  });
  return member;
}
