// Compile-time proof that tinykv/next's handlers meet Next's own contracts, checked by
// `next build` (which type-checks the app) against the Next version installed here. Not part of
// the app; nothing imports it.
import type { CacheHandler as UseCacheContract } from 'next/dist/server/lib/cache-handlers/types'
import type { CacheHandler as IncrementalContract } from 'next/dist/server/lib/incremental-cache'
import { createCacheHandler, createUseCacheHandler } from 'tinykv/next'
import TinyKVCacheHandler from 'tinykv/next/cache-handler'
import tinykvUseCacheHandler from 'tinykv/next/use-cache-handler'

export const incremental: typeof IncrementalContract = TinyKVCacheHandler
export const incrementalWithOptions: typeof IncrementalContract = createCacheHandler({ namespace: 'shop' })
export const useCache: UseCacheContract = tinykvUseCacheHandler
export const useCacheWithOptions: UseCacheContract = createUseCacheHandler({ url: 'unix:///run/tinykv.sock' })
