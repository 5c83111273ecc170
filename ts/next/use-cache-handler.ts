/**
 * `tinykv/next/use-cache-handler`: the `'use cache'` handler with the default options (the store
 * at `TINYKV_URL`, else in-process). In next.config:
 * `cacheHandlers: { default: require.resolve('tinykv/next/use-cache-handler') }`.
 */
import { createUseCacheHandler } from './use-cache.js'

const tinykvUseCacheHandler = createUseCacheHandler()
export default tinykvUseCacheHandler
