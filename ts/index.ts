/**
 * The package's main entry (`require('tinykv')`, `import ... from 'tinykv'`): the synchronous
 * `TinyKV` class (from lib/index.js, unchanged), `open()` and the `AsyncTinyKV` interface, the
 * client and its typed errors, and the namespace-to-Redis-key mapping.
 */
export { TinyKV } from '../lib/index.js'
export type { EntryInfo, NamespaceStats, SetOptions, TinyKVOptions, TinyKVStats } from '../lib/index.js'
export { open } from './open.js'
export type { OpenOptions } from './open.js'
export { LocalTinyKV } from './local.js'
export { TinyKVClient, DEFAULT_POOL } from './client.js'
export type { ClientOptions } from './client.js'
export type { AsyncTinyKV, Backend, GetOrSetOptions, Value } from './types.js'
export type { ClusterNode } from './target.js'
export { TinyKVError, TinyKVConnectionError, TinyKVTimeoutError, TinyKVReplyError } from './errors.js'
export { DEFAULT_SEPARATOR, namespacePrefix, toRedisKey, fromRedisKey } from './namespaces.js'
