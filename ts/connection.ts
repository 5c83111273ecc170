/**
 * One pipelined connection to a single server (the TinyKV daemon, or Redis / Valkey) over a Unix
 * socket, TCP or TLS: commands issued in one tick go out in one write, replies settle them in
 * order. This file owns the connection policies:
 * - A command in flight when the connection breaks rejects at once with `TinyKVConnectionError`
 *   (it may or may not have run); nothing is ever resent, so an INCR cannot count twice.
 * - A command issued while disconnected waits in a bounded queue (`offlineQueue` commands,
 *   default 1000) for the reconnect; past the bound, or with `offlineQueue: false`, it fails
 *   fast. A queued command that sees no connection within `commandTimeout` ms rejects with
 *   `TinyKVConnectionError`; a sent one with no reply within it, `TinyKVTimeoutError`.
 * - Reconnects back off exponentially from `minDelay` to `maxDelay` ms and never give up; each
 *   reconnect repeats the handshake (HELLO 3 or AUTH, then SELECT) before any queued command.
 */
import { connect as netConnect, isIP } from 'node:net'
import type { Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { TinyKVConnectionError, TinyKVReplyError, TinyKVTimeoutError } from './errors.js'
import { encode, Parser, ServerError } from './resp.js'
import type { Arg, Reply } from './resp.js'
import type { ConnSettings } from './pool.js'

/** One command waiting for its reply (or for a connection). */
interface Pending {
  /** Settles the caller's promise with the reply. */
  resolve: (r: Reply) => void
  /** Settles the caller's promise with an error. */
  reject: (e: Error) => void
  /** The command's name, for error messages. */
  name: string
  /** Whether bulk strings should come back as Buffers. */
  buffer: boolean
  /** When it times out (ms since the epoch). */
  deadline: number
  /** Settled already (timed out): its reply, when it comes, is dropped. */
  done: boolean
  /** The encoded command, while it waits in the offline queue. */
  bytes: string | Buffer | undefined
}

/** Where the connection is in its life. */
export type ConnState = 'connecting' | 'ready' | 'reconnecting' | 'closed'

/** A pipelined, self-reconnecting connection. */
export class Connection {
  /** Where the connection is in its life. */
  state: ConnState = 'connecting'
  /** Commands sent and not yet answered, oldest first (`head` is the oldest's index). */
  private inflight: Pending[] = []
  /** Index of the oldest unanswered command in `inflight`. */
  private head = 0
  /** Commands issued while not connected, oldest first. */
  private offline: Pending[] = []
  /** Encoded commands of this tick, written together on the next tick. */
  private out: Array<string | Buffer> = []
  /** The live socket, if any. */
  private socket: Socket | undefined
  /** Reconnect attempts since the last success. */
  private attempts = 0
  /** The pending reconnect or connect-timeout timer. */
  private timer: NodeJS.Timeout | undefined
  /** The command-timeout timer, armed for the oldest deadline. */
  private deadlineTimer: NodeJS.Timeout | undefined
  /** The last socket or handshake error, for messages. */
  lastError: Error | undefined
  /** Settles the first `connect()`. */
  private firstConnect: { resolve: () => void; reject: (e: Error) => void } | undefined
  /** The reply parser of the current socket. */
  private readonly parser: Parser

  constructor(
    /** How to connect and behave. */
    private readonly settings: ConnSettings,
    /** The database or daemon namespace to SELECT at every connect, if any. */
    private readonly db: string | undefined,
  ) {
    this.parser = new Parser(
      (r) => this.onReply(r),
      () => this.inflight[this.head]?.buffer ?? false,
      (why) => {
        this.lastError = new Error(`protocol error: ${why}`)
        this.socket?.destroy()
      },
    )
  }

  /** Connects for the first time; rejects (and stops) if that fails. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.firstConnect = { resolve, reject }
      this.open()
    })
  }

  /** Starts connecting without waiting: failures, the first included, retry with backoff. */
  start(): void {
    this.open()
  }

  /** Sends `args`; resolves with the reply, rejects with a typed error. */
  send(args: readonly Arg[], buffer = false): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const name = args[0] as string
      if (this.state === 'closed') {
        reject(new TinyKVConnectionError('this client was closed by close(); open a new one'))
        return
      }
      const p: Pending = { resolve, reject, name, buffer, deadline: Date.now() + this.settings.commandTimeout, done: false, bytes: undefined }
      if (this.state === 'ready') {
        this.write(p, encode(args))
      } else {
        const limit = this.settings.offlineQueue
        if (limit === false || this.offline.length >= limit) {
          const policy = limit === false ? 'offlineQueue is false (fail fast)' : `${this.offline.length} commands already wait for it (offlineQueue: ${limit})`
          reject(new TinyKVConnectionError(`${name} to ${this.settings.target.label}: not connected (${this.state}); ${policy}. The client reconnects by itself: retry later.`))
          return
        }
        p.bytes = encode(args)
        this.offline.push(p)
      }
      this.armDeadline()
    })
  }

  /**
   * Sends `p`'s bytes: at once on an idle connection (nothing in flight, so no batch to join:
   * one awaited command at a time pays no extra tick), else with the rest of this tick's
   * commands in one write on the next tick.
   */
  private write(p: Pending, bytes: string | Buffer): void {
    const idle = this.head === this.inflight.length && this.out.length === 0
    this.inflight.push(p)
    if (idle && this.socket && this.state === 'ready') {
      this.socket.write(bytes)
      return
    }
    if (this.out.length === 0) process.nextTick(() => this.flush())
    this.out.push(bytes)
  }

  /** Writes this tick's commands in one write. */
  private flush(): void {
    const out = this.out
    this.out = []
    if (!this.socket || out.length === 0) return
    if (out.length === 1) this.socket.write(out[0] as string | Buffer)
    else if (out.every((c) => typeof c === 'string')) this.socket.write(out.join(''))
    else this.socket.write(Buffer.concat(out.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))))
  }

  private onReply(r: Reply): void {
    const p = this.inflight[this.head]
    if (!p) {
      this.lastError = new Error('a reply came with no command waiting for it')
      this.socket?.destroy()
      return
    }
    this.inflight[this.head++] = undefined as unknown as Pending
    if (this.head > 1024 && this.head * 2 > this.inflight.length) {
      this.inflight = this.inflight.slice(this.head)
      this.head = 0
    }
    if (p.done) return
    p.done = true
    if (r instanceof ServerError) p.reject(new TinyKVReplyError(r.message, p.name))
    else p.resolve(r)
  }

  /** Arms the command-timeout timer for the oldest waiting command, if not armed. */
  private armDeadline(): void {
    if (this.deadlineTimer) return
    const oldest = this.offline[0] ?? this.inflight[this.head]
    if (!oldest) return
    this.deadlineTimer = setTimeout(() => this.expire(), Math.max(0, oldest.deadline - Date.now()) + 1)
  }

  /** Times out every command past its deadline, then re-arms for the next one. */
  private expire(): void {
    this.deadlineTimer = undefined
    const now = Date.now()
    const label = this.settings.target.label
    const ms = this.settings.commandTimeout
    while (this.offline.length > 0 && (this.offline[0] as Pending).deadline <= now) {
      const p = this.offline.shift() as Pending
      p.done = true
      p.reject(
        new TinyKVConnectionError(
          `${p.name} to ${label}: no connection within ${ms} ms (commandTimeout); the server is down or restarting, and the client keeps reconnecting: retry later.`,
        ),
      )
    }
    for (let i = this.head; i < this.inflight.length; i++) {
      const p = this.inflight[i] as Pending
      if (p.deadline > now) break
      if (p.done) continue
      p.done = true
      p.reject(
        new TinyKVTimeoutError(
          `${p.name} to ${label}: no reply within ${ms} ms (commandTimeout); the server is busy or unreachable: check it, or raise commandTimeout. The command may still run.`,
        ),
      )
    }
    const next = this.offline[0] ?? this.inflight.slice(this.head).find((p) => !p.done)
    if (next) {
      this.deadlineTimer = setTimeout(() => this.expire(), Math.max(0, next.deadline - now) + 1)
    }
  }

  /** Opens a socket and runs the handshake; on success the offline queue goes out. */
  private open(): void {
    const t = this.settings.target
    if (t.kind === 'cluster') throw new Error('a cluster is not served by Connection')
    this.state = this.attempts === 0 && this.firstConnect ? 'connecting' : 'reconnecting'
    this.lastError = undefined
    const socket =
      t.kind === 'unix'
        ? netConnect({ path: t.path })
        : t.tls
          ? tlsConnect({ host: t.host, port: t.port, ...(isIP(t.host) ? {} : { servername: t.host }), ...t.tls })
          : netConnect({ host: t.host, port: t.port })
    this.socket = socket
    socket.setNoDelay?.(true)
    this.parser.reset()
    this.timer = setTimeout(() => {
      this.lastError = new Error(`no connection within ${this.settings.connectTimeout} ms (connectTimeout)`)
      socket.destroy()
    }, this.settings.connectTimeout)
    // The connect timeout runs until the handshake is answered: a server that accepts but
    // never replies (stopped, overloaded) fails the attempt too.
    socket.on(t.kind === 'tcp' && t.tls ? 'secureConnect' : 'connect', () => this.handshake())
    socket.on('data', (chunk: Buffer) => this.parser.feed(chunk))
    socket.on('error', (err) => (this.lastError = err))
    socket.on('close', () => this.onClose(socket))
  }

  /** HELLO 3 (with AUTH) or AUTH, then SELECT: written first, before any queued command. */
  private handshake(): void {
    const s = this.settings
    const steps: Arg[][] = []
    const auth = s.password === undefined ? [] : [s.username ?? 'default', s.password]
    if (s.resp === 3) steps.push(['HELLO', '3', ...(auth.length ? ['AUTH', ...auth] : [])])
    else if (s.password !== undefined) steps.push(s.username ? ['AUTH', s.username, s.password] : ['AUTH', s.password])
    if (this.db !== undefined) steps.push(['SELECT', this.db])
    steps.push(['PING'])
    let left = steps.length
    let failed = false
    const deadline = Date.now() + s.connectTimeout
    for (const args of steps) {
      const p: Pending = {
        name: String(args[0]),
        buffer: false,
        deadline,
        done: false,
        bytes: undefined,
        resolve: () => {
          if (--left === 0 && !failed) this.onReady()
        },
        reject: (e) => {
          if (failed) return
          failed = true
          // A connect timeout (or socket error) that broke the handshake is the real cause.
          this.lastError ??= new Error(`${String(args[0])} refused: ${e.message}`)
          this.socket?.destroy()
        },
      }
      this.write(p, encode(args))
    }
  }

  private onReady(): void {
    clearTimeout(this.timer)
    this.state = 'ready'
    this.attempts = 0
    this.lastError = undefined
    const queued = this.offline
    this.offline = []
    for (const p of queued) if (!p.done) this.write(p, p.bytes as string | Buffer)
    const first = this.firstConnect
    this.firstConnect = undefined
    first?.resolve()
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return
    clearTimeout(this.timer)
    this.socket = undefined
    this.out = []
    const label = this.settings.target.label
    const broken = this.inflight.slice(this.head)
    this.inflight = []
    this.head = 0
    for (const p of broken) {
      if (p.done) continue
      p.done = true
      p.reject(
        new TinyKVConnectionError(
          `${p.name} to ${label}: the connection broke while the command was in flight (it may or may not have run); the client reconnects by itself`,
        ),
      )
    }
    if (this.firstConnect) {
      const first = this.firstConnect
      this.firstConnect = undefined
      this.state = 'closed'
      this.failOffline('the first connection failed')
      first.reject(this.lastError ?? new Error('connection closed'))
      return
    }
    if (this.state === 'closed') return
    this.state = 'reconnecting'
    const delay = Math.min(this.settings.minDelay * 2 ** Math.min(this.attempts++, 20), this.settings.maxDelay)
    this.timer = setTimeout(() => this.open(), delay)
  }

  private failOffline(why: string): void {
    const queued = this.offline
    this.offline = []
    for (const p of queued) {
      if (p.done) continue
      p.done = true
      p.reject(new TinyKVConnectionError(`${p.name} to ${this.settings.target.label}: ${why}`))
    }
  }

  /** Closes: replies already due arrive first (QUIT goes after them), queued commands fail. */
  async close(): Promise<void> {
    if (this.state === 'closed') return
    const wasReady = this.state === 'ready'
    this.state = 'closed'
    clearTimeout(this.timer)
    clearTimeout(this.deadlineTimer)
    this.failOffline('this client was closed by close()')
    const socket = this.socket
    if (!socket) return
    if (wasReady) {
      await new Promise<void>((resolve) => {
        const p: Pending = { name: 'QUIT', buffer: false, deadline: Date.now() + this.settings.commandTimeout, done: false, bytes: undefined, resolve: () => resolve(), reject: () => resolve() }
        this.write(p, encode(['QUIT']))
        this.armDeadline()
        socket.once('close', () => resolve())
      })
    }
    socket.destroy()
  }
}
