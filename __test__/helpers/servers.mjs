// Real servers for the SDK suites, started on loopback by the tests and stopped by PID: the
// TinyKV daemon (cargo-built binary), redis-server, and a 3-master Redis Cluster. Readiness is
// waited for on the servers' own signals (a "listening" line, PING, cluster_state:ok), never
// by sleeping a fixed time.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as delay } from 'node:timers/promises'

const root = resolve(import.meta.dirname, '..', '..')

/** The tinykv binary: $TINYKV_BIN, or a debug build made now (cargo is incremental). */
export function tinykvBin() {
  if (process.env.TINYKV_BIN) return process.env.TINYKV_BIN
  const built = spawnSync('cargo', ['build', '--quiet', '--bin', 'tinykv'], { cwd: root, stdio: 'inherit' })
  if (built.status !== 0) throw new Error('cargo build --bin tinykv failed')
  return join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug', 'tinykv')
}

/** A free TCP port on 127.0.0.1 (and, with `bus`, port + 10000 free too, for a cluster node). */
export async function freePort(bus = false) {
  for (;;) {
    const port = await new Promise((ok, fail) => {
      const s = createServer().once('error', fail)
      s.listen(0, '127.0.0.1', () => {
        const p = s.address().port
        s.close(() => ok(p))
      })
    })
    if (!bus) return port
    if (port + 10000 > 65535) continue
    const busFree = await new Promise((ok) => {
      const s = createServer().once('error', () => ok(false))
      s.listen(port + 10000, '127.0.0.1', () => s.close(() => ok(true)))
    })
    if (busFree) return port
  }
}

function stopProc(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve()
  const exited = new Promise((r) => proc.once('exit', r))
  proc.kill('SIGTERM')
  return exited
}

/** `tinykv serve` on a Unix socket in a temp dir and a TCP port; `restart()` reuses both. */
export async function startDaemon(extraArgs = []) {
  const bin = tinykvBin()
  const dir = mkdtempSync(join(tmpdir(), 'tinykv-sdk-'))
  const sock = join(dir, 'tinykv.sock')
  const d = { dir, sock, port: 0, proc: null }
  d.start = async () => {
    const port = d.port === 0 ? '0' : String(d.port)
    const proc = spawn(bin, ['serve', '--socket', sock, '--port', port, ...extraArgs], { stdio: ['ignore', 'pipe', 'ignore'] })
    d.proc = proc
    const lines = createInterface({ input: proc.stdout })
    await new Promise((up, fail) => {
      proc.once('exit', (code) => fail(new Error(`tinykv serve exited with ${code}`)))
      lines.on('line', (line) => {
        const m = line.match(/^tinykv listening on tcp:.*:(\d+)$/)
        if (m) {
          d.port = Number(m[1])
          up()
        }
      })
    })
  }
  d.kill = () => {
    const exited = new Promise((r) => d.proc.once('exit', r))
    d.proc.kill('SIGKILL')
    return exited
  }
  d.stop = async () => {
    if (d.proc) await stopProc(d.proc)
    rmSync(dir, { recursive: true, force: true })
  }
  await d.start()
  return d
}

async function waitFor(what, check) {
  for (let i = 0; i < 500; i++) {
    if (check()) return
    await delay(20)
  }
  throw new Error(`gave up waiting for ${what}`)
}

function cli(port, ...args) {
  return spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' }).stdout ?? ''
}

function redisServer(dir, port, extra) {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], {
    stdio: 'ignore',
  })
}

/** One redis-server on a free loopback port (extra args such as `--requirepass x`). */
export async function startRedis(extra = []) {
  const dir = mkdtempSync(join(tmpdir(), 'tinykv-redis-'))
  const port = await freePort()
  const proc = redisServer(dir, port, extra)
  const auth = extra.includes('--requirepass') ? ['-a', extra[extra.indexOf('--requirepass') + 1], '--no-auth-warning'] : []
  await waitFor(`redis-server on ${port}`, () => cli(port, ...auth, 'PING').trim() === 'PONG')
  return {
    port,
    proc,
    stop: async () => {
      await stopProc(proc)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Three redis-server masters in cluster mode, joined by `redis-cli --cluster create`. */
export async function startCluster() {
  const dir = mkdtempSync(join(tmpdir(), 'tinykv-cluster-'))
  const ports = []
  for (let i = 0; i < 3; i++) {
    let p
    do p = await freePort(true)
    while (ports.includes(p))
    ports.push(p)
  }
  const procs = ports.map((port) => {
    const nodeDir = join(dir, String(port))
    spawnSync('mkdir', ['-p', nodeDir])
    return redisServer(nodeDir, port, ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'])
  })
  const stop = async () => {
    await Promise.all(procs.map(stopProc))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (const port of ports) await waitFor(`cluster node ${port}`, () => cli(port, 'PING').trim() === 'PONG')
    const made = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
    })
    if (made.status !== 0) throw new Error(`redis-cli --cluster create failed: ${made.stdout}${made.stderr}`)
    for (const port of ports) await waitFor(`cluster_state:ok on ${port}`, () => cli(port, 'CLUSTER', 'INFO').includes('cluster_state:ok'))
  } catch (err) {
    await stop()
    throw err
  }
  return { ports, procs, stop }
}

/**
 * redis-server with TLS only, on a free loopback port, with a throwaway CA and a server
 * certificate for `localhost` made by openssl in a temp dir. Resolves to { port, ca, stop }.
 */
export async function startRedisTls() {
  const dir = mkdtempSync(join(tmpdir(), 'tinykv-tls-'))
  const ssl = (...args) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`)
  }
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=tinykv test CA')
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost')
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext')
  const port = await freePort()
  const proc = redisServer(dir, 0, [
    '--tls-port', String(port),
    '--tls-cert-file', join(dir, 'server.crt'),
    '--tls-key-file', join(dir, 'server.key'),
    '--tls-ca-cert-file', join(dir, 'ca.crt'),
    '--tls-auth-clients', 'no',
  ])
  const ping = () =>
    (spawnSync('redis-cli', ['--tls', '--cacert', join(dir, 'ca.crt'), '-h', '127.0.0.1', '-p', String(port), 'PING'], { encoding: 'utf8' }).stdout ?? '').trim()
  await waitFor(`redis-server TLS on ${port}`, () => ping() === 'PONG')
  return {
    port,
    ca: readFileSync(join(dir, 'ca.crt')),
    stop: async () => {
      await stopProc(proc)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
