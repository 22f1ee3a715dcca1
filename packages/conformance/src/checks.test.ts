import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { TopologyError, registerDriver } from '@brokerkit/core';
import type { Delivery, Driver, DriverSubscription, EncodedMessage, SubscriptionDeclaration } from '@brokerkit/core/driver';
import { driverFactory as memoryFactory } from '@brokerkit/memory';
import { CHECKS } from './checks/index.js';
import { runConformance } from './runner.js';

/**
 * The checks must be able to fail. Each fault below breaks one promise of the contract in a
 * wrapper around the memory driver; the suite has to catch it.
 */
type Fault =
  | 'drop-every-fifth'
  | 'ignore-retry-delay'
  | 'strip-headers'
  | 'reverse-batches'
  | 'no-redelivery'
  | 'no-size-limit'
  | 'attempt-stuck-at-one'
  | 'ephemeral-drops'
  | 'ignores-receive-max'
  | 'lax-url'
  | 'retry-frees-key'
  | 'declaration-fixes-ordering'
  | 'keys-held-per-instance'
  | 'backlog-counts-handed-out'
  | 'ignores-delay'
  | 'release-drops-dead-letters';

function faultyFactory(fault: Fault) {
  return {
    schemes: [`faulty-${fault}`],
    async open(url: URL): Promise<Driver> {
      // The memory driver validates the URL's options; a lax broker takes anything.
      const options = fault === 'lax-url' ? '' : url.search;
      const inner = await memoryFactory.open(new URL(`memory://faulty-${fault}-${url.hostname}${options}`));
      let sent = 0;
      const unsettled = new Set<Delivery>();
      /** Declared before any consumer chose an ordering: the old memory bug fixed them at 'none'. */
      const declaredUndecided = new Set<string>();
      const wrap = (delivery: Delivery, topic: string): Delivery => (unsettled.add(delivery), {
        ...delivery,
        attempt: fault === 'attempt-stuck-at-one' ? 1 : delivery.attempt,
        message: fault === 'strip-headers' ? { ...delivery.message, headers: pick(delivery.message.headers) } : delivery.message,
        ack: () => (unsettled.delete(delivery), delivery.ack()),
        nack: async (delayMs: number) => {
          // A broker that loses what a reader of a dead-letter queue gives back (a peek is then not read-only).
          if (fault === 'release-drops-dead-letters' && delayMs === 0 && topic.endsWith('.dlq')) return delivery.ack();
          if (fault !== 'retry-frees-key' || delayMs === 0) return delivery.nack(fault === 'ignore-retry-delay' ? 0 : delayMs);
          // A retry topic: the message leaves at once (its key free) and comes back after the delay.
          await delivery.ack();
          setTimeout(() => void inner.send(topic, [delivery.message]), delayMs);
        },
        ...(delivery.extendLease ? { extendLease: (ms: number) => delivery.extendLease!(ms) } : {}),
        ...(delivery.deadLetter ? { deadLetter: (queue: string, message: EncodedMessage) => delivery.deadLetter!(queue, message) } : {}),
      });
      const driver: Driver = {
        backend: inner.backend,
        capabilities: fault === 'no-size-limit' ? { ...inner.capabilities, maxMessageBytes: 1_000 } : inner.capabilities,
        limits: fault === 'no-size-limit' ? { ...inner.limits, maxMessageBytes: 10_000_000 } : inner.limits,
        // Claims the broker keeps key order itself while the wrapper breaks it.
        traits: inner.traits,
        ensureQueue: (name) => (declaredUndecided.add(name), inner.ensureQueue(name)),
        ensureSubscription: (spec) => {
          if (spec.ordering !== 'key') declaredUndecided.add(spec.subscription);
          return inner.ensureSubscription(relax(spec));
        },
        send: async (topic, messages) => {
          let kept = fault === 'drop-every-fifth' ? messages.filter(() => ++sent % 5 !== 0) : messages;
          // Takes a delayed send, and delivers it at once.
          if (fault === 'ignores-delay') kept = kept.map(({ deliverAt: _ignored, ...message }) => message);
          await inner.send(topic, kept);
          return messages.map((m) => ({ id: m.id }));
        },
        subscribe: async (spec): Promise<DriverSubscription> => {
          if (fault === 'declaration-fixes-ordering' && spec.ordering === 'key' && declaredUndecided.has(spec.subscription)) {
            throw new TopologyError(`subscription ${spec.subscription} exists with ordering 'none', asked for 'key'`);
          }
          const subscription = await inner.subscribe(relax(spec));
          let received = 0;
          return {
            receive: async (max, signal) => {
              let deliveries = (await subscription.receive(fault === 'ignores-receive-max' ? max * 4 : max, signal)).map((d) => wrap(d, spec.topic));
              if (fault === 'ephemeral-drops' && !spec.durable) {
                // At most once, and lossy: every third message is taken and never handed over.
                const dropped = deliveries.filter(() => ++received % 3 === 0);
                await Promise.all(dropped.map((d) => d.ack()));
                deliveries = deliveries.filter((d) => !dropped.includes(d));
              }
              return fault === 'reverse-batches' ? deliveries.reverse() : deliveries;
            },
            close: () => subscription.close(),
          };
        },
        ping: () => inner.ping(),
        // A backlog short of what the subscription holds: three fewer than there are.
        ...(inner.backlog ? { backlog: async (topic: string, subscription: string) => {
          const counted = await inner.backlog!(topic, subscription);
          return fault === 'backlog-counts-handed-out' ? { ...counted, messages: Math.max(0, counted.messages - 3) } : counted;
        } } : {}),
        close: () => inner.close(),
        // A broker that takes a dropped connection's unsettled messages as done.
        destroy: async () => {
          if (fault === 'no-redelivery') await Promise.all([...unsettled].map((d) => d.ack()));
          await inner.destroy();
        },
        native: () => inner.native(),
      };
      return driver;

      // 'keys-held-per-instance': the broker hands any message to any instance, so only each
      // instance keeps its keys in order (a plain queue shared by instances) — yet claims per-key.
      function relax<T extends SubscriptionDeclaration>(spec: T): T {
        return fault === 'reverse-batches' || fault === 'keys-held-per-instance' ? { ...spec, ordering: 'none' } : spec;
      }
    },
  };
}

function pick(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name === 'bk-content-type'));
}

const expectations: [Fault, string[]][] = [
  ['drop-every-fifth', ['fan-out', 'competing-consumers', 'restart-no-loss', 'throughput']],
  ['ignore-retry-delay', ['backoff']],
  ['strip-headers', ['round-trip', 'dead-letter', 'explicit-dead-letter', 'trace-context', 'batch-outcomes']],
  ['reverse-batches', ['key-ordering', 'batch-key-ordering']],
  ['no-redelivery', ['crash-redelivery', 'batch-crash']],
  ['no-size-limit', ['size-limit']],
  ['attempt-stuck-at-one', ['retry-after-error', 'batch-outcomes']],
  ['ephemeral-drops', ['ephemeral']],
  ['ignores-receive-max', ['concurrency-limit']],
  ['lax-url', ['bad-config']],
  ['retry-frees-key', ['key-ordering-under-retries']],
  ['declaration-fixes-ordering', ['declare-then-attach']],
  ['keys-held-per-instance', ['key-handover']],
  ['backlog-counts-handed-out', ['backlog']],
  ['ignores-delay', ['delayed-send']],
  ['release-drops-dead-letters', ['dead-letter-replay']],
];

it('every check has a broken backend it is shown to fail on', () => {
  const covered = new Set(expectations.flatMap(([, checks]) => checks));
  assert.deepEqual(CHECKS.map((check) => check.id).filter((id) => !covered.has(id)), []);
});

describe('the suite catches broken backends', () => {
  for (const [fault, mustFail] of expectations) {
    it(`${fault} fails ${mustFail.join(', ')}`, async (t) => {
      registerDriver(faultyFactory(fault));
      const report = await runConformance(
        { backend: fault, url: `faulty-${fault}://x`, timing: { deadlineScale: 0.15, backoffLateToleranceMs: 200 } },
        { only: mustFail },
      );
      for (const id of mustFail) {
        const result = report.checks.find((c) => c.id === id);
        assert.equal(result?.status, 'fail', `${id} should fail under ${fault}: ${JSON.stringify(result)}`);
        t.diagnostic(`${id}: ${result?.reason ?? ''}`);
      }
    });
  }
});

describe('a known emulator defect', () => {
  const run = async (allows: RegExp) => {
    registerDriver(faultyFactory('keys-held-per-instance'));
    const harness = { backend: 'emulated', url: 'faulty-keys-held-per-instance://x', timing: { deadlineScale: 0.15 }, emulatorDefects: { 'key-handover': { what: 'the emulator keeps keys per instance', allows } } };
    const report = await runConformance(harness, { only: ['key-handover'] });
    return report.checks[0];
  };

  it('is still a failed check, its reason naming the defect, when the failure is exactly the known one', async () => {
    const result = await run(/same-key|started while another/);
    assert.equal(result?.status, 'fail');
    assert.equal(result?.emulatorDefect, 'the emulator keeps keys per instance');
    assert.match(result?.reason ?? '', /known emulator defect: the emulator keeps keys per instance/);
  });

  it('does not excuse a failure of another kind', async () => {
    const result = await run(/^\d+ messages missing after the crash$/);
    assert.equal(result?.status, 'fail');
    assert.equal(result?.emulatorDefect, undefined);
  });
});
