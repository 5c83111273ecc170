/**
 * `tinykv/next/use-cache-handler`: the `'use cache'` handler with the default options (the store
 * at `TINYKV_URL`, else in-process). In next.config:
 * `cacheHandlers: { default: require.resolve('tinykv/next/use-cache-handler') }`.
 *
 * The module itself is the handler: its five methods are its named exports (closures, not
 * `this`-bound), so Next's import(), `require()` and an ESM default or namespace import all get
 * an object with the contract's methods. (No `exports.default`: a CommonJS module's default
 * would reach ESM importers wrapped in another object.)
 */
import { createUseCacheHandler } from './use-cache.js'
import type { UseCacheHandler } from './use-cache.js'

const tinykvUseCacheHandler: UseCacheHandler = createUseCacheHandler()
export const { get, set, refreshTags, getExpiration, updateTags } = tinykvUseCacheHandler
