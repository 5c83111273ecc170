// `npm run bench:workers`: one TinyKV store shared by worker_threads, in one run, three tables.
//
// 1. Throughput: 1, 2 and 4 worker threads doing gets and sets (9 gets : 1 set, random keys
//    of a 100,000-key working set, 100-byte values) on one named store, against the same loop on
//    the main thread alone (and, for comparison, 2 workers with a private store each). Every
//    worker runs OPS operations; all start together (a shared Int32Array barrier), and
//    throughput is all their operations over the wall time from the first start to the last end.
//    Best of ROUNDS, the rounds interleaved: each round runs every row once, so a host whose
//    speed drifts mid-run does not favour one row.
// 2. Memory: 4 workers holding the same N (default 1,000,000) entries ("key:i" -> 100-byte
//    value), (a) one named TinyKV store filled once and opened by all 4, (b) each worker with
//    its own lru-cache of N entries (what users do today: N copies), (c) each worker with its
//    own private TinyKV. Each way runs in its own child process (--expose-gc); the figure is the
//    process's RSS growth from 4 idle workers to 4 loaded ones, after a full GC in each.
// 3. getOrSet on a hit against a plain get, on the main thread (100,000 keys, random order,
//    per-op CPU time, best of ROUNDS + 2, the rounds interleaved): `kv.get(k)`,
//    `kv.getOrSet(k, loader)` (a hit answers the value itself), `await kv.getOrSet(...)`, and
//    getOrSet with a staleTtl (which reads the entry's TTL as well).
//
// Environment: BENCH_N (entries for table 2, default 1e6), BENCH_OPS (per worker, default
// 2e6), BENCH_ROUNDS (default 3), BENCH_JSON (also write the three tables, with the machine and
// the run, to this file for docs/benchmarks.md's charts). A quick check: BENCH_N=100000 BENCH_OPS=200000 BENCH_ROUNDS=1.
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { LRUCache } from 'lru-cache'
import { value, shuffled } from './data.mjs'
import { runInfo, harnessCommand, installedVersion, writeReport } from './report/run-info.mjs'

const require = createRequire(import.meta.url)
const { TinyKV } = require('../index.js')
const self = fileURLToPath(import.meta.url)
const N = Number(process.env.BENCH_N ?? 1_000_000)
const OPS = Number(process.env.BENCH_OPS ?? 2_000_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const KEYS = 100_000
/**
 * Untimed operations each thread runs first, so every row measures a warm thread: a fresh
 * worker's isolate otherwise starts with cold code and a small young generation, which the main
 * thread (timed three times in one isolate) has long left behind.
 */
const WARMUP = Math.ceil(OPS / 4)

/** The get/set loop every thread runs: `ops` operations, 1 in 10 a set. */
function mixed(kv, seed, ops = OPS) {
  const keys = new Array(KEYS)
  for (let i = 0; i < KEYS; i++) keys[i] = 'key:' + i
  const v = value(seed)
  let x = seed * 2654435761 + 1
  let found = 0
  for (let i = 0; i < ops; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    const k = keys[x % KEYS]
    if (i % 10 === 0) kv.set(k, v)
    else if (kv.get(k) !== undefined) found++
  }
  return found
}

function fill(kv, n) {
  for (let i = 0; i < n; i++) kv.set('key:' + i, value(i))
}

/** This thread's CPU time in ms (Linux: utime + stime of /proc/thread-self/stat, 10 ms ticks). */
function threadCpuMs() {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) * 10
  } catch {
    return NaN
  }
}

// ---- worker side ----
async function worker() {
  const { job, id, barrier, own } = workerData
  if (job === 'mixed') {
    const kv = own ? new TinyKV() : new TinyKV({ name: 'bench' })
    if (own) fill(kv, KEYS)
    mixed(kv, id + 1, WARMUP)
    const b = new Int32Array(barrier)
    Atomics.add(b, 0, 1)
    Atomics.notify(b, 0)
    Atomics.wait(b, 1, 0) // until the main thread says go
    const start = performance.timeOrigin + performance.now()
    const cpu0 = threadCpuMs()
    const found = mixed(kv, id + 1)
    const cpu = threadCpuMs() - cpu0
    const end = performance.timeOrigin + performance.now()
    parentPort.postMessage({ start, end, found, cpu })
    kv.close()
    return
  }
  // Memory jobs: 'shared' (worker 0 fills the named store), 'lru', 'private'.
  let holder
  parentPort.once('message', () => {
    if (job === 'shared') {
      holder = new TinyKV({ name: 'mem' })
      if (id === 0) fill(holder, N)
    } else if (job === 'lru') {
      holder = new LRUCache({ max: N })
      fill(holder, N)
    } else {
      holder = new TinyKV({ maxEntries: N })
      fill(holder, N)
    }
    globalThis.gc?.()
    parentPort.postMessage({ loaded: holder.get('key:' + (N - 1)) === value(N - 1) })
  })
  parentPort.postMessage({ ready: true })
  // Stay alive holding the data until the parent terminates this worker.
  setInterval(() => holder, 1 << 30)
}

// ---- table 1 ----
async function throughput(threads, own = false) {
  const barrier = new SharedArrayBuffer(8)
  const b = new Int32Array(barrier)
  const ws = Array.from({ length: threads }, (_, id) => new Worker(self, { workerData: { job: 'mixed', id, barrier, own } }))
  const results = ws.map((w) => new Promise((r, j) => (w.once('message', r), w.once('error', j))))
  const exits = ws.map((w) => new Promise((r) => w.once('exit', r)))
  while (Atomics.load(b, 0) < threads) await new Promise((r) => setTimeout(r, 5))
  Atomics.store(b, 1, 1)
  Atomics.notify(b, 1)
  const rs = await Promise.all(results)
  await Promise.all(exits)
  const wall = Math.max(...rs.map((r) => r.end)) - Math.min(...rs.map((r) => r.start))
  const cpu = rs.reduce((a, r) => a + r.cpu, 0)
  return { ops: (threads * OPS) / (wall / 1000), cpuNs: (cpu * 1e6) / (threads * OPS) }
}

function mainThread(kv) {
  const t = performance.now()
  const c = threadCpuMs()
  mixed(kv, 1)
  const cpu = threadCpuMs() - c
  return { ops: OPS / ((performance.now() - t) / 1000), cpuNs: (cpu * 1e6) / OPS }
}

// ---- table 2 (runs in a child process per way) ----
async function memoryChild(job) {
  const ws = Array.from({ length: 4 }, (_, id) => new Worker(self, { workerData: { job, id } }))
  const next = (w) => new Promise((r, j) => (w.once('message', r), w.once('error', j)))
  await Promise.all(ws.map(next))
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      globalThis.gc()
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  await settle()
  const rss0 = process.memoryUsage().rss
  // Worker 0 first (for 'shared' it fills the store the others then open), then the rest.
  ws[0].postMessage('load')
  const first = await next(ws[0])
  const rest = await Promise.all(ws.slice(1).map((w) => (w.postMessage('load'), next(w))))
  if (![first, ...rest].every((m) => m.loaded)) throw new Error(`${job}: a worker does not see every entry`)
  await settle()
  const rss = process.memoryUsage().rss - rss0
  process.stdout.write(JSON.stringify({ rss }))
  await Promise.all(ws.map((w) => w.terminate()))
}

// ---- table 3 ----
function hitCosts() {
  const kv = new TinyKV()
  const keys = []
  for (let i = 0; i < KEYS; i++) keys.push('key:' + i)
  for (const k of keys) kv.set(k, value(1).slice(0, 32), { ttl: 3_600_000 })
  const order = shuffled(KEYS)
  const ks = Array.from(order, (i) => keys[i])
  const loader = () => 'never'
  const swr = { ttl: 3_600_000, staleTtl: 1000 }
  /** CPU ns per call of one pass of `fn`. */
  const cpu = (fn) => {
    const c = process.cpuUsage()
    const check = fn()
    const d = process.cpuUsage(c)
    if (check !== KEYS * 10) throw new Error('a hit missed')
    return ((d.user + d.system) * 1000) / (KEYS * 10)
  }
  // One loop literal per call, so that each call site sees one callee (a loop shared by the
  // rows would be polymorphic, and slow the rows unequally).
  const passes = {
    'get(k)': () => {
      let n = 0
      for (let r = 0; r < 10; r++) for (let i = 0; i < KEYS; i++) if (kv.get(ks[i]) !== undefined) n++
      return n
    },
    'getOrSet(k, loader)': () => {
      let n = 0
      for (let r = 0; r < 10; r++) for (let i = 0; i < KEYS; i++) if (kv.getOrSet(ks[i], loader) !== undefined) n++
      return n
    },
    'getOrSet(k, loader, { ttl })': () => {
      let n = 0
      for (let r = 0; r < 10; r++) for (let i = 0; i < KEYS; i++) if (kv.getOrSet(ks[i], loader, { ttl: 1000 }) !== undefined) n++
      return n
    },
    'getOrSet(k, loader, { ttl, staleTtl })': () => {
      let n = 0
      for (let r = 0; r < 10; r++) for (let i = 0; i < KEYS; i++) if (kv.getOrSet(ks[i], loader, swr) !== undefined) n++
      return n
    },
  }
  // Best of ROUNDS + 2, the rounds interleaved as in table 1.
  const rows = Object.fromEntries(Object.keys(passes).map((k) => [k, Infinity]))
  for (let r = 0; r < ROUNDS + 2; r++) {
    for (const [name, pass] of Object.entries(passes)) rows[name] = Math.min(rows[name] ?? Infinity, cpu(pass))
  }
  return rows
}

async function awaitedCosts() {
  const kv = new TinyKV()
  for (let i = 0; i < KEYS; i++) kv.set('key:' + i, 'v', { ttl: 3_600_000 })
  const ks = Array.from(shuffled(KEYS), (i) => 'key:' + i)
  const loader = () => 'never'
  /** CPU ns per call of one awaited pass of `f`. */
  const time = async (f) => {
    const c = process.cpuUsage()
    let n = 0
    for (let i = 0; i < KEYS; i++) if ((await f(ks[i])) !== undefined) n++
    const d = process.cpuUsage(c)
    if (n !== KEYS) throw new Error('a hit missed')
    return ((d.user + d.system) * 1000) / KEYS
  }
  const calls = {
    'await get(k)': (k) => kv.get(k),
    'await getOrSet(k, loader)': (k) => kv.getOrSet(k, loader),
  }
  // Best of ROUNDS + 2, interleaved.
  const rows = Object.fromEntries(Object.keys(calls).map((k) => [k, Infinity]))
  for (let r = 0; r < ROUNDS + 2; r++) {
    for (const [name, f] of Object.entries(calls)) rows[name] = Math.min(rows[name] ?? Infinity, await time(f))
  }
  return rows
}

function table(title, head, rows) {
  console.log(`\n${title}\n`)
  console.log(`| ${head.join(' | ')} |`)
  console.log(`|${head.map((h, i) => (i ? '---:' : '---')).join('|')}|`)
  for (const r of rows) console.log(`| ${r.join(' | ')} |`)
}

async function main() {
  const mode = process.argv[2]
  if (mode === '--memory') return memoryChild(process.argv[3])

  const jsonOut = process.env.BENCH_JSON
  const info = jsonOut ? runInfo(harnessCommand('benchmark/workers.mjs'), ['tinykv.linux-x64-gnu.node']) : null
  const os = await import('node:os')
  const cores = os.cpus().length
  const load = os.loadavg()[0].toFixed(2)
  console.log(`TinyKV workers bench: node ${process.version}, ${cores} cores, ${OPS.toLocaleString()} ops per thread, best of ${ROUNDS}`)

  // 1. throughput. Rounds are interleaved (each round runs every row once, in order), so a
  // host whose speed drifts during the run gives every row the same chances; best of ROUNDS.
  const kv = new TinyKV({ name: 'bench' })
  fill(kv, KEYS)
  mixed(kv, 1, WARMUP)
  const configs = [
    { name: 'main thread alone', threads: 1, shared: true, run: async () => mainThread(kv) },
    ...[1, 2, 4].map((t) => ({
      name: `${t} worker${t > 1 ? 's' : ''}, one shared store`,
      threads: t,
      shared: true,
      run: () => throughput(t),
    })),
    // For comparison, not sharing: what the store's shared counters and locks cost across cores.
    { name: '2 workers, a private store each', threads: 2, shared: false, run: () => throughput(2, true) },
  ]
  const bests = configs.map(() => ({ ops: 0, cpuNs: Infinity }))
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, c] of configs.entries()) {
      const x = await c.run()
      bests[i] = { ops: Math.max(bests[i].ops, x.ops), cpuNs: Math.min(bests[i].cpuNs, x.cpuNs) }
    }
  }
  const single = bests[0]
  const row = (name, t, x) => [
    name,
    (x.ops / 1e6).toFixed(2),
    `${(x.ops / single.ops).toFixed(2)}x`,
    x.cpuNs.toFixed(0),
    // With a free core per thread, throughput scales by threads x (one thread's CPU per op /
    // this run's CPU per op), capped by the cores there are.
    `${((Math.min(t, cores) * single.cpuNs) / x.cpuNs).toFixed(2)}x`,
  ]
  const rows = configs.map((c, i) => row(c.name, c.threads, bests[i]))
  const measured = configs.map((c, i) => ({ name: c.name, threads: c.threads, shared: c.shared, ...bests[i] }))
  table(
    `Throughput, 9 gets : 1 set on one shared store (load average at start: ${load})`,
    ['threads', 'M ops/s (wall)', 'vs one thread', 'CPU ns/op', 'vs one thread, by CPU time'],
    rows,
  )
  kv.close()

  // 2. memory
  const mem = {}
  for (const job of ['shared', 'lru', 'private']) {
    const out = spawnSync(process.execPath, ['--expose-gc', self, '--memory', job], { encoding: 'utf8', env: process.env })
    if (out.status !== 0) throw new Error(`${job}: ${out.stderr}`)
    mem[job] = JSON.parse(out.stdout).rss / 2 ** 20
  }
  table(`Memory: 4 workers holding the same ${N.toLocaleString()} entries (100-byte values), process RSS growth`, ['way', 'MiB', 'vs shared'], [
    ['one shared TinyKV store (named)', mem.shared.toFixed(0), '1.0x'],
    ['lru-cache per worker (4 copies)', mem.lru.toFixed(0), `${(mem.lru / mem.shared).toFixed(1)}x`],
    ['private TinyKV per worker (4 copies)', mem.private.toFixed(0), `${(mem.private / mem.shared).toFixed(1)}x`],
  ])

  // 3. getOrSet hit cost
  const hits = hitCosts()
  const awaited = await awaitedCosts()
  const base = hits['get(k)']
  const awaitedBase = awaited['await get(k)']
  table('getOrSet on a hit vs get (ns per call, CPU time, 100,000 keys in random order)', ['call', 'ns', 'vs get'], [
    ...Object.entries(hits).map(([k, ns]) => [k, ns.toFixed(1), `${(ns / base).toFixed(2)}x`]),
    ...Object.entries(awaited).map(([k, ns]) => [k, ns.toFixed(1), `${(ns / awaitedBase).toFixed(2)}x (vs await get)`]),
  ])

  if (jsonOut) {
    writeReport(jsonOut, {
      harness: 'workers',
      run: info,
      params: { n: N, opsPerThread: OPS, rounds: ROUNDS, keys: KEYS, lruCache: installedVersion('lru-cache') },
      results: {
        // ops: operations per second (wall); cpuNs: CPU time per operation.
        throughput: measured,
        // MiB of process RSS growth with 4 workers holding N entries.
        memoryMiB: { sharedStore: mem.shared, lruCachePerWorker: mem.lru, privateStorePerWorker: mem.private },
        // ns per call on a hit.
        hitNs: { ...hits, ...awaited },
      },
    })
  }
}

if (isMainThread) await main()
else await worker()
