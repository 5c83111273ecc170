// scripts/release-archive.sh, as the release workflow runs it per target: the archive holds the
// `tinykv` binary (which runs and says its version), LICENSE and README.md, and SHA256SUMS
// names it with its real hash, one line per archive however often the script runs.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { tinykvBin } from './helpers/servers.mjs'

const root = resolve(import.meta.dirname, '..')
const out = mkdtempSync(join(tmpdir(), 'tinykv-archive-'))
after(() => rmSync(out, { recursive: true, force: true }))
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version
const host = spawnSync('rustc', ['-vV'], { encoding: 'utf8' }).stdout.match(/^host: (.+)$/m)[1]

function archive(...args) {
  const r = spawnSync(join(root, 'scripts/release-archive.sh'), args, { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  return r.stdout.trim().split('\n')
}

test('the archive holds the binary, LICENSE and README.md, and SHA256SUMS its hash', () => {
  const [tarball, sums] = archive('--binary', tinykvBin(), '--out', out)
  const name = `tinykv-v${version}-${host}`
  assert.equal(tarball, join(out, `${name}.tar.gz`))
  const listed = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.trim().split('\n').sort()
  assert.deepEqual(listed, [`${name}/`, `${name}/LICENSE`, `${name}/README.md`, `${name}/tinykv`])

  spawnSync('tar', ['-xzf', tarball, '-C', out])
  const bin = join(out, name, 'tinykv')
  assert.ok(statSync(bin).mode & 0o100, 'the binary is executable')
  assert.equal(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim(), `tinykv ${version}`)
  assert.deepEqual(readFileSync(join(out, name, 'LICENSE')), readFileSync(join(root, 'LICENSE')))

  const hash = createHash('sha256').update(readFileSync(tarball)).digest('hex')
  assert.equal(readFileSync(sums, 'utf8'), `${hash}  ${name}.tar.gz\n`)
  // Again: still one line, and `--sums-only` (the release job's step) writes the same file.
  archive('--binary', tinykvBin(), '--out', out)
  assert.equal(archive('--sums-only', '--out', out)[0], sums)
  assert.equal(readFileSync(sums, 'utf8'), `${hash}  ${name}.tar.gz\n`)
  assert.deepEqual(readdirSync(out).filter((f) => f.endsWith('.tmp')), [], 'nothing half-written left')
})

test('the crate and the npm package carry one version', () => {
  const cargo = readFileSync(join(root, 'Cargo.toml'), 'utf8').match(/^version = "(.*)"$/m)[1]
  assert.equal(cargo, version)
})

test('bad input is refused with the reason', () => {
  const unknown = spawnSync(join(root, 'scripts/release-archive.sh'), ['--bogus'], { encoding: 'utf8' })
  assert.equal(unknown.status, 2)
  assert.match(unknown.stderr, /unknown argument: --bogus/)
  const missing = spawnSync(join(root, 'scripts/release-archive.sh'), ['--binary', join(out, 'nope'), '--out', out], { encoding: 'utf8' })
  assert.equal(missing.status, 1)
  assert.match(missing.stderr, /nope is not an executable/)
})
