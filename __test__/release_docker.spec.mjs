// The container's entry command, run on the host (no Docker engine here): the Dockerfile's
// ENTRYPOINT + CMD exactly, with the image's paths moved into temp dirs and its fixed ports
// turned into free ones. It refuses to start without a password, answers PING after AUTH,
// serves the HEALTHCHECK's /healthz, and writes its snapshot into the volume on `docker stop`
// (SIGTERM), which the next start loads. compose.yaml's daemon command is the same line plus the
// secret file, and its app, run with the service's environment, caches pages in the daemon.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { connect } from 'node:net'
import { randomBytes } from 'node:crypto'
import Redis from 'ioredis'
import { load as loadYaml } from 'js-yaml'
import { tinykvBin } from './helpers/servers.mjs'
import { dockerfile, hostCommand } from './helpers/dockerfile.mjs'

const root = resolve(import.meta.dirname, '..')
const image = dockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'))
const compose = loadYaml(readFileSync(join(root, 'compose.yaml'), 'utf8'))
const work = mkdtempSync(join(tmpdir(), 'tinykv-docker-'))
after(() => rmSync(work, { recursive: true, force: true }))
let n = 0

/** A fresh "container": its volume, /tmp and /run/secrets as temp dirs. */
function container() {
  const dir = join(work, `c${n++}`)
  const paths = {}
  for (const p of [...image.volumes, '/tmp', '/run/secrets']) {
    paths[p] = join(dir, p.replaceAll('/', '_'))
    mkdirSync(paths[p], { recursive: true })
  }
  return { dir, paths }
}

/** Runs a command line of the image; resolves once its "tinykv ready" log line names the ports. */
function run(argv, env, c) {
  const { bin, args } = hostCommand(argv, { entrypoint: image.entrypoint[0], bin: tinykvBin(), paths: c.paths })
  const proc = spawn(bin, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  const lines = []
  const ready = new Promise((ok, fail) => {
    proc.once('exit', (code) => fail(Object.assign(new Error(`exited with ${code}: ${lines.join('\n')}`), { code, lines })))
    createInterface({ input: proc.stderr }).on('line', (line) => {
      lines.push(line)
      const log = line.startsWith('{') ? JSON.parse(line) : {}
      if (log.message !== 'tinykv ready') return
      const port = (scheme) => Number(log.listeners.find((l) => l.startsWith(`${scheme}:`)).split(':').at(-1))
      ok({ tcp: port('tcp'), http: port('http') })
    })
  })
  const exited = new Promise((r) => proc.once('exit', (code) => r(code)))
  return { proc, ready, exited, lines }
}

/** The daemon's raw reply to a PING sent before any AUTH. */
function pingWithoutAuth(port) {
  return new Promise((ok, fail) => {
    const s = connect(port, '127.0.0.1', () => s.write('*1\r\n$4\r\nPING\r\n'))
    s.once('error', fail).once('data', (reply) => {
      s.destroy()
      ok(reply.toString())
    })
  })
}

/** The HEALTHCHECK's URL, aimed at the port the daemon's metrics listener got. */
function healthUrl(httpPort) {
  const url = new URL(image.healthcheck.find((a) => a.startsWith('http://')))
  url.port = String(httpPort)
  return url
}

test('the image command refuses to listen on every interface without a password', async () => {
  const c = container()
  const d = run([...image.entrypoint, ...image.cmd], {}, c)
  const err = await d.ready.then(() => null, (e) => e)
  assert.ok(err, 'the daemon started with no password')
  assert.notEqual(err.code, 0)
  assert.match(err.lines.join('\n'), /without --requirepass.*TINYKV_PASSWORD/)
})

test('the image command: AUTH with $TINYKV_PASSWORD, /healthz, and the snapshot kept in the volume', async () => {
  const c = container()
  const password = randomBytes(12).toString('hex')
  const volume = c.paths[image.volumes[0]]
  const first = run([...image.entrypoint, ...image.cmd], { TINYKV_PASSWORD: password }, c)
  const ports = await first.ready
  const health = await fetch(healthUrl(ports.http))
  assert.equal(health.status, 200)

  assert.match(await pingWithoutAuth(ports.tcp), /^-NOAUTH/)
  const kv = new Redis({ port: ports.tcp, host: '127.0.0.1', password })
  assert.equal(await kv.ping(), 'PONG')
  assert.equal(await kv.set('kept', 'across a restart'), 'OK')
  kv.disconnect()

  first.proc.kill('SIGTERM') // what `docker stop` sends
  assert.equal(await first.exited, 0, first.lines.join('\n'))
  const snapshot = hostCommand(['x', image.cmd[image.cmd.indexOf('--snapshot') + 1]], { paths: c.paths }).args[0]
  assert.ok(snapshot.startsWith(volume), `the snapshot ${snapshot} is in the volume ${volume}`)
  assert.ok(existsSync(snapshot), 'no snapshot written on SIGTERM')

  const second = run([...image.entrypoint, ...image.cmd], { TINYKV_PASSWORD: password }, c)
  const again = await second.ready
  const kv2 = new Redis({ port: again.tcp, host: '127.0.0.1', password })
  assert.equal(await kv2.get('kept'), 'across a restart')
  kv2.disconnect()
  second.proc.kill('SIGTERM')
  assert.equal(await second.exited, 0)
})

test("compose.yaml: the daemon's command is the image's plus the secret file, and the app caches in it", async () => {
  const service = compose.services.tinykv
  assert.deepEqual(service.command.slice(0, image.cmd.length), image.cmd, "compose's command drifted from the image's CMD")
  const secretArg = service.command.slice(image.cmd.length)
  assert.equal(secretArg[0], '--requirepass-file')
  assert.deepEqual(service.secrets, ['tinykv_password'])
  assert.equal(secretArg[1], '/run/secrets/tinykv_password')

  const c = container()
  const password = randomBytes(12).toString('hex')
  writeFileSync(join(c.paths['/run/secrets'], 'tinykv_password'), `${password}\n`) // as `echo` writes it
  const d = run([...image.entrypoint, ...service.command], {}, c)
  const ports = await d.ready

  // The app's code as compose mounts it ($$ is compose's escape for $), beside this package.
  const appDir = join(c.dir, 'app')
  mkdirSync(join(appDir, 'node_modules'), { recursive: true })
  symlinkSync(root, join(appDir, 'node_modules', 'tinykv'))
  const app = compose.services.app
  const appFile = app.configs[0].target.split('/').at(-1)
  writeFileSync(join(appDir, appFile), compose.configs[app.configs[0].source].content.replaceAll('$$', '$'))
  const env = { ...app.environment, PORT: '0' }
  const url = new URL(env.TINYKV_URL)
  assert.equal(url.hostname, 'tinykv', 'the app names the daemon by its service name')
  url.hostname = '127.0.0.1'
  url.port = String(ports.tcp)
  env.TINYKV_URL = url.href
  env.TINYKV_PASSWORD_FILE = hostCommand(['x', env.TINYKV_PASSWORD_FILE], { paths: c.paths }).args[0]
  const proc = spawn(process.execPath, [appFile], { cwd: appDir, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise((r) => proc.once('exit', r))
  try {
    const line = await new Promise((ok, fail) => {
      proc.once('exit', (code) => fail(new Error(`the app exited with ${code}`)))
      createInterface({ input: proc.stdout }).once('line', ok)
    })
    const m = line.match(/^app listening on (\d+), cache: (.+)$/)
    assert.ok(m, line)
    assert.equal(m[2], 'tinykv')
    const page = async () => (await fetch(`http://127.0.0.1:${m[1]}/hello`)).text()
    assert.equal(await page(), '/hello rendered (load 1)\n')
    assert.equal(await page(), '/hello rendered (load 1)\n', 'the second request was not served from TinyKV')
    const kv = new Redis({ port: ports.tcp, host: '127.0.0.1', password })
    assert.equal(await kv.get('page:/hello'), '/hello rendered (load 1)')
    assert.ok((await kv.pttl('page:/hello')) > 0, 'the page has the TTL the app gave it')
    kv.disconnect()
  } finally {
    proc.kill('SIGTERM')
    await exited
    d.proc.kill('SIGTERM')
    await d.exited
  }
})
