// `npx tinykv serve` (bin/tinykv.js -> runCliAsync) stops on SIGTERM and SIGINT: graceful exit 0
// with the socket file removed, and a second signal during shutdown exits at once with 130.
// (Before, the daemon ran inside Node with tokio's signal handler, and Node's re-raised each
// other forever at 100% CPU until SIGKILL.)
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'tinykv.js')

/** Polls `cond` every 20 ms until it is true; fails after `ms`. */
async function until (cond, what, ms = 15_000) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await cond()) return
    await delay(20)
  }
  assert.fail(`timed out after ${ms} ms waiting for ${what}`)
}

/** Starts `node bin/tinykv.js serve --socket <tmp>/kv.sock ...extra` and waits until it listens. */
async function serve (t, extra = []) {
  const dir = mkdtempSync(path.join(tmpdir(), 'tinykv-sig-'))
  const sock = path.join(dir, 'kv.sock')
  const child = spawn(process.execPath, [bin, 'serve', '--socket', sock, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const d = { child, sock, stdout: '', stderr: '', exit: null }
  child.stdout.on('data', (b) => { d.stdout += b })
  child.stderr.on('data', (b) => { d.stderr += b })
  d.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    d.exit = { code, signal }
    resolve(d.exit)
  }))
  t.after(() => {
    if (d.exit === null) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  await until(() => d.stdout.includes(`tinykv listening on unix:${sock}`) || d.exit !== null, 'the daemon to listen')
  assert.equal(d.exit, null, `serve exited early: ${d.stderr}`)
  return d
}

/** Sends one inline command on a fresh connection and returns the first reply line. */
function ask (sock, line) {
  return new Promise((resolve, reject) => {
    const c = createConnection(sock)
    let got = ''
    c.on('error', reject)
    c.on('data', (b) => {
      got += b
      const end = got.indexOf('\r\n')
      if (end >= 0) {
        c.destroy()
        resolve(got.slice(0, end))
      }
    })
    c.write(`${line}\r\n`)
  })
}

/** Waits for the process to exit (bounded), then checks its status and the socket file. */
async function expectExit (d, code) {
  await until(() => d.exit !== null, 'the daemon to exit')
  assert.deepEqual(d.exit, { code, signal: null }, d.stderr)
  assert.equal(existsSync(d.sock), false, 'the socket file is removed')
}

for (const sig of ['SIGTERM', 'SIGINT']) {
  test(`bin serve: ${sig} stops the daemon gracefully (exit 0, socket removed)`, async (t) => {
    const d = await serve(t)
    assert.equal(await ask(d.sock, 'PING'), '+PONG')
    d.child.kill(sig)
    await expectExit(d, 0)
    assert.match(d.stderr, /shut down cleanly/)
  })
}

/** A client that never reads its replies, so a graceful shutdown waits (3 s) on its flush. */
async function stuckClient (t, d) {
  const stuck = createConnection(d.sock)
  t.after(() => stuck.destroy())
  stuck.on('error', () => {})
  stuck.pause()
  stuck.write(`SET big ${'x'.repeat(60_000)}\r\n`)
  stuck.write('GET big\r\n'.repeat(4000))
  await until(async () => /cmd=get/.test(await clientList(d.sock)), 'the daemon to serve the GETs')
}

test('bin serve: a second signal during shutdown exits at once with 130', async (t) => {
  const d = await serve(t, ['--max-output-buffer', '64kb'])
  assert.equal(await ask(d.sock, 'PING'), '+PONG')
  await stuckClient(t, d)
  d.child.kill('SIGINT')
  await until(() => d.stderr.includes('signal received'), 'the first signal to be handled')
  assert.equal(d.exit, null, 'still flushing to the stuck client')
  // Signals within 250 ms of the first count as the same one (npm forwarding a Ctrl-C), so
  // repeat the second until it lands; the graceful shutdown would end with 0, not 130.
  await until(() => {
    if (d.exit === null) d.child.kill('SIGTERM')
    return d.exit !== null
  }, 'the second signal to end the daemon')
  await expectExit(d, 130)
  assert.match(d.stderr, /second signal; exiting now/)
})

test('bin serve: a Ctrl-C that arrives twice at once (npm forwards it) stays graceful', async (t) => {
  const d = await serve(t, ['--max-output-buffer', '64kb'])
  await stuckClient(t, d)
  d.child.kill('SIGINT')
  d.child.kill('SIGINT')
  await expectExit(d, 0)
  assert.doesNotMatch(d.stderr, /second signal/)
})

/** CLIENT LIST's whole bulk reply. */
function clientList (sock) {
  return new Promise((resolve, reject) => {
    const c = createConnection(sock)
    let got = ''
    c.on('error', reject)
    c.on('data', (b) => {
      got += b
      const m = /^\$(\d+)\r\n/.exec(got)
      if (m && got.length >= m[0].length + Number(m[1])) {
        c.destroy()
        resolve(got.slice(m[0].length))
      }
    })
    c.write('CLIENT LIST\r\n')
  })
}
