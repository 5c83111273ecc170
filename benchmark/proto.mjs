// Floors, not the product bench: N-API call overheads and entry layouts at 1M entries, against
// the real TinyKV and lru-cache in the same run. Needs the `__proto*` exports (prototype builds).
import { createRequire } from 'node:module'
import { LRUCache } from 'lru-cache'
const require = createRequire(import.meta.url)
const b = require('../index.js')
const N = 1_000_000
const keys = Array.from({ length: N }, (_, i) => 'key:' + i)
const vbuf = Buffer.alloc(100, '.')
const val = (i) => { vbuf.fill('.'); vbuf.write('value:' + i, 0, 'latin1'); return vbuf.toString('latin1') }
const values = keys.map((_, i) => val(i))
const order = new Int32Array(N); for (let i = 0; i < N; i++) order[i] = i
for (let i = N - 1; i > 0; i--) { const j = (Math.random() * (i + 1)) | 0; const t = order[i]; order[i] = order[j]; order[j] = t }
const batches = Array.from({ length: N / 100 }, (_, bi) => Array.from({ length: 100 }, (_, j) => keys[order[bi * 100 + j]]))
function time(label, fn, n = N) { const t = process.hrtime.bigint(); fn(n); const ns = Number(process.hrtime.bigint() - t) / n; console.log(label.padEnd(44), ns.toFixed(1).padStart(9), 'ns/op'); return ns }
const maps = {
  'proto split (DashMap<Box,Box>)': b.__protoNew('split'),
  'proto compact (DashSet, 1 alloc)': b.__protoNew('compact'),
  'proto bare (HashSet, no lock, 1 alloc)': b.__protoNew('bare'),
  tinykv: new b.TinyKV({ maxEntries: N }),
  'lru-cache': new LRUCache({ max: N }),
}
const tiny = new b.TinyKV(); tiny.set('k', values[0])
const tlru = new LRUCache({ max: 10 }); tlru.set('k', values[0])
const noop = maps['proto split (DashMap<Box,Box>)'].noop
time('raw C callback, no args', (n) => { for (let i = 0; i < n; i++) noop() })
time('napi-rs #[napi] fn(String)', (n) => { let s = 0; for (let i = 0; i < n; i++) s += b.__protoStrLen(keys[i & 1023]); return s })
time('tinykv get, 1 entry (in cache)', (n) => { let c = 0; for (let i = 0; i < n; i++) c += tiny.get('k').length; return c })
time('tinykv napi-rs class method get, 1 entry', (n) => { let c = 0; const g = b.TinyKV.prototype.get; for (let i = 0; i < n; i++) c += g.call(tiny, 'k').length; return c })
time('lru get, 1 entry (in cache)', (n) => { let c = 0; for (let i = 0; i < n; i++) c += tlru.get('k').length; return c })
for (const [name, m] of Object.entries(maps)) time(`${name} set`, (n) => { for (let i = 0; i < n; i++) m.set(keys[i], values[i]) })
for (let rep = 0; rep < 2; rep++) {
  for (const [name, m] of Object.entries(maps)) {
    time(`${name} get prebuilt`, (n) => { let c = 0; for (let i = 0; i < n; i++) c += m.get(keys[order[i]]).length; return c })
    time(`${name} get fresh`, (n) => { let c = 0; for (let i = 0; i < n; i++) c += m.get('key:' + order[i]).length; return c })
    time(`${name} mget 100 (per key)`, (n) => {
      let c = 0
      for (const ks of batches) {
        if (m.mget) c += m.mget(ks).length
        else { const out = new Array(100); for (let j = 0; j < 100; j++) out[j] = m.get(ks[j]); c += out.length }
      }
      return c
    })
  }
}
