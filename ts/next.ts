/**
 * `tinykv/next`: Next.js 16 cache handlers on TinyKV. `createCacheHandler(options)` makes the
 * class for next.config's `cacheHandler` (ISR pages, route handlers, the data cache);
 * `createUseCacheHandler(options)` makes the handler for `cacheHandlers` (`'use cache'`). Both
 * keep their entries in one store: this process's memory by default, or the TinyKV daemon (or
 * Redis) at `TINYKV_URL`, shared by every `next start` process pointed at it, revalidations
 * included. `tinykv/next/cache-handler` and `tinykv/next/use-cache-handler` are the two, made
 * with the defaults, ready for `require.resolve` in next.config.
 */
export { createCacheHandler } from './next/incremental.js'
export type {
  CacheControl,
  CacheHandlerContext,
  CacheHandlerGetContext,
  CacheHandlerSetContext,
  CacheHandlerValue,
  NextCacheValue,
  TinyKVCacheHandlerClass,
  TinyKVCacheHandlerInstance,
} from './next/incremental.js'
export { createUseCacheHandler } from './next/use-cache.js'
export type { UseCacheEntry, UseCacheHandler } from './next/use-cache.js'
export type { NextCacheOptions } from './next/options.js'
export type { TagDurations } from './next/tags.js'
