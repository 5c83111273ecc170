/**
 * `stats()` of the remote backends in the `TinyKVStats` shape: the daemon's `STATS` reply mapped
 * field by field, and Redis's `INFO everything` (summed over a cluster's masters) mapped onto the
 * nearest fields. What a server does not report is 0 (`tableMemory` everywhere remote; Redis has
 * no per-namespace counts, so `namespaces` is empty there).
 */
import type { TinyKVStats } from '../lib/index.js'

type Policy = TinyKVStats['evictionPolicy']

/** Redis's `maxmemory-policy` as the nearest TinyKV eviction policy. */
function policy(name: string | undefined): Policy {
  if (!name) return 'lru'
  if (name === 'noeviction') return 'noeviction'
  if (name === 'volatile-ttl') return 'volatile-ttl'
  if (name.endsWith('lfu')) return 'lfu'
  return 'lru'
}

/** A RESP2 flat array or a RESP3 map reply as entries. */
function pairs(reply: unknown): Array<[string, string]> {
  if (Array.isArray(reply)) {
    const out: Array<[string, string]> = []
    for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), String(reply[i + 1])])
    return out
  }
  if (reply instanceof Map) return [...reply.entries()].map(([k, v]) => [String(k), String(v)])
  if (reply && typeof reply === 'object') return Object.entries(reply).map(([k, v]) => [k, String(v)])
  return []
}

/** The daemon's `STATS` and `CONFIG GET maxmemory-policy` replies as `TinyKVStats`. */
export function daemonStats(statsReply: unknown, policyReply: unknown): TinyKVStats {
  const f = new Map(pairs(statsReply))
  const n = (k: string): number => Number(f.get(k) ?? 0)
  const namespaces: TinyKVStats['namespaces'] = []
  for (const [k, v] of f) {
    const m = /^ns\.(.+)\.keys$/.exec(k)
    if (m) namespaces.push({ name: m[1] as string, keys: Number(v), bytes: n(`ns.${m[1]}.bytes`) })
  }
  const stats: TinyKVStats = {
    hits: n('hits'),
    misses: n('misses'),
    hitRatio: n('hit_ratio'),
    sets: n('sets'),
    deletes: n('deletes'),
    expired: n('expired'),
    evicted: n('evicted'),
    keys: n('keys'),
    usedMemory: n('bytes'),
    tableMemory: 0,
    evictionPolicy: policy(new Map(pairs(policyReply)).get('maxmemory-policy')),
    namespaces,
  }
  if (n('max_memory') > 0) stats.maxMemory = n('max_memory')
  if (n('max_entries') > 0) stats.maxEntries = n('max_entries')
  return stats
}

/** Redis's `INFO everything` of each master as one `TinyKVStats`. */
export function redisStats(infos: string[]): TinyKVStats {
  let hits = 0, misses = 0, sets = 0, deletes = 0, expired = 0, evicted = 0, keys = 0, used = 0, max = 0
  let name: string | undefined
  for (const info of infos) {
    const f = new Map<string, string>()
    for (const line of info.split('\r\n')) {
      const at = line.indexOf(':')
      if (at > 0) f.set(line.slice(0, at), line.slice(at + 1))
    }
    const n = (k: string): number => Number(f.get(k) ?? 0)
    const calls = (cmd: string): number => Number(/calls=(\d+)/.exec(f.get(`cmdstat_${cmd}`) ?? '')?.[1] ?? 0)
    hits += n('keyspace_hits')
    misses += n('keyspace_misses')
    expired += n('expired_keys')
    evicted += n('evicted_keys')
    used += n('used_memory')
    max = Math.max(max, n('maxmemory'))
    name ??= f.get('maxmemory_policy')
    for (const cmd of ['set', 'setex', 'psetex', 'setnx', 'mset', 'msetnx', 'getset', 'incr', 'incrby', 'decr', 'decrby', 'append']) sets += calls(cmd)
    for (const cmd of ['del', 'unlink', 'getdel']) deletes += calls(cmd)
    for (const [k, v] of f) if (/^db\d+$/.test(k)) keys += Number(/keys=(\d+)/.exec(v)?.[1] ?? 0)
  }
  const stats: TinyKVStats = {
    hits,
    misses,
    hitRatio: hits + misses === 0 ? 0 : hits / (hits + misses),
    sets,
    deletes,
    expired,
    evicted,
    keys,
    usedMemory: used,
    tableMemory: 0,
    evictionPolicy: policy(name),
    namespaces: [],
  }
  if (max > 0) stats.maxMemory = max
  return stats
}
