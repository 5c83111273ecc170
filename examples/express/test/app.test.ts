// The example app through supertest, on the store TINYKV_URL names (in-process without it):
//   npm test                                              # in-process
//   TINYKV_URL=unix://$XDG_RUNTIME_DIR/tinykv.sock npm test  # a running `tinykv serve`
import { after, before, beforeEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import request from 'supertest'
import { open } from 'tinykv'
import type { AsyncTinyKV } from 'tinykv'
import { createApp } from '../src/app.js'
import { SESSION_COOKIE } from '../src/auth.js'
import { createCatalog } from '../src/catalog.js'

let kv: AsyncTinyKV
before(async () => {
  kv = await open({ url: process.env.TINYKV_URL })
})
after(() => kv.close())
// Each test starts from empty namespaces (a daemon may hold an earlier run's keys).
beforeEach(async () => {
  await kv.namespace('http-cache').clear()
  await kv.namespace('sessions').clear()
})

/** Polls `check` until true, at most 5 s (for a TTL to pass; never a timed assertion). */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await check()) return
    await delay(20)
  }
  assert.fail(`gave up waiting for ${what}`)
}

/** The session cookie of a response, as a Cookie header to send back. */
function sessionCookie(res: request.Response): string {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? [])
  const line = cookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`))
  assert.ok(line, `a ${SESSION_COOKIE} cookie in ${JSON.stringify(cookies)}`)
  return line.split(';')[0] as string
}

test('a product page: MISS, then a HIT with the same body and cache headers, then a MISS after the TTL', async () => {
  const catalog = createCatalog(5)
  const app = createApp({ kv, sessionSecret: 'test', cacheTtl: 1_500, catalog })
  const first = await request(app).get('/products/7').expect(200)
  assert.equal(first.headers['x-cache'], 'MISS')
  assert.equal(first.headers['cache-control'], 'public, max-age=1')
  assert.equal(first.headers['age'], '0')
  assert.equal(first.body.name, 'product 7')
  assert.equal(catalog.loads, 1)

  const second = await request(app).get('/products/7').expect(200)
  assert.equal(second.headers['x-cache'], 'HIT')
  assert.equal(second.text, first.text, 'the cached body, byte for byte')
  assert.equal(second.headers['content-type'], first.headers['content-type'])
  assert.equal(second.headers['cache-control'], 'public, max-age=1')
  assert.match(second.headers['age'] ?? '', /^\d+$/)
  assert.equal(catalog.loads, 1, 'the hit did not reach the catalog')
  const ttl = await kv.namespace('http-cache').ttl('/products/7')
  assert.ok(ttl > 0 && ttl <= 1_500, `cached under its URL with the TTL, got ${ttl}`)

  await until('the cached page to expire', async () => !(await kv.namespace('http-cache').has('/products/7')))
  const third = await request(app).get('/products/7').expect(200)
  assert.equal(third.headers['x-cache'], 'MISS')
  assert.equal(catalog.loads, 2)
  assert.notEqual(third.body.loadedAt, first.body.loadedAt, 'a fresh load')
})

test('only GETs answered 200 are cached, each URL on its own', async () => {
  const catalog = createCatalog(1)
  const app = createApp({ kv, sessionSecret: 'test', catalog })
  for (let i = 0; i < 2; i++) {
    const missing = await request(app).get('/products/5000').expect(404)
    assert.equal(missing.headers['x-cache'], 'MISS', 'a 404 is not cached')
  }
  assert.equal(catalog.loads, 2)
  await request(app).get('/products/1?view=full').expect(200)
  const other = await request(app).get('/products/1').expect(200)
  assert.equal(other.headers['x-cache'], 'MISS', 'another URL, another entry')
  assert.deepEqual((await kv.namespace('http-cache').keys()).sort(), ['/products/1', '/products/1?view=full'])
})

test('login sets a cookie, the next request finds the session, touch renews it, logout ends it', async () => {
  const app = createApp({ kv, sessionSecret: 'test', sessionMaxAge: 60_000 })
  const sessions = kv.namespace('sessions')
  await request(app).get('/me').expect(401)
  await request(app).post('/login').send({ username: 'no spaces allowed' }).expect(400)
  assert.equal(await sessions.size(), 0, 'no session without a login')

  const login = await request(app).post('/login').send({ username: 'ada' }).expect(200)
  assert.deepEqual(login.body, { user: 'ada' })
  const cookie = sessionCookie(login)
  const [sid] = await sessions.keys()
  assert.ok(sid, 'one session stored')
  assert.equal(JSON.parse((await sessions.get(sid)) ?? '{}').user, 'ada')

  const me = await request(app).get('/me').set('Cookie', cookie).expect(200)
  assert.equal(me.body.user, 'ada')
  await sessions.expire(sid, 2_000) // as if most of its life had passed
  await request(app).get('/me').set('Cookie', cookie).expect(200)
  const ttl = await sessions.ttl(sid)
  assert.ok(ttl > 2_000 && ttl <= 60_000, `the request renewed the session's TTL, got ${ttl}`)

  await request(app).post('/logout').set('Cookie', cookie).expect(200)
  assert.equal(await sessions.has(sid), false)
  await request(app).get('/me').set('Cookie', cookie).expect(401)
})

test('a session nobody uses expires with its cookie', async () => {
  const app = createApp({ kv, sessionSecret: 'test', sessionMaxAge: 300 })
  const login = await request(app).post('/login').type('form').send('username=grace').expect(200)
  const cookie = sessionCookie(login)
  await request(app).get('/me').set('Cookie', cookie).expect(200)
  await until('the session to expire', async () => (await kv.namespace('sessions').size()) === 0)
  await request(app).get('/me').set('Cookie', cookie).expect(401)
})

test('/metrics is Prometheus text with the store numbers', async () => {
  const app = createApp({ kv, sessionSecret: 'test', catalog: createCatalog(1) })
  await request(app).get('/products/3').expect(200)
  await request(app).get('/products/3').expect(200)
  const res = await request(app).get('/metrics').expect(200)
  assert.match(res.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/)
  const stats = await kv.stats()
  const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(res.text)?.[1])
  assert.equal(value('tinykv_namespace_keys{namespace="http-cache"}'), 1)
  assert.equal(value('tinykv_keys'), stats.keys)
  assert.ok(value('tinykv_sets_total') >= 1)
  assert.ok(value('tinykv_keyspace_hits_total') >= 1, 'the HIT counted')
  assert.equal(value('tinykv_keyspace_hits_total'), stats.hits, 'the same counter stats() reads')
  assert.match(res.text, /^# TYPE tinykv_keyspace_hits_total counter$/m)
})
