/**
 * Connections: a pool of N pipelined `Connection`s to one server, picked round-robin (a ready
 * one first); or, for a Redis Cluster, one ioredis `Cluster` (slots, redirections, one
 * connection per node, auto-pipelined). Both are used through the same `Conn` face: `send(args)`
 * resolves with a reply of resp.ts's shapes.
 */
import { Cluster } from 'ioredis'
import type { Redis, ClusterOptions } from 'ioredis'
import { Connection } from './connection.js'
import { mapError, TinyKVConnectionError, TinyKVTimeoutError } from './errors.js'
import type { Arg, Reply } from './resp.js'
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

/** What the client sends commands through: a connection, a cluster, or one cluster node. */
export interface Conn {
  /** Sends one command; bulk strings come back as Buffers when `buffer` is true. */
  send(args: readonly Arg[], buffer?: boolean): Promise<Reply>
}

/** An ioredis client (a cluster or one of its nodes) as a `Conn`, its errors typed. */
class IoConn implements Conn {
  constructor(
    /** The ioredis object commands go through. */
    private readonly io: Cluster | Redis,
    /** The cluster, to tell a timeout from no connection at all. */
    private readonly cluster: Cluster,
    /** The settings, for messages. */
    private readonly settings: ConnSettings,
  ) {}

  send(args: readonly Arg[], buffer = false): Promise<Reply> {
    const [name, ...rest] = args as [string, ...Arg[]]
    // GET is the one command read as bytes; ioredis's generic callBuffer loses the command name
    // under cluster auto-pipelining.
    const sent = !buffer ? this.io.call(name, ...rest) : name === 'GET' ? this.io.getBuffer(rest[0] as string) : this.io.callBuffer(name, ...rest)
    return (sent as Promise<Reply>).catch((err: unknown) => {
      const { commandTimeout, target } = this.settings
      const mapped = mapError(err, name, { label: target.label, commandTimeout })
      // A command that waited out its timeout with no connection up never reached a server.
      if (mapped instanceof TinyKVTimeoutError && this.cluster.status !== 'ready') {
        throw new TinyKVConnectionError(
          `${name} to ${target.label}: no connection within ${commandTimeout} ms (commandTimeout); the cluster is down or ` +
            'restarting, and the client keeps reconnecting: retry later.',
          { cause: err },
        )
      }
      throw mapped
    })
  }
}

/** A pool of connections to one server, or one cluster client. */
export class Pool {
  /** The connections to one server (empty for a cluster). */
  private readonly conns: Connection[] = []
  /** The cluster client, for a cluster target. */
  private readonly cluster: Cluster | undefined
  /** The cluster as a `Conn`. */
  private readonly clusterConn: IoConn | undefined
  /** Round-robin position. */
  private next = 0
  /** The settings the pool was made with (for messages). */
  private readonly settings: ConnSettings

  /** Makes the pool's connections (not yet connected: `connect()` does it). */
  constructor(settings: ConnSettings, db: string | undefined) {
    this.settings = settings
    const t = settings.target
    if (t.kind === 'cluster') {
      const options: ClusterOptions = {
        lazyConnect: true,
        enableAutoPipelining: true,
        enableOfflineQueue: settings.offlineQueue !== false,
        clusterRetryStrategy: (attempt: number) => Math.min(settings.minDelay * 2 ** Math.min(attempt - 1, 20), settings.maxDelay),
        redisOptions: {
          username: settings.username,
          password: settings.password,
          protocol: settings.resp,
          tls: t.tls,
          commandTimeout: settings.commandTimeout,
          connectTimeout: settings.connectTimeout,
          autoResendUnfulfilledCommands: false,
          maxRetriesPerRequest: null,
          disableClientInfo: true,
        },
      }
      this.cluster = new Cluster(t.nodes, options)
      this.cluster.on('error', () => {})
      this.clusterConn = new IoConn(this.cluster, this.cluster, settings)
    } else {
      for (let i = 0; i < Math.max(1, settings.pool); i++) this.conns.push(new Connection(settings, db))
    }
  }

  /** Connects every connection; rejects with the first failure (and stops every connection). */
  async connect(): Promise<void> {
    try {
      if (this.cluster) await this.cluster.connect()
      else await Promise.all(this.conns.map((c) => c.connect()))
    } catch (err) {
      await this.close()
      const cause = this.conns.find((c) => c.lastError)?.lastError ?? err
      const why = cause instanceof Error ? cause.message : String(cause)
      throw new TinyKVConnectionError(
        `cannot connect to ${this.settings.target.label}: ${why}. Is the server running, and are the address and the password right?`,
        { cause },
      )
    }
  }

  /** Starts connecting in the background (a namespace's pool, made on first use). */
  start(): void {
    if (this.cluster) void this.cluster.connect().catch(() => {})
    for (const c of this.conns) c.start()
  }

  /** A connection for the next command: round-robin, a ready one first. */
  pick(): Conn {
    if (this.clusterConn) return this.clusterConn
    const n = this.conns.length
    const conn = this.conns[n === 1 ? 0 : (this.next = (this.next + 1) % n)] as Connection
    if (conn.state === 'ready' || n === 1) return conn
    return this.conns.find((c) => c.state === 'ready') ?? conn
  }

  /** Whether a connection of the pool is up (for a cluster: whether the cluster client is ready). */
  anyReady(): boolean {
    return this.cluster ? this.cluster.status === 'ready' : this.conns.some((c) => c.state === 'ready')
  }

  /** The nodes SCAN, DBSIZE and FLUSHDB must visit: the one server, or every cluster master. */
  nodes(): Conn[] {
    const cluster = this.cluster
    return cluster ? cluster.nodes('master').map((n) => new IoConn(n, cluster, this.settings)) : [this.pick()]
  }

  /** Closes gracefully: replies already due arrive first; queued commands fail. */
  async close(): Promise<void> {
    if (this.cluster) {
      if (this.cluster.status === 'ready') await this.cluster.quit().catch(() => this.cluster?.disconnect())
      else this.cluster.disconnect()
    }
    await Promise.all(this.conns.map((c) => c.close()))
  }
}
