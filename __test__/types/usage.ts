// Compiled by types.spec.mjs with `tsc --noEmit --strict` and no `types` setting of its own:
// what a user's TypeScript sees. Each @ts-expect-error line must be an error, or tsc fails.
import { TinyKV } from 'tinykv'
import type { GetOrSetOptions, OpenStore, SetOptions, TinyKVOptions, TinyKVStats } from 'tinykv'
// @ts-expect-error internal: the npx shim's entry point is not part of the public API
import { runCli } from 'tinykv'

const kv = new TinyKV({ maxEntries: 10 })
const n: number = kv.incr('hits')
const m: number = kv.incr('hits', 2)
const big: bigint = kv.incr('bytes', 1n)
const d: bigint = kv.decr('bytes', 1n)
const buf: Buffer | undefined = kv.getBuffer('k')
kv.set('k', Buffer.from('x'))

// @ts-expect-error a bigint result needs a bigint step, or the call would return a number
const wrong: bigint = kv.incr<bigint>('k')
// @ts-expect-error a number step gives a number, not a bigint
const wrong2: bigint = kv.incr('k', 1)

const opts: TinyKVOptions = { maxEntries: 1 }
const so: SetOptions = { ttl: 1 }
const st: TinyKVStats = kv.stats()
const shared = new TinyKV({ name: 'app', maxEntries: 10 })
const stores: OpenStore[] = TinyKV.openStores()
const go: GetOrSetOptions = { ttl: 1000, staleTtl: 500 }
const loaded: Promise<string> = (async () => await shared.getOrSet('k', async () => 'v', go))()
const user: Promise<{ id: number }> = (async () => await kv.getOrSetJSON('u', async () => ({ id: 1 })))()
// @ts-expect-error a hit answers without a Promise, so `.then` needs an `await` or Promise.resolve
kv.getOrSet('k', () => 'v').then(() => {})

export { n, m, big, d, buf, wrong, wrong2, opts, so, st, runCli, stores, loaded, user }
