// `npm run bench:ab -- A.node B.node`: two builds of the addon, A and B, in one process, on the
// same 1M keys "key:N" and 100-byte values, in alternating rounds. For changes of a few percent:
// on a noisy machine, separate processes (as `npm run bench` uses) differ by more than that from
// one run to the next, while rounds that alternate within one process see the same noise.
//
// Each round times, for A and then B (B first in odd rounds), a fill of a fresh store (the
// previous round's store is closed first) and a pass of gets of the prebuilt keys in random
// order, and a pass of mget over the same order in batches of MGET_BATCH keys (per key), in
// process CPU time. Prints each build's median and best, and the median over rounds
// of B's time / A's time: below 1 means B is faster. Run it twice with A and B swapped to see
// whether being loaded first matters. Environment: BENCH_N (default 1e6), BENCH_ROUNDS (8).
import { createRequire } from 'node:module'
import path from 'node:path'
import { value, shuffled } from './data.mjs'

const require = createRequire(import.meta.url)
const [fileA, fileB] = process.argv.slice(2)
if (!fileA || !fileB) {
  console.error('usage: npm run bench:ab -- <A.node> <B.node>')
  process.exit(2)
}
if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc (npm run bench:ab does)')
  process.exit(2)
}
const builds = [fileA, fileB].map((f) => require(path.resolve(f)).TinyKV)
const N = Number(process.env.BENCH_N ?? 1_000_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8)

const keys = new Array(N)
const values = new Array(N)
for (let i = 0; i < N; i++) {
  keys[i] = 'key:' + i
  values[i] = value(i)
}
const order = shuffled(N)
const MGET_BATCH = 100
const batches = []
for (let i = 0; i < N; i += MGET_BATCH) {
  batches.push(Array.from(order.subarray(i, i + MGET_BATCH), (k) => keys[k]))
}

/** CPU ns per op of `fn`, which performs N operations. */
function perOp(fn) {
  const c = process.cpuUsage()
  if (fn() === -1) throw new Error('unreachable')
  const d = process.cpuUsage(c)
  return ((d.user + d.system) * 1000) / N
}

const stores = [null, null]
const times = { set: [[], []], get: [[], []], mget: [[], []] }
function round(b) {
  stores[b]?.close()
  stores[b] = null
  globalThis.gc()
  const m = new builds[b]({ maxEntries: N })
  times.set[b].push(perOp(() => {
    for (let i = 0; i < N; i++) m.set(keys[i], values[i])
    return 0
  }))
  times.get[b].push(perOp(() => {
    let c = 0
    for (let i = 0; i < N; i++) c += m.get(keys[order[i]]).length
    return c
  }))
  times.mget[b].push(perOp(() => {
    let c = 0
    for (const batch of batches) c += m.mget(batch).length
    return c
  }))
  if (m.get(keys[7]) !== values[7]) throw new Error(`${[fileA, fileB][b]} returned a wrong value`)
  stores[b] = m
}
for (let r = 0; r < ROUNDS; r++) {
  const first = r % 2
  round(first)
  round(1 - first)
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
const fmt = (x) => x.toFixed(0).padStart(6)
console.log(`A = ${fileA}\nB = ${fileB}\n${N} entries, ${ROUNDS} alternating rounds, CPU ns/op`)
console.log('| row | A median | A best | B median | B best | B/A (median of rounds) |')
console.log('|---|--:|--:|--:|--:|--:|')
for (const row of ['set', 'get', 'mget']) {
  const [a, b] = times[row]
  const ratio = median(a.map((x, i) => b[i] / x))
  console.log(`| ${row} | ${fmt(median(a))} | ${fmt(Math.min(...a))} | ${fmt(median(b))} | ${fmt(Math.min(...b))} | ${ratio.toFixed(3)} |`)
}
