/**
 * `createKeyv()`'s body, shared by the CommonJS and the ESM entry: each passes the `Keyv` class
 * of its own module system, so the Keyv it returns is the one the app's other Keyv users
 * (cache-manager, cacheable) are typed against and load.
 */
import type { KeyvOptions } from 'keyv'
import { KeyvTinyKV } from './adapter.js'
import type { KeyvTinyKVInput } from './adapter.js'

/** `createKeyv()`'s options: Keyv's own, less the two it sets (`store`, `useKeyPrefix`). */
export type CreateKeyvOptions = Omit<KeyvOptions, 'store' | 'useKeyPrefix'>

/** A `KeyvClass` on a `KeyvTinyKV` over `store`, without Keyv's own key prefix. */
export function createKeyvWith<K extends { namespace?: string | undefined }>(
  KeyvClass: new (options: KeyvOptions) => K,
  store: KeyvTinyKVInput,
  options: CreateKeyvOptions,
): K {
  if (options === null || typeof options !== 'object') throw new TypeError(`createKeyv: options must be an object, got ${options === null ? 'null' : typeof options}`)
  const keyv = new KeyvClass({ ...options, store: new KeyvTinyKV(store), useKeyPrefix: false })
  // Keyv defaults the namespace to 'keyv'; here no namespace means the store handle's own.
  if (options.namespace === undefined) keyv.namespace = undefined
  return keyv
}
