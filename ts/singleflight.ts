/**
 * Per-process single-flight for `getOrSet`: concurrent calls for one key share one loader call.
 * The map holds a promise from the first caller's read until its load (and the write of what it
 * produced) settles, and drops it whether that succeeded or failed, so a failed load is retried
 * by the next caller; callers that arrive meanwhile join it, read included.
 */
import { checkLoader, checkTtl } from './validate.js'
import type { AsyncGetOrSetOptions } from './types.js'

/** The few operations `getOrSet` needs from a store handle. */
export interface GetSet {
  get(key: string): Promise<string | undefined>
  set(key: string, value: string, options?: { ttl?: number }): Promise<boolean>
}

/** The pending loads of one store (shared by all its namespace handles), by namespace and key. */
export class SingleFlight {
  /** In-flight loads by `namespace + '\0' + key`; an entry lives until its load settles. */
  private readonly pending = new Map<string, Promise<string>>()

  /** `getOrSet` on `kv` (namespace `ns`): a hit, else the one shared load of the key. */
  async getOrSet(kv: GetSet, ns: string, key: string, loader: unknown, options?: AsyncGetOrSetOptions): Promise<string> {
    const load = checkLoader('getOrSet', loader)
    const setOptions = options?.ttl === undefined ? undefined : { ttl: checkTtl('getOrSet', options.ttl, 'options.ttl') }
    const id = ns + '\0' + key
    const joined = this.pending.get(id)
    if (joined) return joined
    // The read joins the flight too: registered before anything is awaited, so a caller whose
    // read would miss after another caller's load finished (on another pooled connection, say)
    // cannot start a second load.
    const flight = (async () => {
      const hit = await kv.get(key)
      if (hit !== undefined) return hit
      const value = await load()
      if (typeof value !== 'string') throw new TypeError(`TinyKV.getOrSet: the loader must produce a string, got ${typeof value}`)
      await kv.set(key, value, setOptions)
      return value
    })()
    this.pending.set(id, flight)
    try {
      return await flight
    } finally {
      if (this.pending.get(id) === flight) this.pending.delete(id)
    }
  }
}
