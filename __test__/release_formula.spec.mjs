// The Homebrew formula without Homebrew: scripts/release-formula.sh renders it for a release
// (homepage, url, the tarball's sha256) into valid Ruby; its `service do` command, run on the
// host with Homebrew's var in a temp dir, serves the socket and saves the snapshot on stop; and
// its `test do` REPL round trip gives the output the formula expects.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { tinykvBin } from './helpers/servers.mjs'

const root = resolve(import.meta.dirname, '..')
const formula = readFileSync(join(root, 'Formula/tinykv.rb'), 'utf8')
const work = mkdtempSync(join(tmpdir(), 'tinykv-formula-'))
after(() => rmSync(work, { recursive: true, force: true }))

/** A Ruby double-quoted string literal's value (the escapes the formula uses). */
const rubyString = (s) => JSON.parse(`"${s}"`)

test('rendered for a release, the formula is valid Ruby naming the tarball and its sha256', () => {
  const tarball = join(work, 'tinykv-src.tar.gz')
  writeFileSync(tarball, 'not really a tarball, but bytes with a hash')
  const sha = createHash('sha256').update(readFileSync(tarball)).digest('hex')
  const url = 'https://example.invalid/releases/tinykv-src.tar.gz'
  const r = spawnSync(join(root, 'scripts/release-formula.sh'), ['--homepage', 'https://example.invalid', '--url', url, '--tarball', tarball], {
    encoding: 'utf8',
  })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, new RegExp(`^  url "${url}"\\n  sha256 "${sha}"$`, 'm'))
  assert.match(r.stdout, /^  homepage "https:\/\/example\.invalid"$/m)
  assert.equal(r.stdout.includes('written by scripts/release-formula.sh for each release'), false)
  const rendered = join(work, 'tinykv.rb')
  writeFileSync(rendered, r.stdout)
  const ruby = spawnSync('ruby', ['-c', rendered], { encoding: 'utf8' })
  assert.equal(ruby.status, 0, ruby.stderr)
  assert.match(ruby.stdout, /Syntax OK/)

  const missing = spawnSync(join(root, 'scripts/release-formula.sh'), ['--url', url], { encoding: 'utf8' })
  assert.equal(missing.status, 2)
  assert.match(missing.stderr, /are all required/)
})

test("the formula's test block: the REPL round trip prints what it expects", () => {
  const m = formula.match(/assert_equal "((?:[^"\\]|\\.)*)", pipe_output\(bin\/"tinykv", "((?:[^"\\]|\\.)*)", 0\)/)
  assert.ok(m, 'the test block pipes input into the REPL')
  const r = spawnSync(tinykvBin(), [], { input: rubyString(m[2]), encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, rubyString(m[1]))
})

test("the service block's command serves the socket under var and saves the snapshot there on stop", async () => {
  const block = formula.match(/run \[opt_bin\/"tinykv",([\s\S]*?)\]/)[1]
  const varDir = join(work, 'var')
  // Each argument is "literal" or var/"path" (Homebrew's var dir); post_install makes the dirs.
  const args = [...block.matchAll(/(var\/)?"([^"]*)"/g)].map(([, isVar, s]) => (isVar ? join(varDir, s) : s))
  for (const d of formula.matchAll(/\(var\/"([^"]+)"\)\.mkpath/g)) mkdirSync(join(varDir, d[1]), { recursive: true })
  const socket = args[args.indexOf('--socket') + 1]
  const snapshot = args[args.indexOf('--snapshot') + 1]
  assert.ok(socket.startsWith(varDir) && snapshot.startsWith(varDir))

  const proc = spawn(tinykvBin(), args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = new Promise((r) => proc.once('exit', r))
  await new Promise((ok, fail) => {
    proc.once('exit', (code) => fail(new Error(`tinykv serve exited with ${code}`)))
    createInterface({ input: proc.stderr }).on('line', (line) => line.includes('tinykv ready') && ok())
  })
  const reply = await new Promise((ok, fail) => {
    const s = connect(socket, () => s.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n'))
    s.once('error', fail).once('data', (d) => {
      s.destroy()
      ok(d.toString())
    })
  })
  assert.equal(reply, '+OK\r\n')
  proc.kill('SIGTERM') // what `brew services stop` sends
  assert.equal(await exited, 0)
  assert.ok(existsSync(snapshot), 'no snapshot saved on stop')
})
