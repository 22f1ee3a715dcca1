import type { Broker } from '@brokerkit/core';
import { disruptedStream } from './disrupted-stream.js';
import type { ScenarioResult } from './report.js';

/**
 * The broker restarts (keeping its data) while a producer sends and a consumer handles:
 * nothing confirmed may be lost, and both must recover by themselves.
 */
export function brokerRestart(broker: Broker, options: { messages: number; restart: () => Promise<void> }): Promise<ScenarioResult> {
  return disruptedStream(broker, 'restart', options.messages, { run: options.restart });
}
