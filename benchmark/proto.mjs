// Prototype: N-API call overheads and entry layouts at 1M entries (not part of `npm run bench`).
import { createRequire } from 'node:module'
import { LRUCache } from 'lru-cache'
const require = createRequire(import.meta.url)
const b = require('../index.js')
const N = 1_000_000
const keys = Array.from({ length: N }, (_, i) => 'key:' + i)
const val = (i) => ('v' + i).padEnd(100, '.')
const order = new Int32Array(N); for (let i = 0; i < N; i++) order[i] = i
for (let i = N - 1; i > 0; i--) { const j = (Math.random() * (i + 1)) | 0; const t = order[i]; order[i] = order[j]; order[j] = t }
function time(label, fn, n = N) { fn(Math.min(n, 100000)); const t = process.hrtime.bigint(); const r = fn(n); const ns = Number(process.hrtime.bigint() - t) / n; console.log(label.padEnd(40), ns.toFixed(1), 'ns/op', r === undefined ? '' : '') ; return ns }
const split = b.__protoNew(false), compact = b.__protoNew(true)
const lru = new LRUCache({ max: N + 10 })
time('raw noop', (n) => { for (let i = 0; i < n; i++) split.noop() })
time('napi-rs free fn(String)', (n) => { let s = 0; for (let i = 0; i < n; i++) s += b.__protoStrLen(keys[i]); return s })
for (const [name, m] of [['split', split], ['compact', compact], ['lru', lru]]) {
  time(`${name} set`, (n) => { for (let i = 0; i < n; i++) m.set(keys[i], val(i)) })
}
for (let rep = 0; rep < 2; rep++) for (const [name, m] of [['split', split], ['compact', compact], ['lru', lru]]) {
  time(`${name} get-hit random prebuilt`, (n) => { let c = 0; for (let i = 0; i < n; i++) { const v = m.get(keys[order[i]]); c += v.length } return c })
  time(`${name} get-hit fresh key`, (n) => { let c = 0; for (let i = 0; i < n; i++) { const v = m.get('key:' + order[i]); c += v.length } return c })
  time(`${name} miss`, (n) => { let c = 0; for (let i = 0; i < n; i++) { if (m.get('nokey:' + i) === undefined) c++ } return c })
}
