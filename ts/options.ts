/**
 * `TinyKVClient`'s options: their types, defaults, and their checks, resolved once at connect
 * into the settings every connection shares. A bad option is a `TypeError` or `RangeError`
 * naming it, before any connection is tried.
 */
import type { ConnectionOptions } from 'node:tls'
import { DEFAULT_SEPARATOR } from './namespaces.js'
import type { ConnSettings } from './pool.js'
import { parseCluster, parseUrl, tlsOption } from './target.js'
import type { ClusterNode, Target } from './target.js'
import type { Backend } from './types.js'
import { checkNamespace, checkTtl } from './validate.js'

/** Connections per server when `pool` is not given: the benchmark's pick (see README, "Pooling"). */
export const DEFAULT_POOL = 1

/** Options of `TinyKVClient.connect` (and of `open()` with a `url` or `cluster`). */
export interface ClientOptions {
  /** `unix:///path.sock`, `redis://[user:pass@]host:port[/db]` or `rediss://...` (TLS). */
  url?: string
  /** The seed nodes of a Redis Cluster (`'redis://host:port'`, `'host:port'` or `{ host, port }`). */
  cluster?: Array<string | ClusterNode>
  /** ACL user (overrides the URL's). */
  username?: string
  /** Password for AUTH (overrides the URL's). */
  password?: string
  /** TLS: `true` for defaults, or Node's TLS options (`ca`, `servername`, ...). `rediss://` implies it. */
  tls?: boolean | ConnectionOptions
  /** RESP protocol version: 2 (default) or 3 (`HELLO 3`). */
  resp?: 2 | 3
  /** Ms a command may wait for its reply (queued while disconnected included). Default 5000. */
  commandTimeout?: number
  /** Ms a connection attempt may take. Default 5000. */
  connectTimeout?: number
  /** Connections per server (each pipelined). Default `DEFAULT_POOL`. Ignored for a cluster. */
  pool?: number
  /** Commands that may wait per connection while it is down (default 1000), or `false` to fail fast. */
  offlineQueue?: number | false
  /** Reconnect backoff: `minDelay` (default 50) doubling up to `maxDelay` (default 2000) ms. */
  reconnect?: { minDelay?: number; maxDelay?: number }
  /** What the server is; default: asked once at connect (`INFO server`). */
  backend?: 'tinykv' | 'redis'
  /** The namespace of the returned handle. Default: the default namespace. */
  namespace?: string
  /** On Redis, the separator between namespace and key (default `':'`). */
  namespaceSeparator?: string
  /** TTL in ms given to writes that set none (as `TinyKVOptions.defaultTtl`). */
  defaultTtl?: number
}


/** The options resolved: what the connections share and what the handles need. */
export interface Resolved {
  /** What every connection shares. */
  settings: ConnSettings
  /** The root database of the URL (`/3`), if any. */
  db: string | undefined
  /** The backend, as far as the options tell (`'redis'` until the probe says otherwise). */
  kind: Backend
  /** Separator of namespace prefixes on Redis. */
  separator: string
  /** Default TTL in ms for writes that set none. */
  defaultTtl: number | undefined
  /** The namespace of the first handle. */
  ns: string
}

/** `options` checked, with defaults filled in. */
export function resolveOptions(options: ClientOptions): Resolved {
  const o = options ?? {}
  if (typeof o !== 'object') throw new TypeError(`TinyKVClient.connect: options must be an object`)
  let target: Target
  let extras: { username?: string; password?: string; db?: string } = {}
  if (o.cluster !== undefined) {
    if (o.url !== undefined) throw new TypeError('open: give url or cluster, not both')
    target = parseCluster(o.cluster, o.tls)
  } else if (o.url !== undefined) {
    ;({ target, extras } = parseUrl(o.url, o.tls))
  } else {
    throw new TypeError('TinyKVClient.connect: options.url or options.cluster is required')
  }
  if (o.tls !== undefined) tlsOption(o.tls)
  const positive = (name: string, v: unknown, dflt: number): number => {
    if (v === undefined) return dflt
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new RangeError(`open: ${name} must be a positive number, got ${String(v)}`)
    return v
  }
  if (o.resp !== undefined && o.resp !== 2 && o.resp !== 3) throw new RangeError(`open: resp must be 2 or 3, got ${String(o.resp)}`)
  if (o.offlineQueue !== undefined && o.offlineQueue !== false && !(Number.isInteger(o.offlineQueue) && o.offlineQueue >= 0)) {
    throw new RangeError(`open: offlineQueue must be a count of commands (0 or more) or false, got ${String(o.offlineQueue)}`)
  }
  if (o.backend !== undefined && o.backend !== 'tinykv' && o.backend !== 'redis') throw new RangeError(`open: backend must be 'tinykv' or 'redis', got ${String(o.backend)}`)
  const pool = positive('pool', o.pool, DEFAULT_POOL)
  if (!Number.isInteger(pool)) throw new RangeError(`open: pool must be a whole number of connections, got ${pool}`)
  const settings: ConnSettings = {
    target,
    username: o.username ?? extras.username,
    password: o.password ?? extras.password,
    resp: o.resp ?? 2,
    commandTimeout: positive('commandTimeout', o.commandTimeout, 5000),
    connectTimeout: positive('connectTimeout', o.connectTimeout, 5000),
    offlineQueue: o.offlineQueue ?? 1000,
    minDelay: positive('reconnect.minDelay', o.reconnect?.minDelay, 50),
    maxDelay: positive('reconnect.maxDelay', o.reconnect?.maxDelay, 2000),
    pool,
  }
  const separator = o.namespaceSeparator ?? DEFAULT_SEPARATOR
  if (typeof separator !== 'string') throw new TypeError('open: namespaceSeparator must be a string')
  const defaultTtl = o.defaultTtl === undefined ? undefined : checkTtl('open', o.defaultTtl, 'defaultTtl')
  const ns = o.namespace === undefined ? 'default' : checkNamespace('open', o.namespace)
  const kind: Backend = target.kind === 'cluster' ? 'redis-cluster' : (o.backend ?? 'redis')
  return { settings, db: extras.db, kind, separator, defaultTtl, ns }
}
