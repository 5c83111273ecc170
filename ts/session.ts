/**
 * `tinykv/session`: an express-session store on TinyKV. One store class for every place TinyKV
 * keeps data: an in-process store for one process, the daemon (or Redis) for a cluster of Node
 * processes sharing sessions.
 *
 * ```ts
 * import session from 'express-session'
 * import { open } from 'tinykv'
 * import { TinyKVStore } from 'tinykv/session'
 *
 * const kv = await open({ url: process.env.TINYKV_URL })
 * app.use(session({ store: new TinyKVStore({ client: kv }), secret, resave: false, saveUninitialized: false }))
 * ```
 *
 * express-session is an optional peer dependency of tinykv: install it beside it.
 */
export { TinyKVStore } from './session/store.js'
export type { StoredSession } from './session/store.js'
export { DEFAULT_TTL } from './session/options.js'
export type { Serializer, TinyKVStoreOptions } from './session/options.js'
export type { Callback } from './session/callback.js'
