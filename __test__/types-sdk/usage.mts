// The SDK's declarations as an ESM TypeScript user sees them (`tinykv`, `tinykv/client`,
// `tinykv/namespaces`): the AsyncTinyKV interface, open()'s options, and the error classes.
// Every `@ts-expect-error` line must be an error, or tsc fails.
import { open, TinyKV, TinyKVClient, TinyKVConnectionError, TinyKVReplyError } from 'tinykv'
import type { AsyncTinyKV, OpenOptions, TinyKVStats } from 'tinykv'
import { TinyKVClient as FromSubpath } from 'tinykv/client'
import type { ClientOptions } from 'tinykv/client'
import { toRedisKey, namespacePrefix } from 'tinykv/namespaces'

const kv: AsyncTinyKV = await open({ url: process.env.CACHE_URL, maxMemory: '64mb' })
const s: string | undefined = await kv.get('user:1')
const b: Buffer | undefined = await kv.getBuffer('user:1')
const j: { a: number } | undefined = await kv.getJSON<{ a: number }>('cfg')
const ok: boolean = await kv.set('user:1', 'data', { ttl: 5_000, nx: true })
const n: number = await kv.incr('hits')
const big: bigint = await kv.incr('bytes', 1n)
const d: number = await kv.decr('hits', 2)
const values: Array<string | undefined> = await kv.mget(['a', 'b'])
await kv.mset([['a', 1], ['b', Buffer.from('x')]], { ttl: 1000 })
await kv.mset({ a: 'x' })
const keys: string[] = await kv.keys('user:*')
const size: number = await kv.size()
const stats: TinyKVStats = await kv.stats()
const loaded: string = await kv.getOrSet('k', async () => 'v', { ttl: 60_000 })
const view: AsyncTinyKV = kv.namespace('sessions')
const which: 'in-process' | 'tinykv' | 'redis' | 'redis-cluster' = view.backend
await kv.close()
const client: TinyKVClient = await FromSubpath.connect({ url: 'unix:///run/tinykv.sock', pool: 2, resp: 3, offlineQueue: false })
const sameClass: typeof TinyKVClient = FromSubpath
const cluster: OpenOptions = { cluster: ['redis://127.0.0.1:7000', { host: '127.0.0.1', port: 7001 }], commandTimeout: 1000 }
const tls: ClientOptions = { url: 'rediss://cache.example:6380', tls: { servername: 'cache.example' } }
const key: string = toRedisKey('sessions', 'abc', ':') + namespacePrefix('default')
const err: unknown = new Error()
if (err instanceof TinyKVConnectionError) err.code satisfies 'ECONNECTION' | 'ETIMEDOUT' | 'EREPLY'
if (err instanceof TinyKVReplyError) err.command satisfies string
const sync: TinyKV = new TinyKV()

// @ts-expect-error a wrong option name is a type error
await open({ urll: 'redis://x' })
// @ts-expect-error a wrong option type is a type error
await open({ pool: '4' })
// @ts-expect-error resp is 2 or 3
await open({ url: 'redis://x', resp: 4 })
// @ts-expect-error set's options are the class's: no `expire`
await kv.set('k', 'v', { expire: 5 })
// @ts-expect-error keys are strings
await kv.get(1)
// @ts-expect-error values are strings, Buffers or numbers
await kv.set('k', { a: 1 })
// @ts-expect-error every method answers a Promise
const notPromised: string | undefined = kv.get('k')
// @ts-expect-error a bigint step needs a bigint result
const wrongBig: number = await kv.incr('k', 1n)
// @ts-expect-error the loader produces a string
await kv.getOrSet('k', () => 42)
// @ts-expect-error getOrSet takes only ttl
await kv.getOrSet('k', () => 'v', { nx: true })

export { s, b, j, ok, n, big, d, values, keys, size, stats, loaded, which, client, sameClass, cluster, tls, key, sync, notPromised, wrongBig }
