// `tinykv/session`'s published declarations as an app sees them: a temp app whose node_modules
// link this package (resolved through its `exports`) and express-session with its types, an
// ESM TypeScript file using the store as the README does, compiled by strict tsc with library
// checks on; every `@ts-expect-error` line (misuse) must be an error.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
let app

const usage = `
import express from 'express'
import session from 'express-session'
import type { SessionData } from 'express-session'
import { open, TinyKV } from 'tinykv'
import { DEFAULT_TTL, TinyKVStore } from 'tinykv/session'
import type { Serializer, StoredSession, TinyKVStoreOptions } from 'tinykv/session'

declare module 'express-session' {
  interface SessionData {
    user: string
  }
}

const kv = await open({ url: process.env.TINYKV_URL })
const store = new TinyKVStore({ client: kv, ttl: (s) => (s.user === 'admin' ? 60_000 : DEFAULT_TTL) })
const options: TinyKVStoreOptions = { client: new TinyKV(), namespace: 'web', prefix: 'app1:', disableTouch: true, disableTTL: false, serializer: JSON }
const serializer: Serializer = { stringify: (s) => JSON.stringify(s), parse: async (t) => JSON.parse(t) as SessionData }
new TinyKVStore({ ...options, serializer })

const app = express()
app.use(session({ store, secret: 's', resave: false, saveUninitialized: false }))
app.get('/', (req, res) => {
  res.send(req.session.user ?? 'nobody')
})

// Promises without a callback, typed by what they hold.
const found: SessionData | null = await store.get('sid')
const user: string | undefined = found?.user
const all: StoredSession[] = await store.all()
const ids: string[] = all.map((s) => s.id)
const n: number = await store.length()
const more: string[] = await store.ids()
await store.set('sid', { cookie: new session.Cookie(), user: 'ada' })
await store.touch('sid', { cookie: new session.Cookie(), user: 'ada' })
await store.destroy('sid')
await store.clear()
// Callbacks, as express-session calls them.
store.get('sid', (err: unknown, s?: SessionData | null) => void [err, s?.user])
store.length((err, count) => void [err, count])
const viaCallback: void = await store.all((err, sessions) => void [err, sessions?.[0]?.id])
void [user, ids, n, more, viaCallback]

// @ts-expect-error ttl is milliseconds or a function of the session, not a string
new TinyKVStore({ client: kv, ttl: '1d' })
// @ts-expect-error connect-redis's scanCount is no option here
new TinyKVStore({ client: kv, scanCount: 100 })
// @ts-expect-error a client is required
new TinyKVStore({ prefix: 'x' })
// @ts-expect-error a client is a TinyKV store, not a Redis client or a URL
new TinyKVStore({ client: 'redis://localhost' })
// @ts-expect-error a serializer needs parse too
new TinyKVStore({ client: kv, serializer: { stringify: JSON.stringify } })
// @ts-expect-error the namespace handle is read-only
store.kv = kv
`

before(() => {
  app = mkdtempSync(join(tmpdir(), 'tinykv-session-types-'))
  const modules = join(app, 'node_modules')
  mkdirSync(join(modules, '@types'), { recursive: true })
  symlinkSync(root, join(modules, 'tinykv'))
  for (const pkg of ['express', 'express-session']) symlinkSync(join(root, 'node_modules', pkg), join(modules, pkg))
  for (const pkg of readdirSync(join(root, 'node_modules', '@types'))) symlinkSync(join(root, 'node_modules', '@types', pkg), join(modules, '@types', pkg))
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
      files: ['usage.mts'],
    }),
  )
  writeFileSync(join(app, 'usage.mts'), usage)
})
after(() => rmSync(app, { recursive: true, force: true }))

test('tinykv/session type-checks as an app writes it, and misuse is a type error', () => {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], { encoding: 'utf8' })
  assert.equal(r.stdout + r.stderr, '', 'tsc reports no errors (and no unused @ts-expect-error)')
  assert.equal(r.status, 0)
})
