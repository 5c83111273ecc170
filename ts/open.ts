/**
 * `open()`: one call from configuration to an `AsyncTinyKV`. No `url` (or an empty one) and no
 * `cluster`: an in-process store made with the `TinyKV` class's options. `unix:///path.sock`,
 * `redis://`, `rediss://` or `cluster: [...]`: a `TinyKVClient`, connected before `open()`
 * resolves (whether the server is the TinyKV daemon or Redis is asked once at connect). Store
 * options (`maxMemory`, `maxEntries`, `evictionPolicy`) bound only an in-process store: a
 * server's own flags or config bound it. An unknown scheme rejects with a `TypeError`.
 */
import type { TinyKVOptions } from '../lib/index.js'
import { TinyKVClient } from './client.js'
import type { ClientOptions } from './client.js'
import { LocalTinyKV } from './local.js'
import type { AsyncTinyKV } from './types.js'

/** Options of `open()`: the `TinyKV` class's and the client's, in one bag. */
export interface OpenOptions extends TinyKVOptions, ClientOptions {}

/** An `AsyncTinyKV` on the store `options` describe (see the module docs and the README). */
export async function open(options: OpenOptions = {}): Promise<AsyncTinyKV> {
  if (options === null || typeof options !== 'object') throw new TypeError(`open: options must be an object, got ${options === null ? 'null' : typeof options}`)
  const { url, cluster } = options
  if ((url === undefined || url === '') && cluster === undefined) {
    const { maxEntries, maxMemory, defaultTtl, namespace, evictionPolicy } = options
    const local: TinyKVOptions = {}
    if (maxEntries !== undefined) local.maxEntries = maxEntries
    if (maxMemory !== undefined) local.maxMemory = maxMemory
    if (defaultTtl !== undefined) local.defaultTtl = defaultTtl
    if (namespace !== undefined) local.namespace = namespace
    if (evictionPolicy !== undefined) local.evictionPolicy = evictionPolicy
    return new LocalTinyKV(local)
  }
  return TinyKVClient.connect(options)
}
