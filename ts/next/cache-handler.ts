/**
 * `tinykv/next/cache-handler`: the `cacheHandler` class with the default options (the store at
 * `TINYKV_URL`, else in-process). In next.config:
 * `cacheHandler: require.resolve('tinykv/next/cache-handler')`.
 */
import { createCacheHandler } from './incremental.js'

const TinyKVCacheHandler = createCacheHandler()
export default TinyKVCacheHandler
