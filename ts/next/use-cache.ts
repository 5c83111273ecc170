/**
 * Next.js's `cacheHandlers` (plural) for the `'use cache'` directive: `get`, `set`,
 * `refreshTags`, `getExpiration` and `updateTags`, as `next/dist/server/lib/cache-handlers/types`
 * defines them in Next 16. An entry is kept as its metadata and the bytes of its value stream,
 * buffered; `get` hands back a new stream each time. The tag manifest is the shared one
 * (tags.ts), so `revalidateTag` in one `next start` process expires entries for all of them.
 */
import { resolveOptions } from './options.js'
import type { NextCacheOptions } from './options.js'
import { decodeEntry, encodeEntry } from './serialize.js'
import { entryTtl, storeKey } from './keys.js'
import { nextStores } from './store.js'
import { anyExpired, anyStale, latestExpiry, readTags, updateTags } from './tags.js'
import type { TagDurations } from './tags.js'
import { warn } from './log.js'

/** A `'use cache'` entry as Next hands it over and takes it back (`CacheEntry` in Next's types). */
export interface UseCacheEntry {
  /** The serialized value; read once by `set`, a fresh stream from every `get`. */
  value: ReadableStream<Uint8Array>
  /** The entry's own tags (`cacheTag()`), without the page's implicit ones. */
  tags: string[]
  /** Seconds the client may use it without asking. */
  stale: number
  /** When it was made, epoch ms. */
  timestamp: number
  /** Seconds after `timestamp` past which it must not be used. */
  expire: number
  /** Seconds after `timestamp` past which it is refreshed in the background; `-1` asks for that now. */
  revalidate: number
}

/** The `'use cache'` handler contract of Next 16 (`CacheHandler` in `cache-handlers/types`). */
export interface UseCacheHandler {
  get(cacheKey: string, softTags: string[]): Promise<UseCacheEntry | undefined>
  set(cacheKey: string, pendingEntry: Promise<UseCacheEntry>): Promise<void>
  refreshTags(): Promise<void>
  getExpiration(tags: string[]): Promise<number>
  updateTags(tags: string[], durations?: TagDurations): Promise<void>
}

/** What an entry holds in the store: the metadata and the value's bytes. */
interface StoredUseCacheEntry extends Omit<UseCacheEntry, 'value'> {
  bytes: Buffer
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk)
  return Buffer.concat(chunks)
}

function streamOf(bytes: Buffer): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(bytes))
      controller.close()
    },
  })
}

/** A `'use cache'` handler for next.config's `cacheHandlers`, bound to `options` (see `NextCacheOptions`). */
export function createUseCacheHandler(options: NextCacheOptions = {}): UseCacheHandler {
  resolveOptions(options, {}) // a wrong option throws here, where the user wrote it
  const stores = () => nextStores(resolveOptions(options))
  // A `get` for a key whose `set` is still reading its stream waits for it (Next's rule); the
  // map holds only this process's writes in flight, never a stream or an entry.
  const pending = new Map<string, Promise<void>>()

  return {
    async get(cacheKey) {
      await pending.get(cacheKey)
      try {
        const { entries, tags } = await stores()
        const bytes = await entries.getBuffer(storeKey('use-cache', cacheKey))
        const entry = bytes && (decodeEntry(bytes) as StoredUseCacheEntry | undefined)
        if (!entry) return undefined
        const now = Date.now()
        // A negative expire is Next's eviction mark; past expire is a miss (the TTL usually got there first).
        if (entry.expire < 0 || now > entry.timestamp + entry.expire * 1000) return undefined
        let revalidate = entry.revalidate
        if (entry.tags.length > 0) {
          const states = await readTags(tags, entry.tags)
          if (anyExpired(states, entry.tags, entry.timestamp, now)) return undefined
          if (anyStale(states, entry.tags, entry.timestamp)) revalidate = -1
        }
        const { bytes: value, ...meta } = entry
        return { ...meta, revalidate, value: streamOf(value) }
      } catch (err) {
        warn(`reading a 'use cache' entry failed, running the function afresh`, err)
        return undefined
      }
    },

    async set(cacheKey, pendingEntry) {
      let done!: () => void
      const written = new Promise<void>((resolve) => (done = resolve))
      pending.set(cacheKey, written)
      try {
        const entry = await pendingEntry
        // expire 0 marks a dynamic entry: Next runs the function on every read anyway.
        if (entry.expire === 0) return
        const { value, ...meta } = entry
        let bytes: Buffer
        try {
          bytes = await readAll(value)
        } catch (err) {
          warn(`a 'use cache' value failed while streaming, not storing it`, err)
          return
        }
        const ttl = entryTtl(meta.expire)
        const { entries } = await stores()
        await entries.set(storeKey('use-cache', cacheKey), encodeEntry({ ...meta, tags: [...meta.tags], bytes }), ttl === undefined ? {} : { ttl })
      } catch (err) {
        warn(`storing a 'use cache' entry failed, it stays uncached`, err)
      } finally {
        if (pending.get(cacheKey) === written) pending.delete(cacheKey)
        done()
      }
    },

    async refreshTags() {
      // Nothing held locally to refresh: `get` and `getExpiration` read the shared manifest.
    },

    async getExpiration(tagList) {
      try {
        const { tags } = await stores()
        return latestExpiry(await readTags(tags, tagList))
      } catch (err) {
        warn(`reading tags failed, treating them as not revalidated`, err)
        return 0
      }
    },

    async updateTags(tagList, durations) {
      const { tags } = await stores()
      await updateTags(tags, tagList, durations)
    },
  }
}
