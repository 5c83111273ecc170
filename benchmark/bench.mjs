// `npm run bench`: TinyKV against lru-cache 11 and a plain Map, in one run, at 1,000,000 entries.
//
// Keys are the distinct strings "key:N"; values are distinct, flat 100-byte strings. Each
// contender runs in its own child process (with --expose-gc), so no contender's heap, garbage
// or JIT state can skew another's numbers; the children run one after another.
//
// Load children (ROUNDS per contender, median reported): build and set N fresh key/value
// strings into a new cache, recording RSS growth (after a full GC) and the longest GC pause
// (perf_hooks 'gc' entries) during the load. Timing child (one per contender):
//   1. set: twice, set N prebuilt keys/values into a new cache (the previous cache dropped and
//      collected first, with an event-loop turn so a collected TinyKV's finalizer has run). The
//      first cache's memory is new to the process, so the page faults that back it count too;
//      a row of its own reports that first round;
//   2. reads on the last of those caches, twice each: get with the prebuilt key strings
//      in random order, get with a freshly built key 'key:'+i, misses, and batches of 100
//      random keys (TinyKV's mget; 100 gets for the others).
// Every timed loop consumes its results. Each timed row reports the best of all its runs in
// process CPU time (BENCH_CLOCK=wall for wall-clock time): on a shared machine, time spent descheduled
// behind other processes says nothing about the code.
//
// A fourth column runs TinyKV under `maxMemory` (BENCH_MAX_MEMORY, default 64mb) and no entry
// cap: at 1M entries of 100 bytes the data is about 3x the cap, so every set past the first
// third evicts, RSS growth stays near the cap, and gets of evicted keys miss (the footer prints
// the hit rate, the entries kept and usedMemory against the cap).
//
// Environment: BENCH_N (entries, default 1e6), BENCH_ROUNDS (default 3), BENCH_CLOCK (cpu|wall),
// BENCH_MAX_MEMORY (default 64mb), BENCH_JSON (also write the results, with the machine and the
// run, to this file for docs/benchmarks.md's charts). A quick check: BENCH_N=200000 BENCH_ROUNDS=1 BENCH_MAX_MEMORY=8mb.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { PerformanceObserver } from 'node:perf_hooks'
import { LRUCache } from 'lru-cache'
import { value, shuffled } from './data.mjs'
import { runInfo, harnessCommand, installedVersion, writeReport } from './report/run-info.mjs'

const require = createRequire(import.meta.url)
const N = Number(process.env.BENCH_N ?? 1_000_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CLOCK = process.env.BENCH_CLOCK === 'wall' ? 'wall' : 'cpu'
const BATCH = 100
const MAX_MEMORY = process.env.BENCH_MAX_MEMORY ?? '64mb'
const CAPPED = `tinykv@${MAX_MEMORY}`

// Both libraries are loaded here, before any measurement, so loading one's code (the addon's
// pages, lru-cache's module) does not count as RSS growth from loading entries.
const { TinyKV } = require('../index.js')

const contenders = {
  tinykv: () => new TinyKV({ maxEntries: N }),
  'lru-cache': () => new LRUCache({ max: N }),
  Map: () => new Map(),
  // Bounded by bytes only: evicts once the data outgrows the cap, so some gets miss.
  [CAPPED]: () => new TinyKV({ maxMemory: MAX_MEMORY }),
}
/** Whether `name` may have evicted entries (its get loops must tolerate misses). */
const capped = (name) => name === CAPPED


/** Per-op cost of `fn` (which performs `ops` operations), in ns. */
function measure(fn, ops) {
  const t = process.hrtime.bigint()
  const c = process.cpuUsage()
  const check = fn()
  const d = process.cpuUsage(c)
  const wall = Number(process.hrtime.bigint() - t)
  if (check === -1) throw new Error('unreachable')
  return (CLOCK === 'wall' ? wall : (d.user + d.system) * 1000) / ops
}

const INNER = 2
const best = (fn, ops) => Math.min(...Array.from({ length: INNER }, () => measure(fn, ops)))

async function loadChild(name) {
  const make = contenders[name]
  let maxPause = 0
  let pauses = 0
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      pauses++
      maxPause = Math.max(maxPause, e.duration)
    }
  })
  globalThis.gc()
  globalThis.gc()
  const rss0 = process.memoryUsage().rss
  let m = make()
  obs.observe({ entryTypes: ['gc'] })
  const loadNs = measure(() => {
    for (let i = 0; i < N; i++) m.set('key:' + i, value(i))
    return 0
  }, N)
  await new Promise((r) => setTimeout(r, 50)) // let the observer deliver the load's entries
  obs.disconnect()
  globalThis.gc()
  const rssGrowth = process.memoryUsage().rss - rss0
  if (m.get('key:' + (N - 1)) !== value(N - 1)) throw new Error(`${name}: load check failed`)
  const out = { rss: rssGrowth / 1e6, gc: maxPause, pauses, load: loadNs }
  if (capped(name)) {
    const s = m.stats()
    if (s.usedMemory > s.maxMemory) throw new Error(`${name}: usedMemory ${s.usedMemory} > maxMemory ${s.maxMemory}`)
    Object.assign(out, { kept: s.keys, evicted: s.evicted, used: s.usedMemory / 2 ** 20, cap: s.maxMemory / 2 ** 20 })
  }
  process.stdout.write(JSON.stringify(out))
}

/**
 * Collects garbage and lets the event loop turn once, so the finalizers of collected objects
 * run, as they do between an app's callbacks: Node defers native finalizers to the event loop,
 * so a TinyKV dropped before gc() is only freed (and its memory only reusable) after a turn.
 * lru-cache's and Map's memory is reclaimed within gc() itself.
 */
async function collect() {
  globalThis.gc()
  await new Promise((r) => setImmediate(r))
}

async function child(name) {
  const make = contenders[name]
  let m = null
  // 1. set
  const keys = new Array(N)
  const values = new Array(N)
  for (let i = 0; i < N; i++) {
    keys[i] = 'key:' + i
    values[i] = value(i)
  }
  const sets = []
  for (let r = 0; r < INNER; r++) {
    m = null
    await collect()
    m = make()
    sets.push(measure(() => {
      for (let i = 0; i < N; i++) m.set(keys[i], values[i])
      return 0
    }, N))
  }

  // 2. reads
  const order = shuffled(N)
  const nBatches = Math.max(1, Math.floor(N / BATCH))
  const batches = new Array(nBatches)
  for (let b = 0; b < nBatches; b++) batches[b] = Array.from({ length: BATCH }, (_, j) => keys[order[b * BATCH + j]])
  globalThis.gc()
  // Under a byte cap some keys were evicted: those loops skip misses (and count the hits).
  const mayMiss = capped(name)
  let hits = 0
  const out = {
    set: Math.min(...sets),
    setCold: sets[0],
    get: mayMiss
      ? best(() => {
          let c = 0
          hits = 0
          for (let i = 0; i < N; i++) {
            const v = m.get(keys[order[i]])
            if (v !== undefined) {
              c += v.length
              hits++
            }
          }
          return c
        }, N)
      : best(() => {
          let c = 0
          for (let i = 0; i < N; i++) c += m.get(keys[order[i]]).length
          return c
        }, N),
    fresh: mayMiss
      ? best(() => {
          let c = 0
          for (let i = 0; i < N; i++) {
            const v = m.get('key:' + order[i])
            if (v !== undefined) c += v.length
          }
          return c
        }, N)
      : best(() => {
          let c = 0
          for (let i = 0; i < N; i++) c += m.get('key:' + order[i]).length
          return c
        }, N),
    miss: best(() => {
      let c = 0
      for (let i = 0; i < N; i++) if (m.get('nokey:' + i) === undefined) c++
      return c
    }, N),
    mget: best(() => {
      let c = 0
      if (typeof m.mget === 'function') {
        for (let b = 0; b < nBatches; b++) c += m.mget(batches[b]).length
      } else {
        for (let b = 0; b < nBatches; b++) {
          const ks = batches[b]
          const res = new Array(ks.length)
          for (let j = 0; j < ks.length; j++) res[j] = m.get(ks[j])
          c += res.length
        }
      }
      return c
    }, nBatches),
  }
  const check = mayMiss ? N - 1 : 123
  if (m.get(keys[check]) !== values[check]) throw new Error(`${name} returned a wrong value`)
  if (mayMiss) out.hitRate = hits / N
  process.stdout.write(JSON.stringify(out))
}

if (process.argv[2] === '--child') {
  await child(process.argv[3])
  process.exit(0)
}
if (process.argv[2] === '--load') {
  await loadChild(process.argv[3])
  process.exit(0)
}

// ---- parent: one child per contender, then the table ---------------------------------------
const self = fileURLToPath(import.meta.url)
const JSON_OUT = process.env.BENCH_JSON
const info = JSON_OUT ? runInfo(harnessCommand('benchmark/bench.mjs'), ['tinykv.linux-x64-gnu.node']) : null
function run(mode, name) {
  const out = spawnSync(process.execPath, ['--expose-gc', self, mode, name], { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (out.status !== 0) throw new Error(`${mode} ${name} failed: ${out.stderr}`)
  return JSON.parse(out.stdout)
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const runs = Object.fromEntries(Object.keys(contenders).map((n) => [n, { loads: [], timings: [] }]))
for (let r = 0; r < ROUNDS; r++) {
  for (const name of Object.keys(contenders)) {
    process.stderr.write(`round ${r + 1}/${ROUNDS}: ${name}\n`)
    runs[name].loads.push(run('--load', name))
    runs[name].timings.push(run('--child', name))
  }
}
const res = {}
for (const [name, { loads, timings }] of Object.entries(runs)) {
  res[name] = {}
  for (const k of Object.keys(timings[0])) res[name][k] = Math.min(...timings.map((t) => t[k]))
  for (const k of Object.keys(loads[0])) res[name][k] = median(loads.map((l) => l[k]))
}

const rows = [
  ['set', `set ${N} distinct keys (fresh cache)`, 'ns/op', 0.8],
  ['setCold', `  the process's first cache only`, 'ns/op', null],
  ['get', 'get hit, prebuilt keys (random)', 'ns/op', 0.9],
  ['fresh', "get hit, fresh key 'key:'+i (random)", 'ns/op', 0.55],
  ['miss', 'get miss', 'ns/op', null],
  ['mget', `mget ${BATCH} random keys (others: ${BATCH} gets)`, 'ns/batch', 0.5],
  ['rss', `RSS growth, loading ${N}`, 'MB', 0.75],
  ['gc', `longest GC pause, loading ${N}`, 'ms', 0.25],
  ['load', `load ${N} (build key+value, set)`, 'ns/op', null],
]
const fmt = (x, d) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const head = ['row', 'unit', 'tinykv', 'lru-cache', 'Map', CAPPED, 'tinykv/lru', 'target', 'ok']
const lines = rows.map(([k, label, unit, target]) => {
  const [t, l, m, c] = [res.tinykv[k], res['lru-cache'][k], res.Map[k], res[CAPPED][k]]
  const ratio = t / l
  const d = unit === 'ms' ? 2 : unit === 'MB' ? 1 : 0
  return [label, unit, fmt(t, d), fmt(l, d), fmt(m, d), fmt(c, d), ratio.toFixed(2) + 'x', target == null ? '-' : '<= ' + target + 'x', target == null ? '' : ratio <= target ? 'yes' : 'NO']
})
const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
const pr = (cells) => '| ' + cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |'
console.log(`\nTinyKV vs lru-cache 11 vs Map: ${N} entries, 100-byte values, best of ${ROUNDS} processes x ${INNER} runs (${CLOCK} time; RSS/GC/load: median of ${ROUNDS} processes), node ${process.version}`)
console.log(pr(head))
console.log('|' + widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|')
for (const l of lines) console.log(pr(l))
console.log(`GC pauses during the load: tinykv ${res.tinykv.pauses}, lru-cache ${res['lru-cache'].pauses}, Map ${res.Map.pauses}, ${CAPPED} ${res[CAPPED].pauses}`)
const cr = res[CAPPED]
console.log(
  `${CAPPED} (maxMemory ${MAX_MEMORY}, no entry cap): kept ${fmt(cr.kept, 0)} of ${fmt(N, 0)} entries after the load ` +
    `(evicted ${fmt(cr.evicted, 0)}), usedMemory ${fmt(cr.used, 2)} MiB of ${fmt(cr.cap, 2)} MiB; ` +
    `gets of random loaded keys hit ${(cr.hitRate * 100).toFixed(1)}% (its get rows include those misses)`,
)
if (JSON_OUT) {
  writeReport(JSON_OUT, {
    harness: 'addon',
    run: info,
    params: { n: N, rounds: ROUNDS, inner: INNER, clock: CLOCK, batch: BATCH, maxMemory: MAX_MEMORY, lruCache: installedVersion('lru-cache') },
    results: { rows: rows.map(([key, label, unit, target]) => ({ key, label, unit, target })), contenders: res },
  })
}
