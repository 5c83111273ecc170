/**
 * Options of `TinyKVStore` (modelled on connect-redis's, with TinyKV's units and vocabulary:
 * durations are milliseconds, and sessions live in a namespace of their own), checked once at
 * construction so a wrong option is a `TypeError` or `RangeError` naming it, not a failure on
 * some later request.
 */
import type { SessionData } from 'express-session'
import { TinyKV } from '../../lib/index.js'
import { LocalTinyKV } from '../local.js'
import type { AsyncTinyKV } from '../types.js'

/** How a session is turned into the stored string and back (default: `JSON`). */
export interface Serializer {
  /** The stored form of `session`. */
  stringify(session: SessionData): string
  /** The session that `text` holds; may be async. */
  parse(text: string): SessionData | Promise<SessionData>
}

/** Options of `new TinyKVStore(...)`. */
export interface TinyKVStoreOptions {
  /**
   * Where sessions are kept: an `AsyncTinyKV` from `open()` (in-process, the daemon, Redis) or
   * a synchronous `TinyKV` (in-process only).
   */
  client: AsyncTinyKV | TinyKV
  /**
   * The namespace holding the sessions (default `'sessions'`): `length()` is its size and
   * `clear()` empties it, so keep nothing else in it. On Redis it is the key prefix `sessions:`.
   */
  namespace?: string
  /**
   * A prefix for session keys inside the namespace (default `''`), for several apps sharing one
   * namespace with separate sessions; `all()`, `length()` and `clear()` then see only the keys
   * that start with it.
   */
  prefix?: string
  /**
   * Lifetime in ms of a session whose cookie has no expiry (default one day, 86_400_000). A
   * function of the session overrides the cookie's expiry for every session. Milliseconds, not
   * connect-redis's seconds.
   */
  ttl?: number | ((session: SessionData) => number)
  /** Store sessions with no TTL at all (default false): something else must remove them. */
  disableTTL?: boolean
  /** Make `touch()` a no-op, so a session expires `ttl` after its last change (default false). */
  disableTouch?: boolean
  /** How sessions are stored (default `JSON`). */
  serializer?: Serializer
}

/** The options with defaults applied, and the namespace handle sessions live in. */
export interface ResolvedOptions {
  kv: AsyncTinyKV
  namespace: string
  prefix: string
  ttl: number | ((session: SessionData) => number)
  disableTTL: boolean
  disableTouch: boolean
  serializer: Serializer
}

/** One day, connect-redis's default session lifetime. */
export const DEFAULT_TTL = 86_400_000

const KNOWN = new Set(['client', 'namespace', 'prefix', 'ttl', 'disableTTL', 'disableTouch', 'serializer'])

function typeName(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

/** The `client` option as an `AsyncTinyKV` (the sync class is wrapped, not copied). */
function asAsync(client: unknown): AsyncTinyKV {
  if (client instanceof TinyKV) return new LocalTinyKV({ view: client })
  const c = client as Partial<AsyncTinyKV> | null
  if (c !== null && typeof c === 'object' && typeof c.backend === 'string' && typeof c.namespace === 'function' && typeof c.get === 'function') {
    return c as AsyncTinyKV
  }
  throw new TypeError(`TinyKVStore: options.client must be a TinyKV or the AsyncTinyKV that open() resolves to, got ${typeName(client)}`)
}

function checkBoolean(name: string, v: unknown): boolean {
  if (v === undefined) return false
  if (typeof v !== 'boolean') throw new TypeError(`TinyKVStore: options.${name} must be a boolean, got ${typeName(v)}`)
  return v
}

/** `options` checked, with defaults; throws a `TypeError` or `RangeError` naming a bad option. */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`TinyKVStore: options must be an object with a client (new TinyKVStore({ client: kv })), got ${typeName(options)}`)
  }
  const o = options as Record<string, unknown>
  const unknown = Object.keys(o).filter((k) => !KNOWN.has(k))
  if (unknown.length > 0) throw new TypeError(`TinyKVStore: unknown option ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${[...KNOWN].join(', ')})`)
  const client = asAsync(o.client)
  const namespace = o.namespace === undefined ? 'sessions' : o.namespace
  if (typeof namespace !== 'string') throw new TypeError(`TinyKVStore: options.namespace must be a string, got ${typeName(namespace)}`)
  const prefix = o.prefix === undefined ? '' : o.prefix
  if (typeof prefix !== 'string') throw new TypeError(`TinyKVStore: options.prefix must be a string, got ${typeName(prefix)}`)
  if (!prefix.isWellFormed()) throw new TypeError('TinyKVStore: options.prefix is not well-formed UTF-16 (it holds a lone surrogate)')
  let ttl: ResolvedOptions['ttl'] = DEFAULT_TTL
  if (typeof o.ttl === 'function') {
    ttl = o.ttl as (session: SessionData) => number
  } else if (o.ttl !== undefined) {
    if (typeof o.ttl !== 'number') throw new TypeError(`TinyKVStore: options.ttl must be a number of milliseconds or a function of the session, got ${typeName(o.ttl)}`)
    if (!(o.ttl > 0) || !Number.isFinite(o.ttl)) throw new RangeError(`TinyKVStore: options.ttl must be a positive, finite number of milliseconds, got ${o.ttl}`)
    ttl = o.ttl
  }
  let serializer: Serializer = JSON as Serializer
  if (o.serializer !== undefined) {
    const s = o.serializer as Partial<Serializer> | null
    if (s === null || typeof s !== 'object' || typeof s.stringify !== 'function' || typeof s.parse !== 'function') {
      throw new TypeError('TinyKVStore: options.serializer must be an object with stringify(session) and parse(text) functions')
    }
    serializer = s as Serializer
  }
  let kv: AsyncTinyKV
  try {
    kv = client.namespace(namespace)
  } catch (err) {
    // The namespace's own check says what is wrong with the name; say which option held it.
    if (err instanceof TypeError || err instanceof RangeError) err.message = `TinyKVStore: options.namespace: ${err.message}`
    throw err
  }
  return {
    kv,
    namespace,
    prefix,
    ttl,
    disableTTL: checkBoolean('disableTTL', o.disableTTL),
    disableTouch: checkBoolean('disableTouch', o.disableTouch),
    serializer,
  }
}
