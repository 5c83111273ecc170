/**
 * The package's main entry (`require('tinykv')`, `import ... from 'tinykv'`): everything
 * lib/index.js exports (the synchronous `TinyKV` class and its types, unchanged), `open()` and
 * the `AsyncTinyKV` interface, the client and its typed errors, and the namespace-to-Redis-key
 * mapping.
 */
// Everything lib/index.js exports (the class and its types), whatever it grows to hold.
export * from '../lib/index.js'
export { open } from './open.js'
export type { OpenOptions } from './open.js'
export { LocalTinyKV } from './local.js'
export { TinyKVClient, DEFAULT_POOL } from './client.js'
export type { ClientOptions } from './client.js'
export type { AsyncTinyKV, Backend, AsyncGetOrSetOptions, Value } from './types.js'
export type { ClusterNode } from './target.js'
export { TinyKVError, TinyKVConnectionError, TinyKVTimeoutError, TinyKVReplyError } from './errors.js'
export { DEFAULT_SEPARATOR, namespacePrefix, toRedisKey, fromRedisKey } from './namespaces.js'
export { dualWrite, DualWriteTinyKV } from './dualwrite.js'
