// KeyvTinyKV through Keyv, beyond what the anchor suite checks: what lands in the TinyKV store
// (namespace, key, TTL), that the store itself expires entries, the one-line constructions,
// disconnect's ownership rule, and the errors a bad setup gets. In-process and on the daemon.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import Keyv from 'keyv'
import { TinyKV, TinyKVConnectionError } from 'tinykv'
import { KeyvTinyKV, createKeyv } from 'tinykv/keyv'
import { eachBackend, until } from './helpers/keyv_backends.mjs'

const TTL = 60_000
const inTtl = (ms) => assert.ok(ms > TTL - 5_000 && ms <= TTL, `ttl ${ms} not within (${TTL - 5_000}, ${TTL}]`)

eachBackend((label, { kv, fresh, url }) => {
  test(`${label}: createKeyv stores the app's key in the TinyKV namespace, with Keyv's TTL as the entry's`, async () => {
    const ns = fresh()
    const keyv = createKeyv(kv(), { namespace: ns })
    assert.equal(await keyv.set('user:1', { name: 'Ada' }, TTL), true)
    assert.deepEqual(await keyv.get('user:1'), { name: 'Ada' })
    const store = kv().namespace(ns)
    assert.deepEqual(await store.keys(), ['user:1'], 'no Keyv prefix on the key')
    assert.equal(JSON.parse(await store.get('user:1')).value.name, 'Ada')
    inTtl(await store.ttl('user:1'))
    await keyv.set('forever', 1)
    assert.equal(await store.ttl('forever'), -1, 'no ttl, no TTL in the store')
  })

  test(`${label}: with Keyv's own prefix on, keys keep it and still land in the namespace`, async () => {
    const ns = fresh()
    const keyv = new Keyv({ store: new KeyvTinyKV(kv()), namespace: ns })
    await keyv.set('a', 'x')
    assert.deepEqual(await kv().namespace(ns).keys(), [`${ns}:a`])
    assert.deepEqual(await keyv.get('a'), 'x')
    const seen = []
    for await (const entry of keyv.iterator()) seen.push(entry)
    assert.deepEqual(seen, [['a', 'x']])
  })

  test(`${label}: an entry leaves the store itself when its TTL passes`, async () => {
    const ns = fresh()
    const keyv = createKeyv(kv(), { namespace: ns })
    await keyv.set('short', 'v', 100)
    assert.equal(await kv().namespace(ns).has('short'), true)
    await until('the entry to expire in the store', async () => !(await kv().namespace(ns).has('short')))
    assert.equal(await keyv.get('short'), undefined)
  })

  test(`${label}: a namespaced clear() leaves the other namespaces and the root alone`, async () => {
    const [a, b] = [fresh(), fresh()]
    const ka = createKeyv(kv(), { namespace: a })
    const kb = createKeyv(kv(), { namespace: b })
    const root = fresh()
    await kv().namespace(root).set('keep', '1')
    await ka.set('k', 1)
    await kb.set('k', 2)
    await ka.clear()
    assert.equal(await ka.get('k'), undefined)
    assert.equal(await kb.get('k'), 2)
    assert.equal(await kv().namespace(root).get('keep'), '1')
  })

  test(`${label}: getMany, setMany with TTLs per entry, hasMany, deleteMany, getRaw, iterator`, async () => {
    const ns = fresh()
    const keyv = createKeyv(kv(), { namespace: ns })
    await keyv.setMany([
      { key: 'a', value: 1, ttl: TTL },
      { key: 'b', value: 'two' },
      { key: 'c', value: [3], ttl: TTL },
    ])
    assert.deepEqual(await keyv.getMany(['a', 'b', 'missing', 'c']), [1, 'two', undefined, [3]])
    const store = kv().namespace(ns)
    inTtl(await store.ttl('a'))
    assert.equal(await store.ttl('b'), -1)
    inTtl(await store.ttl('c'))
    assert.deepEqual(await keyv.hasMany(['a', 'missing']), [true, false])
    const raw = await keyv.getRaw('a')
    assert.equal(raw.value, 1)
    assert.ok(raw.expires > Date.now() && raw.expires <= Date.now() + TTL, 'raw carries the absolute expiry')
    const seen = []
    for await (const entry of keyv.iterator()) seen.push(entry)
    assert.deepEqual(seen.sort(), [['a', 1], ['b', 'two'], ['c', [3]]])
    assert.equal(await keyv.delete(['a', 'missing']), true)
    assert.equal(await keyv.delete(['missing']), false)
    assert.deepEqual(await store.keys().then((k) => k.sort()), ['b', 'c'])
  })

  test(`${label}: one line from a URL (or none) opens the store, and disconnect() closes only what it opened`, async () => {
    const ns = fresh()
    const own = createKeyv(url(), { namespace: ns })
    await own.set('k', 'v')
    const opened = await own.store.ready()
    assert.equal(opened.backend, label === 'daemon' ? 'tinykv' : 'in-process')
    // On the daemon, the store it opened is the one the other clients see.
    assert.equal(await kv().namespace(ns).has('k'), label === 'daemon')
    await own.disconnect()
    await assert.rejects(opened.get('k'), 'the store it opened is closed')

    const shared = createKeyv(kv(), { namespace: ns })
    await shared.disconnect()
    assert.equal(await kv().namespace(ns).set('after', 'disconnect'), true, 'a store passed in stays open')
  })

  test(`${label}: a value that is not a string is refused with a TypeError that says why`, async () => {
    const keyv = createKeyv(kv(), { namespace: fresh(), serialize: undefined, deserialize: undefined })
    const errors = []
    keyv.on('error', (e) => errors.push(e))
    assert.equal(await keyv.set('k', { a: 1 }), false)
    assert.equal(errors.length, 1)
    assert.ok(errors[0] instanceof TypeError)
    assert.match(errors[0].message, /not a string.*serializer/)
    keyv.throwOnErrors = true
    await assert.rejects(keyv.set('k', { a: 1 }), TypeError)
    await assert.rejects(keyv.setMany([{ key: 'ok', value: 'fine' }, { key: 'bad', value: 1 }]), TypeError)
    assert.equal(await keyv.store.ready().then((s) => s.namespace(keyv.namespace).has('ok')), false, 'setMany wrote nothing')
  })
})

test('the sync TinyKV class serves Keyv too, and its views are namespaces', async () => {
  const kv = new TinyKV()
  const keyv = createKeyv(kv, { namespace: 'cache' })
  await keyv.set('k', 'v', TTL)
  assert.deepEqual(kv.namespace('cache').keys(), ['k'])
  inTtl(kv.namespace('cache').ttl('k'))
  const root = createKeyv(kv.namespace('mine'))
  await root.set('k', 'w')
  assert.equal(JSON.parse(kv.namespace('mine').get('k')).value, 'w', 'no namespace: the view given')
})

test('what KeyvTinyKV cannot use is a TypeError; a store that cannot open is an error event, then rejections', async () => {
  assert.throws(() => new KeyvTinyKV(42), /expected a TinyKV store, open\(\) options or a URL string, got number/)
  const keyv = createKeyv('unix:///nonexistent/tinykv.sock', { throwOnErrors: true })
  const errors = []
  keyv.on('error', (e) => errors.push(e))
  await assert.rejects(keyv.get('k'), TinyKVConnectionError)
  await until('the error event', () => errors.length > 0)
  assert.ok(errors[0] instanceof TinyKVConnectionError)
  keyv.throwOnErrors = false
  assert.equal(await keyv.get('k'), undefined, 'without throwOnErrors Keyv reads a failure as a miss')
  await keyv.disconnect()
})

test('the adapter keeps credentials out of opts', () => {
  const adapter = new KeyvTinyKV({ url: 'redis://user:secret@127.0.0.1:1', connectTimeout: 50 })
  adapter.on('error', () => {})
  assert.equal(adapter.opts.url, 'redis://127.0.0.1:1')
  assert.equal(adapter.opts.dialect, 'redis')
  return adapter.disconnect()
})
