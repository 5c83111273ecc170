// The `tinykv` bin (bin/tinykv.js -> runCli) driven through a pipe.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'tinykv.js')
// The default daemon socket lives under XDG_RUNTIME_DIR: an empty temp dir means no daemon.
const runtimeDir = mkdtempSync(path.join(os.tmpdir(), 'tinykv-cli-'))
process.on('exit', () => rmSync(runtimeDir, { recursive: true, force: true }))
const env = { ...process.env, XDG_RUNTIME_DIR: runtimeDir, TINYKV_PASSWORD: '', REDISCLI_AUTH: '' }
const run = (input, args = []) => spawnSync(process.execPath, [bin, ...args], { input, env, encoding: 'utf8', timeout: 20_000 })

test('piped commands get one reply line each', () => {
  const out = run('SET a 1\nGET a\nEXIT\n')
  assert.equal(out.status, 0, out.stderr)
  const lines = out.stdout.trim().split('\n')
  assert.equal(lines.length, 3, out.stdout)
  assert.equal(lines[0], 'OK')
  assert.equal(lines[1], '1')
})

test('counters, misses, TTLs and errors through the REPL', () => {
  const out = run('INCR n\nINCRBY n 41\nGET missing\nSET t x PX 60000\nEXISTS t\nSET s abc\nINCR s\nDEL n\n')
  assert.equal(out.status, 0, out.stderr)
  const lines = out.stdout.trim().split('\n')
  assert.equal(lines.length, 8, out.stdout)
  assert.equal(lines[0], '1')
  assert.equal(lines[1], '42')
  assert.match(lines[2], /nil/i)
  assert.equal(lines[3], 'OK')
  assert.equal(lines[4], 'true')
  assert.equal(lines[5], 'OK')
  assert.match(lines[6], /not an integer/)
  assert.equal(lines[7], 'deleted')
})

test('end of input ends the REPL with status 0', () => {
  const out = run('PING\n')
  assert.equal(out.status, 0, out.stderr)
  assert.equal(out.stdout.trim(), 'PONG')
})

test('--help and help print usage and exit 0', () => {
  const help = run('', ['--help'])
  assert.equal(help.status, 0)
  assert.match(help.stdout, /Usage: tinykv/)
  const sub = run('', ['help'])
  assert.equal(sub.status, 0, sub.stderr)
  assert.equal(sub.stdout, help.stdout)
})

test('a one-shot command with no daemon running exits 1 naming the socket', () => {
  const out = run('', ['SET', 'x', '1'])
  assert.equal(out.status, 1)
  assert.equal(out.stdout, '')
  assert.ok(out.stderr.startsWith(`tinykv: ERR no TinyKV daemon at the default socket ${path.join(runtimeDir, 'tinykv.sock')}`), out.stderr)
  assert.match(out.stderr, /tinykv serve/)
})

test('an unknown flag is a usage error (exit 2), not a command', () => {
  const out = run('', ['--bogus'])
  assert.equal(out.status, 2)
  assert.match(out.stderr, /^tinykv: ERR unexpected argument '--bogus'/)
})
