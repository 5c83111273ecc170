// The npm release as a user meets it: scripts/release-npm.sh packs the main package and this
// machine's platform package (@tinykv/binding-<platform>) the way the release publishes them,
// and both install into a fresh app on a PATH with no Rust toolchain and from no source but the
// registry (for ioredis). The addon loads from the platform package, a cache round trip and
// `npx tinykv` work, and without the platform package the loader's error names it. Every napi
// target has its platform package in npm/, and the build workflow builds each one.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { delimiter, dirname, join, resolve } from 'node:path'
import { tmpdir } from 'node:os'
import { parseTriple } from '@napi-rs/cli'
import { load as loadYaml } from 'js-yaml'
import { addon, bindingName, packRelease, pkg } from './helpers/release_pack.mjs'

const root = resolve(import.meta.dirname, '..')
const work = mkdtempSync(join(tmpdir(), 'tinykv-release-'))
after(() => rmSync(work, { recursive: true, force: true }))

// This PATH finds node and npm but neither cargo nor rustc: nothing can build from source.
const noRust = process.env.PATH.split(delimiter)
  .filter((d) => !existsSync(join(d, 'cargo')) && !existsSync(join(d, 'rustc')))
  .concat(dirname(process.execPath))
  .join(delimiter)
const env = { ...process.env, PATH: noRust, NO_COLOR: '1', FORCE_COLOR: '0' }

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, ...opts })
  return { status: r.status, stdout: r.stdout, out: `${r.stdout}${r.stderr}` }
}

let mainTgz, bindingTgz
before(() => {
  ;({ main: mainTgz, binding: bindingTgz } = packRelease(work))
})

function tarList(tgz) {
  return run('tar', ['-tzf', tgz]).stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''))
}

test('the main package ships only what runs and needs no binary; the platform package is the addon', () => {
  const main = tarList(mainTgz)
  const stray = main.filter((f) => !/^(package\.json|README\.md|LICENSE|index\.(js|d\.ts)|lib\/[\w-]+\.(js|d\.ts)|dist\/([\w-]+\/)?[\w-]+\.(js|mjs|d\.ts|d\.mts)|bin\/tinykv\.js)$/.test(f))
  assert.deepEqual(stray, [], 'files that do not run')
  const manifest = JSON.parse(run('tar', ['-xzOf', mainTgz, 'package/package.json']).stdout)
  assert.deepEqual(Object.keys(manifest.dependencies), ['ioredis'], 'runtime dependencies')
  assert.equal(manifest.optionalDependencies[bindingName], pkg.version)
  assert.deepEqual(Object.keys(manifest.optionalDependencies), [bindingName], 'packed with --only this host')
  assert.deepEqual(tarList(bindingTgz).sort(), ['README.md', addon, 'package.json'].sort())
  const binding = JSON.parse(run('tar', ['-xzOf', bindingTgz, 'package/package.json']).stdout)
  assert.equal(binding.name, bindingName)
  assert.equal(binding.version, pkg.version)
  assert.deepEqual(binding.os, [process.platform])
  assert.deepEqual(binding.cpu, [process.arch])
})

test('publint passes on both tarballs', () => {
  for (const tgz of [mainTgz, bindingTgz]) {
    const r = run(process.execPath, [join(root, 'node_modules/publint/src/cli.js'), 'run', tgz, '--strict'])
    assert.equal(r.status, 0, r.out)
    assert.match(r.out, /All good!/, r.out)
  }
})

test('installed with no Rust on PATH, the addon loads from the platform package: a round trip and npx tinykv', () => {
  assert.notEqual(run('sh', ['-c', 'command -v cargo || command -v rustc']).status, 0, 'this PATH still has Rust')
  const app = join(work, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }))
  const installed = run('npm', ['install', mainTgz, bindingTgz, '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app })
  assert.equal(installed.status, 0, installed.out)
  const installedMain = join(app, 'node_modules', pkg.name)
  assert.deepEqual(readdirSync(installedMain).filter((f) => f.endsWith('.node')), [], 'the main package carries no addon')
  assert.ok(existsSync(join(app, 'node_modules', bindingName, addon)))

  const script = `const { TinyKV } = require('tinykv'); const kv = new TinyKV({ maxEntries: 10 })
    kv.set('greeting', 'hello', { ttl: 60000 })
    console.log(JSON.stringify({ value: kv.get('greeting'), size: kv.size, from: require.resolve('${bindingName}') }))`
  const r = run(process.execPath, ['-e', script], { cwd: app })
  assert.equal(r.status, 0, r.out)
  const got = JSON.parse(r.stdout)
  assert.equal(got.value, 'hello')
  assert.equal(got.size, 1)
  assert.equal(got.from, join(app, 'node_modules', bindingName, addon))

  const version = run('npx', ['--no-install', 'tinykv', '--version'], { cwd: app })
  assert.equal(version.status, 0, version.out)
  assert.equal(version.stdout.trim(), `tinykv ${pkg.version}`)
  const repl = run('npx', ['--no-install', 'tinykv'], { cwd: app, input: 'SET k round-trip\nGET k\n' })
  assert.equal(repl.status, 0, repl.out)
  assert.deepEqual(repl.stdout.trim().split('\n'), ['OK', 'round-trip'])
})

test('without its platform package, the loader names the package to install', () => {
  const app = join(work, 'app-no-binding')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }))
  // --omit=optional: what a lockfile made on another platform, or --no-optional, leaves behind.
  const installed = run('npm', ['install', mainTgz, '--omit=optional', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app })
  assert.equal(installed.status, 0, installed.out)
  assert.equal(existsSync(join(app, 'node_modules', bindingName)), false)
  const r = run(process.execPath, ['-e', "require('tinykv')"], { cwd: app })
  assert.notEqual(r.status, 0)
  assert.match(r.out, /Cannot find native binding/)
  assert.ok(r.out.includes(`Cannot find module '${bindingName}'`), r.out)
})

test('`npm publish` from the checkout is refused: the main package needs its platform packages', () => {
  const r = run('npm', ['publish', '--dry-run'], { cwd: root })
  assert.notEqual(r.status, 0)
  assert.match(r.out, /publish with scripts\/release-npm\.sh/)
})

test('every napi target has its platform package in npm/, and every package a target', () => {
  const targets = pkg.napi.targets.map(parseTriple)
  assert.deepEqual(targets.map((t) => t.platformArchABI).sort(), readdirSync(join(root, 'npm')).sort())
  const libc = { gnu: ['glibc'], musl: ['musl'] }
  for (const t of targets) {
    const dir = join(root, 'npm', t.platformArchABI)
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    const file = `${pkg.napi.binaryName}.${t.platformArchABI}.node`
    assert.equal(manifest.name, `${pkg.napi.packageName}-${t.platformArchABI}`, t.triple)
    assert.equal(manifest.version, pkg.version, t.triple)
    assert.equal(manifest.type, 'commonjs', t.triple)
    assert.equal(manifest.main, file, t.triple)
    assert.deepEqual(manifest.files, [file], t.triple)
    assert.deepEqual(manifest.os, [t.platform], t.triple)
    assert.deepEqual(manifest.cpu, [t.arch], t.triple)
    assert.deepEqual(manifest.libc, t.platform === 'linux' ? libc[t.abi] : undefined, t.triple)
    assert.ok(readFileSync(join(dir, 'README.md'), 'utf8').includes(`**${t.triple}**`), t.triple)
  }
})

test('the build workflow makes the addon for every napi target and the daemon for each of them', () => {
  const build = loadYaml(readFileSync(join(root, '.github/workflows/build.yml'), 'utf8'))
  const built = (job) => build.jobs[job].strategy.matrix.include.map((row) => row.target).sort()
  assert.deepEqual(built('addon'), [...pkg.napi.targets].sort())
  assert.deepEqual(built('daemon'), [...pkg.napi.targets].sort())
})
