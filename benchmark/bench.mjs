// `npm run bench`: TinyKV against lru-cache 11 and a plain Map, in one run, at 1,000,000 entries.
//
// Keys are the distinct strings "key:N"; values are distinct, flat 100-byte strings. Every timed
// loop consumes its results so no engine can skip work. Each timed row runs ROUNDS times,
// interleaving the three contenders, and reports the best round, timed in process CPU time
// (BENCH_CLOCK=wall for wall-clock time): on a shared 2-core machine, time spent descheduled
// behind other processes says nothing about the code. RSS growth and the longest GC pause are
// measured while loading 1M entries in a fresh child process per contender (with --expose-gc),
// so one contender's heap cannot skew another's numbers.
//
// Environment: BENCH_N (entries, default 1e6), BENCH_ROUNDS (default 3), BENCH_CLOCK (cpu|wall).
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { PerformanceObserver } from 'node:perf_hooks'
import { LRUCache } from 'lru-cache'

const require = createRequire(import.meta.url)
const { TinyKV } = require('../index.js')

const N = Number(process.env.BENCH_N ?? 1_000_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CLOCK = process.env.BENCH_CLOCK === 'wall' ? 'wall' : 'cpu'
const BATCH = 100

// A distinct, flat (sequential one-byte) 100-byte string per i, as an app would hold after I/O.
const vbuf = Buffer.alloc(100, '.')
function value(i) {
  vbuf.fill('.')
  vbuf.write('value:' + i, 0, 'latin1')
  return vbuf.toString('latin1')
}

const contenders = {
  tinykv: () => new TinyKV({ maxEntries: N }),
  'lru-cache': () => new LRUCache({ max: N }),
  Map: () => new Map(),
}

// ---- child mode: load N entries, report RSS growth and the longest GC pause -------------------
if (process.argv[2] === '--load') {
  const name = process.argv[3]
  let maxPause = 0
  let pauses = 0
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      pauses++
      if (e.duration > maxPause) maxPause = e.duration
    }
  })
  globalThis.gc()
  globalThis.gc()
  const rss0 = process.memoryUsage().rss
  const m = contenders[name]()
  obs.observe({ entryTypes: ['gc'] })
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < N; i++) m.set('key:' + i, value(i))
  const loadNs = Number(process.hrtime.bigint() - t0) / N
  // Let the observer deliver the load's GC entries before we stop listening.
  await new Promise((r) => setImmediate(r))
  await new Promise((r) => setTimeout(r, 50))
  obs.disconnect()
  globalThis.gc()
  const rss1 = process.memoryUsage().rss
  if (m.get('key:' + (N - 1)) !== value(N - 1)) throw new Error(`${name}: load check failed`)
  process.stdout.write(JSON.stringify({ rssGrowth: rss1 - rss0, maxPause, pauses, loadNs }))
  process.exit(0)
}

// ---- parent mode ------------------------------------------------------------------------------
const keys = new Array(N)
const values = new Array(N)
for (let i = 0; i < N; i++) {
  keys[i] = 'key:' + i
  values[i] = value(i)
}
// A random permutation so hits touch memory in no useful order (the DRAM-miss-bound case).
const order = new Int32Array(N)
for (let i = 0; i < N; i++) order[i] = i
for (let i = N - 1; i > 0; i--) {
  const j = Math.floor(Math.random() * (i + 1))
  const t = order[i]
  order[i] = order[j]
  order[j] = t
}
const nBatches = Math.max(1, Math.floor(N / BATCH))
const batches = new Array(nBatches)
for (let b = 0; b < nBatches; b++) batches[b] = Array.from({ length: BATCH }, (_, j) => keys[order[b * BATCH + j]])

function ns(fn, ops) {
  const t = process.hrtime.bigint()
  const c = process.cpuUsage()
  const check = fn()
  const d = process.cpuUsage(c)
  const wall = Number(process.hrtime.bigint() - t)
  const per = (CLOCK === 'wall' ? wall : (d.user + d.system) * 1000) / ops
  if (check === -1) throw new Error('unreachable')
  return per
}

const rows = [
  {
    row: 'get hit, prebuilt keys (random)',
    target: 0.9,
    unit: 'ns/op',
    run: (m) => ns(() => {
      let c = 0
      for (let i = 0; i < N; i++) c += m.get(keys[order[i]]).length
      return c
    }, N),
  },
  {
    row: "get hit, fresh key 'key:'+i (random)",
    target: 0.55,
    unit: 'ns/op',
    run: (m) => ns(() => {
      let c = 0
      for (let i = 0; i < N; i++) c += m.get('key:' + order[i]).length
      return c
    }, N),
  },
  {
    row: 'miss',
    target: null,
    unit: 'ns/op',
    run: (m) => ns(() => {
      let c = 0
      for (let i = 0; i < N; i++) if (m.get('nokey:' + i) === undefined) c++
      return c
    }, N),
  },
  {
    row: `mget ${BATCH} random keys (lru/Map: ${BATCH} gets)`,
    target: 0.5,
    unit: 'ns/batch',
    run: (m) => ns(() => {
      let c = 0
      if (typeof m.mget === 'function') {
        for (let b = 0; b < nBatches; b++) c += m.mget(batches[b]).length
      } else {
        for (let b = 0; b < nBatches; b++) {
          const ks = batches[b]
          const out = new Array(ks.length)
          for (let j = 0; j < ks.length; j++) out[j] = m.get(ks[j])
          c += out.length
        }
      }
      return c
    }, nBatches),
  },
]

const best = (xs) => Math.min(...xs)
const results = {} // row -> contender -> [ns]
const setRow = { row: `set ${N} distinct keys (fresh cache)`, target: 0.8, unit: 'ns/op' }
for (const r of [setRow, ...rows]) results[r.row] = Object.fromEntries(Object.keys(contenders).map((c) => [c, []]))

const full = {}
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, make] of Object.entries(contenders)) {
    // set: a fresh cache each round; the loaded one serves the read rows.
    full[name] = null
    const m = make()
    const per = ns(() => {
      for (let i = 0; i < N; i++) m.set(keys[i], values[i])
      return 0
    }, N)
    results[setRow.row][name].push(per)
    full[name] = m
  }
  for (const r of rows) {
    for (const name of Object.keys(contenders)) results[r.row][name].push(r.run(full[name]))
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`)
}
const tkv = full.tinykv
if (tkv.get(keys[123]) !== values[123]) throw new Error('tinykv returned a wrong value')

// Load rows: one child per contender.
const self = fileURLToPath(import.meta.url)
const load = {}
for (const name of Object.keys(contenders)) {
  const out = spawnSync(process.execPath, ['--expose-gc', self, '--load', name], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_N: String(N) },
    maxBuffer: 1 << 20,
  })
  if (out.status !== 0) throw new Error(`load child ${name} failed: ${out.stderr}`)
  load[name] = JSON.parse(out.stdout)
}

// ---- table --------------------------------------------------------------------------------------
const fmt = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const table = []
for (const r of [setRow, ...rows]) {
  const med = Object.fromEntries(Object.entries(results[r.row]).map(([k, v]) => [k, best(v)]))
  table.push([r.row, r.unit, med.tinykv, med['lru-cache'], med.Map, r.target])
}
table.push([`RSS growth, load ${N}`, 'MB', load.tinykv.rssGrowth / 1e6, load['lru-cache'].rssGrowth / 1e6, load.Map.rssGrowth / 1e6, 0.75])
table.push([`longest GC pause, load ${N}`, 'ms', load.tinykv.maxPause, load['lru-cache'].maxPause, load.Map.maxPause, 0.25])
table.push([`load ${N} (build key+value, set)`, 'ns/op', load.tinykv.loadNs, load['lru-cache'].loadNs, load.Map.loadNs, null])

const head = ['row', 'unit', 'tinykv', 'lru-cache', 'Map', 'tinykv/lru', 'target', 'ok']
const lines = table.map(([row, unit, t, l, m, target]) => {
  const ratio = t / l
  const d = unit === 'ms' ? 2 : unit === 'MB' ? 1 : 0
  return [row, unit, fmt(t, d), fmt(l, d), fmt(m, d), ratio.toFixed(2) + 'x', target == null ? '-' : '<= ' + target + 'x', target == null ? '' : ratio <= target ? 'yes' : 'NO']
})
const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
const pr = (cells) => '| ' + cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |'
console.log(`\nTinyKV vs lru-cache 11 vs Map, ${N} entries, 100-byte values, best of ${ROUNDS} rounds (${CLOCK} time), node ${process.version}`)
console.log(pr(head))
console.log('|' + widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|')
for (const l of lines) console.log(pr(l))
console.log(`GC pauses observed during load: tinykv ${load.tinykv.pauses}, lru-cache ${load['lru-cache'].pauses}, Map ${load.Map.pauses}`)
