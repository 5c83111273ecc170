/**
 * `tinykv/next/cache-handler`: the `cacheHandler` class with the default options (the store at
 * `TINYKV_URL`, else in-process). In next.config:
 * `cacheHandler: require.resolve('tinykv/next/cache-handler')`.
 */
import { createCacheHandler } from './incremental.js'

// `export =` (module.exports), not `export default`: the class itself is what Next's import(),
// a CommonJS require and an ESM default import all get.
const TinyKVCacheHandler = createCacheHandler()
export = TinyKVCacheHandler
