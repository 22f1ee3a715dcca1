import { ConfigError } from '../errors/index.js';

/** The full host lists of URLs that named several hosts; the URL itself holds the first. */
const hostLists = new WeakMap<URL, readonly string[]>();

/**
 * Parse a broker URL; a malformed one is a ConfigError that shows it (credentials masked).
 *
 * A URL may name several hosts, comma-separated, as MongoDB's and many AMQP and Redis clients'
 * URLs do: `kafka://h1:9092,h2:9093`, `amqp://u:p@h1:5672,h2:5673/`. WHATWG URLs take one
 * host, so the URL returned holds the first and `hostsOf` gives every one.
 */
export function parseBrokerUrl(input: unknown): URL {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new ConfigError('url', `expected a broker URL such as memory:// or redis://127.0.0.1:6379, got ${JSON.stringify(input)}`);
  }
  const text = input.trim();
  const authority = /^([a-z][\w+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(text);
  const hostPart = authority?.[2] ?? '';
  const at = hostPart.lastIndexOf('@');
  const hosts = hostPart.slice(at + 1);
  let list: string[] | undefined;
  let single = text;
  if (authority && hosts.includes(',')) {
    list = hosts.split(',');
    const bad = list.find((host) => !HOST_PORT.test(host));
    if (bad !== undefined) {
      throw new ConfigError('url hosts', `"${bad}" in the host list "${hosts}" is not host or host:port (hosts are comma-separated: scheme://h1:port,h2:port/…)`);
    }
    single = `${authority[1]}${hostPart.slice(0, at + 1)}${list[0]}${authority[3]}`;
  }
  let url: URL;
  try {
    url = new URL(single);
  } catch (cause) {
    throw new ConfigError('url', `"${maskCredentials(text)}" is not a valid URL (expected scheme://host…)`, { cause });
  }
  if (list) hostLists.set(url, list);
  return url;
}

/** One host of a list: a name or IPv4 address, or a bracketed IPv6 address, with an optional port. */
const HOST_PORT = /^(?:[\w.-]+|\[[\da-f:.]+\])(?::\d{1,5})?$/i;

/**
 * Every host a URL names, each with the scheme's default port where none is given: one for
 * most URLs, several for a cluster's (see parseBrokerUrl).
 */
export function hostsOf(url: URL, defaultPort: number): { host: string; port: number }[] {
  const list = hostLists.get(url);
  if (!list) return [hostAndPort(url, defaultPort)];
  return list.map((entry) => {
    const match = /^(.*?)(?::(\d+))?$/.exec(entry) as RegExpExecArray;
    const port = match[2] === undefined ? defaultPort : Number(match[2]);
    if (port < 1 || port > 65_535) throw new ConfigError('url hosts', `port ${port} of "${entry}" is out of range`);
    return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
  });
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
