// examples/nextjs under the real framework: `next build` once, then `next start` on free
// loopback ports. In-process (no TINYKV_URL): the ISR page is served from the cache (same render
// time twice), the 'use cache' function's value is shared by the page and a route, and a route
// that runs revalidateTag makes the next request render afresh. On the daemon (TINYKV_URL): two
// `next start` processes share one cache, and a revalidation in one is seen by the other.
//
// The build is reused while its inputs are unchanged (the example's sources and lock, and the
// package's compiled code): a stamp of their hashes sits beside .next/BUILD_ID. The handlers read
// TINYKV_URL at `next start`, so one build serves both cases.
import { test, before, after, describe } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { freePort, startDaemon } from './helpers/servers.mjs'

const root = resolve(import.meta.dirname, '..')
const app = join(root, 'examples', 'nextjs')
const nextBin = join(app, 'node_modules', 'next', 'dist', 'bin', 'next')
const stampFile = join(app, '.next', 'tinykv-test-inputs')

/** Every file under `dir` (skipping node_modules and .next), sorted. */
function files(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.name !== 'node_modules' && e.name !== '.next' && e.name !== 'next-env.d.ts' && !e.name.endsWith('.tsbuildinfo'))
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))
    .sort()
}

/** A hash of everything the build's output depends on. */
function inputsHash() {
  const h = createHash('sha256')
  const inputs = [...files(app), ...files(join(root, 'dist')), ...files(join(root, 'lib')), join(root, 'index.js'), join(root, 'package.json')]
  for (const f of inputs) h.update(f).update(readFileSync(f))
  return h.digest('hex')
}

function nextEnv(extra = {}) {
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production', ...extra }
  if (!('TINYKV_URL' in extra)) delete env.TINYKV_URL
  return env
}

function build() {
  assert.ok(existsSync(nextBin), `examples/nextjs has no node_modules: run npm ci --prefix examples/nextjs (scripts/test.sh does)`)
  const hash = inputsHash()
  if (existsSync(join(app, '.next', 'BUILD_ID')) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === hash) return 'reused'
  const r = spawnSync(process.execPath, [nextBin, 'build'], { cwd: app, env: nextEnv(), encoding: 'utf8' })
  assert.equal(r.status, 0, `next build failed:\n${r.stdout}\n${r.stderr}`)
  writeFileSync(stampFile, hash)
  return 'built'
}

/** `next start` on a free loopback port; resolves once it answers. */
async function start(env = {}) {
  const port = await freePort()
  const proc = spawn(process.execPath, [nextBin, 'start', '-H', '127.0.0.1', '-p', String(port)], { cwd: app, env: nextEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  proc.stderr.on('data', (d) => (output += d))
  const lines = createInterface({ input: proc.stdout })
  await new Promise((ready, fail) => {
    proc.once('exit', (code) => fail(new Error(`next start exited with ${code}:\n${output}`)))
    lines.on('line', (line) => {
      output += `${line}\n`
      if (/Ready in/.test(line)) ready()
    })
  })
  const server = {
    base: `http://127.0.0.1:${port}`,
    proc,
    output: () => output,
    stop: () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve()
      const exited = new Promise((r) => proc.once('exit', r))
      proc.kill('SIGTERM')
      return exited
    },
  }
  return server
}

/** The home page's render time and forecast, read from its HTML. */
async function home(server) {
  const res = await fetch(`${server.base}/`)
  assert.equal(res.status, 200)
  const html = await res.text()
  const renderedAt = html.match(/id="rendered-at">([^<]+)</)?.[1]
  const forecast = html.match(/id="forecast-id">([^<]+)</)?.[1]
  assert.ok(renderedAt && forecast, html.slice(0, 500))
  return { renderedAt, forecast }
}

async function forecastRoute(server) {
  const res = await fetch(`${server.base}/api/forecast`)
  assert.equal(res.status, 200)
  return (await res.json()).forecast.id
}

async function revalidate(server) {
  const res = await fetch(`${server.base}/api/revalidate`, { method: 'POST' })
  assert.equal(res.status, 200)
  assert.equal((await res.json()).revalidated, 'forecast')
}

const servers = []
let daemon
before(() => {
  const how = build()
  console.log(`# examples/nextjs: ${how}`)
})
after(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  await daemon?.stop()
})

describe('examples/nextjs, in-process (no TINYKV_URL)', { timeout: 120_000 }, () => {
  test('the ISR page is served from the cache, and revalidateTag brings a new render', async () => {
    const s = await start()
    servers.push(s)
    const first = await home(s)
    const second = await home(s)
    assert.deepEqual(second, first, 'the second request is the cached render')
    assert.equal(await forecastRoute(s), first.forecast, "the route's 'use cache' call hits the entry the page made")

    await revalidate(s)
    const after = await home(s)
    assert.notEqual(after.renderedAt, first.renderedAt, 'a new render after revalidateTag')
    assert.notEqual(after.forecast, first.forecast, "the 'use cache' entry was expired too")
    assert.deepEqual(await home(s), after, 'and the new render is cached in turn')
    assert.equal(await forecastRoute(s), after.forecast)
    await s.stop()
  })
})

describe('examples/nextjs on the daemon (TINYKV_URL), two next start processes', { timeout: 120_000 }, () => {
  test('they share one cache, and a revalidation in one is seen by the other', async () => {
    daemon = await startDaemon()
    const env = { TINYKV_URL: `unix://${daemon.sock}` }
    const [a, b] = await Promise.all([start(env), start(env)])
    servers.push(a, b)

    const fromA = await home(a)
    assert.deepEqual(await home(b), fromA, 'B serves the render A cached')
    assert.equal(await forecastRoute(b), fromA.forecast, "B's 'use cache' call hits A's entry")

    await revalidate(a)
    const fromB = await home(b)
    assert.notEqual(fromB.renderedAt, fromA.renderedAt, "B renders afresh after A's revalidateTag")
    assert.notEqual(fromB.forecast, fromA.forecast)
    assert.deepEqual(await home(a), fromB, "and A serves B's new render")
    assert.equal(await forecastRoute(a), fromB.forecast)

    await revalidate(b)
    const again = await home(a)
    assert.notEqual(again.renderedAt, fromB.renderedAt, "and the other way round: A sees B's revalidation")
  })
})
