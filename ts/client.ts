/**
 * `TinyKVClient`: the `AsyncTinyKV` of a remote store, the TinyKV daemon (namespaces by
 * `SELECT name`, one pool per namespace in use), a Redis or Valkey server, or a Redis Cluster
 * (namespaces as key prefixes, see namespaces.ts). One server is reached through this package's
 * own pipelined connections (connection.ts, which holds the connection policies; the benchmark
 * in benchmark/client.mjs is why); a cluster through ioredis (slots and redirections).
 *
 * Invariants: every argument is checked before a byte is sent; every command settles (a reply,
 * a server error, a connection error or a timeout, all typed, see errors.ts); handles made by
 * `namespace()` share their root's connections, and `close()` on any closes them all.
 */
import type { SetOptions, TinyKVStats } from '../lib/index.js'
import { mapError, TinyKVConnectionError, TinyKVReplyError } from './errors.js'
import { DEFAULT_NAMESPACES, escapeGlob, namespacePrefix } from './namespaces.js'
import { Pool } from './pool.js'
import type { Conn, ConnSettings } from './pool.js'
import { ServerError } from './resp.js'
import type { Arg, Reply } from './resp.js'
import { SingleFlight } from './singleflight.js'
import type { AsyncTinyKV, Backend, AsyncGetOrSetOptions, Value } from './types.js'
import { checkEntries, checkKey, checkKeys, checkNamespace, checkStep, checkTtl, checkValue, setArgs } from './validate.js'
import { resolveOptions } from './options.js'
import type { ClientOptions } from './options.js'
import { daemonStats, redisStats } from './stats.js'

/** What every handle of one client shares: connections, settings, pending loads. */
class Core {
  /** Daemon: one pool per namespace in use (created on first use); Redis: one pool under `''`. */
  readonly pools = new Map<string, Pool>()
  /** Pending `getOrSet` loads of every handle. */
  readonly flights = new SingleFlight()
  /** Set by `close()`: later commands fail at once. */
  closed = false

  constructor(
    /** The resolved connection settings. */
    readonly settings: ConnSettings,
    /** The root database from the URL (`/3`), if any. */
    readonly db: string | undefined,
    /** The server kind, known after `connect()`. */
    public backend: Backend,
    /** Separator of namespace prefixes on Redis. */
    readonly separator: string,
    /** Default TTL in ms for writes that set none. */
    readonly defaultTtl: number | undefined,
  ) {}

  /** The pool that serves namespace `ns`. */
  pool(ns: string): Pool {
    const id = this.backend === 'tinykv' && !DEFAULT_NAMESPACES.includes(ns) ? ns : ''
    let pool = this.pools.get(id)
    if (!pool) {
      if (this.closed) throw new TinyKVConnectionError(`this client was closed by close(); open a new one`)
      pool = new Pool(this.settings, id === '' ? this.db : id)
      this.pools.set(id, pool)
      // The root pool is connected by connect(); a namespace's starts on first use.
      if (this.pools.size > 1) pool.start()
    }
    return pool
  }
}

function num(v: unknown, what: string): number {
  const n = Number(v)
  if (!Number.isFinite(n)) throw new TinyKVReplyError(`unexpected reply to ${what}: ${String(v)}`, what)
  return n
}

/** An `AsyncTinyKV` over a TinyKV daemon, a Redis server or a Redis Cluster. */
export class TinyKVClient implements AsyncTinyKV {
  /** The state shared with every other handle of this client. */
  private readonly core: Core
  /** This handle's namespace. */
  readonly namespaceName: string
  /** The key prefix of this namespace on Redis (`''` on the daemon and for the default namespace). */
  private readonly prefix: string
  /** This namespace's connections. */
  private readonly pool: Pool

  private constructor(core: Core, ns: string) {
    this.core = core
    this.namespaceName = ns
    this.prefix = core.backend === 'tinykv' ? '' : namespacePrefix(ns, core.separator)
    this.pool = core.pool(ns)
  }

  /**
   * Connects to the server `options` name and resolves to the handle of `options.namespace`.
   * Rejects with a `TypeError` for unusable options and a `TinyKVConnectionError` when the first
   * connection fails (later failures reconnect by themselves).
   */
  static async connect(options: ClientOptions): Promise<TinyKVClient> {
    const { settings, db, kind, separator, defaultTtl, ns } = resolveOptions(options)
    const { target } = settings
    const core = new Core(settings, db, kind, separator, defaultTtl)
    const root = core.pool('')
    await root.connect()
    if (target.kind !== 'cluster' && options?.backend === undefined) {
      try {
        const info = String(await root.pick().send(['INFO', 'server']))
        core.backend = /^tinykv_version:/m.test(info) ? 'tinykv' : 'redis'
      } catch (err) {
        await root.close()
        throw mapError(err, 'INFO', { label: target.label, commandTimeout: settings.commandTimeout })
      }
    }
    return new TinyKVClient(core, ns)
  }

  /** Which kind of server answers: `'tinykv'`, `'redis'` or `'redis-cluster'`. */
  get backend(): Backend {
    return this.core.backend
  }

  /** Whether this namespace has a live connection now (false while reconnecting, or closed). */
  get connected(): boolean {
    return !this.core.closed && this.pool.anyReady()
  }

  /** A connection for the next command (a closed client fails here). */
  private c(): Conn {
    if (this.core.closed) throw new TinyKVConnectionError('this client was closed by close(); open a new one')
    return this.pool.pick()
  }

  /** The error to reject with: what a connection rejected with is typed already. */
  private fail(err: unknown, command: string): Error {
    return mapError(err, command, { label: this.core.settings.target.label, commandTimeout: this.core.settings.commandTimeout })
  }

  /** Sends one command on this namespace's connections (errors come typed from the `Conn`). */
  private send(args: Arg[], buffer = false): Promise<Reply> {
    if (this.core.closed) return Promise.reject(new TinyKVConnectionError('this client was closed by close(); open a new one'))
    return this.pool.pick().send(args, buffer)
  }

  /** `key` checked and prefixed for the wire. */
  private k(method: string, key: unknown): string {
    return this.prefix + checkKey(method, key)
  }

  async get(key: string): Promise<string | undefined> {
    const r = await this.send(['GET', this.k('get', key)])
    return r === null ? undefined : (r as string)
  }

  async getBuffer(key: string): Promise<Buffer | undefined> {
    const r = await this.send(['GET', this.k('getBuffer', key)], true)
    return r === null ? undefined : (r as Buffer)
  }

  async getJSON<T = unknown>(key: string): Promise<T | undefined> {
    const text = await this.get(key)
    return text === undefined ? undefined : (JSON.parse(text) as T)
  }

  async set(key: string, value: Value, options?: SetOptions): Promise<boolean> {
    const k = this.k('set', key)
    const v = checkValue('set', value)
    const args = setArgs('set', options, this.core.defaultTtl)
    return (await this.send(args.length === 0 ? ['SET', k, v] : ['SET', k, v, ...args])) !== null
  }

  async setJSON<T = unknown>(key: string, value: T, options?: SetOptions): Promise<boolean> {
    const text = JSON.stringify(value)
    if (text === undefined) throw new TypeError(`TinyKV.setJSON: value has no JSON form (got ${typeof value})`)
    return this.set(key, text, options)
  }

  /** One integer command on one key, its reply as a decimal string (exact at any size). */
  private async int(method: string, command: string, key: unknown, ...args: string[]): Promise<string> {
    return String(await this.send([command, this.k(method, key), ...args]))
  }

  async has(key: string): Promise<boolean> {
    return (await this.int('has', 'EXISTS', key)) === '1'
  }

  async delete(key: string): Promise<boolean> {
    return (await this.int('delete', 'DEL', key)) === '1'
  }

  async ttl(key: string): Promise<number> {
    return num(await this.int('ttl', 'PTTL', key), 'PTTL')
  }

  async expire(key: string, ttl: number): Promise<boolean> {
    checkKey('expire', key)
    return (await this.int('expire', 'PEXPIRE', key, String(checkTtl('expire', ttl)))) === '1'
  }

  async persist(key: string): Promise<boolean> {
    return (await this.int('persist', 'PERSIST', key)) === '1'
  }

  /**
   * INCRBY (or DECRBY), with an exact result for a bigint step: this client's parser keeps big
   * integers exact; on a cluster (ioredis, whose integers are doubles) the value is read back
   * inside one script.
   */
  private async step<T extends number | bigint>(method: 'incr' | 'decr', key: string, by: unknown): Promise<T extends bigint ? bigint : number> {
    checkKey(method, key)
    const step = checkStep(method, by)
    const command = method === 'incr' ? 'INCRBY' : 'DECRBY'
    let r: string
    if (step.big && this.core.backend === 'redis-cluster') {
      const script = `redis.call('${command}', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])`
      r = String(await this.send(['EVAL', script, '1', this.k(method, key), step.arg]))
    } else {
      r = await this.int(method, command, key, step.arg)
    }
    return (step.big ? BigInt(r) : num(r, command)) as T extends bigint ? bigint : number
  }

  incr<T extends number | bigint = number>(key: string, ...by: T extends bigint ? [by: T] : [by?: T]): Promise<T extends bigint ? bigint : number> {
    return this.step<T>('incr', key, by[0])
  }

  decr<T extends number | bigint = number>(key: string, ...by: T extends bigint ? [by: T] : [by?: T]): Promise<T extends bigint ? bigint : number> {
    return this.step<T>('decr', key, by[0])
  }

  async mget(keys: string[]): Promise<Array<string | undefined>> {
    const ks = checkKeys('mget', keys).map((k) => this.prefix + k)
    if (ks.length === 0) return []
    // A cluster spreads keys over slots: one GET each, auto-pipelined per node.
    const values = this.core.backend === 'redis-cluster' ? await Promise.all(ks.map((k) => this.send(['GET', k]))) : ((await this.send(['MGET', ...ks])) as Reply[])
    return values.map((v) => (v === null ? undefined : (v as string)))
  }

  async mset(entries: Array<[string, Value]> | Record<string, Value>, options?: SetOptions): Promise<void> {
    const pairs = checkEntries('mset', entries)
    const args = setArgs('mset', options, this.core.defaultTtl)
    if (pairs.length === 0) return
    const cluster = this.core.backend === 'redis-cluster'
    if (args.length === 0 && !cluster) {
      await this.send(['MSET', ...pairs.flatMap(([k, v]) => [this.prefix + k, v])])
      return
    }
    // Options (or a cluster's slots) need one SET per key: on Redis in one MULTI on one
    // connection; on the daemon (no MULTI) pipelined on one connection, and on a cluster
    // auto-pipelined per node, where a failure says how many were written and which key failed.
    let results: Array<[unknown, unknown]>
    try {
      const c = this.c()
      const sets = (): Array<Promise<Reply>> => pairs.map(([k, v]) => c.send(['SET', this.prefix + k, v, ...args]))
      if (this.core.backend === 'redis') {
        const multi = c.send(['MULTI'])
        const queued = sets()
        const exec = c.send(['EXEC'])
        await multi
        await Promise.all(queued)
        const replies = (await exec) as Reply[] | null
        results = (replies ?? []).map((r) => (r instanceof ServerError ? [new TinyKVReplyError(r.message, 'SET'), null] : [null, r]))
      } else {
        const settled = await Promise.allSettled(sets())
        results = settled.map((r) => (r.status === 'fulfilled' ? [null, r.value] : [r.reason, null]))
      }
    } catch (err) {
      throw this.fail(err, 'MSET')
    }
    const failed = results.map(([e], i) => [e, i] as const).filter(([e]) => e)
    if (failed.length > 0 || results.length !== pairs.length) {
      const [first] = failed
      const error = first ? this.fail(first[0], 'SET') : new TinyKVConnectionError('no reply to the batch')
      const done = results.length - failed.length
      error.message = `TinyKV.mset: wrote ${done} of ${pairs.length} entries; ${pairs.length - done} failed (first: '${pairs[first ? first[1] : 0]?.[0]}': ${error.message})`
      throw error
    }
  }

  /** SCAN over `match` on every node of this namespace; each key once, prefix removed. */
  private async scan(method: string, match: string, each?: (node: Conn, keys: string[]) => Promise<unknown>): Promise<string[]> {
    try {
      const found = new Set<string>()
      for (const node of (this.c(), this.pool.nodes())) {
        let cursor = '0'
        do {
          const [next, keys] = (await node.send(['SCAN', cursor, 'MATCH', match, 'COUNT', '1000'])) as [string, string[]]
          cursor = String(next)
          if (each && keys.length > 0) await each(node, keys)
          for (const k of keys) found.add(k.slice(this.prefix.length))
        } while (cursor !== '0')
      }
      return [...found]
    } catch (err) {
      throw this.fail(err, method)
    }
  }

  async keys(pattern?: string): Promise<string[]> {
    const p = pattern === undefined ? '*' : checkKey('keys', pattern, 'pattern')
    return this.scan('SCAN', escapeGlob(this.prefix) + p)
  }

  async size(): Promise<number> {
    if (this.prefix !== '') return (await this.scan('SCAN', escapeGlob(this.prefix) + '*')).length
    try {
      let total = 0
      for (const node of (this.c(), this.pool.nodes())) total += Number(await node.send(['DBSIZE']))
      return total
    } catch (err) {
      throw this.fail(err, 'DBSIZE')
    }
  }

  async clear(): Promise<void> {
    if (this.prefix !== '') {
      await this.scan('UNLINK', escapeGlob(this.prefix) + '*', (node, keys) => Promise.all(keys.map((k) => node.send(['UNLINK', k]))))
      return
    }
    try {
      for (const node of (this.c(), this.pool.nodes())) await node.send(['FLUSHDB'])
    } catch (err) {
      throw this.fail(err, 'FLUSHDB')
    }
  }

  getOrSet(key: string, loader: () => string | Promise<string>, options?: AsyncGetOrSetOptions): Promise<string> {
    return this.core.flights.getOrSet(this, this.namespaceName, key, loader, options)
  }

  namespace(name: string): AsyncTinyKV {
    return new TinyKVClient(this.core, checkNamespace('namespace', name))
  }

  async stats(): Promise<TinyKVStats> {
    if (this.core.backend === 'tinykv') return daemonStats(await this.send(['STATS']), await this.send(['CONFIG', 'GET', 'maxmemory-policy']))
    try {
      const infos: string[] = []
      for (const node of (this.c(), this.pool.nodes())) infos.push(String(await node.send(['INFO', 'everything'])))
      return redisStats(infos)
    } catch (err) {
      throw this.fail(err, 'INFO')
    }
  }

  async close(): Promise<void> {
    if (this.core.closed) return
    this.core.closed = true
    await Promise.all([...this.core.pools.values()].map((p) => p.close()))
  }
}

export { TinyKVError, TinyKVConnectionError, TinyKVTimeoutError, TinyKVReplyError } from './errors.js'
export type { AsyncTinyKV, Backend, AsyncGetOrSetOptions, Value } from './types.js'
export type { ClusterNode } from './target.js'
export { DEFAULT_POOL } from './options.js'
export type { ClientOptions } from './options.js'
