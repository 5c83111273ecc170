/**
 * `tinykv/keyv` for ESM code (`keyv.ts` is the CommonJS entry): the same adapter class, and a
 * `createKeyv()` that builds the ESM `Keyv`, the class an ESM app's cache-manager and cacheable
 * are typed against (CommonJS and ESM declarations of a class with private fields differ).
 */
import { Keyv } from 'keyv'
import type { KeyvTinyKVInput } from './keyv/adapter.js'
import { createKeyvWith } from './keyv/create.js'
import type { CreateKeyvOptions } from './keyv/create.js'

export { KeyvTinyKV } from './keyv/adapter.js'
export type { KeyvTinyKVInput, KeyvTinyKVStore } from './keyv/adapter.js'
export type { CreateKeyvOptions } from './keyv/create.js'

/** As the CommonJS `createKeyv()` (see keyv.ts), returning the ESM `Keyv`. */
export function createKeyv<Value = any>(store?: KeyvTinyKVInput, options: CreateKeyvOptions = {}): Keyv<Value> {
  return createKeyvWith(Keyv<Value>, store, options)
}
