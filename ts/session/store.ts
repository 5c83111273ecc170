/**
 * `TinyKVStore`: an express-session `Store` on any TinyKV store (the in-process class, the
 * daemon shared by a cluster of Node processes, Redis), modelled on connect-redis.
 *
 * A session lives at `prefix + sid` in its namespace, as the serializer's string, with a TTL
 * from the session cookie's expiry (else `ttl`), so an expired session is gone from the store by
 * itself. Every method answers a callback or, without one, a Promise; an error from the store or
 * the serializer goes to the callback and is never thrown.
 */
import type { SessionData } from 'express-session'
import { escapeGlob } from '../namespaces.js'
import type { AsyncTinyKV } from '../types.js'
import { settle } from './callback.js'
import type { Callback } from './callback.js'
import { resolveOptions } from './options.js'
import type { Serializer, TinyKVStoreOptions } from './options.js'
import { loadExpressSession } from './peer.js'

const { Store } = loadExpressSession()

/** Sessions read per `mget` by `all()`, so one call never builds an unbounded reply. */
const BATCH = 1000

/** A session as `all()` returns it: its data and its id. */
export type StoredSession = SessionData & { id: string }

/** An express-session store keeping sessions in TinyKV (see the module docs and the README). */
export class TinyKVStore extends Store {
  /** The namespace handle the sessions live in. */
  readonly kv: AsyncTinyKV
  /** The namespace holding the sessions. */
  readonly namespace: string
  /** The key prefix of sessions inside the namespace. */
  readonly prefix: string
  /** Lifetime in ms of a session whose cookie has no expiry, or a function of the session. */
  readonly ttl: number | ((session: SessionData) => number)
  /** Whether sessions are stored with no TTL. */
  readonly disableTTL: boolean
  /** Whether `touch()` is a no-op. */
  readonly disableTouch: boolean
  /** How sessions are stored. */
  readonly serializer: Serializer

  /** A store on `options.client`; throws a `TypeError` or `RangeError` naming a bad option. */
  constructor(options: TinyKVStoreOptions) {
    const o = resolveOptions(options)
    super()
    this.kv = o.kv
    this.namespace = o.namespace
    this.prefix = o.prefix
    this.ttl = o.ttl
    this.disableTTL = o.disableTTL
    this.disableTouch = o.disableTouch
    this.serializer = o.serializer
  }

  /** The session `sid`, or `null` when there is none (missing or expired). */
  override get(sid: string): Promise<SessionData | null>
  override get(sid: string, cb: Callback<SessionData | null>): Promise<void>
  override get(sid: string, cb?: Callback<SessionData | null>): Promise<SessionData | null | void> {
    return settle(async () => {
      const text = await this.kv.get(this.prefix + sid)
      return text === undefined ? null : await this.serializer.parse(text)
    }, cb)
  }

  /** Stores `session` with its TTL; a session already past its expiry is removed instead. */
  override set(sid: string, session: SessionData, cb?: Callback<void>): Promise<void> {
    return settle(async () => {
      const key = this.prefix + sid
      const ttl = this.disableTTL ? undefined : this.ttlOf(session)
      if (ttl !== undefined && ttl <= 0) {
        await this.kv.delete(key)
        return
      }
      const text = this.serializer.stringify(session)
      if (typeof text !== 'string') throw new TypeError(`TinyKVStore: serializer.stringify must return a string, got ${text === null ? 'null' : typeof text}`)
      await this.kv.set(key, text, ttl === undefined ? undefined : { ttl })
    }, cb)
  }

  /**
   * Resets the TTL of session `sid` from `session`'s cookie (express-session calls this on a
   * request that did not change the session). A no-op with `disableTouch` or `disableTTL`.
   */
  override touch(sid: string, session: SessionData, cb?: Callback<void>): Promise<void> {
    return settle(async () => {
      if (this.disableTouch || this.disableTTL) return
      const key = this.prefix + sid
      const ttl = this.ttlOf(session)
      // EXPIRE with a time in the past removes the key on Redis; the same here.
      if (ttl <= 0) await this.kv.delete(key)
      else await this.kv.expire(key, ttl)
    }, cb)
  }

  /** Removes session `sid` (no error if there is none). */
  override destroy(sid: string, cb?: Callback<void>): Promise<void> {
    return settle(async () => {
      await this.kv.delete(this.prefix + sid)
    }, cb)
  }

  /** The ids of every session of this store. */
  ids(): Promise<string[]>
  ids(cb: Callback<string[]>): Promise<void>
  ids(cb?: Callback<string[]>): Promise<string[] | void> {
    return settle(() => this.sids(), cb)
  }

  /** Every session of this store, each with its `id`. */
  override all(): Promise<StoredSession[]>
  override all(cb: Callback<StoredSession[]>): Promise<void>
  override all(cb?: Callback<StoredSession[]>): Promise<StoredSession[] | void> {
    return settle(async () => {
      const sids = await this.sids()
      const out: StoredSession[] = []
      for (let i = 0; i < sids.length; i += BATCH) {
        const batch = sids.slice(i, i + BATCH)
        const texts = await this.kv.mget(batch.map((sid) => this.prefix + sid))
        for (const [j, text] of texts.entries()) {
          // A session that expired between listing and reading is simply not there.
          if (text === undefined) continue
          const session = (await this.serializer.parse(text)) as StoredSession
          session.id = batch[j] as string
          out.push(session)
        }
      }
      return out
    }, cb)
  }

  /** How many sessions this store holds. */
  override length(): Promise<number>
  override length(cb: Callback<number>): Promise<void>
  override length(cb?: Callback<number>): Promise<number | void> {
    return settle(async () => (this.prefix === '' ? this.kv.size() : (await this.sids()).length), cb)
  }

  /** Removes every session of this store (and nothing else). */
  override clear(cb?: Callback<void>): Promise<void> {
    return settle(async () => {
      if (this.prefix === '') return this.kv.clear()
      const sids = await this.sids()
      for (let i = 0; i < sids.length; i += BATCH) await Promise.all(sids.slice(i, i + BATCH).map((sid) => this.kv.delete(this.prefix + sid)))
    }, cb)
  }

  /** Session ids: keys of the namespace that start with the prefix, prefix removed. */
  private async sids(): Promise<string[]> {
    const keys = await this.kv.keys(escapeGlob(this.prefix) + '*')
    return keys.map((k) => k.slice(this.prefix.length))
  }

  /**
   * The TTL in ms for `session`: the `ttl` function's answer, else the time left until the
   * cookie's expiry, else the `ttl` option. Zero or less means already expired.
   */
  private ttlOf(session: SessionData): number {
    if (typeof this.ttl === 'function') {
      const ttl = this.ttl(session)
      if (typeof ttl !== 'number' || Number.isNaN(ttl)) throw new TypeError(`TinyKVStore: options.ttl(session) must return a number of milliseconds, got ${ttl === null ? 'null' : typeof ttl}`)
      return Math.ceil(ttl)
    }
    const expires = session?.cookie?.expires
    if (expires) return new Date(expires).getTime() - Date.now()
    return this.ttl
  }
}
