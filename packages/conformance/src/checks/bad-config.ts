import { ConfigError, ConnectionError, TimeoutError, connect } from '@brokerkit/core';
import { verdict } from '../measure.js';
import type { Check } from '../types.js';

const CONNECT_TIMEOUT_MS = 3_000;

interface Probe {
  name: string;
  attempt: () => Promise<unknown>;
  /** The error must be a ConfigError whose field contains this text. */
  field: string;
}

export const badConfig: Check = {
  id: 'bad-config',
  title: 'bad URLs and options give a typed error naming the field; an unreachable broker fails in bounded time',
  async run(context) {
    const { url, unreachableUrl } = context.harness;
    // Text, not `new URL`: a cluster's URL names several hosts, which WHATWG URLs do not take.
    const scheme = /^[a-z][\w+.-]*:/i.exec(url)?.[0] ?? 'x:';
    const withOption = `${url}${url.includes('?') ? '&' : '?'}definitelyNotAnOption=1`;
    const broker = await context.open();
    const probes: Probe[] = [
      { name: 'unknown URL option', attempt: () => connect(withOption), field: 'definitelyNotAnOption' },
      { name: 'malformed URL', attempt: () => connect(`${scheme}//[not a host`), field: 'url' },
      { name: 'malformed host list', attempt: () => connect(`${scheme}//127.0.0.1:1,,127.0.0.1:2`), field: 'url hosts' },
      { name: 'unknown scheme', attempt: () => connect('nosuchbroker://127.0.0.1'), field: 'url scheme' },
      { name: 'concurrency 0', attempt: () => broker.consumer(context.unique('bad'), async () => undefined, { concurrency: 0 }), field: 'options.concurrency' },
      { name: 'misspelt option', attempt: () => broker.consumer(context.unique('bad'), async () => undefined, { maxAtempts: 3 } as never), field: 'options.maxAtempts' },
      { name: 'bad topic name', attempt: () => broker.producer().send('no spaces allowed', { body: 1 }), field: 'topic' },
      { name: 'unencodable body', attempt: () => broker.producer().send(context.unique('bad'), { body: { n: 1n } }), field: '' },
    ];
    const problems: string[] = [];
    for (const probe of probes) {
      try {
        await probe.attempt();
        problems.push(`${probe.name}: accepted`);
      } catch (error) {
        if (probe.field === '') {
          if (!(error instanceof Error) || (error as { code?: string }).code !== 'ENCODING') problems.push(`${probe.name}: ${String(error)} is not an EncodingError`);
        } else if (!(error instanceof ConfigError) || !error.field.includes(probe.field)) {
          problems.push(`${probe.name}: ${String(error)} does not name ${probe.field}`);
        }
      }
    }
    const figures: Record<string, number | string | boolean> = { probes: probes.length, typedErrors: probes.length - problems.length };
    if (unreachableUrl) {
      const started = Date.now();
      try {
        const unexpected = await connect(unreachableUrl, { connectTimeoutMs: CONNECT_TIMEOUT_MS });
        await unexpected.close();
        problems.push('unreachable broker: connect succeeded');
      } catch (error) {
        if (!(error instanceof ConnectionError || error instanceof TimeoutError)) problems.push(`unreachable broker: ${String(error)} is not a ConnectionError`);
      }
      figures.unreachableFailedAfterMs = Date.now() - started;
      if ((figures.unreachableFailedAfterMs as number) > CONNECT_TIMEOUT_MS + 2_000) problems.push(`unreachable broker took ${figures.unreachableFailedAfterMs} ms to fail`);
    } else {
      figures.unreachable = 'n/a: in-process backend';
    }
    return verdict(figures, problems);
  },
};
