/**
 * Next.js's `cacheHandler` (next.config's singular option): ISR pages, route handler responses
 * and the data cache (`fetch` with `next.revalidate`/`next.tags`, `unstable_cache`), kept in a
 * TinyKV store instead of `.next/cache` and process memory. Next constructs the class for every
 * request; the store behind it is opened once per process (see store.ts).
 *
 * Entries are scoped by the build's ID, as Next's file-system cache is by its build directory,
 * so a new deployment never serves HTML that points at an old build's scripts. Tags are not:
 * a revalidation applies to every build sharing the store. Each entry keeps its tags (a fetch's
 * `tags`, or a page's `x-next-cache-tags` header, which lists its implicit path tags too) and its
 * write time; a read checks them against the shared tag manifest (tags.ts).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AsyncTinyKV } from '../types.js'
import { resolveOptions } from './options.js'
import type { NextCacheOptions, ResolvedOptions } from './options.js'
import { decodeEntry, encodeEntry } from './serialize.js'
import { entryTtl, storeKey } from './keys.js'
import { nextStores } from './store.js'
import { anyExpired, anyStale, readTags, updateTags } from './tags.js'
import type { TagDurations } from './tags.js'
import { warn } from './log.js'

/** The header in which Next lists a page's or route's tags, implicit ones included. */
const TAGS_HEADER = 'x-next-cache-tags'

/** What Next passes to `new CacheHandler(context)` (the fields read here). */
export interface CacheHandlerContext {
  /** `.next/server`: its parent holds the `BUILD_ID` that scopes the entries. */
  serverDistDir?: string
  dev?: boolean
}

/** A route's cache lifetime in seconds, as Next stores it beside an entry. */
export interface CacheControl {
  revalidate: number | false
  expire: number | undefined
}

/** The second argument of `get`: the kind of entry, and for a fetch its tags and the page's implicit tags. */
export interface CacheHandlerGetContext {
  kind: string
  tags?: string[]
  softTags?: string[]
  revalidate?: number | false
}

/** The third argument of `set`: a fetch's tags, or a page's lifetime. */
export interface CacheHandlerSetContext {
  fetchCache?: boolean
  tags?: string[]
  cacheControl?: CacheControl
}

/**
 * Next's cached value (`IncrementalCacheValue`: `APP_PAGE`, `APP_ROUTE`, `PAGES`, `FETCH`,
 * `REDIRECT`, `IMAGE`). Stored and returned exactly as given, Buffers and Maps included;
 * TinyKV reads only its `kind`, its headers and a fetch's `revalidate`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Next's own union; opaque here
export type NextCacheValue = any

/** What `get` answers: the value, when it was written (epoch ms), and its lifetime. */
export interface CacheHandlerValue {
  lastModified: number
  value: NextCacheValue | null
  cacheControl?: CacheControl
}

/** An instance of the class `createCacheHandler` returns: Next's `CacheHandler` contract. */
export interface TinyKVCacheHandlerInstance {
  get(cacheKey: string, ctx: CacheHandlerGetContext): Promise<CacheHandlerValue | null>
  set(cacheKey: string, data: NextCacheValue | null, ctx: CacheHandlerSetContext): Promise<void>
  revalidateTag(tags: string | string[], durations?: TagDurations): Promise<void>
  resetRequestCache(): void
}

/** The class Next instantiates: `new (createCacheHandler(options))(context)`. */
export interface TinyKVCacheHandlerClass {
  new (context?: CacheHandlerContext): TinyKVCacheHandlerInstance
}

/** What an entry holds in the store. */
interface StoredEntry {
  lastModified: number
  value: NextCacheValue | null
  cacheControl?: CacheControl
  tags: string[]
}

const buildIds = new Map<string, string>()

/** The ID of the build Next is serving (`.next/BUILD_ID`), read once per directory. */
function buildIdOf(serverDistDir: string | undefined): string {
  if (!serverDistDir) return 'nobuild'
  let id = buildIds.get(serverDistDir)
  if (id === undefined) {
    try {
      id = readFileSync(join(serverDistDir, '..', 'BUILD_ID'), 'utf8').trim()
    } catch {
      return 'nobuild' // not written yet (early in `next build`): read it again next time
    }
    buildIds.set(serverDistDir, id)
  }
  return id
}

/** A page's or route's tags, from its `x-next-cache-tags` header. */
function headerTags(value: NextCacheValue | null): string[] {
  const header: unknown = value?.headers?.[TAGS_HEADER]
  return typeof header === 'string' && header !== '' ? header.split(',') : []
}

/**
 * When a stale entry must say it was written, for Next to serve it once more and render a fresh
 * one behind it: just past its revalidate window, or `undefined` when it has none (then the
 * entry is treated as expired, a blocking render).
 */
function staleStamp(entry: StoredEntry, ctx: CacheHandlerGetContext, now: number): number | undefined {
  if (ctx.kind === 'FETCH') {
    const revalidate = ctx.revalidate || entry.value?.revalidate
    return now - ((typeof revalidate === 'number' && revalidate > 0 ? revalidate : 0) + 1) * 1000
  }
  const revalidate = entry.cacheControl?.revalidate
  if (typeof revalidate !== 'number' || !(revalidate > 0)) return undefined
  return now - revalidate * 1000 - 1
}

/** A `cacheHandler` class for next.config, bound to `options` (defaults: see `NextCacheOptions`). */
export function createCacheHandler(options: NextCacheOptions = {}): TinyKVCacheHandlerClass {
  const given = options
  resolveOptions(given, {}) // a wrong option throws here, where the user wrote it
  return class TinyKVCacheHandler implements TinyKVCacheHandlerInstance {
    private readonly options: ResolvedOptions
    private readonly buildId: string

    constructor(context: CacheHandlerContext = {}) {
      this.options = resolveOptions(given)
      this.buildId = buildIdOf(context.serverDistDir)
    }

    private key(cacheKey: string): string {
      return storeKey(`entry:${this.buildId}`, cacheKey)
    }

    async get(cacheKey: string, ctx: CacheHandlerGetContext): Promise<CacheHandlerValue | null> {
      let stores: { entries: AsyncTinyKV; tags: AsyncTinyKV }
      let entry: StoredEntry | undefined
      try {
        stores = await nextStores(this.options)
        const bytes = await stores.entries.getBuffer(this.key(cacheKey))
        entry = bytes && (decodeEntry(bytes) as StoredEntry | undefined)
        if (!entry) return null
        const tags = ctx.kind === 'FETCH' ? [...entry.tags, ...(ctx.tags ?? []), ...(ctx.softTags ?? [])] : entry.tags
        if (tags.length > 0) {
          const states = await readTags(stores.tags, tags)
          const now = Date.now()
          if (anyExpired(states, tags, entry.lastModified, now)) return null
          if (anyStale(states, tags, entry.lastModified)) {
            const stamp = staleStamp(entry, ctx, now)
            if (stamp === undefined) return null
            entry = { ...entry, lastModified: stamp }
          }
        }
      } catch (err) {
        warn(`reading ${cacheKey} failed, rendering it afresh`, err)
        return null
      }
      const found: CacheHandlerValue = { lastModified: entry.lastModified, value: entry.value }
      if (entry.cacheControl) found.cacheControl = entry.cacheControl
      return found
    }

    async set(cacheKey: string, data: NextCacheValue | null, ctx: CacheHandlerSetContext): Promise<void> {
      const entry: StoredEntry = {
        lastModified: Date.now(),
        value: data,
        tags: ctx.fetchCache ? [...(ctx.tags ?? [])] : headerTags(data),
      }
      if (!ctx.fetchCache && ctx.cacheControl) entry.cacheControl = ctx.cacheControl
      const bytes = encodeEntry(entry) // not plain data: a bug to surface, not a miss to hide
      const ttl = entry.cacheControl ? entryTtl(entry.cacheControl.expire) : undefined
      try {
        const { entries } = await nextStores(this.options)
        await entries.set(this.key(cacheKey), bytes, ttl === undefined ? {} : { ttl })
      } catch (err) {
        warn(`storing ${cacheKey} failed, it stays uncached`, err)
      }
    }

    async revalidateTag(tags: string | string[], durations?: TagDurations): Promise<void> {
      // Unlike a read or a write, a lost revalidation would leave stale pages up: let it fail loudly.
      const { tags: store } = await nextStores(this.options)
      await updateTags(store, typeof tags === 'string' ? [tags] : tags, durations)
    }

    resetRequestCache(): void {
      // Nothing is memoized per request: every read asks the store, which is what lets another
      // process's revalidation show up on the very next request.
    }
  }
}
