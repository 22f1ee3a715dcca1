import { percentile, round, waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const MESSAGES = 21;
const STEP_MS = 250;
/** Clocks read in ms, and a timer may fire a ms before the time its delay was computed from. */
const EARLY_TOLERANCE_MS = 5;

/**
 * Sends with delays from 0 to 5 s (one batch, in no order of delay): none may arrive before its
 * time; how late each arrives is measured (p50, p99, max). "Soon after" is asserted loosely —
 * within 3 s — as the figures, not the bound, are what compares backends.
 */
export const delayedSend: Check = {
  id: 'delayed-send',
  title: `${MESSAGES} messages delayed 0–${((MESSAGES - 1) * STEP_MS) / 1_000} s; none early, lateness measured`,
  async run(context) {
    if (context.capabilities.delayedSend === 'none') {
      const note = context.capabilities.notes.find((each) => /^delayed send/.test(each));
      return { status: 'unsupported', reason: note ?? 'backend reports no delayed sends', figures: {} };
    }
    const broker = await context.open();
    const queue = context.unique('delayed');
    const due = new Map<string, number>();
    const lateness: number[] = [];
    let early = 0;
    let earliestMs = 0;
    await broker.consumer<{ id: string }>(queue, (message) => {
      const dueAt = due.get(message.id);
      if (dueAt !== undefined) {
        const late = Date.now() - dueAt;
        if (late < -EARLY_TOLERANCE_MS) {
          early += 1;
          earliestMs = Math.min(earliestMs, late);
        }
        lateness.push(late);
        due.delete(message.id);
      }
    });
    // Longer delays first: a backend that delivers in send order, or ignores delays, shows it.
    const delays = Array.from({ length: MESSAGES }, (_, i) => (MESSAGES - 1 - i) * STEP_MS);
    const sentAt = Date.now();
    const messages = delays.map((delayMs, i) => ({ id: `${queue}-${i}`, body: { id: `${queue}-${i}` }, delayMs }));
    for (const { id, delayMs } of messages) due.set(id, sentAt + delayMs);
    await broker.producer().sendBatch(queue, messages);
    await waitUntil(() => due.size === 0, context.deadline(Math.max(...delays) + 15_000));
    const sorted = [...lateness].sort((a, b) => a - b);
    const maxLate = sorted[sorted.length - 1] ?? 0;
    const lateBoundMs = context.deadline(3_000);
    return verdict(
      {
        sent: MESSAGES,
        received: lateness.length,
        early,
        ...(early > 0 ? { earliestMs } : {}),
        p50LateMs: round(percentile(sorted, 50)),
        p99LateMs: round(percentile(sorted, 99)),
        maxLateMs: round(maxLate),
      },
      [
        due.size > 0 && `${due.size} of ${MESSAGES} delayed messages never arrived`,
        early > 0 && `${early} arrived before their time (the earliest ${-earliestMs} ms early)`,
        maxLate > lateBoundMs && `one arrived ${maxLate} ms after its time (more than ${lateBoundMs} ms)`,
      ],
    );
  },
};
