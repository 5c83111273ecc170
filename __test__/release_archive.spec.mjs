// scripts/release-archive.sh, as the release workflow runs it per target: the archive holds the
// `tinykv` binary (which runs and says its version), LICENSE and README.md, and SHA256SUMS
// names it with its real hash, one line per archive however often the script runs. A Windows
// target's archive is a .zip with `tinykv.exe`.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
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

test('a Windows target gets a .zip with tinykv.exe, LICENSE and README.md, and its SHA256SUMS line', () => {
  // The script archives what it is given; a stand-in named as the Windows build names it.
  const zipOut = mkdtempSync(join(tmpdir(), 'tinykv-archive-zip-'))
  after(() => rmSync(zipOut, { recursive: true, force: true }))
  const exe = join(zipOut, 'tinykv.exe')
  copyFileSync(tinykvBin(), exe)
  const target = 'x86_64-pc-windows-msvc'
  const name = `tinykv-v${version}-${target}`
  const [zip, sums] = archive('--target', target, '--binary', exe, '--out', zipOut)
  assert.equal(zip, join(zipOut, `${name}.zip`))
  const listed = spawnSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).stdout.trim().split('\n').sort()
  assert.deepEqual(listed, [`${name}/`, `${name}/LICENSE`, `${name}/README.md`, `${name}/tinykv.exe`])
  const packed = spawnSync('unzip', ['-p', zip, `${name}/tinykv.exe`], { encoding: 'buffer', maxBuffer: 1 << 30 }).stdout
  assert.ok(packed.equals(readFileSync(exe)), 'tinykv.exe is the binary given')

  const hash = createHash('sha256').update(readFileSync(zip)).digest('hex')
  assert.equal(readFileSync(sums, 'utf8'), `${hash}  ${name}.zip\n`)
  // Again: the same bytes (the files are stamped with the commit's time), still one line.
  archive('--target', target, '--binary', exe, '--out', zipOut)
  assert.equal(createHash('sha256').update(readFileSync(zip)).digest('hex'), hash, 'reproducible')
  assert.equal(readFileSync(sums, 'utf8'), `${hash}  ${name}.zip\n`)
  assert.deepEqual(readdirSync(zipOut).filter((f) => f.endsWith('.tmp')), [], 'nothing half-written left')
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
