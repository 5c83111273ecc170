/**
 * `AsyncTinyKV`: the one interface an application codes against, whatever holds the data (the
 * in-process store, the TinyKV daemon, Redis or a Redis Cluster). Same method names, options and
 * return shapes as the synchronous `TinyKV` class, each returning a Promise; `namespace()` is the
 * one exception, returning a handle at once, because it only names where later commands go.
 *
 * Invariants every implementation keeps: arguments are checked (and a `TypeError` or `RangeError`
 * thrown, as a rejection) before anything is sent; a missing key reads as `undefined`; durations
 * are milliseconds; `ttl()` answers `-2` for a missing key and `-1` for a key with no TTL.
 */
import type { SetOptions, TinyKVStats } from '../lib/index.js'

export type { SetOptions, TinyKVStats }

/** What `set`, `mset` and the loader of `getOrSet` may store. */
export type Value = string | Buffer | Uint8Array | number

/** Options of `AsyncTinyKV.getOrSet` (the class's `GetOrSetOptions` also has `staleTtl`, in-process only). */
export interface AsyncGetOrSetOptions {
  /** TTL in ms of the value the loader produced (a positive number). Default: the store's default. */
  ttl?: number
}

/** Where an `AsyncTinyKV` keeps its data: see `open()`. */
export type Backend = 'in-process' | 'tinykv' | 'redis' | 'redis-cluster'

/** The async face of a TinyKV store: in-process, the daemon, Redis or a Redis Cluster alike. */
export interface AsyncTinyKV {
  /** Which kind of store answers: `'in-process'`, `'tinykv'` (the daemon), `'redis'`, `'redis-cluster'`. */
  readonly backend: Backend
  /** The name of the namespace this handle reads and writes (`'default'` for the root). */
  readonly namespaceName: string
  /** The value at `key` as a string, or `undefined` if missing or expired. */
  get(key: string): Promise<string | undefined>
  /** The value at `key` as a Buffer, or `undefined` if missing or expired. */
  getBuffer(key: string): Promise<Buffer | undefined>
  /** `JSON.parse` of the value at `key`, or `undefined` if missing (a SyntaxError if not JSON). */
  getJSON<T = unknown>(key: string): Promise<T | undefined>
  /** Stores `value`; false when `nx`/`xx` prevented the write. */
  set(key: string, value: Value, options?: SetOptions): Promise<boolean>
  /** Stores `JSON.stringify(value)`; as `set`. */
  setJSON<T = unknown>(key: string, value: T, options?: SetOptions): Promise<boolean>
  /** Whether `key` exists. */
  has(key: string): Promise<boolean>
  /** Removes `key`; true if it existed. */
  delete(key: string): Promise<boolean>
  /** Remaining TTL in ms; `-2` missing, `-1` no TTL. */
  ttl(key: string): Promise<number>
  /** Sets `key` to expire `ttl` ms from now; false if the key does not exist. */
  expire(key: string, ttl: number): Promise<boolean>
  /** Removes the TTL of `key`; true if it existed and had one. */
  persist(key: string): Promise<boolean>
  /** Adds `by` (default 1) to the integer at `key`; a bigint step answers an exact bigint. */
  incr<T extends number | bigint = number>(key: string, ...by: T extends bigint ? [by: T] : [by?: T]): Promise<T extends bigint ? bigint : number>
  /** Subtracts `by` (default 1) from the integer at `key`; see `incr`. */
  decr<T extends number | bigint = number>(key: string, ...by: T extends bigint ? [by: T] : [by?: T]): Promise<T extends bigint ? bigint : number>
  /** The values of many keys, in order; `undefined` for each missing key. */
  mget(keys: string[]): Promise<Array<string | undefined>>
  /** Writes many entries with the same options: `[[key, value], ...]` or `{ key: value }`. */
  mset(entries: Array<[string, Value]> | Record<string, Value>, options?: SetOptions): Promise<void>
  /** Keys of this namespace matching a Redis glob (default all), in no particular order. */
  keys(pattern?: string): Promise<string[]>
  /** Number of entries in this namespace. */
  size(): Promise<number>
  /** Removes every entry of this namespace. */
  clear(): Promise<void>
  /**
   * The value at `key`, or else the loader's, stored with `options.ttl` and returned. Concurrent
   * calls for one key in this process share one loader call (single-flight); a loader that
   * throws stores nothing and rejects every waiter.
   */
  getOrSet(key: string, loader: () => string | Promise<string>, options?: AsyncGetOrSetOptions): Promise<string>
  /** A handle on namespace `name` of the same store (same connections or store, separate keys). */
  namespace(name: string): AsyncTinyKV
  /** Counters and sizes of the store (see `TinyKVStats`; remote stores fill what the server reports). */
  stats(): Promise<TinyKVStats>
  /** Closes the store or the connections, for every handle of it. Calling it twice is harmless. */
  close(): Promise<void>
}
