import { after, before, describe, it } from 'node:test';
import { connect, type Capabilities } from '@brokerkit/core';
import { runCheck, selectChecks } from './runner.js';
import type { Harness } from './types.js';

/**
 * Register every conformance check as a node:test case for one backend. A failing check fails
 * its test with the measured figures; an unsupported one is reported as skipped, with its reason.
 */
export function registerConformanceTests(harness: Harness | (() => Promise<Harness>), only?: readonly string[]): void {
  describe(`conformance: ${typeof harness === 'function' ? 'backend' : harness.backend}`, () => {
    let resolved: Harness | undefined;
    let capabilities: Capabilities;
    after(async () => {
      await resolved?.dispose?.();
    });
    before(async () => {
      resolved = typeof harness === 'function' ? await harness() : harness;
      const probe = resolved.connect ? await resolved.connect() : await connect(resolved.url);
      capabilities = probe.capabilities;
      await probe.ping();
      await probe.close();
    });
    for (const check of selectChecks(only)) {
      it(`${check.id}: ${check.title}`, async (t) => {
        const result = await runCheck(check, resolved!, capabilities);
        const figures = JSON.stringify(result.figures);
        if (result.status === 'unsupported') {
          t.skip(`unsupported: ${result.reason ?? ''}`);
          return;
        }
        t.diagnostic(`${resolved!.backend} ${check.id} ${result.durationMs} ms ${figures}`);
        // The emulator's known defect, and only it: reported as failed, not a failing test.
        if (result.status === 'fail' && result.emulatorDefect) {
          t.diagnostic(`${check.id} fails on this emulator as known: ${result.reason ?? ''}`);
          return;
        }
        if (result.status === 'fail') throw new Error(`${check.id} failed: ${result.reason ?? ''} — figures ${figures}`);
      });
    }
  });
}
