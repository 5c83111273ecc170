// Floors, not the product bench: the same rows as bench.mjs for lru-cache, TinyKV and
// prototype tables built into prototype builds of the addon (`__proto*` exports, see git
// history of src/node/proto.rs), one child process per contender, CPU-time min of 3 rounds.
//   flat:    open addressing, 16-byte slots {hash, ptr}, one allocation per entry, no locks,
//            mget with software prefetch (the layout/batching floor)
//   compact: DashSet of one-allocation entries (dashmap locks, no store bookkeeping)
//   split:   DashMap<Box<[u8]>, Box<[u8]>> (separate key and value allocations)
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const N = Number(process.env.BENCH_N ?? 1_000_000)
const require = createRequire(import.meta.url)

if (process.argv[2] === '--child') {
  const { LRUCache } = await import('lru-cache')
  const b = require('../index.js')
  const which = process.argv[3]
  const make = () => which === 'lru' ? new LRUCache({ max: N }) : which === 'tinykv' ? new b.TinyKV({ maxEntries: N })
    : which === 'flat' ? b.__protoFlat() : b.__protoNew(which)
  // RSS first, loading fresh keys and values as an app would (as bench.mjs does).
  const vb0 = Buffer.alloc(100, '.')
  globalThis.gc()
  const rss0 = process.memoryUsage().rss
  let m = make()
  for (let i = 0; i < N; i++) { vb0.fill('.'); vb0.write('value:' + i, 0, 'latin1'); m.set('key:' + i, vb0.toString('latin1')) }
  globalThis.gc()
  const rss = (process.memoryUsage().rss - rss0) / 1e6
  m = null
  const keys = Array.from({ length: N }, (_, i) => 'key:' + i)
  const vbuf = Buffer.alloc(100, '.')
  const val = (i) => { vbuf.fill('.'); vbuf.write('value:' + i, 0, 'latin1'); return vbuf.toString('latin1') }
  const values = keys.map((_, i) => val(i))
  const order = new Int32Array(N); for (let i = 0; i < N; i++) order[i] = i
  for (let i = N - 1; i > 0; i--) { const j = (Math.random() * (i + 1)) | 0; const t = order[i]; order[i] = order[j]; order[j] = t }
  const batches = Array.from({ length: N / 100 }, (_, bi) => Array.from({ length: 100 }, (_, j) => keys[order[bi * 100 + j]]))
  const cpu = (fn, ops) => { const c = process.cpuUsage(); fn(); const d = process.cpuUsage(c); return ((d.user + d.system) * 1000) / ops }
  const set = []
  for (let r = 0; r < 3; r++) { m = null; globalThis.gc(); m = make(); set.push(cpu(() => { for (let i = 0; i < N; i++) m.set(keys[i], values[i]) }, N)) }
  const rows = { set: Math.min(...set), rss }
  const runs = {
    get: () => { let c = 0; for (let i = 0; i < N; i++) c += m.get(keys[order[i]]).length; return c },
    fresh: () => { let c = 0; for (let i = 0; i < N; i++) c += m.get('key:' + order[i]).length; return c },
    mget: () => { let c = 0; for (const ks of batches) { if (m.mget) c += m.mget(ks).length; else { const out = new Array(100); for (let j = 0; j < 100; j++) out[j] = m.get(ks[j]); c += out.length } } return c },
  }
  for (const [k, fn] of Object.entries(runs)) rows[k] = Math.min(...[0, 1, 2].map(() => cpu(fn, k === 'mget' ? N / 100 : N)))
  process.stdout.write(JSON.stringify(rows))
  process.exit(0)
}

const self = fileURLToPath(import.meta.url)
const res = {}
for (const w of ['lru', 'tinykv', 'flat', 'compact', 'split']) {
  const out = spawnSync(process.execPath, ['--expose-gc', self, '--child', w], { encoding: 'utf8' })
  if (out.status !== 0) throw new Error(out.stderr)
  res[w] = JSON.parse(out.stdout)
}
const cols = ['set', 'get', 'fresh', 'mget', 'rss']
console.log('contender  ' + cols.map((c) => c.padStart(16)).join(''))
for (const [w, r] of Object.entries(res)) {
  console.log(w.padEnd(11) + cols.map((c) => `${r[c].toFixed(c === 'rss' ? 1 : 0)} (${(r[c] / res.lru[c]).toFixed(2)}x)`.padStart(16)).join(''))
}
console.log('(ns/op CPU time, mget in ns per 100-key batch, rss in MB for 1M entries; ratio to lru-cache)')
