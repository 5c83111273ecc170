// examples/nestjs, as its README runs it: `npm run build` (tsc, decorators and all), its e2e
// test (Nest's testing module and supertest) once in-process and once with TINYKV_URL on a
// daemon started here, and `npm start` serving a cached page until SIGTERM.
// The example's own dependencies come from its lock (CI: `npm ci --prefix examples/nestjs`).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { open } from 'tinykv'
import { freePort, startDaemon } from './helpers/servers.mjs'

const app = resolve(import.meta.dirname, '..', 'examples', 'nestjs')
let daemon

before(async () => {
  assert.ok(existsSync(join(app, 'node_modules', '@nestjs', 'core')), 'examples/nestjs has its dependencies: npm ci --prefix examples/nestjs')
  const built = spawnSync('npm', ['run', 'build'], { cwd: app, encoding: 'utf8' })
  assert.equal(built.status, 0, `${built.stdout}${built.stderr}`)
  daemon = await startDaemon()
})
after(() => daemon?.stop())

/** The example's e2e test with `env`; resolves to its TAP counts. */
function e2e(env) {
  // NODE_TEST_CONTEXT would make the child report to this runner instead of printing TAP.
  const { NODE_TEST_CONTEXT, ...parent } = process.env
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', 'dist/test/'], {
    cwd: app,
    encoding: 'utf8',
    env: { ...parent, TINYKV_URL: '', ...env },
  })
  const count = (name) => Number(r.stdout.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1])
  return { status: r.status, out: `${r.stdout}${r.stderr}`, tests: count('tests'), pass: count('pass'), fail: count('fail') }
}

for (const [label, env] of [
  ['in-process (no TINYKV_URL)', () => ({})],
  ['on the daemon (TINYKV_URL=unix://...)', () => ({ TINYKV_URL: `unix://${daemon.sock}` })],
]) {
  test(`examples/nestjs e2e passes ${label}`, (t) => {
    const r = e2e(env())
    assert.equal(r.status, 0, r.out.slice(-4000))
    assert.equal(r.fail, 0)
    assert.ok(r.tests > 0 && r.pass === r.tests, r.out.slice(-2000))
    t.diagnostic(`${r.pass}/${r.tests} e2e tests passed`)
  })
}

test('examples/nestjs e2e left its cache in the daemon namespace it names', async () => {
  const kv = await open({ url: `unix://${daemon.sock}`, namespace: 'http-cache' })
  try {
    // The price has a 60 s TTL in the e2e run; the pages' 1 s TTL has likely passed.
    assert.equal(JSON.parse(await kv.get('price:1')).value.cents, 899, "the service's wrap wrote the changed price there")
  } finally {
    await kv.close()
  }
})

test('npm start serves a page from the cache on the daemon, and SIGTERM stops it', async () => {
  const port = await freePort()
  const proc = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: app,
    env: { ...process.env, PORT: String(port), TINYKV_URL: `unix://${daemon.sock}`, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise((done) => proc.once('exit', (code, signal) => done({ code, signal })))
  try {
    await new Promise((up, fail) => {
      proc.once('exit', () => fail(new Error('the app exited before listening')))
      createInterface({ input: proc.stdout }).on('line', (line) => line.startsWith('listening on') && up())
    })
    const get = () => fetch(`http://127.0.0.1:${port}/products/42`).then((r) => r.json())
    const first = await get()
    assert.equal(first.id, '42')
    assert.deepEqual(await get(), first, 'the second answer is the cached one')
  } finally {
    proc.kill('SIGTERM')
  }
  // Nest's shutdown hooks close the app (and the cache's store), then re-raise the signal.
  assert.deepEqual(await exited, { code: null, signal: 'SIGTERM' })
})
