import { ConfigError } from '../errors/index.js';

/** Parse a broker URL; a malformed one is a ConfigError that shows it (credentials masked). */
export function parseBrokerUrl(input: unknown): URL {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new ConfigError('url', `expected a broker URL such as memory:// or redis://127.0.0.1:6379, got ${JSON.stringify(input)}`);
  }
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch (cause) {
    throw new ConfigError('url', `"${maskCredentials(input)}" is not a valid URL (expected scheme://host…)`, { cause });
  }
  return url;
}

/** The URL with any password replaced, safe for logs, errors and reports. */
export function maskCredentials(input: string | URL): string {
  try {
    const url = new URL(String(input));
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return String(input).replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
  }
}

/** host:port from a URL, with the scheme's default port; a ConfigError names the bad part. */
export function hostAndPort(url: URL, defaultPort: number): { host: string; port: number } {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new ConfigError('url host', `${url.protocol}// URL needs a host, e.g. ${url.protocol}//127.0.0.1:${defaultPort}`);
  const port = url.port ? Number(url.port) : defaultPort;
  return { host, port };
}
