import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { connect } from '@brokerkit/core';
import { SCENARIOS, parseProxyRoute, runFaults } from '@brokerkit/faults';
import { startBrokers } from '@brokerkit/testing';
import { BACKENDS_UNDER_TEST } from './fixtures/register.js';
import { restartFor } from './fixtures/restart.js';

/**
 * The fault harness of `brokerkit faults` on every backend, lighter than the CLI's default:
 * 5 000 messages through consumer processes SIGKILLed 5 times (SQS on moto: 1 000), the same
 * through three key-ordered processes SIGKILLed 3 times (same-key order counted), a consumer
 * holding 100 and then 1 000 messages SIGKILLed beside a survivor (crash-recovery), a broker
 * restart mid-stream (Redis with AOF, RabbitMQ, Kafka: the brokers this checkout started),
 * a network cut and added latency through toxiproxy (BROKERKIT_TOXIPROXY_URL; Kafka through
 * the PROXIED listener of BROKERKIT_KAFKA_PROXY_ROUTE),
 * poison and slow handlers, bad input. BROKERKIT_FAULTS_MESSAGES sets the size.
 */
/** crash-recovery's rounds: a crashed consumer holding 100, then 1 000 (SQS on moto: 100; moto scans its queue per receive). */
const heldFor = (backend: string): number[] => (backend === 'sqs' ? [100] : [100, 1_000]);
const messagesFor = (backend: string): number => Number(process.env.BROKERKIT_FAULTS_MESSAGES ?? (backend === 'sqs' ? 1_000 : 5_000));

/** What the backend claims for key order (a backend keeping it per instance only is not run across processes). */
async function orderingOf(url: string): Promise<string> {
  const broker = await connect(url);
  try {
    return broker.capabilities.ordering;
  } finally {
    await broker.close();
  }
}

describe('fault harness: consumer crashes, poison, bad input — nothing lost', () => {
  for (const backend of ['memory', ...BACKENDS_UNDER_TEST] as const) {
    it(`${backend}`, { timeout: 15 * 60_000 }, async () => {
      const brokers = backend === 'memory' ? { url: 'memory://faults', stop: async () => undefined } : await startBrokers([backend]).then((started) => ({ url: started.urls[backend] as string, stop: started.stop }));
      try {
        const restart = restartFor(backend);
        const toxiproxy = process.env.BROKERKIT_TOXIPROXY_URL;
        const route = backend === 'kafka' && process.env.BROKERKIT_KAFKA_PROXY_ROUTE ? parseProxyRoute(process.env.BROKERKIT_KAFKA_PROXY_ROUTE) : undefined;
        const proxiable = backend !== 'memory' && (backend !== 'kafka' || route !== undefined);
        const report = await runFaults({
          backend,
          url: brokers.url,
          messages: messagesFor(backend),
          held: heldFor(backend),
          ...(restart ? { restart } : {}),
          ...(toxiproxy ? { toxiproxy } : {}),
          ...(route ? { proxyRoute: route } : {}),
        });
        for (const id of SCENARIOS) {
          const result = report.scenarios[id];
          process.stdout.write(`${backend} ${id}: ${result.status}${result.reason ? ` (${result.reason})` : ''} sent=${result.sent} handled=${result.handled} lost=${result.lost} duplicates=${result.duplicates} recoveryMs=${result.recoveryMs}\n`);
          assert.notEqual(result.status, 'fail', `${id}: ${result.reason}`);
          assert.equal(result.lost, 0, `${id} lost messages`);
        }
        // What is run must really run: crash (except in-process memory), poison and bad input.
        assert.equal(report.scenarios.poison.status, 'pass');
        assert.equal(report.scenarios['bad-input'].status, 'pass');
        if (toxiproxy && proxiable) assert.equal(report.scenarios['network-cut'].status, 'pass', 'cut and slowed, nothing confirmed lost');
        if (restart) assert.equal(report.scenarios['broker-restart'].status, 'pass', 'the broker restarted and nothing confirmed was lost');
        if (backend !== 'memory') {
          assert.equal(report.scenarios['consumer-crash'].status, 'pass');
          assert.equal(report.scenarios['consumer-crash'].details.kills, 5);
          if ((await orderingOf(brokers.url)) === 'per-key') {
            assert.equal(report.scenarios['key-crash'].status, 'pass', 'key order held across three key-ordered processes, SIGKILLed three times');
            assert.equal(report.scenarios['key-crash'].details.kills, 3);
          } else {
            // A backend that keeps key order within one instance only says so, rather than passing.
            assert.match(report.scenarios['key-crash'].reason ?? '', /within one instance only/);
          }
          assert.equal(report.scenarios['crash-recovery'].status, 'pass', 'a survivor handled everything a SIGKILLed consumer held');
        }
      } finally {
        await brokers.stop();
      }
    });
  }
});
