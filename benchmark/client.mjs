// `npm run bench:client`: the SDK's client against ioredis and node-redis, on one `tinykv serve`
// started here, over its Unix socket and TCP, in one run; then the in-process open() against the
// sync TinyKV class.
//
// Rows: GET and SET of 100-byte values (keys "key:N" over BENCH_KEYS keys, all loaded first),
// 1) one awaited command at a time (BENCH_SEQ commands), 2) 100 in flight (BENCH_WIN workers,
// each awaiting its own commands one after another, BENCH_PAR commands in all). Contenders:
// - TinyKVClient (the SDK: ioredis with auto-pipelining, DEFAULT_POOL connections; and pools of
//   2 and 4 on the 100-in-flight rows, which is how DEFAULT_POOL was chosen),
// - ioredis as a user gets it (`new Redis()`, defaults: no auto-pipelining),
// - node-redis (`redis`'s createClient, defaults; it batches a tick's commands into one write).
// Each cell is the best of BENCH_ROUNDS runs (median beside it), contenders interleaved round by
// round so drifting background load hits them alike. The daemon is pinned to CPU 0 and this
// process to CPU 1 when taskset exists (BENCH_PIN=0 turns that off).
//
// The in-process part times `await kv.get/set` through open() (no url) against the class's
// `kv.get/set` on the same key set, in ns per call (best of rounds).
//
// Environment: BENCH_SEQ, BENCH_PAR, BENCH_WIN, BENCH_KEYS, BENCH_ROUNDS, BENCH_LOCAL (calls per
// in-process run), BENCH_PIN, TINYKV_BIN (the daemon binary; built with cargo when unset), and
// BENCH_JSON (also write both tables, with the machine and the run, to this file for
// docs/benchmarks.md's charts).
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir, cpus } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import Redis from 'ioredis'
import { createClient } from 'redis'
import { TinyKV, TinyKVClient, DEFAULT_POOL, open } from 'tinykv'
import { runInfo, harnessCommand, installedVersion, writeReport } from './report/run-info.mjs'

const root = resolve(import.meta.dirname, '..')
const SEQ = Number(process.env.BENCH_SEQ ?? 20_000)
const PAR = Number(process.env.BENCH_PAR ?? 200_000)
const WIN = Number(process.env.BENCH_WIN ?? 100)
const KEYS = Number(process.env.BENCH_KEYS ?? 10_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const LOCAL_N = Number(process.env.BENCH_LOCAL ?? 1_000_000)
const pin = process.env.BENCH_PIN !== '0' && cpus().length >= 2 && spawnSync('taskset', ['-V']).status === 0
const value = 'v'.repeat(100)
const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}`)

function tinykvBin() {
  if (process.env.TINYKV_BIN) return process.env.TINYKV_BIN
  const built = spawnSync('cargo', ['build', '--release', '--quiet', '--bin', 'tinykv'], { cwd: root, stdio: 'inherit' })
  if (built.status !== 0) throw new Error('cargo build --release --bin tinykv failed')
  return join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'release', 'tinykv')
}

async function startDaemon(dir) {
  const sock = join(dir, 'tinykv.sock')
  const args = ['serve', '--socket', sock, '--port', '0']
  const proc = pin ? spawn('taskset', ['-c', '0', tinykvBin(), ...args], { stdio: ['ignore', 'pipe', 'ignore'] }) : spawn(tinykvBin(), args, { stdio: ['ignore', 'pipe', 'ignore'] })
  const port = await new Promise((ok, fail) => {
    proc.once('exit', (code) => fail(new Error(`tinykv serve exited with ${code}`)))
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = line.match(/^tinykv listening on tcp:.*:(\d+)$/)
      if (m) ok(Number(m[1]))
    })
  })
  return { proc, sock, port }
}

/** The contenders, each as { name, connect(where) -> { get, set, close } }. */
const contenders = [
  {
    name: `TinyKVClient (pool ${DEFAULT_POOL})`,
    connect: async (url) => wrapAsync(await TinyKVClient.connect({ url })),
  },
  {
    name: 'ioredis (defaults)',
    connect: async (url, where) => {
      const r = new Redis({ ...where, lazyConnect: true })
      await r.connect()
      return { get: (k) => r.get(k), set: (k, v) => r.set(k, v), close: () => r.quit() }
    },
  },
  {
    name: 'node-redis (defaults)',
    connect: async (url, where) => {
      const c = createClient({ socket: where.path ? { path: where.path } : { host: where.host, port: where.port } })
      c.on('error', () => {})
      await c.connect()
      return { get: (k) => c.get(k), set: (k, v) => c.set(k, v), close: () => c.close?.() ?? c.quit() }
    },
  },
]
const pools = [2, 4].filter((n) => n !== DEFAULT_POOL)
const poolContenders = pools.map((n) => ({ name: `TinyKVClient (pool ${n})`, parOnly: true, connect: async (url) => wrapAsync(await TinyKVClient.connect({ url, pool: n })) }))

function wrapAsync(kv) {
  return { get: (k) => kv.get(k), set: (k, v) => kv.set(k, v), close: () => kv.close() }
}

async function sequential(c, op, n) {
  const t = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const k = keys[i % KEYS]
    if (op === 'GET') await c.get(k)
    else await c.set(k, value)
  }
  return Number(process.hrtime.bigint() - t)
}

async function windowed(c, op, n, width) {
  let next = 0
  const worker = async () => {
    while (next < n) {
      const k = keys[next++ % KEYS]
      if (op === 'GET') await c.get(k)
      else await c.set(k, value)
    }
  }
  const t = process.hrtime.bigint()
  await Promise.all(Array.from({ length: width }, worker))
  return Number(process.hrtime.bigint() - t)
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (n) => Math.round(n).toLocaleString('en-US')

async function main() {
  const jsonOut = process.env.BENCH_JSON
  const info = jsonOut ? runInfo(harnessCommand('benchmark/client.mjs'), [tinykvBin()]) : null
  if (pin) spawnSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' })
  const dir = mkdtempSync(join(tmpdir(), 'tinykv-bench-client-'))
  const daemon = await startDaemon(dir)
  const rows = []
  try {
    const transports = [
      { name: 'Unix', url: `unix://${daemon.sock}`, where: { path: daemon.sock } },
      { name: 'TCP', url: `redis://127.0.0.1:${daemon.port}`, where: { host: '127.0.0.1', port: daemon.port } },
    ]
    const loader = await TinyKVClient.connect({ url: transports[0].url })
    await loader.mset(keys.map((k) => [k, value]))
    await loader.close()
    for (const t of transports) {
      const conns = []
      for (const c of [...contenders, ...poolContenders]) conns.push({ c, conn: await c.connect(t.url, t.where) })
      for (const op of ['GET', 'SET']) {
        for (const [mode, n] of [['1 awaited', SEQ], [`${WIN} in flight`, PAR]]) {
          const times = new Map(conns.map(({ c }) => [c.name, []]))
          for (let r = 0; r < ROUNDS; r++) {
            for (const { c, conn } of conns) {
              if (c.parOnly && mode === '1 awaited') continue
              const ns = mode === '1 awaited' ? await sequential(conn, op, n) : await windowed(conn, op, n, WIN)
              times.get(c.name).push((n / ns) * 1e9)
            }
          }
          for (const [name, rps] of times) if (rps.length) rows.push({ transport: t.name, op, mode, name, best: Math.max(...rps), median: median(rps) })
        }
      }
      for (const { conn } of conns) await conn.close()
    }
    printClientTable(rows)
  } finally {
    daemon.proc.kill('SIGTERM')
    await new Promise((r) => (daemon.proc.exitCode !== null ? r() : daemon.proc.once('exit', r)))
    rmSync(dir, { recursive: true, force: true })
  }
  const local = await inProcess()
  if (jsonOut) {
    writeReport(jsonOut, {
      harness: 'client',
      run: info,
      params: { seq: SEQ, par: PAR, window: WIN, keys: KEYS, rounds: ROUNDS, localCalls: LOCAL_N, pinned: pin, defaultPool: DEFAULT_POOL, ioredis: installedVersion('ioredis'), redis: installedVersion('redis') },
      // rows: requests/s per transport, op, mode and contender (best and median of the rounds);
      // inProcess: ns per call, best of the rounds.
      results: { rows, inProcess: local },
    })
  }
}

function printClientTable(rows) {
  console.log(`\nClient against one tinykv serve (${pin ? 'daemon on CPU 0, client on CPU 1' : 'unpinned'}); requests/s, best of ${ROUNDS} (median)`)
  console.log(`GET/SET of 100-byte values over ${KEYS} keys; ${SEQ} commands one awaited at a time, ${PAR} with ${WIN} in flight\n`)
  const ours = contenders[0].name
  console.log('| transport | op | mode | TinyKVClient | ioredis | node-redis | vs faster of the two | vs ioredis | pool 2 | pool 4 |')
  console.log('|---|---|---|--:|--:|--:|--:|--:|--:|--:|')
  const groups = new Map()
  for (const r of rows) {
    const id = `${r.transport}|${r.op}|${r.mode}`
    if (!groups.has(id)) groups.set(id, new Map())
    groups.get(id).set(r.name, r)
  }
  for (const [id, g] of groups) {
    const [transport, op, mode] = id.split('|')
    const cell = (name) => (g.get(name) ? `${fmt(g.get(name).best)} (${fmt(g.get(name).median)})` : '-')
    const us = g.get(ours).best
    const io = g.get('ioredis (defaults)').best
    const nr = g.get('node-redis (defaults)').best
    const poolCell = (n) => (n === DEFAULT_POOL ? 'default' : cell(`TinyKVClient (pool ${n})`))
    console.log(`| ${transport} | ${op} | ${mode} | ${cell(ours)} | ${cell('ioredis (defaults)')} | ${cell('node-redis (defaults)')} | ${(us / Math.max(io, nr)).toFixed(2)}x | ${(us / io).toFixed(2)}x | ${poolCell(2)} | ${poolCell(4)} |`)
  }
}

async function inProcess() {
  const sync = new TinyKV()
  const akv = await open()
  const lkeys = Array.from({ length: 100_000 }, (_, i) => `key:${i}`)
  for (const k of lkeys) {
    sync.set(k, value)
    await akv.set(k, value)
  }
  const best = { 'sync get': Infinity, 'sync set': Infinity, 'open() get': Infinity, 'open() set': Infinity }
  let sink = 0
  for (let r = 0; r < ROUNDS; r++) {
    let t = process.hrtime.bigint()
    for (let i = 0; i < LOCAL_N; i++) sink += sync.get(lkeys[i % lkeys.length]).length
    best['sync get'] = Math.min(best['sync get'], Number(process.hrtime.bigint() - t) / LOCAL_N)
    t = process.hrtime.bigint()
    for (let i = 0; i < LOCAL_N; i++) sink += (await akv.get(lkeys[i % lkeys.length])).length
    best['open() get'] = Math.min(best['open() get'], Number(process.hrtime.bigint() - t) / LOCAL_N)
    t = process.hrtime.bigint()
    for (let i = 0; i < LOCAL_N; i++) sync.set(lkeys[i % lkeys.length], value)
    best['sync set'] = Math.min(best['sync set'], Number(process.hrtime.bigint() - t) / LOCAL_N)
    t = process.hrtime.bigint()
    for (let i = 0; i < LOCAL_N; i++) await akv.set(lkeys[i % lkeys.length], value)
    best['open() set'] = Math.min(best['open() set'], Number(process.hrtime.bigint() - t) / LOCAL_N)
  }
  console.log(`\nIn-process: ns per call, best of ${ROUNDS} runs of ${LOCAL_N} calls over 100k keys, 100-byte values (checksum ${sink % 997})\n`)
  console.log('| op | TinyKV class (sync) | open() (await each) | added by the Promise |')
  console.log('|---|--:|--:|--:|')
  for (const op of ['get', 'set']) {
    const s = best[`sync ${op}`]
    const a = best[`open() ${op}`]
    console.log(`| ${op} | ${s.toFixed(0)} | ${a.toFixed(0)} | ${(a - s).toFixed(0)} |`)
  }
  sync.close()
  await akv.close()
  return best
}

await main()
