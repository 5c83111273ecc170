// Compiled by types.spec.mjs with `tsc --noEmit --strict` and no `types` setting of its own:
// what a user's TypeScript sees. Each @ts-expect-error line must be an error, or tsc fails.
import { TinyKV } from 'tinykv'
import type { SetOptions, TinyKVOptions, TinyKVStats } from 'tinykv'
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

export { n, m, big, d, buf, wrong, wrong2, opts, so, st, runCli }
