import { TopologyError } from '@brokerkit/core';
import { partitionCountRefused } from '@brokerkit/core/driver';
import calculateSlot from 'cluster-key-slot';
import type { RedisClient } from './reader.js';

/**
 * A key-ordered durable subscription is partitioned. Producers write the topic's one stream as
 * always; the subscription's group on it is read by a router — a Lua script, run by whichever
 * instance holds the router lease — which moves each entry, in one atomic step, to one of N
 * partition streams by the hash of its key (a keyless entry by its entry id). Each partition
 * stream has the subscription's group too, read by the one instance holding the partition's
 * lease. Every key of the subscription lives in the topic's hash slot, so on a Redis Cluster
 * the script and the multi-stream reads run on one node.
 *
 *   producer ─XADD─► <topic>  ─ group <sub>, read NOACK by the router script ─┐
 *                                                                             ├─► {<topic>}.<sub>.p0  ◄─ lease p0: instance A
 *     ROUTE: XREADGROUP + XADD to partition (hash of key mod N), atomically  ├─► {<topic>}.<sub>.p1  ◄─ lease p1: instance B
 *                                                                             └─► …
 *   {<topic>}.<sub>.members   sorted set: instance → lease expiry (heartbeats)
 *   {<topic>}.<sub>.lease.pI  the instance reading partition I (SET NX PX, renewed)
 *   {<topic>}.<sub>.router    the instance running the router
 *   {<topic>}.<sub>.partitions  N, fixed once declared
 */
export interface PartitionKeys {
  topic: string;
  group: string;
  streams: string[];
  leases: string[];
  router: string;
  members: string;
  count: string;
}

export function partitionKeys(topic: string, subscription: string, partitions: number): PartitionKeys {
  const prefix = `${topicSlotPrefix(topic)}.${subscription}`;
  return {
    topic,
    group: subscription,
    streams: Array.from({ length: partitions }, (_, index) => `${prefix}.p${index}`),
    leases: Array.from({ length: partitions }, (_, index) => `${prefix}.lease.p${index}`),
    router: `${prefix}.router`,
    members: `${prefix}.members`,
    count: `${prefix}.partitions`,
  };
}

/**
 * A prefix whose keys hash to the topic's slot: the topic itself when its name carries a hash
 * tag (`{orders}.eu`), else the whole name as the tag (`{orders}`).
 */
export function topicSlotPrefix(topic: string): string {
  const open = topic.indexOf('{');
  const close = open < 0 ? -1 : topic.indexOf('}', open + 1);
  const prefix = close > open + 1 ? topic : `{${topic}}`;
  if (calculateSlot(`${prefix}.x`) !== calculateSlot(topic)) {
    throw new TopologyError(`topic ${topic}: its braces keep the keys brokerkit keeps beside it (partitions, delayed messages) out of its hash slot; name it without braces, or with a hash tag like {orders}`);
  }
  return prefix;
}

/** The field a routed entry keeps its topic entry id in (publish time and a stable id for keyless entries). */
export const ORIGIN_FIELD = 'origin';

/**
 * Route up to ARGV[2] new entries of the topic (KEYS[1]) to the partitions (KEYS[2..]): read
 * with the subscription's group (ARGV[1]) without a pending list, and append each to its
 * partition with the same fields, plus `id` (`<topic>/<entry id>`, for an entry sent without
 * one: the id a plain subscription would give it) and `origin`. One script, so an entry is
 * either routed or still unread: never lost, never routed twice. Returns how many were routed
 * and the id to wait for entries after.
 */
const ROUTE = `
local n = #KEYS - 1
local read = redis.call('XREADGROUP', 'GROUP', ARGV[1], 'brokerkit-router', 'COUNT', ARGV[2], 'NOACK', 'STREAMS', KEYS[1], '>')
if not read then
  for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local name, last
    for i = 1, #group, 2 do
      if group[i] == 'name' then name = group[i + 1] elseif group[i] == 'last-delivered-id' then last = group[i + 1] end
    end
    if name == ARGV[1] then return {0, last} end
  end
  return redis.error_reply('NOGROUP ' .. ARGV[1])
end
local entries = read[1][2]
for _, entry in ipairs(entries) do
  local id, fields = entry[1], entry[2]
  local key, named = nil, false
  for i = 1, #fields, 2 do
    if fields[i] == 'key' then key = fields[i + 1] elseif fields[i] == 'id' then named = true end
  end
  local partition = tonumber(string.sub(redis.sha1hex(key or id), 1, 8), 16) % n
  if not named then
    fields[#fields + 1] = 'id'
    fields[#fields + 1] = KEYS[1] .. '/' .. id
  end
  fields[#fields + 1] = '${ORIGIN_FIELD}'
  fields[#fields + 1] = id
  redis.call('XADD', KEYS[partition + 2], '*', unpack(fields))
end
return {#entries, entries[#entries][1]}`;

/**
 * A heartbeat (KEYS[1] members, KEYS[2..] leases, the router's last; ARGV: instance, lease ms,
 * '1' when leaving): refresh this instance's membership (or leave), forget members whose time
 * ran out, renew the leases it holds — by the server's clock, so instances' clocks need not
 * agree. Returns the live members and every lease's holder ('' for none).
 */
const BEAT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
if ARGV[3] == '1' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], now + ttl, ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], ttl * 10)
local holders = {}
for i = 2, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if holder == ARGV[1] then
    if ARGV[3] == '1' then redis.call('DEL', KEYS[i]) ; holder = false else redis.call('PEXPIRE', KEYS[i], ttl) end
  end
  holders[#holders + 1] = holder or ''
end
return {redis.call('ZRANGE', KEYS[1], 0, -1), holders}`;

/**
 * Read new entries of the partitions whose lease this instance still holds, in one script: the
 * lease check and the read happen together on the server that holds both, so an instance whose
 * lease lapsed or went elsewhere (a failover that lost it, a pause past it) reads nothing more.
 * KEYS: n leases, then their n streams; ARGV: instance, group, count per stream. Returns the
 * XREADGROUP reply (or an empty list) and the 1-based positions of the leases not held.
 */
const READ = `
local n = #KEYS / 2
local streams, lost = {}, {}
for i = 1, n do
  if redis.call('GET', KEYS[i]) == ARGV[1] then streams[#streams + 1] = KEYS[n + i] else lost[#lost + 1] = i end
end
if #streams == 0 then return {{}, lost} end
local args = {'XREADGROUP', 'GROUP', ARGV[2], ARGV[1], 'COUNT', ARGV[3], 'STREAMS'}
for _, stream in ipairs(streams) do args[#args + 1] = stream end
for _ = 1, #streams do args[#args + 1] = '>' end
return {redis.call(unpack(args)) or {}, lost}`;

/** Give up a lease (KEYS[1]) if this instance (ARGV[1]) holds it. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Fix N (KEYS[1] the count, ARGV[1] N) and give every partition stream (KEYS[2..]) the group
 * (ARGV[2]), reading from its start. Returns the N declared, which may differ from ARGV[1].
 */
const DECLARE = `
local declared = redis.call('GET', KEYS[1])
if declared and declared ~= ARGV[1] then return declared end
redis.call('SET', KEYS[1], ARGV[1])
for i = 2, #KEYS do
  local created = redis.pcall('XGROUP', 'CREATE', KEYS[i], ARGV[2], '0', 'MKSTREAM')
  if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP') then return redis.error_reply(created.err) end
end
return ARGV[1]`;

/** Drop what every consumer acknowledged from a partition stream (KEYS[1]) of group ARGV[1]. */
const TRIM = `
local summary = redis.call('XPENDING', KEYS[1], ARGV[1])
local keep = summary[2]
if not keep then
  for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    for i = 1, #group, 2 do
      if group[i] == 'last-delivered-id' then keep = group[i + 1] end
    end
  end
end
if keep then return redis.call('XTRIM', KEYS[1], 'MINID', keep) end
return 0`;

/** The scripts as commands of the client: sent by SHA, loaded on the first NOSCRIPT. */
export interface PartitionCommands {
  bkRoute(numKeys: number, ...args: (string | number)[]): Promise<[number, string]>;
  bkBeat(numKeys: number, ...args: (string | number)[]): Promise<[string[], string[]]>;
  bkRelease(lease: string, instance: string): Promise<number>;
  bkDeclare(numKeys: number, ...args: (string | number)[]): Promise<string>;
  bkTrim(stream: string, group: string): Promise<number>;
  bkReadBuffer(numKeys: number, ...args: (string | number)[]): Promise<[[Buffer, [Buffer, Buffer[]][]][], number[]]>;
}

export function withPartitionCommands(client: RedisClient): RedisClient & PartitionCommands {
  if (!('bkRoute' in client)) {
    client.defineCommand('bkRoute', { lua: ROUTE });
    client.defineCommand('bkBeat', { lua: BEAT });
    client.defineCommand('bkRelease', { lua: RELEASE, numberOfKeys: 1 });
    client.defineCommand('bkDeclare', { lua: DECLARE });
    client.defineCommand('bkTrim', { lua: TRIM, numberOfKeys: 1 });
    client.defineCommand('bkRead', { lua: READ });
  }
  return client as RedisClient & PartitionCommands;
}

/** Declare N partitions with the subscription's group; another N than declared is refused. */
export async function declarePartitions(client: RedisClient, keys: PartitionKeys): Promise<void> {
  const asked = keys.streams.length;
  const declared = Number(await withPartitionCommands(client).bkDeclare(1 + asked, keys.count, ...keys.streams, asked, keys.group));
  if (declared !== asked) {
    throw new TopologyError(partitionCountRefused(keys.group, declared, asked, `delete ${keys.count} and the streams ${keys.streams[0]?.replace(/p0$/, 'p*')}`));
  }
}

/** Whether the subscription was declared partitioned (consumed with ordering 'key'). */
export async function isDeclaredPartitioned(client: RedisClient, topic: string, subscription: string): Promise<boolean> {
  return (await client.exists(partitionKeys(topic, subscription, 0).count)) === 1;
}
