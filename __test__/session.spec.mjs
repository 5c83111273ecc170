// `tinykv/session`'s TinyKVStore against express-session's Store contract (after connect-redis's
// own lifecycle test), on every store it runs on: the synchronous TinyKV class, open()'s
// in-process store, a real `tinykv serve` and a real redis-server (both started here on
// loopback). Each backend is read back through a handle of its own, not through the store.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { Cookie } from 'express-session'
import { open, TinyKV } from 'tinykv'
import { DEFAULT_TTL, TinyKVStore } from 'tinykv/session'
import { startDaemon, startRedis } from './helpers/servers.mjs'

const DAY = 86_400_000

/** Each backend: `open()` makes a fresh client (`store` takes it) and a `peek` handle on `ns`. */
const backends = {
  'TinyKV class': {
    async open() {
      const kv = new TinyKV()
      const peek = (ns) => {
        const h = kv.namespace(ns)
        return { get: async (k) => h.get(k), set: async (k, v) => h.set(k, v), ttl: async (k) => h.ttl(k), expire: async (k, t) => h.expire(k, t), size: async () => h.size }
      }
      return { client: kv, peek, close: async () => kv.close() }
    },
  },
  'open() in-process': {
    async open() {
      const kv = await open()
      return { client: kv, peek: (ns) => kv.namespace(ns), close: () => kv.close() }
    },
  },
  daemon: {
    server: () => startDaemon(),
    url: (d) => `unix://${d.sock}`,
  },
  'redis-server': {
    server: () => startRedis(),
    url: (r) => `redis://127.0.0.1:${r.port}`,
  },
}

/** A session as express-session stores it, expiring `ms` from now (no expiry without `ms`). */
function session(fields = {}, ms) {
  const cookie = new Cookie({ maxAge: ms ?? null })
  return { cookie, ...fields }
}

/** `value` through JSON, as the store hands a session back. */
const json = (value) => JSON.parse(JSON.stringify(value))

/** Polls `check` until true, at most 5 s (for TTLs to pass; never a timed assertion). */
async function until(what, check) {
  for (let i = 0; i < 250; i++) {
    if (await check()) return
    await delay(20)
  }
  assert.fail(`gave up waiting for ${what}`)
}

for (const [name, backend] of Object.entries(backends)) {
  describe(`TinyKVStore on ${name}`, () => {
    let server, env
    const clients = []
    /** A fresh client on this backend, closed after the suite. */
    const connect = async () => {
      const c = backend.open ? await backend.open() : await (async () => {
        const kv = await open({ url: backend.url(server) })
        return { client: kv, peek: (ns) => kv.namespace(ns), close: () => kv.close() }
      })()
      clients.push(c)
      return c
    }
    before(async () => {
      if (backend.server) server = await backend.server()
      env = await connect()
    })
    after(async () => {
      for (const c of clients) await c.close()
      await server?.stop()
    })
    const fresh = async (options = {}) => {
      const store = new TinyKVStore({ client: env.client, ...options })
      await store.clear()
      return store
    }

    test(`${name}: defaults are connect-redis's, in milliseconds and a namespace`, async () => {
      const store = new TinyKVStore({ client: env.client })
      assert.equal(store.namespace, 'sessions')
      assert.equal(store.prefix, '')
      assert.equal(store.ttl, DAY)
      assert.equal(DEFAULT_TTL, DAY)
      assert.equal(store.serializer, JSON)
      assert.equal(store.disableTTL, false)
      assert.equal(store.disableTouch, false)
      assert.equal(store.kv.namespaceName, 'sessions')
    })

    test(`${name}: the lifecycle: set, get, TTLs, touch, length, ids, all, destroy, clear`, async () => {
      const store = await fresh()
      const raw = env.peek('sessions')
      const a = session({ foo: 'bar' })
      await store.set('123', a)
      assert.deepEqual(await store.get('123'), json(a))
      assert.equal(await raw.get('123'), JSON.stringify(a), 'stored under the sid in the sessions namespace, as JSON')
      let ttl = await raw.ttl('123')
      assert.ok(ttl > DAY - 60_000 && ttl <= DAY, `no cookie expiry: the default TTL, got ${ttl}`)

      const b = session({}, 60_000)
      await store.set('456', b)
      const bStored = json(b)
      ttl = await raw.ttl('456')
      assert.ok(ttl > 0 && ttl <= 60_000, `the cookie's expiry, got ${ttl}`)
      b.cookie.maxAge = 90_000 // what express-session does on each request: expires = now + maxAge
      await store.touch('456', b)
      ttl = await raw.ttl('456')
      assert.ok(ttl > 60_000 && ttl <= 90_000, `touch reset the TTL from the cookie, got ${ttl}`)
      assert.deepEqual(await store.get('456'), bStored, 'touch changes the TTL only, not the data')

      assert.equal(await store.length(), 2)
      assert.deepEqual((await store.ids()).sort(), ['123', '456'])
      const all = (await store.all()).sort((x, y) => x.id.localeCompare(y.id))
      assert.deepEqual(all, [{ id: '123', ...json(a) }, { id: '456', ...bStored }])

      await store.destroy('456')
      assert.equal(await store.get('456'), null)
      assert.equal(await store.length(), 1)
      await store.destroy('456') // a missing session is no error
      await store.clear()
      assert.equal(await store.length(), 0)
      assert.equal(await store.get('123'), null)
    })

    test(`${name}: all() and length() over more sessions than one batch`, async () => {
      const store = await fresh()
      const n = 1500
      await Promise.all(Array.from({ length: n }, (_, i) => store.set(`s${i}`, session({ n: i }, 60_000))))
      assert.equal(await store.length(), n)
      const all = await store.all()
      assert.equal(all.length, n)
      assert.deepEqual(all.map((s) => s.n).sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i))
      assert.ok(all.every((s) => s.id === `s${s.n}`))
      await store.clear()
      assert.equal(await store.length(), 0)
    })

    test(`${name}: a session set past its expiry, or touched past it, is removed`, async () => {
      const store = await fresh()
      await store.set('789', session({}, 60_000))
      assert.equal(await store.length(), 1)
      const past = session({})
      past.cookie.expires = new Date(Date.now() - 1000)
      await store.set('789', past)
      assert.equal(await store.get('789'), null)
      assert.equal(await store.length(), 0)
      await store.set('790', session({}, 60_000))
      await store.touch('790', past)
      assert.equal(await store.get('790'), null)
    })

    test(`${name}: an expired session is gone from the store by itself`, async () => {
      const store = await fresh()
      await store.set('short', session({ user: 'u' }, 200))
      assert.equal((await store.get('short')).user, 'u')
      await until('the session to expire', async () => (await store.get('short')) === null)
      assert.equal(await env.peek('sessions').get('short'), undefined)
      assert.equal(await store.length(), 0)
    })

    test(`${name}: only this store's sessions: other namespaces and other prefixes are untouched`, async () => {
      const store = await fresh()
      const appA = new TinyKVStore({ client: env.client, prefix: 'a*[' }) // glob characters match literally
      const appB = new TinyKVStore({ client: env.client, prefix: 'b:' })
      const other = env.peek('cache')
      await other.set('page', 'kept')
      await env.peek('sessions').set('a-lookalike', 'kept')
      await appA.set('1', session({ app: 'a' }))
      await appA.set('2', session({ app: 'a' }))
      await appB.set('1', session({ app: 'b' }))
      assert.equal(await env.peek('sessions').get('a*[1'), JSON.stringify(session({ app: 'a' })), 'the prefix is part of the key')
      assert.equal(await appA.length(), 2)
      assert.equal(await appB.length(), 1)
      assert.deepEqual((await appA.ids()).sort(), ['1', '2'])
      assert.deepEqual((await appA.all()).map((s) => s.app), ['a', 'a'])
      assert.equal((await appB.get('1')).app, 'b')
      await appA.clear()
      assert.equal(await appA.length(), 0)
      assert.equal((await appB.get('1')).app, 'b', "another prefix's sessions survive clear()")
      assert.equal(await env.peek('sessions').get('a-lookalike'), 'kept')
      assert.equal(await store.length(), 2, 'the prefix-less store sees the whole namespace')
      await store.clear()
      assert.equal(await other.get('page'), 'kept', "another namespace's keys survive clear()")
    })

    test(`${name}: the ttl option: a number of ms, and a function that overrides the cookie`, async () => {
      const store = await fresh({ ttl: 120_000 })
      const raw = env.peek('sessions')
      await store.set('n', session({}))
      let ttl = await raw.ttl('n')
      assert.ok(ttl > 60_000 && ttl <= 120_000, `ttl option, got ${ttl}`)
      const byUser = await fresh({ ttl: (s) => (s.remember ? 30 * DAY : 3_600_000) })
      await byUser.set('r', session({ remember: true }, 60_000))
      await byUser.set('f', session({ remember: false }, 60_000))
      ttl = await raw.ttl('r')
      assert.ok(ttl > 29 * DAY && ttl <= 30 * DAY, `function form, got ${ttl}`)
      ttl = await raw.ttl('f')
      assert.ok(ttl > 3_000_000 && ttl <= 3_600_000, `function form, got ${ttl}`)
      await raw.expire('f', 1000)
      await byUser.touch('f', session({ remember: false }))
      ttl = await raw.ttl('f')
      assert.ok(ttl > 3_000_000, `touch uses the function too, got ${ttl}`)
      const none = await fresh({ ttl: () => 0 })
      await none.set('z', session({}))
      assert.equal(await none.get('z'), null, 'a function answering 0 stores nothing')
    })

    test(`${name}: disableTTL stores no TTL and disableTouch leaves the TTL alone`, async () => {
      const raw = env.peek('sessions')
      const noTtl = await fresh({ disableTTL: true })
      await noTtl.set('p', session({}, 60_000))
      assert.equal(await raw.ttl('p'), -1)
      await noTtl.touch('p', session({}, 60_000))
      assert.equal(await raw.ttl('p'), -1, 'touch sets none either')
      const noTouch = await fresh({ disableTouch: true })
      await noTouch.set('q', session({}, 60_000))
      await raw.expire('q', 5_000)
      await noTouch.touch('q', session({}, 60_000))
      const ttl = await raw.ttl('q')
      assert.ok(ttl > 0 && ttl <= 5_000, `touch changed nothing, got ${ttl}`)
    })

    test(`${name}: a custom serializer, with an async parse`, async () => {
      const serializer = {
        stringify: (s) => Buffer.from(JSON.stringify(s)).toString('base64'),
        parse: async (text) => JSON.parse(Buffer.from(text, 'base64').toString()),
      }
      const store = await fresh({ serializer })
      const s = session({ user: 'ümlaut ✓' }, 60_000)
      await store.set('b64', s)
      assert.equal(await env.peek('sessions').get('b64'), Buffer.from(JSON.stringify(s)).toString('base64'))
      assert.deepEqual(await store.get('b64'), json(s))
      assert.deepEqual((await store.all()).map((x) => x.user), ['ümlaut ✓'])
    })

    test(`${name}: errors go to the callback, never thrown; without one the Promise rejects`, async () => {
      const store = await fresh()
      await env.peek('sessions').set('bad', '{not json')
      // Callback style, as express-session calls it: called once, asynchronously, with the error.
      const calls = []
      let returned = false
      const p = store.get('bad', (err, value) => calls.push({ err, value, returned }))
      returned = true
      assert.equal(await p, undefined, 'with a callback the Promise resolves, whatever happened')
      assert.equal(calls.length, 1)
      assert.ok(calls[0].err instanceof SyntaxError)
      assert.equal(calls[0].returned, true, 'the callback runs after the call returned')
      await assert.rejects(store.get('bad'), SyntaxError)

      const throwing = await fresh({ serializer: { stringify: () => { throw new Error('cannot encode') }, parse: JSON.parse } })
      const err = await new Promise((resolve) => throwing.set('x', session({}), resolve))
      assert.equal(err.message, 'cannot encode')
      const notString = await fresh({ serializer: { stringify: () => 42, parse: JSON.parse } })
      await assert.rejects(notString.set('x', session({})), /serializer\.stringify must return a string, got number/)
      const badTtl = await fresh({ ttl: () => 'soon' })
      await assert.rejects(badTtl.set('x', session({})), /options\.ttl\(session\) must return a number of milliseconds, got string/)
      assert.equal(await store.length(), 0, 'nothing was stored by the failed writes')

      // A found session and a missing one, through the callback.
      await store.set('ok', session({ user: 'u' }))
      assert.deepEqual(await new Promise((resolve, reject) => store.get('ok', (e, v) => (e ? reject(e) : resolve(v)))), json(session({ user: 'u' })))
      assert.equal(await new Promise((resolve, reject) => store.get('missing', (e, v) => (e ? reject(e) : resolve(v)))), null)
      assert.equal(await new Promise((resolve, reject) => store.length((e, v) => (e ? reject(e) : resolve(v)))), 1)
      assert.equal((await store.get('ok', null)).user, 'u', 'a null callback is no callback')
      await assert.rejects(store.get('ok', 'cb'), /TinyKVStore: callback must be a function, got string/)
    })

    test(`${name}: a closed store's error reaches the callback`, async () => {
      const own = await connect()
      const store = new TinyKVStore({ client: own.client })
      await own.close()
      const err = await new Promise((resolve) => store.get('x', resolve))
      assert.ok(err instanceof Error)
      assert.match(err.message, /closed/)
      await assert.rejects(store.set('x', session({})), /closed/)
    })
  })
}

describe('TinyKVStore options', () => {
  const kv = new TinyKV()
  after(() => kv.close())

  test('bad options are a TypeError or RangeError naming the option', () => {
    const cases = [
      [undefined, TypeError, /options must be an object with a client/],
      [{}, TypeError, /options\.client must be a TinyKV or the AsyncTinyKV that open\(\) resolves to, got undefined/],
      [{ client: new Map() }, TypeError, /options\.client must be/],
      [{ client: kv, ttl: '1d' }, TypeError, /options\.ttl must be a number of milliseconds or a function of the session, got string/],
      [{ client: kv, ttl: 0 }, RangeError, /options\.ttl must be a positive, finite number of milliseconds, got 0/],
      [{ client: kv, ttl: Infinity }, RangeError, /options\.ttl must be a positive, finite/],
      [{ client: kv, namespace: 3 }, TypeError, /options\.namespace must be a string, got number/],
      [{ client: kv, namespace: 'two words' }, RangeError, /options\.namespace: .*whitespace/],
      [{ client: kv, namespace: '' }, RangeError, /options\.namespace: .*empty/],
      [{ client: kv, prefix: null }, TypeError, /options\.prefix must be a string, got null/],
      [{ client: kv, prefix: '\uD800' }, TypeError, /options\.prefix is not well-formed UTF-16/],
      [{ client: kv, disableTTL: 'yes' }, TypeError, /options\.disableTTL must be a boolean, got string/],
      [{ client: kv, disableTouch: 1 }, TypeError, /options\.disableTouch must be a boolean, got number/],
      [{ client: kv, serializer: JSON.stringify }, TypeError, /options\.serializer must be an object with stringify\(session\) and parse\(text\) functions/],
      [{ client: kv, scanCount: 100 }, TypeError, /unknown option 'scanCount' \(known: client, namespace, prefix, ttl, disableTTL, disableTouch, serializer\)/],
    ]
    for (const [options, type, message] of cases) {
      assert.throws(() => new TinyKVStore(options), (err) => err instanceof type && message.test(err.message), String(message))
    }
  })

  test('a namespace handle, another namespace and a prefix', async () => {
    const store = new TinyKVStore({ client: kv.namespace('other'), namespace: 'web-sessions', prefix: 'app1:' })
    assert.equal(store.kv.namespaceName, 'web-sessions', 'the namespace option names the namespace, whatever handle is given')
    await store.set('s', session({ v: 1 }))
    assert.equal(kv.namespace('web-sessions').get('app1:s'), JSON.stringify(session({ v: 1 })))
    assert.equal(kv.namespace('other').size, 0)
  })
})
