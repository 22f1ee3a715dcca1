import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { registerDriver, type Delivery, type Driver, type DriverSubscription, type EncodedMessage, type SubscriptionSpec } from '@brokerkit/core';
import { driverFactory as memoryFactory } from '@brokerkit/memory';
import { runConformance } from './runner.js';

/**
 * The checks must be able to fail. Each fault below breaks one promise of the contract in a
 * wrapper around the memory driver; the suite has to catch it.
 */
type Fault = 'drop-every-fifth' | 'ignore-retry-delay' | 'strip-headers' | 'reverse-batches' | 'no-redelivery' | 'no-size-limit';

function faultyFactory(fault: Fault) {
  return {
    schemes: [`faulty-${fault}`],
    async open(url: URL): Promise<Driver> {
      const inner = await memoryFactory.open(new URL(`memory://faulty-${fault}-${url.hostname}`));
      let sent = 0;
      const unsettled = new Set<Delivery>();
      const wrap = (delivery: Delivery): Delivery => (unsettled.add(delivery), {
        ...delivery,
        message: fault === 'strip-headers' ? { ...delivery.message, headers: pick(delivery.message.headers) } : delivery.message,
        ack: () => (unsettled.delete(delivery), delivery.ack()),
        nack: (delayMs: number) => delivery.nack(fault === 'ignore-retry-delay' ? 0 : delayMs),
        ...(delivery.extendLease ? { extendLease: (ms: number) => delivery.extendLease!(ms) } : {}),
        ...(delivery.deadLetter ? { deadLetter: (queue: string, message: EncodedMessage) => delivery.deadLetter!(queue, message) } : {}),
      });
      const driver: Driver = {
        backend: inner.backend,
        capabilities: fault === 'no-size-limit' ? { ...inner.capabilities, maxMessageBytes: 1_000 } : inner.capabilities,
        limits: fault === 'no-size-limit' ? { ...inner.limits, maxMessageBytes: 10_000_000 } : inner.limits,
        // Claims the broker keeps key order itself while the wrapper breaks it.
        traits: inner.traits,
        ensureQueue: (name) => inner.ensureQueue(name),
        ensureSubscription: (spec) => inner.ensureSubscription(relax(spec)),
        send: async (topic, messages) => {
          const kept = fault === 'drop-every-fifth' ? messages.filter(() => ++sent % 5 !== 0) : messages;
          await inner.send(topic, kept);
          return messages.map((m) => ({ id: m.id }));
        },
        subscribe: async (spec): Promise<DriverSubscription> => {
          const subscription = await inner.subscribe(relax(spec));
          return {
            receive: async (max, signal) => {
              const deliveries = (await subscription.receive(max, signal)).map(wrap);
              return fault === 'reverse-batches' ? deliveries.reverse() : deliveries;
            },
            close: () => subscription.close(),
          };
        },
        ping: () => inner.ping(),
        close: () => inner.close(),
        // A broker that takes a dropped connection's unsettled messages as done.
        destroy: async () => {
          if (fault === 'no-redelivery') await Promise.all([...unsettled].map((d) => d.ack()));
          await inner.destroy();
        },
        native: () => inner.native(),
      };
      return driver;

      function relax(spec: SubscriptionSpec): SubscriptionSpec {
        return fault === 'reverse-batches' ? { ...spec, ordering: 'none' } : spec;
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
  ['strip-headers', ['round-trip', 'dead-letter', 'explicit-dead-letter', 'trace-context']],
  ['reverse-batches', ['key-ordering']],
  ['no-redelivery', ['crash-redelivery']],
  ['no-size-limit', ['size-limit']],
];

describe('the suite catches broken backends', () => {
  for (const [fault, mustFail] of expectations) {
    it(`${fault} fails ${mustFail.join(', ')}`, async () => {
      registerDriver(faultyFactory(fault));
      const report = await runConformance(
        { backend: fault, url: `faulty-${fault}://x`, timing: { deadlineScale: 0.15, backoffLateToleranceMs: 200 } },
        { only: mustFail },
      );
      for (const id of mustFail) {
        const result = report.checks.find((c) => c.id === id);
        assert.equal(result?.status, 'fail', `${id} should fail under ${fault}: ${JSON.stringify(result)}`);
      }
    });
  }
});
