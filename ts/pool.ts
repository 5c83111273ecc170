/**
 * Connections: a pool of N ioredis connections to one server, each auto-pipelined (commands
 * issued in one tick go out in one write), picked round-robin; or one ioredis Cluster.
 *
 * Policies kept here, once for every connection:
 * - A command in flight when its connection breaks rejects at once with `TinyKVConnectionError`
 *   (it may or may not have run); it is never resent, so an INCR cannot count twice.
 * - A command issued while disconnected waits in a bounded queue (`offlineQueue` commands per
 *   connection, default 1000) for the reconnect, at most `commandTimeout` ms; past the bound it
 *   fails fast. `offlineQueue: false` fails every such command fast.
 * - Reconnects back off exponentially from `minDelay` to `maxDelay` ms and never give up.
 */
import { Redis, Cluster } from 'ioredis'
import type { RedisOptions, ClusterOptions } from 'ioredis'
import { TinyKVConnectionError } from './errors.js'
import type { Target } from './target.js'

/** How to connect and how to behave while disconnected: the resolved client options. */
export interface ConnSettings {
  /** Where to connect. */
  target: Target
  /** ACL user, if any. */
  username: string | undefined
  /** Password (AUTH), if any. */
  password: string | undefined
  /** RESP protocol version, 2 or 3 (`HELLO 3`). */
  resp: 2 | 3
  /** Per-command timeout in ms. */
  commandTimeout: number
  /** Connect timeout in ms. */
  connectTimeout: number
  /** Commands that may wait per disconnected connection, or false to fail fast. */
  offlineQueue: number | false
  /** First reconnect delay in ms. */
  minDelay: number
  /** Longest reconnect delay in ms. */
  maxDelay: number
  /** Connections per pool. */
  pool: number
}

/** The commands the client sends: a connection or a cluster, as ioredis types them. */
export type Conn = Redis | Cluster

/** A pool of connections to one server, or one cluster client. */
export class Pool {
  /** The connections (one Cluster object for a cluster). */
  readonly conns: Conn[]
  /** Round-robin position. */
  private next = 0
  /** The last error a connection reported (an AUTH refusal, a refused connect), for messages. */
  private lastError: Error | undefined
  /** The settings the pool was made with (for messages). */
  private readonly settings: ConnSettings

  /** Makes the pool's connections (not yet connected: `connect()` does it). */
  constructor(settings: ConnSettings, db: string | undefined) {
    this.settings = settings
    const t = settings.target
    const retryStrategy = (attempt: number): number => Math.min(settings.minDelay * 2 ** Math.min(attempt - 1, 20), settings.maxDelay)
    const common: RedisOptions = {
      username: settings.username,
      password: settings.password,
      protocol: settings.resp,
      lazyConnect: true,
      enableAutoPipelining: true,
      autoResendUnfulfilledCommands: false,
      enableOfflineQueue: settings.offlineQueue !== false,
      maxRetriesPerRequest: null,
      commandTimeout: settings.commandTimeout,
      connectTimeout: settings.connectTimeout,
      stringNumbers: true,
      disableClientInfo: true,
      enableReadyCheck: false,
    }
    if (t.kind === 'cluster') {
      const options: ClusterOptions = {
        lazyConnect: true,
        enableAutoPipelining: true,
        enableOfflineQueue: settings.offlineQueue !== false,
        clusterRetryStrategy: retryStrategy,
        // ioredis reads CLUSTER SLOTS through these options, and its slot table needs numbers;
        // the client reads exact int64 results another way there (see TinyKVClient.incr).
        redisOptions: { ...common, stringNumbers: false, tls: t.tls },
      }
      this.conns = [new Cluster(t.nodes, options)]
    } else {
      const where: RedisOptions = t.kind === 'unix' ? { path: t.path } : { host: t.host, port: t.port, tls: t.tls }
      this.conns = []
      for (let i = 0; i < Math.max(1, settings.pool); i++) {
        const conn = new Redis({ ...common, ...where, retryStrategy })
        // ioredis parses `db` as a number; a daemon namespace is a name, sent by the same
        // SELECT in every (re)connect's handshake, before any queued command.
        if (db !== undefined) (conn.options as { db?: unknown }).db = db
        // In-flight commands of a broken connection fail now instead of being resent later.
        conn.on('close', () => {
          const flush = (conn as unknown as { flushQueue(e: Error, o: { offlineQueue: boolean }): void }).flushQueue
          flush.call(conn, new TinyKVConnectionError(`the connection to ${t.label} broke while the command was in flight (it may or may not have run); the client reconnects by itself`), { offlineQueue: false })
        })
        this.conns.push(conn)
      }
    }
    for (const conn of this.conns) conn.on('error', (err: Error) => (this.lastError = err))
  }

  /** Connects every connection; rejects with the first failure (and stops retrying). */
  async connect(): Promise<void> {
    try {
      await Promise.all(this.conns.map((c) => c.connect()))
    } catch (err) {
      this.disconnect()
      const cause = this.lastError ?? err
      const why = cause instanceof Error ? cause.message : String(cause)
      throw new TinyKVConnectionError(`cannot connect to ${this.settings.target.label}: ${why}. Is the server running, and are the address and the password right?`, { cause })
    }
  }

  /** A connection for the next command; fails fast when the bounded offline queue is full. */
  pick(): Conn {
    const n = this.conns.length
    let conn = this.conns[n === 1 ? 0 : (this.next = (this.next + 1) % n)] as Conn
    if (conn.status === 'ready') return conn
    for (const other of this.conns) if (other.status === 'ready') return other
    const limit = this.settings.offlineQueue
    // Waiting: commands in the offline queue, and those still in this tick's auto-pipeline.
    const queued = (conn as unknown as { offlineQueue: { length: number } }).offlineQueue.length + conn.autoPipelineQueueSize
    if (limit === false || queued >= limit) {
      const policy = limit === false ? 'offlineQueue is false (fail fast)' : `${queued} commands already wait for it (offlineQueue: ${limit})`
      throw new TinyKVConnectionError(`not connected to ${this.settings.target.label} (${conn.status}); ${policy}. The client reconnects by itself: retry later.`)
    }
    return conn
  }

  /** Whether any connection of the pool is up. */
  anyReady(): boolean {
    return this.conns.some((c) => c.status === 'ready')
  }

  /** The nodes SCAN, DBSIZE and FLUSHDB must visit: the one server, or every cluster master. */
  nodes(): Redis[] {
    const first = this.pick()
    return first instanceof Cluster ? first.nodes('master') : [first]
  }

  /** Closes gracefully: QUIT where connected (replies still due arrive first), else disconnect. */
  async close(): Promise<void> {
    await Promise.all(
      this.conns.map(async (c) => {
        if (c.status === 'ready') await c.quit().catch(() => c.disconnect())
        else c.disconnect()
      }),
    )
  }

  /** Drops every connection now; queued commands reject with a connection error. */
  disconnect(): void {
    for (const c of this.conns) c.disconnect()
  }
}
