/**
 * `dualWrite(primary, secondary)`: the first step of a cutover (docs/migrating.md). Every write
 * goes to both stores, the primary first; every read, and every answer, comes from the primary.
 * A write the secondary refuses rejects (the primary has it), so the app hears that the two
 * have parted and the cutover's verify step will find the key. `tinykv migrate --on-conflict
 * skip` then backfills the secondary without overwriting what the app wrote to it meanwhile.
 *
 * Limits (the reasons a cutover verifies): `incr`/`decr` on a key the secondary does not hold
 * yet start there from 0, so migrate counters before dual-writing them; a key deleted after the
 * backfill read it may be written back by the backfill; a relative TTL lands a few ms apart.
 */
import type { SetOptions, TinyKVStats } from '../lib/index.js'
import type { AsyncGetOrSetOptions, AsyncTinyKV, Backend, Value } from './types.js'

/** An `AsyncTinyKV` that writes to two stores and reads from the first. */
export class DualWriteTinyKV implements AsyncTinyKV {
  /** Where reads go and answers come from: the store being left. */
  readonly primary: AsyncTinyKV
  /** The store being moved to: it gets every write too. */
  readonly secondary: AsyncTinyKV

  constructor(primary: AsyncTinyKV, secondary: AsyncTinyKV) {
    this.primary = primary
    this.secondary = secondary
  }

  get backend(): Backend {
    return this.primary.backend
  }

  get namespaceName(): string {
    return this.primary.namespaceName
  }

  /** Runs `write` on the primary, then the same on the secondary; answers the primary's. */
  private async both<T>(write: (kv: AsyncTinyKV) => Promise<T>): Promise<T> {
    const answer = await write(this.primary)
    await write(this.secondary)
    return answer
  }

  get(key: string): Promise<string | undefined> {
    return this.primary.get(key)
  }

  getBuffer(key: string): Promise<Buffer | undefined> {
    return this.primary.getBuffer(key)
  }

  getJSON<T = unknown>(key: string): Promise<T | undefined> {
    return this.primary.getJSON<T>(key)
  }

  set(key: string, value: Value, options?: SetOptions): Promise<boolean> {
    return this.both((kv) => kv.set(key, value, options))
  }

  setJSON<T = unknown>(key: string, value: T, options?: SetOptions): Promise<boolean> {
    return this.both((kv) => kv.setJSON(key, value, options))
  }

  has(key: string): Promise<boolean> {
    return this.primary.has(key)
  }

  delete(key: string): Promise<boolean> {
    return this.both((kv) => kv.delete(key))
  }

  ttl(key: string): Promise<number> {
    return this.primary.ttl(key)
  }

  expire(key: string, ttl: number): Promise<boolean> {
    return this.both((kv) => kv.expire(key, ttl))
  }

  persist(key: string): Promise<boolean> {
    return this.both((kv) => kv.persist(key))
  }

  incr<T extends number | bigint = number>(key: string, ...by: T extends bigint ? [by: T] : [by?: T]): Promise<T extends bigint ? bigint : number> {
    return this.both((kv) => kv.incr<T>(key, ...by))
  }

  decr<T extends number | bigint = number>(key: string, ...by: T extends bigint ? [by: T] : [by?: T]): Promise<T extends bigint ? bigint : number> {
    return this.both((kv) => kv.decr<T>(key, ...by))
  }

  mget(keys: string[]): Promise<Array<string | undefined>> {
    return this.primary.mget(keys)
  }

  mset(entries: Array<[string, Value]> | Record<string, Value>, options?: SetOptions): Promise<void> {
    return this.both((kv) => kv.mset(entries, options))
  }

  keys(pattern?: string): Promise<string[]> {
    return this.primary.keys(pattern)
  }

  size(): Promise<number> {
    return this.primary.size()
  }

  clear(): Promise<void> {
    return this.both((kv) => kv.clear())
  }

  /** The primary's `getOrSet`; a value its loader produced is written to the secondary too. */
  getOrSet(key: string, loader: () => string | Promise<string>, options?: AsyncGetOrSetOptions): Promise<string> {
    return this.primary.getOrSet(
      key,
      async () => {
        const value = await loader()
        await this.secondary.set(key, value, options?.ttl === undefined ? undefined : { ttl: options.ttl })
        return value
      },
      options,
    )
  }

  namespace(name: string): AsyncTinyKV {
    return new DualWriteTinyKV(this.primary.namespace(name), this.secondary.namespace(name))
  }

  stats(): Promise<TinyKVStats> {
    return this.primary.stats()
  }

  /** Closes both stores. */
  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.secondary.close()])
  }
}

/** Both stores behind one `AsyncTinyKV`: writes to both, reads from `primary`. */
export function dualWrite(primary: AsyncTinyKV, secondary: AsyncTinyKV): AsyncTinyKV {
  return new DualWriteTinyKV(primary, secondary)
}
