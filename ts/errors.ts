/**
 * The SDK's typed errors. Every failure of a remote command rejects with one of three classes,
 * all `instanceof TinyKVError`:
 * - `TinyKVConnectionError`: no connection, or it broke while the command was in flight (the
 *   command may or may not have run); the client reconnects by itself.
 * - `TinyKVTimeoutError`: no reply within `commandTimeout`.
 * - `TinyKVReplyError`: the server answered with an error; `message` is the server's own text.
 *
 * Wrong argument types are a plain `TypeError` (a bad value a `RangeError`), thrown before anything
 * is sent, with the same wording as the `TinyKV` class. The package ships one CommonJS build, so
 * `instanceof` holds whether the error class was imported from ESM or required from CommonJS.
 */

/** The base class of every error the SDK raises for a command that reached for a server. */
export class TinyKVError extends Error {
  /** A stable code to branch on: `ECONNECTION`, `ETIMEDOUT` or `EREPLY`. */
  readonly code: 'ECONNECTION' | 'ETIMEDOUT' | 'EREPLY'

  constructor(code: TinyKVError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/**
 * The connection is down (the command was not sent, or it was in flight when the connection
 * broke, so it may or may not have run). Reconnecting is automatic; retry idempotent commands.
 */
export class TinyKVConnectionError extends TinyKVError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ECONNECTION', message, options)
  }
}

/** No reply came within `commandTimeout` ms; the command may still run on the server. */
export class TinyKVTimeoutError extends TinyKVError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ETIMEDOUT', message, options)
  }
}

/** The server answered the command with an error; `message` is the server's text verbatim. */
export class TinyKVReplyError extends TinyKVError {
  /** The command the server refused, upper case (`INCRBY`), to tell which one of a batch failed. */
  readonly command: string

  constructor(message: string, command: string, options?: { cause?: unknown }) {
    super('EREPLY', message, options)
    this.command = command
  }
}

/** Where a client connects, for error messages (never holds a password). */
export interface Endpoint {
  /** `unix:/path`, `host:port` or `cluster host:port,...`. */
  readonly label: string
  /** The command timeout in ms, quoted by timeout errors. */
  readonly commandTimeout: number
}

/** What the client library says when there is no usable connection. */
const CONNECTION = /connection|stream isn't writeable|ECONNREFUSED|ECONNRESET|ENOENT|EPIPE|ETIMEDOUT|EHOSTUNREACH|refresh slots|startup nodes|parser|protocol error/i

/**
 * Maps what the Redis client library rejected with onto the SDK's three classes. Errors that are
 * already the SDK's own pass through unchanged.
 */
export function mapError(err: unknown, command: string, at: Endpoint): Error {
  if (err instanceof TinyKVError || err instanceof TypeError || err instanceof RangeError) return err
  const e = err as { name?: string; message?: string } | undefined
  const message = String(e?.message ?? err)
  if (e?.name === 'ReplyError') return new TinyKVReplyError(message, command, { cause: err })
  if (message === 'Command timed out') {
    return new TinyKVTimeoutError(
      `${command} to ${at.label}: no reply within ${at.commandTimeout} ms (commandTimeout); the server is ` +
        'busy or unreachable: check it, or raise commandTimeout. The command may still run.',
      { cause: err },
    )
  }
  if (!CONNECTION.test(message) && e?.name !== 'MaxRetriesPerRequestError' && e?.name !== 'ClusterAllFailedError') return err instanceof Error ? err : new Error(message)
  if (e?.name === 'ParserError') {
    return new TinyKVConnectionError(`${command} to ${at.label}: the server sent a malformed reply (${message}); is it a Redis protocol server?`, { cause: err })
  }
  return new TinyKVConnectionError(
    `${command} to ${at.label}: not connected (${message}). The client reconnects by itself; ` +
      'retry once it is back (an idempotent command is safe to retry).',
    { cause: err },
  )
}
