// The package as npm ships it: packed as the release publishes it (helpers/release_pack.mjs),
// then publint and @arethetypeswrong/cli on the tarball, then the tarball and this platform's
// addon package installed into a fresh temp app whose CommonJS and ESM code import every public
// subpath (`tinykv`, `tinykv/client`, `tinykv/namespaces`, `tinykv/session`, `tinykv/keyv`,
// `tinykv/next` and its two ready-made handlers) and use them; `tinykv/session` first without
// its optional peer express-session, then with it.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { packRelease } from './helpers/release_pack.mjs'

const root = resolve(import.meta.dirname, '..')
const bin = (pkg, file) => join(root, 'node_modules', pkg, file)
let dir, tarball, binding

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } })
  return { status: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout }
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tinykv-pack-'))
  ;({ main: tarball, binding } = packRelease(dir))
})
after(() => rmSync(dir, { recursive: true, force: true }))

test('publint finds nothing to report in the tarball', () => {
  const r = run(process.execPath, [bin('publint', 'src/cli.js'), 'run', tarball, '--strict'], root)
  assert.equal(r.status, 0, r.out)
  assert.match(r.out, /All good!/, r.out)
})

test('@arethetypeswrong/cli finds no problem on any entry point, under every resolution', () => {
  const r = run(process.execPath, [bin('@arethetypeswrong/cli', 'dist/index.js'), tarball, '--format', 'json'], root)
  const report = JSON.parse(r.stdout)
  assert.deepEqual(report.problems, {}, r.stdout.slice(0, 2000))
  assert.deepEqual(report.analysis.problems, [])
  assert.deepEqual(Object.keys(report.analysis.entrypoints).sort(), ['.', './client', './keyv', './namespaces', './next', './next/cache-handler', './next/use-cache-handler', './package.json', './session'])
  assert.equal(r.status, 0)
})

test('installed into a fresh app, every subpath loads from CommonJS and ESM', () => {
  const app = join(dir, 'app')
  run('mkdir', ['-p', app])
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }))
  const installed = run('npm', ['install', tarball, binding, 'keyv@^5.6.0', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline'], app)
  assert.equal(installed.status, 0, installed.out)
  const withoutPeer = run(process.execPath, ['-e', "require('tinykv/session')"], app)
  assert.notEqual(withoutPeer.status, 0)
  assert.match(withoutPeer.out, /tinykv\/session needs the express-session package, an optional peer dependency of tinykv: npm install express-session/)
  const peer = run('npm', ['install', 'express-session@^1', '--no-audit', '--no-fund', '--prefer-offline'], app)
  assert.equal(peer.status, 0, peer.out)
  writeFileSync(
    join(app, 'cjs.cjs'),
    `const main = require('tinykv'); const client = require('tinykv/client'); const ns = require('tinykv/namespaces')
     const { TinyKVStore } = require('tinykv/session')
     const { createKeyv } = require('tinykv/keyv')
     const next = require('tinykv/next'); const NextHandler = require('tinykv/next/cache-handler'); const useCache = require('tinykv/next/use-cache-handler')
     const kv = new main.TinyKV(); kv.set('a', '1')
     main.open().then(async (akv) => {
       await akv.set('k', 'v')
       const store = new TinyKVStore({ client: akv }); await store.set('sid', { cookie: {}, user: 'u' })
       const keyv = createKeyv(akv, { namespace: 'keyv' }); await keyv.set('k', { v: 1 })
       console.log(JSON.stringify({ sync: kv.get('a'), async: await akv.get('k'), backend: akv.backend,
         client: typeof client.TinyKVClient.connect, same: client.TinyKVClient === main.TinyKVClient,
         errors: client.TinyKVConnectionError === main.TinyKVConnectionError, key: ns.toRedisKey('sessions', 'x'),
         session: (await store.get('sid')).user, keyv: await keyv.get('k'),
         next: [typeof next.createCacheHandler, typeof next.createUseCacheHandler, typeof new NextHandler({}).revalidateTag, typeof useCache.updateTags] }))
       await akv.close()
     })`,
  )
  writeFileSync(
    join(app, 'esm.mjs'),
    `import { TinyKV, open, TinyKVConnectionError } from 'tinykv'
     import { TinyKVClient, TinyKVConnectionError as E2 } from 'tinykv/client'
     import { toRedisKey } from 'tinykv/namespaces'
     import { TinyKVStore } from 'tinykv/session'
     import { createKeyv } from 'tinykv/keyv'
     import { createCacheHandler, createUseCacheHandler } from 'tinykv/next'
     import NextHandler from 'tinykv/next/cache-handler'
     import useCache from 'tinykv/next/use-cache-handler'
     const kv = new TinyKV(); kv.set('a', '1')
     const akv = await open(); await akv.set('k', 'v')
     const store = new TinyKVStore({ client: akv }); await store.set('sid', { cookie: {}, user: 'u' })
     const keyv = createKeyv(akv, { namespace: 'keyv' }); await keyv.set('k', { v: 1 })
     console.log(JSON.stringify({ sync: kv.get('a'), async: await akv.get('k'), backend: akv.backend,
       client: typeof TinyKVClient.connect, same: true, errors: E2 === TinyKVConnectionError, key: toRedisKey('sessions', 'x'),
       session: (await store.get('sid')).user, keyv: await keyv.get('k'),
       next: [typeof createCacheHandler, typeof createUseCacheHandler, typeof new NextHandler({}).revalidateTag, typeof useCache.updateTags] }))
     await akv.close()`,
  )
  const expected = { sync: '1', async: 'v', backend: 'in-process', client: 'function', same: true, errors: true, key: 'sessions:x', session: 'u', keyv: { v: 1 }, next: ['function', 'function', 'function', 'function'] }
  for (const file of ['cjs.cjs', 'esm.mjs']) {
    const r = run(process.execPath, [file], app)
    assert.equal(r.status, 0, r.out)
    assert.deepEqual(JSON.parse(r.stdout), expected, file)
  }
})
