// TinyKVStore under real express-session in real Express apps, driven by supertest: a login sets
// the cookie, a second request finds the session, an unchanged session's request touches it
// (its TTL back to the cookie's maxAge), logout destroys it, and an expired one is gone. On the
// synchronous class, open()'s in-process store and a real `tinykv serve`; then two Express apps,
// each with its own connection, sharing sessions through one daemon.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import express from 'express'
import session from 'express-session'
import request from 'supertest'
import { open, TinyKV } from 'tinykv'
import { TinyKVStore } from 'tinykv/session'
import { startDaemon } from './helpers/servers.mjs'

const SECRET = 'session-spec-secret'
const MAX_AGE = 60_000

/** An app with a session login flow on `store`; /login answers the new session's id. */
function makeApp(store, maxAge = MAX_AGE) {
  const app = express()
  app.use(express.json())
  app.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false, cookie: { maxAge } }))
  app.post('/login', (req, res, next) => {
    // A fresh id on login, so a session id planted before it is worth nothing after.
    req.session.regenerate((err) => {
      if (err) return next(err)
      req.session.user = req.body.user
      res.json({ user: req.session.user, sid: req.sessionID })
    })
  })
  app.get('/me', (req, res) => {
    if (!req.session.user) return res.status(401).json({ error: 'not logged in' })
    res.json({ user: req.session.user, sid: req.sessionID })
  })
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.clearCookie('connect.sid').json({ ok: true })))
  })
  return app
}

/** The `connect.sid=...` pair of a response's Set-Cookie, to send back as a Cookie header. */
function sessionCookie(res) {
  const line = (res.headers['set-cookie'] ?? []).find((c) => c.startsWith('connect.sid='))
  assert.ok(line, `a connect.sid cookie in ${JSON.stringify(res.headers['set-cookie'])}`)
  return line.split(';')[0]
}

/** Polls `check` until true, at most 5 s (for a TTL to pass; never a timed assertion). */
async function until(what, check) {
  for (let i = 0; i < 250; i++) {
    if (await check()) return
    await delay(20)
  }
  assert.fail(`gave up waiting for ${what}`)
}

/** Counts `store.touch` calls (the real method still runs). */
function countTouches(store) {
  const calls = []
  const touch = store.touch.bind(store)
  store.touch = (sid, sess, cb) => {
    calls.push(sid)
    return touch(sid, sess, cb)
  }
  return calls
}

/** Login, find, touch, logout on one app whose store is on `client`; `raw` reads the sessions namespace. */
async function loginFlow(client, raw) {
  const store = new TinyKVStore({ client })
  await store.clear()
  const touches = countTouches(store)
  const app = makeApp(store)

  const login = await request(app).post('/login').send({ user: 'alice' }).expect(200)
  const { sid } = login.body
  assert.equal(login.body.user, 'alice')
  const cookie = sessionCookie(login)
  assert.match(decodeURIComponent(cookie), new RegExp(`^connect\\.sid=s:${sid}\\.`), 'the cookie carries the session id, signed')
  assert.equal(JSON.parse(await raw.get(sid)).user, 'alice', 'the session is in the sessions namespace under its id')
  assert.equal(await store.length(), 1)

  const me = await request(app).get('/me').set('Cookie', cookie).expect(200)
  assert.deepEqual(me.body, { user: 'alice', sid }, 'a second request finds the session')
  await request(app).get('/me').expect(401)

  // As if most of the session's life had passed: a request that changes nothing touches it.
  await raw.expire(sid, 2_000)
  const before = touches.length
  await request(app).get('/me').set('Cookie', cookie).expect(200)
  assert.equal(touches.length, before + 1, 'express-session called touch')
  const ttl = await raw.ttl(sid)
  assert.ok(ttl > 2_000 && ttl <= MAX_AGE, `touch put the TTL back to the cookie's maxAge, got ${ttl}`)

  const out = await request(app).post('/logout').set('Cookie', cookie).expect(200)
  assert.match(out.headers['set-cookie'].join(), /connect\.sid=;/, 'logout clears the cookie')
  assert.equal(await raw.get(sid), undefined, 'logout destroyed the session')
  assert.equal(await store.length(), 0)
  await request(app).get('/me').set('Cookie', cookie).expect(401)
}

/** A session whose cookie lives 300 ms: gone from the store by itself, then not found. */
async function expiryFlow(client, raw) {
  const app = makeApp(new TinyKVStore({ client }), 300)
  const login = await request(app).post('/login').send({ user: 'bob' }).expect(200)
  const cookie = sessionCookie(login)
  assert.ok((await raw.ttl(login.body.sid)) <= 300)
  await until('the session to expire', async () => (await raw.get(login.body.sid)) === undefined)
  await request(app).get('/me').set('Cookie', cookie).expect(401)
}

describe('express-session on the synchronous TinyKV class', () => {
  const kv = new TinyKV()
  const ns = kv.namespace('sessions')
  const raw = { get: async (k) => ns.get(k), ttl: async (k) => ns.ttl(k), expire: async (k, t) => ns.expire(k, t) }
  after(() => kv.close())
  test('class: login, find, touch, logout', () => loginFlow(kv, raw))
  test('class: an expired session is gone', () => expiryFlow(kv, raw))
})

describe("express-session on open()'s in-process store", () => {
  let kv
  before(async () => {
    kv = await open()
  })
  after(() => kv.close())
  test('in-process: login, find, touch, logout', () => loginFlow(kv, kv.namespace('sessions')))
  test('in-process: an expired session is gone', () => expiryFlow(kv, kv.namespace('sessions')))
})

describe('express-session on the daemon', () => {
  let daemon, kv
  before(async () => {
    daemon = await startDaemon()
    kv = await open({ url: `unix://${daemon.sock}` })
  })
  after(async () => {
    await kv?.close()
    await daemon?.stop()
  })
  test('daemon: login, find, touch, logout', () => loginFlow(kv, kv.namespace('sessions')))
  test('daemon: an expired session is gone', () => expiryFlow(kv, kv.namespace('sessions')))

  test('daemon: two Express apps, each with its own connection, share sessions', async () => {
    // Two processes' worth of state: separate clients (one over the socket, one over TCP).
    const a = await open({ url: `unix://${daemon.sock}` })
    const b = await open({ url: `redis://127.0.0.1:${daemon.port}` })
    try {
      const storeA = new TinyKVStore({ client: a })
      const storeB = new TinyKVStore({ client: b })
      await storeA.clear()
      const touchesB = countTouches(storeB)
      const appA = makeApp(storeA)
      const appB = makeApp(storeB)
      const login = await request(appA).post('/login').send({ user: 'carol' }).expect(200)
      const cookie = sessionCookie(login)
      const me = await request(appB).get('/me').set('Cookie', cookie).expect(200)
      assert.deepEqual(me.body, { user: 'carol', sid: login.body.sid }, 'app B finds the session app A made')
      assert.equal(touchesB.length, 1, "app B's request touched it")
      assert.equal(await storeB.length(), 1)
      await request(appB).post('/logout').set('Cookie', cookie).expect(200)
      await request(appA).get('/me').set('Cookie', cookie).expect(401)
      assert.equal(await storeA.length(), 0, 'logout on B destroyed it for A')
    } finally {
      await a.close()
      await b.close()
    }
  })
})
