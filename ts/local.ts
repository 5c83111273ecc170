/**
 * The in-process `AsyncTinyKV`: the native `TinyKV` class behind Promises. Every method calls the
 * class synchronously and settles at once; a throw becomes a rejection, so arguments are checked
 * by the class itself (same errors as the sync API). Namespace handles share the store;
 * `getOrSet` is the class's own (single-flight across every thread sharing the store).
 */
import { TinyKV } from '../lib/index.js'
import type { SetOptions, TinyKVOptions, TinyKVStats } from '../lib/index.js'
import { checkNamespace } from './validate.js'
import type { AsyncTinyKV, AsyncGetOrSetOptions, Value } from './types.js'

/** An `AsyncTinyKV` over an in-process `TinyKV` store. */
export class LocalTinyKV implements AsyncTinyKV {
  /** Always `'in-process'`. */
  readonly backend = 'in-process' as const
  /** The native store handle (this namespace's view of it). */
  private readonly kv: TinyKV

  /** A store made with `options`, or (internal) a view over an existing handle. */
  constructor(options?: TinyKVOptions | { view: TinyKV }) {
    this.kv = options && 'view' in options ? options.view : new TinyKV(options)
  }

  /** The sync class under this handle, for code that wants the direct calls. */
  get sync(): TinyKV {
    return this.kv
  }

  get namespaceName(): string {
    return this.kv.namespaceName
  }

  async get(key: string): Promise<string | undefined> {
    return this.kv.get(key)
  }

  async getBuffer(key: string): Promise<Buffer | undefined> {
    return this.kv.getBuffer(key)
  }

  async getJSON<T = unknown>(key: string): Promise<T | undefined> {
    return this.kv.getJSON<T>(key)
  }

  async set(key: string, value: Value, options?: SetOptions): Promise<boolean> {
    return this.kv.set(key, value, options)
  }

  async setJSON<T = unknown>(key: string, value: T, options?: SetOptions): Promise<boolean> {
    return this.kv.setJSON(key, value, options)
  }

  async has(key: string): Promise<boolean> {
    return this.kv.has(key)
  }

  async delete(key: string): Promise<boolean> {
    return this.kv.delete(key)
  }

  async ttl(key: string): Promise<number> {
    return this.kv.ttl(key)
  }

  async expire(key: string, ttl: number): Promise<boolean> {
    return this.kv.expire(key, ttl)
  }

  async persist(key: string): Promise<boolean> {
    return this.kv.persist(key)
  }

  async incr<T extends number | bigint = number>(key: string, ...by: T extends bigint ? [by: T] : [by?: T]): Promise<T extends bigint ? bigint : number> {
    return (this.kv.incr as (k: string, ...b: unknown[]) => T extends bigint ? bigint : number)(key, ...by)
  }

  async decr<T extends number | bigint = number>(key: string, ...by: T extends bigint ? [by: T] : [by?: T]): Promise<T extends bigint ? bigint : number> {
    return (this.kv.decr as (k: string, ...b: unknown[]) => T extends bigint ? bigint : number)(key, ...by)
  }

  async mget(keys: string[]): Promise<Array<string | undefined>> {
    return this.kv.mget(keys)
  }

  async mset(entries: Array<[string, Value]> | Record<string, Value>, options?: SetOptions): Promise<void> {
    this.kv.mset(entries, options)
  }

  async keys(pattern?: string): Promise<string[]> {
    return pattern === undefined ? this.kv.keys() : this.kv.keys(pattern)
  }

  async size(): Promise<number> {
    return this.kv.size
  }

  async clear(): Promise<void> {
    this.kv.clear()
  }

  /** The class's native `getOrSet` (single-flight across the threads sharing the store). */
  async getOrSet(key: string, loader: () => string | Promise<string>, options?: AsyncGetOrSetOptions): Promise<string> {
    return this.kv.getOrSet(key, loader, options)
  }

  namespace(name: string): AsyncTinyKV {
    checkNamespace('namespace', name)
    return new LocalTinyKV({ view: this.kv.namespace(name) })
  }

  async stats(): Promise<TinyKVStats> {
    return this.kv.stats()
  }

  async close(): Promise<void> {
    this.kv.close()
  }
}
