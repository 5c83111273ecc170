/**
 * `KeyvTinyKV`: a Keyv 5 storage adapter (`KeyvStoreAdapter`) over any TinyKV store: the
 * in-process store, the TinyKV daemon, or Redis, whatever `open()` reaches. Through Keyv it
 * serves everything built on Keyv: `cache-manager` 7, `cacheable`, `@nestjs/cache-manager`.
 *
 * Contract kept (the one @keyv/redis keeps): values arrive as the strings Keyv's serializer
 * made and are stored byte for byte; `ttl` is relative, in ms, and becomes the entry's TTL in
 * the store, so the store expires it and not only Keyv's envelope; the `namespace` Keyv sets on
 * the adapter selects the TinyKV namespace of that name (none: the store handle given), so a
 * namespaced `clear()` empties only that namespace; keys are stored as Keyv hands them over
 * (with its `ns:` prefix unless `useKeyPrefix` is off, which `createKeyv()` turns off).
 *
 * Errors: every operation rejects with the store's own typed error; Keyv decides what to do
 * with it (its `get()` turns a failure into a miss unless `throwOnErrors`). A store this adapter
 * opens itself and cannot open is also reported once as an `'error'` event, which Keyv relays.
 */
import { EventEmitter } from 'node:events'
import type { KeyvStoreAdapter, StoredData } from 'keyv'
import { TinyKV } from '../../lib/index.js'
import { LocalTinyKV } from '../local.js'
import { open } from '../open.js'
import type { OpenOptions } from '../open.js'
import type { AsyncTinyKV } from '../types.js'

/** A store to serve Keyv from: an `AsyncTinyKV` (from `open()`) or a sync `TinyKV` instance. */
export type KeyvTinyKVStore = AsyncTinyKV | TinyKV

/**
 * What `new KeyvTinyKV(...)` and `createKeyv(...)` take: a store you opened, or what to open:
 * `open()`'s options, or a URL string (`undefined` or `''`: an in-process store, so
 * `process.env.TINYKV_URL` switches between the two).
 */
export type KeyvTinyKVInput = KeyvTinyKVStore | OpenOptions | string | undefined

/** Keys per MGET while `iterator()` walks a namespace. */
const ITERATOR_BATCH = 500

/** The Keyv 5 storage adapter over a TinyKV store (see the module docs). */
export class KeyvTinyKV extends EventEmitter implements KeyvStoreAdapter {
  /**
   * What Keyv reads of the adapter's settings. `dialect: 'redis'` because Keyv 5 offers
   * `keyv.iterator()` only for adapters whose dialect is on its fixed list, and TinyKV is a
   * Redis-protocol store with the same iteration semantics; `url` is there because Keyv reads
   * it too (credentials left out).
   */
  opts: { dialect: 'redis'; url: string; [option: string]: unknown } = { dialect: 'redis', url: '' }
  /** The Keyv namespace, set by Keyv itself; `undefined` uses the store handle given. */
  namespace?: string | undefined
  /** The root store, once open. */
  private readonly root: Promise<AsyncTinyKV>
  /** Whether this adapter opened the store, so `disconnect()` closes it. */
  private readonly owned: boolean
  /** Namespace handles made so far (a handle is cheap, but not free on every call). */
  private readonly handles = new Map<string, AsyncTinyKV>()

  /**
   * An adapter over `store`: an `AsyncTinyKV` or sync `TinyKV` you opened (left open by
   * `disconnect()`), or `open()`'s options or a URL string to open one (closed by `disconnect()`).
   */
  constructor(store?: KeyvTinyKVInput) {
    super()
    if (store instanceof TinyKV) {
      this.root = Promise.resolve(new LocalTinyKV({ view: store }))
      this.owned = false
    } else if (isAsyncTinyKV(store)) {
      this.root = Promise.resolve(store)
      this.owned = false
    } else {
      const options = toOpenOptions(store)
      this.owned = true
      this.opts.url = withoutCredentials(options.url ?? '')
      this.root = open(options)
      // A store that cannot open fails every operation; say so once, where Keyv listens.
      this.root.catch((err: unknown) => {
        if (this.listenerCount('error') > 0) this.emit('error', err)
      })
    }
  }

  /** The root store once open (rejects as `open()` did if it could not be opened). */
  ready(): Promise<AsyncTinyKV> {
    return this.root
  }

  /** The handle of Keyv namespace `ns` (default: this adapter's `namespace`). */
  private async store(ns = this.namespace): Promise<AsyncTinyKV> {
    const root = await this.root
    if (ns === undefined || ns === '') return root
    let handle = this.handles.get(ns)
    if (!handle) {
      handle = root.namespace(ns)
      this.handles.set(ns, handle)
    }
    return handle
  }

  /** The serialized value at `key`, or `undefined`. */
  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return (await (await this.store()).get(key)) as StoredData<Value> | undefined
  }

  /** The serialized values at `keys`, in order, `undefined` for each missing one. */
  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return (await (await this.store()).mget(keys)) as Array<StoredData<Value | undefined>>
  }

  /** Stores `value` (a string from Keyv's serializer), expiring in `ttl` ms if given. */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    checkValue(key, value)
    return (await this.store()).set(key, value, ttlOption(ttl))
  }

  /** Stores every entry; entries sharing a TTL go in one MSET. Checks every value first. */
  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    const byTtl = new Map<number | undefined, Array<[string, string]>>()
    for (const { key, value, ttl } of entries) {
      checkValue(key, value)
      const group = byTtl.get(ttl) ?? []
      group.push([key, value])
      byTtl.set(ttl, group)
    }
    const kv = await this.store()
    await Promise.all([...byTtl].map(([ttl, group]) => kv.mset(group, ttlOption(ttl))))
  }

  /** Removes `key`; true if it existed. */
  async delete(key: string): Promise<boolean> {
    return (await this.store()).delete(key)
  }

  /** Removes `keys`; true if any existed. */
  async deleteMany(keys: string[]): Promise<boolean> {
    const kv = await this.store()
    return (await Promise.all(keys.map((k) => kv.delete(k)))).some(Boolean)
  }

  /** Whether `key` exists (and has not expired). */
  async has(key: string): Promise<boolean> {
    return (await this.store()).has(key)
  }

  /** Whether each of `keys` exists, in order. */
  async hasMany(keys: string[]): Promise<boolean[]> {
    const kv = await this.store()
    return Promise.all(keys.map((k) => kv.has(k)))
  }

  /** Removes every entry of this adapter's namespace, and only those. */
  async clear(): Promise<void> {
    await (await this.store()).clear()
  }

  /** Every `[key, serialized value]` of namespace `ns` (Keyv passes its own), in no order. */
  async *iterator(ns?: string): AsyncGenerator<[string, string], void> {
    const kv = await this.store(ns)
    const keys = await kv.keys()
    for (let i = 0; i < keys.length; i += ITERATOR_BATCH) {
      const batch = keys.slice(i, i + ITERATOR_BATCH)
      const values = await kv.mget(batch)
      for (let j = 0; j < batch.length; j++) {
        const value = values[j]
        // Expired or deleted since the key list was read.
        if (value !== undefined) yield [batch[j]!, value]
      }
    }
  }

  /** Closes the store if this adapter opened it; a store you passed in stays open. */
  async disconnect(): Promise<void> {
    if (!this.owned) return
    const root = await this.root.catch(() => undefined)
    await root?.close()
  }
}

/** Whether `x` is an `AsyncTinyKV` (ours or any other implementation of the interface). */
function isAsyncTinyKV(x: unknown): x is AsyncTinyKV {
  if (x === null || typeof x !== 'object') return false
  const o = x as Partial<AsyncTinyKV>
  return typeof o.backend === 'string' && typeof o.namespace === 'function' && typeof o.mget === 'function' && typeof o.keys === 'function'
}

/** `open()`'s options for what the constructor was given (a URL string, options, nothing). */
function toOpenOptions(input: unknown): OpenOptions {
  if (input === undefined || input === null) return {}
  if (typeof input === 'string') return { url: input }
  if (typeof input === 'object') return input as OpenOptions
  throw new TypeError(`KeyvTinyKV: expected a TinyKV store, open() options or a URL string, got ${typeof input}`)
}

/** `url` without a password or user, for `opts` (which anyone holding the Keyv can read). */
function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1')
}

/** Keyv's serializer makes strings; anything else means a setup this adapter cannot store. */
function checkValue(key: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') {
    throw new TypeError(
      `KeyvTinyKV: the value for key ${JSON.stringify(key)} is ${value === null ? 'null' : typeof value}, not a string: ` +
        'TinyKV stores what Keyv serialized, so keep Keyv\'s default serializer or give serialize/deserialize functions that make strings',
    )
  }
}

/** Keyv's relative TTL as `set`'s options (none: no TTL, or the store's `defaultTtl`). */
function ttlOption(ttl: number | undefined): { ttl: number } | undefined {
  return ttl === undefined ? undefined : { ttl }
}
