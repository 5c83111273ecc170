// The cutover of docs/migrating.md, run against real servers while an app-like writer keeps
// writing: (1) dual-write through the SDK (writes to the TinyKV daemon and to redis-server,
// reads from TinyKV), (2) `tinykv migrate --on-conflict skip` backfills, (3) `--verify all`,
// (4) reads switch to Redis by changing the URL, and the target ends equal to the source.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { open, dualWrite } from 'tinykv'
import { startDaemon, startRedis, tinykvBin } from './helpers/servers.mjs'

let daemon, redis, dir
before(async () => {
  daemon = await startDaemon()
  redis = await startRedis()
  dir = mkdtempSync(join(tmpdir(), 'tinykv-cutover-'))
})
after(async () => {
  await daemon.stop()
  await redis.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Runs `tinykv migrate ARGS` from the daemon to Redis; resolves with its exit code and report. */
function migrate(...args) {
  // (Expiries a dual-writing app set land a few ms apart: the default --ttl-tolerance allows it.)
  const report = join(dir, `report-${Math.random().toString(36).slice(2)}.json`)
  const child = spawn(
    tinykvBin(),
    ['migrate', '-s', daemon.sock, '--to', `redis://127.0.0.1:${redis.port}`, '--report', report, ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise((done) => child.on('exit', (code) => done({ code, stderr, report: code === 2 ? null : JSON.parse(readFileSync(report, 'utf8')) })))
}

/**
 * Every key of a store (one namespace), with value and whether it has a TTL. On Redis the
 * default namespace is the whole database, other namespaces' prefixed keys included: `skip`
 * names that prefix.
 */
async function dump(kv, skip) {
  const out = new Map()
  for (const k of (await kv.keys()).sort()) {
    if (skip && k.startsWith(skip)) continue
    out.set(k, { value: await kv.get(k), ttl: (await kv.ttl(k)) > 0 })
  }
  return out
}

test('a cutover under a live writer ends with Redis equal to TinyKV', async () => {
  const tinykv = await open({ url: `unix://${daemon.sock}` })
  const target = await open({ url: `redis://127.0.0.1:${redis.port}` })
  // Before the cutover: the app's data lives in TinyKV alone.
  const sessions = tinykv.namespace('sessions')
  for (let i = 0; i < 2000; i++) {
    await tinykv.set(`page:${i}`, `old-${i}`, i % 4 === 0 ? { ttl: 600_000 } : undefined)
    await sessions.set(`s${i}`, JSON.stringify({ user: i }), { ttl: 600_000 })
  }

  // (1) The app now writes to both and reads from TinyKV.
  const app = dualWrite(tinykv, target)
  let writes = 0
  let stop = false
  const writer = (async () => {
    // Bounded: a few thousand overwrites and new keys while the backfill runs.
    for (let round = 0; round < 20_000 && !stop; round++) {
      const i = Math.floor(Math.random() * 3000)
      await app.set(`page:${i}`, `new-${round}`, round % 3 === 0 ? { ttl: 600_000 } : undefined)
      await app.namespace('sessions').set(`s${i}`, JSON.stringify({ user: i, round }), { ttl: 600_000 })
      writes++
      if (round % 50 === 0) await new Promise((r) => setImmediate(r))
    }
  })()

  // (2) Backfill without overwriting what the app dual-wrote meanwhile.
  const backfill = await migrate('--on-conflict', 'skip', '--batch-size', '100')
  assert.equal(backfill.code, 0, backfill.stderr)
  assert.ok(backfill.report.total.written > 0)
  stop = true
  await writer
  assert.ok(writes > 0, 'the writer ran during the backfill')

  // (3) Verify: everything the source holds, the target holds alike.
  const verify = await migrate('--on-conflict', 'skip', '--verify', 'all')
  assert.equal(verify.code, 0, verify.stderr)
  assert.equal(verify.report.verify.mismatched, 0, JSON.stringify(verify.report.verify.examples))
  assert.equal(verify.report.verify.checked, await tinykv.size() + (await sessions.size()))

  // (4) Reads switch to Redis by changing the URL: the same code sees the same data.
  const switched = await open({ url: `redis://127.0.0.1:${redis.port}` })
  assert.deepEqual(await dump(switched, 'sessions:'), await dump(tinykv))
  assert.deepEqual(await dump(switched.namespace('sessions')), await dump(sessions))
  const last = await tinykv.get('page:7')
  assert.equal(await switched.get('page:7'), last)

  await Promise.all([switched.close(), app.close()])
})

test('dual-write: the secondary gets every write, reads come from the primary', async () => {
  const a = await open()
  const b = await open()
  const kv = dualWrite(a, b)
  await kv.set('x', '1', { ttl: 60_000 })
  await kv.incr('n', 5)
  await kv.mset({ p: 'q', r: 's' })
  assert.equal(await b.get('x'), '1')
  assert.ok((await b.ttl('x')) > 59_000)
  assert.equal(await b.get('n'), '5')
  assert.deepEqual(await b.mget(['p', 'r']), ['q', 's'])
  await b.set('only-b', 'y')
  assert.equal(await kv.get('only-b'), undefined, 'reads come from the primary')
  assert.equal(await kv.delete('x'), true)
  assert.equal(await b.has('x'), false)
  assert.equal(await kv.getOrSet('loaded', async () => 'v', { ttl: 1000 }), 'v')
  assert.equal(await b.get('loaded'), 'v')
  await kv.namespace('t').set('k', 'v')
  assert.equal(await b.namespace('t').get('k'), 'v')
  // A write the secondary refuses rejects; the primary has it.
  await b.set('str', 'text')
  await assert.rejects(kv.incr('str'), /not an integer/)
  assert.equal(await a.get('str'), '1')
  await kv.close()
})
