// `npm run bench:floor`: what a get of a prebuilt key costs at the N-API boundary alone, next
// to TinyKV's has/get and lru-cache's get, on the same 1M keys in the same random order; and
// what a set costs there (both strings read, nothing stored), next to TinyKV's and lru-cache's
// set of 1M distinct keys into a fresh cache, as `npm run bench` times it.
//
// The floor functions (floor/floor.c) do what TinyKV's get and set do at the boundary, with no
// store behind them. They are compiled here with the system C compiler against the headers that ship
// with Node (<prefix>/include/node). Each contender runs in its own child process; each get
// row is the best of 5 passes in process CPU time (TinyKV's child rotates its passes, floors
// included, so none inherits its own cache lines from the pass before; lru-cache's run back
// to back, as in `npm run bench`), each set row the best of 3 fills.
// Environment: BENCH_N (default 1e6).
import { spawnSync, execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { value, shuffled } from './data.mjs'

const require = createRequire(import.meta.url)
const N = Number(process.env.BENCH_N ?? 1_000_000)
const here = path.dirname(fileURLToPath(import.meta.url))
const ROUNDS = 5

/** CPU ns per op of `fn`, which performs N operations. */
function perOp(fn) {
  const c = process.cpuUsage()
  if (fn() === -1) throw new Error('unreachable')
  const d = process.cpuUsage(c)
  return ((d.user + d.system) * 1000) / N
}

async function child(which, floorPath) {
  const keys = new Array(N)
  const values = new Array(N)
  for (let i = 0; i < N; i++) {
    keys[i] = 'key:' + i
    values[i] = value(i)
  }
  const make =
    which === 'lru-cache'
      ? ((LRUCache) => () => new LRUCache({ max: N }))(require('lru-cache').LRUCache)
      : ((TinyKV) => () => new TinyKV({ maxEntries: N }))(require('../index.js').TinyKV)
  const out = {}
  // Set: 1M prebuilt keys and values into a fresh cache (the previous one collected first).
  let m = null
  out.set = Infinity
  for (let r = 0; r < 3; r++) {
    m = null
    globalThis.gc()
    await new Promise((r) => setImmediate(r)) // Node runs a collected TinyKV's finalizer here
    m = make()
    out.set = Math.min(
      out.set,
      perOp(() => {
        for (let i = 0; i < N; i++) m.set(keys[i], values[i])
        return 0
      }),
    )
  }
  const order = shuffled(N)
  globalThis.gc()
  const best = (fn) => Math.min(...Array.from({ length: ROUNDS }, () => perOp(fn)))
  if (which === 'lru-cache') {
    out.get = best(() => {
      let c = 0
      for (let i = 0; i < N; i++) c += m.get(keys[order[i]]).length
      return c
    })
  } else {
    const f = require(floorPath)
    out.readArgs = best(() => {
      for (let i = 0; i < N; i++) f.readArgs(keys[i], values[i])
      return 0
    })
    // One dependent cache miss: a pointer chase over a random cycle in 128 MB (past every
    // cache), as the lookup's table-then-entry chain is.
    const chase = new Int32Array(32 * 1024 * 1024)
    for (let i = 0; i < chase.length; i++) chase[i] = i
    for (let i = chase.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * i) // Sattolo: one cycle through every slot
      const t = chase[i]
      chase[i] = chase[j]
      chase[j] = t
    }
    out.miss = best(() => {
      let p = 0
      for (let i = 0; i < N; i++) p = chase[p]
      return p
    })
    // The get-side passes take turns, ROUNDS times, so that each one starts from the cache
    // state the others leave: run back to back, a pass would find much of its own table still
    // in the last-level cache from the pass before (the floor's and TinyKV's alike).
    const passes = {
      noop: () => {
        let c = 0
        for (let i = 0; i < N; i++) if (f.noop(keys[order[i]]) === undefined) c++
        return c
      },
      readKey: () => {
        let c = 0
        for (let i = 0; i < N; i++) if (f.readKey(keys[order[i]]) === undefined) c++
        return c
      },
      readKeyValue: () => {
        let c = 0
        for (let i = 0; i < N; i++) c += f.readKeyValue(keys[order[i]]).length
        return c
      },
      lookup: () => {
        let c = 0
        for (let i = 0; i < N; i++) c += f.lookup(keys[order[i]]).length
        return c
      },
      has: () => {
        let c = 0
        for (let i = 0; i < N; i++) if (m.has(keys[order[i]])) c++
        return c
      },
      get: () => {
        let c = 0
        for (let i = 0; i < N; i++) c += m.get(keys[order[i]]).length
        return c
      },
    }
    for (const k of Object.keys(passes)) out[k] = Infinity
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, fn] of Object.entries(passes)) out[k] = Math.min(out[k], perOp(fn))
    }
  }
  process.stdout.write(JSON.stringify(out))
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4])
  process.exit(0)
}

const include = path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node')
if (!existsSync(path.join(include, 'node_api.h'))) {
  console.error(`bench:floor needs Node's C headers, not found at ${include}`)
  process.exit(1)
}
const floorPath = path.join(mkdtempSync(path.join(tmpdir(), 'tinykv-floor-')), 'floor.node')
execFileSync(process.env.CC ?? 'cc', ['-O2', '-shared', '-fPIC', '-I', include, '-o', floorPath, path.join(here, 'floor', 'floor.c')])
const run = (which) => {
  const out = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', which, floorPath], { encoding: 'utf8' })
  if (out.status !== 0) throw new Error(`${which} failed: ${out.stderr}`)
  return JSON.parse(out.stdout)
}
const t = run('tinykv')
const l = run('lru-cache')
const rows = [
  ['N-API call, key never read (floor)', t.noop],
  ['+ key read into a stack buffer (floor)', t.readKey],
  ['+ 100-byte string returned (floor: a get with no lookup)', t.readKeyValue],
  ['+ two dependent misses between (floor: a get with a bare two-miss lookup)', t.lookup],
  ['one dependent cache miss (pointer chase, 128 MB)', t.miss],
  ['tinykv has (lookup, no value)', t.has],
  ['tinykv get', t.get],
  ['lru-cache get', l.get],
]
console.log(`\nGet of a prebuilt key in random order, ${N} entries of 100 bytes, best of ${ROUNDS} (cpu time), node ${process.version}`)
console.log('| row | ns/op | / lru-cache get |')
console.log('|---|--:|--:|')
for (const [label, ns] of rows) console.log(`| ${label} | ${ns.toFixed(0)} | ${(ns / l.get).toFixed(2)}x |`)
console.log(
  `0.9x lru-cache's get is ${(0.9 * l.get).toFixed(0)} ns: ${(0.9 * l.get - t.readKeyValue).toFixed(0)} ns above the no-lookup floor, ` +
    `for a lookup that needs two dependent cache misses (table, then entry; ${(2 * t.miss).toFixed(0)} ns here). ` +
    `The bare two-miss lookup is ${(t.lookup / l.get).toFixed(2)}x lru-cache's get; TinyKV's get is ${(t.get / t.lookup).toFixed(2)}x that floor.`,
)
console.log(`\nSet of ${N} distinct prebuilt keys into a fresh cache, 100-byte values, best of 3 (cpu time)`)
console.log('| row | ns/op | / lru-cache set |')
console.log('|---|--:|--:|')
const setRows = [
  ['N-API call, key and value read into stack buffers (floor: a set with no store)', t.readArgs],
  ['tinykv set', t.set],
  ['lru-cache set', l.set],
]
for (const [label, ns] of setRows) console.log(`| ${label} | ${ns.toFixed(0)} | ${(ns / l.set).toFixed(2)}x |`)
console.log(
  `0.8x lru-cache's set is ${(0.8 * l.set).toFixed(0)} ns: ${(0.8 * l.set - t.readArgs).toFixed(0)} ns above the boundary floor, ` +
    `for copying the entry into the store and inserting it (TinyKV's set spent ${(t.set - t.readArgs).toFixed(0)} ns there).`,
)
