/**
 * `tinykv/keyv` (CommonJS; `keyv.mts` is the ESM twin): `KeyvTinyKV`, the Keyv 5 storage
 * adapter over any TinyKV store (see keyv/adapter.ts), and `createKeyv()`, a Keyv on it in one
 * call. Through Keyv it serves cache-manager 7, cacheable and `@nestjs/cache-manager`.
 */
import { Keyv } from 'keyv'
import type { KeyvTinyKVInput } from './keyv/adapter.js'
import { createKeyvWith } from './keyv/create.js'
import type { CreateKeyvOptions } from './keyv/create.js'

export { KeyvTinyKV } from './keyv/adapter.js'
export type { KeyvTinyKVInput, KeyvTinyKVStore } from './keyv/adapter.js'
export type { CreateKeyvOptions } from './keyv/create.js'

/**
 * A `Keyv` on a `KeyvTinyKV` adapter in one call. Keyv's own `ns:` key prefix is turned off
 * (`useKeyPrefix: false`): the namespace is a TinyKV namespace already, so keys are stored as
 * the app wrote them. Without `options.namespace` the store handle's own namespace is used.
 */
export function createKeyv<Value = any>(store?: KeyvTinyKVInput, options: CreateKeyvOptions = {}): Keyv<Value> {
  return createKeyvWith(Keyv<Value>, store, options)
}
