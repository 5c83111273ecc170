// ioredis against a real `tinykv serve` (the cargo-built binary), over TCP and the Unix socket:
// set, get, incr, expire, scanStream, pipeline, and a clean SIGTERM shutdown.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import Redis from 'ioredis'

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..')

function tinykvBin() {
  if (process.env.TINYKV_BIN) return process.env.TINYKV_BIN
  const built = spawnSync('cargo', ['build', '--quiet', '--bin', 'tinykv'], { cwd: root, stdio: 'inherit' })
  assert.equal(built.status, 0, 'cargo build --bin tinykv failed')
  const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target')
  return join(targetDir, 'debug', 'tinykv')
}

let dir, daemon, sock, port

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tinykv-ioredis-'))
  sock = join(dir, 'tinykv.sock')
  daemon = spawn(tinykvBin(), ['serve', '--socket', sock, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  // Wait for both "listening" lines rather than sleeping.
  const lines = createInterface({ input: daemon.stdout })
  await new Promise((resolveUp, reject) => {
    daemon.once('exit', (code) => reject(new Error(`tinykv serve exited with ${code}`)))
    lines.on('line', (line) => {
      const m = line.match(/^tinykv listening on tcp:.*:(\d+)$/)
      if (m) {
        port = Number(m[1])
        resolveUp()
      }
    })
  })
})

after(async () => {
  if (daemon.exitCode === null) {
    const exited = new Promise((r) => daemon.once('exit', r))
    daemon.kill('SIGTERM')
    await exited
  }
  rmSync(dir, { recursive: true, force: true })
})

for (const transport of ['tcp', 'unix']) {
  const connect = () =>
    transport === 'tcp' ? new Redis({ port, host: '127.0.0.1', lazyConnect: true }) : new Redis({ path: sock, lazyConnect: true })

  test(`${transport}: set, get, incr, expire`, async () => {
    const r = connect()
    await r.connect()
    try {
      assert.equal(await r.set(`${transport}:k`, 'v1'), 'OK')
      assert.equal(await r.get(`${transport}:k`), 'v1')
      assert.equal(await r.get(`${transport}:missing`), null)
      assert.equal(await r.incr(`${transport}:n`), 1)
      assert.equal(await r.incrby(`${transport}:n`, 41), 42)
      assert.equal(await r.expire(`${transport}:k`, 100), 1)
      const ttl = await r.ttl(`${transport}:k`)
      assert.ok(ttl > 0 && ttl <= 100, `ttl ${ttl}`)
      assert.equal(await r.set(`${transport}:k`, 'v2', 'PX', 100000, 'NX'), null)
      await assert.rejects(r.incr(`${transport}:k`), /ERR value is not an integer or out of range/)
      assert.equal(await r.ping(), 'PONG', 'an error reply keeps the connection')
    } finally {
      r.disconnect()
    }
  })

  test(`${transport}: pipeline and scanStream`, async () => {
    const r = connect()
    await r.connect()
    try {
      const p = r.pipeline()
      for (let i = 0; i < 500; i++) p.set(`${transport}:scan:${i}`, String(i))
      p.incr(`${transport}:pipe`)
      p.get(`${transport}:scan:7`)
      const results = await p.exec()
      assert.equal(results.length, 502)
      assert.ok(results.every(([err]) => err === null))
      assert.deepEqual(results.slice(-2).map(([, v]) => v), [1, '7'])
      const seen = new Set()
      const stream = r.scanStream({ match: `${transport}:scan:*`, count: 50 })
      for await (const keys of stream) for (const k of keys) seen.add(k)
      assert.equal(seen.size, 500)
      const values = await r.mget(`${transport}:scan:1`, `${transport}:scan:499`, `${transport}:nope`)
      assert.deepEqual(values, ['1', '499', null])
    } finally {
      r.disconnect()
    }
  })
}

test('SIGTERM shuts down cleanly and removes the socket', async () => {
  const exited = new Promise((r) => daemon.once('exit', (code) => r(code)))
  daemon.kill('SIGTERM')
  assert.equal(await exited, 0)
  assert.equal(existsSync(sock), false)
})
