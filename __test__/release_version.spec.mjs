// scripts/version.sh, on a copy of the files it edits: one command moves package.json, the lock,
// every platform package, the loader's version checks, Cargo.toml and Cargo.lock to the new
// version together, and turns CHANGELOG.md's Unreleased section into the version's, which is
// what scripts/release-notes.sh gives the GitHub release. It refuses, changing nothing, when the
// Unreleased section is empty or the version is not one.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import semver from 'semver'

const root = resolve(import.meta.dirname, '..')
const copy = mkdtempSync(join(tmpdir(), 'tinykv-version-'))
after(() => rmSync(copy, { recursive: true, force: true }))
const FILES = ['package.json', 'package-lock.json', 'Cargo.toml', 'Cargo.lock', 'CHANGELOG.md', 'index.js', 'npm', 'scripts']
const read = (f) => readFileSync(join(copy, f), 'utf8')
const json = (f) => JSON.parse(read(f))
const script = (name, ...args) => spawnSync(join(copy, 'scripts', name), args, { cwd: copy, encoding: 'utf8' })
const old = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version
const next = semver.inc(old, 'minor')

before(() => {
  for (const f of FILES) cpSync(join(root, f), join(copy, f), { recursive: true })
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'))
})

/** CHANGELOG.md's sections by heading, each with its text. */
function sections(md) {
  return Object.fromEntries(md.split(/^(?=## \[)/m).slice(1).map((s) => [s.split('\n')[0], s.split('\n').slice(1).join('\n').trim()]))
}

test('one command moves every version and dates the Unreleased notes', () => {
  const notes = sections(read('CHANGELOG.md'))['## [Unreleased]']
  assert.ok(notes.length > 0, 'the Unreleased section has notes to release')
  const r = script('version.sh', 'minor')
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout.trim(), next)

  assert.equal(json('package.json').version, next)
  assert.equal(json('package-lock.json').version, next)
  assert.equal(json('package-lock.json').packages[''].version, next)
  for (const dir of readdirSync(join(copy, 'npm'))) assert.equal(json(`npm/${dir}/package.json`).version, next, dir)
  assert.match(read('Cargo.toml'), new RegExp(`^\\[package\\]\\nname = "tinykv"\\nversion = "${next}"$`, 'm'))
  assert.match(read('Cargo.lock'), new RegExp(`^name = "tinykv"\\nversion = "${next}"$`, 'm'))
  const js = read('index.js')
  assert.equal(js.includes(`'${old}'`), false, 'index.js still checks for the old version')
  assert.ok(js.includes(`bindingPackageVersion !== '${next}'`))
  assert.ok(js.includes(`expected ${next} but got`))

  const after = sections(read('CHANGELOG.md'))
  const today = new Date().toISOString().slice(0, 10)
  assert.equal(after['## [Unreleased]'], '')
  assert.equal(after[`## [${next}] - ${today}`], notes)
  const released = script('release-notes.sh', next)
  assert.equal(released.status, 0, released.stderr)
  assert.equal(released.stdout.trim(), notes)
})

test('it refuses, changing nothing, with no notes to release or no version', () => {
  const before = FILES.filter((f) => f.includes('.')).map(read)
  const empty = script('version.sh', 'patch')
  assert.equal(empty.status, 1)
  assert.match(empty.stderr, /Unreleased section is empty/)
  const bad = script('version.sh', 'not-a-version')
  assert.notEqual(bad.status, 0)
  assert.deepEqual(FILES.filter((f) => f.includes('.')).map(read), before)
  const missing = script('release-notes.sh', '9.9.9')
  assert.equal(missing.status, 1)
  assert.match(missing.stderr, /no section for 9\.9\.9/)
})
