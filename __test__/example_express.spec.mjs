// examples/express as its users run it: built by its own TypeScript (strict, library types
// checked) from its own installed dependencies, its own supertest suite run in-process and
// against a real `tinykv serve` (TINYKV_URL the only change), and `npm start`'s server run as
// separate processes: two on one daemon share sessions and cached pages, two in-process do not.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { open } from 'tinykv'
import { startDaemon } from './helpers/servers.mjs'

const dir = resolve(import.meta.dirname, '..', 'examples', 'express')

/** The environment without TINYKV_URL (nor node:test's marker for a child of a test), plus `extra`. */
function env(extra = {}) {
  const { TINYKV_URL: _, NODE_TEST_CONTEXT: __, ...rest } = process.env
  return { ...rest, NO_COLOR: '1', ...extra }
}

/** The example's own `node --test dist/test/`; its counts from the TAP summary. */
function runExampleTests(extra) {
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', 'dist/test/'], { cwd: dir, env: env(extra), encoding: 'utf8' })
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(r.stdout)?.[1])
  return { status: r.status, out: r.stdout + r.stderr, tests: count('tests'), pass: count('pass'), fail: count('fail') }
}

/** `npm start`'s command (node dist/src/server.js) on a free port; resolves once it listens. */
async function startServer(extra = {}) {
  const proc = spawn(process.execPath, ['dist/src/server.js'], { cwd: dir, env: env({ PORT: '0', ...extra }), stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  proc.stderr.on('data', (b) => (stderr += b))
  const line = await new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`the example exited with ${code}: ${stderr}`)))
    createInterface({ input: proc.stdout }).on('line', (l) => l.startsWith('listening on ') && resolve(l))
  })
  const port = Number(/^listening on http:\/\/127\.0\.0\.1:(\d+) /.exec(line)?.[1])
  assert.ok(port > 0, line)
  const stop = () => {
    if (proc.exitCode !== null) return Promise.resolve(proc.exitCode)
    const exited = new Promise((r) => proc.once('exit', (code) => r(code)))
    proc.kill('SIGTERM')
    return exited
  }
  return { line, base: `http://127.0.0.1:${port}`, stop }
}

/** POST /login as `username`; the session cookie to send back. */
async function login(base, username) {
  const res = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username }) })
  assert.equal(res.status, 200)
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('sid='))
  assert.ok(cookie, 'a session cookie')
  return cookie.split(';')[0]
}

const me = (base, cookie) => fetch(`${base}/me`, { headers: { cookie } })

/** promtool's verdict on a /metrics body ('' when it has nothing to say). */
function promtool(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  if (r.error?.code === 'ENOENT') assert.fail('promtool is not installed: install it (Debian: apt-get install prometheus) to run this test')
  assert.equal(r.status, 0, `promtool check metrics failed:\n${r.stdout}${r.stderr}\non:\n${text}`)
  return (r.stdout + r.stderr).trim()
}

before(() => {
  assert.ok(existsSync(join(dir, 'node_modules', 'typescript')), 'the example has its own dependencies: npm ci --prefix examples/express')
  const tsc = spawnSync(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' })
  assert.equal(tsc.stdout + tsc.stderr, '', 'the example compiles under strict TypeScript, library types included')
  assert.equal(tsc.status, 0)
})

test("the example's own tests pass on the in-process store", (t) => {
  const r = runExampleTests({})
  t.diagnostic(`the example's tests, in-process: ${r.pass} of ${r.tests} passed`)
  assert.equal(r.status, 0, r.out)
  assert.ok(r.tests > 0, r.out)
  assert.equal(r.pass, r.tests, r.out)
  assert.equal(r.fail, 0)
})

describe('the example on a daemon', () => {
  let daemon, url, kv
  before(async () => {
    daemon = await startDaemon()
    url = `unix://${daemon.sock}`
    kv = await open({ url })
  })
  after(async () => {
    await kv?.close()
    await daemon?.stop()
  })

  test("the example's own tests pass with TINYKV_URL naming the daemon, and their data is there", async (t) => {
    const inProcess = runExampleTests({})
    const r = runExampleTests({ TINYKV_URL: url })
    t.diagnostic(`the example's tests, on the daemon: ${r.pass} of ${r.tests} passed`)
    assert.equal(r.status, 0, r.out)
    assert.ok(r.tests > 0, r.out)
    assert.equal(r.tests, inProcess.tests, 'the same tests')
    assert.equal(r.pass, r.tests, r.out)
    assert.ok((await kv.namespace('http-cache').size()) > 0, 'the pages they cached are in the daemon')
  })

  test('two server processes on one daemon share sessions and cached pages', async () => {
    const a = await startServer({ TINYKV_URL: url })
    const b = await startServer({ TINYKV_URL: url })
    try {
      assert.match(a.line, /with tinykv at unix:\/\//)
      const cookie = await login(a.base, 'ada')
      const found = await me(b.base, cookie)
      assert.equal(found.status, 200, 'process B finds the session process A made')
      assert.equal((await found.json()).user, 'ada')

      const first = await fetch(`${a.base}/products/9`)
      assert.equal(first.headers.get('x-cache'), 'MISS')
      const second = await fetch(`${b.base}/products/9`)
      assert.equal(second.headers.get('x-cache'), 'HIT', "B serves the page A cached")
      assert.equal(await second.text(), await first.text())

      const metrics = await fetch(`${b.base}/metrics`)
      assert.equal(metrics.status, 200)
      const text = await metrics.text()
      assert.equal(promtool(text), '', 'promtool has nothing to warn about')
      const stats = await kv.stats()
      const value = (series) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1])
      assert.equal(value('tinykv_keyspace_hits_total'), stats.hits, "the daemon's own counters")
      assert.equal(value('tinykv_namespace_keys{namespace="sessions"}'), 1)
      assert.doesNotMatch(text, /tinykv_table_memory_bytes/, 'not reported by the daemon, so not made up')

      const out = await fetch(`${b.base}/logout`, { method: 'POST', headers: { cookie } })
      assert.equal(out.status, 200)
      assert.equal((await me(a.base, cookie)).status, 401, 'logout in B ended the session for A')
    } finally {
      assert.equal(await a.stop(), 0, 'SIGTERM: a clean exit')
      assert.equal(await b.stop(), 0)
    }
  })
})

test('without TINYKV_URL each server process has its own in-process store', async () => {
  const a = await startServer()
  const b = await startServer()
  try {
    assert.match(a.line, /with an in-process store/)
    const cookie = await login(a.base, 'ada')
    assert.equal((await me(a.base, cookie)).status, 200)
    assert.equal((await me(b.base, cookie)).status, 401, 'B has a store of its own')
    await fetch(`${a.base}/products/2`)
    assert.equal((await fetch(`${a.base}/products/2`)).headers.get('x-cache'), 'HIT')
    const text = await (await fetch(`${a.base}/metrics`)).text()
    assert.equal(promtool(text), '')
    assert.match(text, /^tinykv_namespace_keys\{namespace="sessions"\} 1$/m)
    assert.match(text, /^tinykv_keyspace_hits_total 2$/m, "the session read on /me and the page's HIT")
    assert.match(text, /^tinykv_table_memory_bytes \d+$/m, "the class's own exposition")
  } finally {
    assert.equal(await a.stop(), 0)
    assert.equal(await b.stop(), 0)
  }
})
