/**
 * `tinykv/next/use-cache-handler`: the `'use cache'` handler with the default options (the store
 * at `TINYKV_URL`, else in-process). In next.config:
 * `cacheHandlers: { default: require.resolve('tinykv/next/use-cache-handler') }`.
 */
import { createUseCacheHandler } from './use-cache.js'

// `export =` (module.exports): the handler itself is what Next's import(), a CommonJS require
// and an ESM default import all get.
const tinykvUseCacheHandler = createUseCacheHandler()
export = tinykvUseCacheHandler
