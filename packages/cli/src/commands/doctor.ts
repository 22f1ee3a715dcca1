import { BACKENDS } from '@brokerkit/conformance';
import { BUILTIN_SCHEMES, ConfigError, connect, describeError, maskCredentials } from '@brokerkit/core';
import pc from 'picocolors';

const PING_TIMEOUT_MS = 5_000;

/** For each backend with a URL: reachable or not, its version, round-trip time. Exit 1 if a configured one fails. */
export async function doctor(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let unreachable = 0;
  for (const profile of Object.values(BACKENDS)) {
    const url = env[profile.envVar] ?? profile.defaultUrl;
    if (!url) {
      process.stdout.write(`${pc.dim('·')} ${profile.name.padEnd(9)} ${pc.dim(`not configured (set ${profile.envVar})`)}\n`);
      continue;
    }
    const started = performance.now();
    try {
      const broker = await connect(url, { connectTimeoutMs: PING_TIMEOUT_MS });
      try {
        const { version } = await broker.ping();
        const ms = Math.round(performance.now() - started);
        process.stdout.write(`${pc.green('✔')} ${profile.name.padEnd(9)} reachable  ${version ?? 'version not reported'}  ${pc.dim(`${maskCredentials(url)} · ${ms} ms`)}\n`);
      } finally {
        await broker.close();
      }
    } catch (error) {
      if (error instanceof ConfigError && error.field === 'url scheme') {
        // Not a broker fault: this installation cannot speak to it yet.
        const adapter = BUILTIN_SCHEMES[new URL(url).protocol.replace(/:$/, '')] ?? 'its adapter';
        process.stdout.write(`${pc.yellow('?')} ${profile.name.padEnd(9)} not checked: ${adapter} is not installed  ${pc.dim(maskCredentials(url))}\n`);
        continue;
      }
      unreachable += 1;
      process.stdout.write(`${pc.red('✘')} ${profile.name.padEnd(9)} unreachable  ${describeError(error)}  ${pc.dim(maskCredentials(url))}\n`);
    }
  }
  return unreachable === 0 ? 0 : 1;
}
