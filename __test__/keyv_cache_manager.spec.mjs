// cache-manager 7 and cacheable 2 on TinyKV, through Keyv and the KeyvTinyKV adapter, as their
// READMEs wire a Keyv store: wrap (one load, then hits), TTLs, mset/mget, del, and an entry
// expiring. In-process and on the daemon; what they write is checked in the TinyKV store.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createCache } from 'cache-manager'
import { Cacheable } from 'cacheable'
import { KeyvTinyKV, createKeyv } from 'tinykv/keyv'
import { eachBackend, until } from './helpers/keyv_backends.mjs'

const TTL = 60_000

eachBackend((label, { kv, fresh }) => {
  test(`${label}: cache-manager: wrap loads once, then answers from TinyKV until the TTL passes`, async () => {
    const ns = fresh()
    const cache = createCache({ stores: [createKeyv(kv(), { namespace: ns })] })
    let loads = 0
    const load = async () => ({ n: ++loads })
    assert.deepEqual(await cache.wrap('report', load, 150), { n: 1 })
    assert.deepEqual(await cache.wrap('report', load, 150), { n: 1 }, 'second call is a hit')
    assert.equal(loads, 1)
    assert.equal(JSON.parse(await kv().namespace(ns).get('report')).value.n, 1, 'the value is in TinyKV')
    await until('the wrapped entry to expire', async () => (await cache.get('report')) === undefined)
    assert.deepEqual(await cache.wrap('report', load, 150), { n: 2 }, 'loaded again after the TTL')
  })

  test(`${label}: cache-manager: set with a TTL, ttl(), mset/mget, del, clear`, async () => {
    const ns = fresh()
    const cache = createCache({ stores: [createKeyv(kv(), { namespace: ns })], ttl: TTL })
    await cache.set('a', 1)
    const expires = await cache.ttl('a')
    assert.ok(expires > Date.now() + TTL - 5_000 && expires <= Date.now() + TTL, `ttl() ${expires} is the default TTL from now`)
    const store = kv().namespace(ns)
    assert.ok((await store.ttl('a')) > TTL - 5_000, 'the store holds the TTL too')
    await cache.mset([
      { key: 'b', value: 'two' },
      { key: 'c', value: { three: 3 }, ttl: 1_000 },
    ])
    assert.deepEqual(await cache.mget(['a', 'b', 'c', 'missing']), [1, 'two', { three: 3 }, undefined])
    assert.ok((await store.ttl('c')) <= 1_000, 'mset carried the per-entry TTL')
    assert.equal(await cache.del('a'), true)
    assert.equal(await cache.get('a'), undefined)
    await cache.clear()
    assert.deepEqual(await store.keys(), [])
  })

  test(`${label}: cacheable: TinyKV as the secondary store behind the in-memory primary`, async () => {
    const ns = fresh()
    const secondary = () => createKeyv(kv(), { namespace: ns })
    const first = new Cacheable({ secondary: secondary(), ttl: TTL })
    await first.set('user:1', { name: 'Ada' })
    await first.setMany([
      { key: 'user:2', value: { name: 'Grace' } },
      { key: 'user:3', value: { name: 'Edsger' }, ttl: 150 },
    ])
    assert.deepEqual((await kv().namespace(ns).keys()).sort(), ['user:1', 'user:2', 'user:3'])
    // A second instance has an empty primary: what it reads comes from TinyKV.
    const second = new Cacheable({ secondary: secondary() })
    assert.deepEqual(await second.get('user:1'), { name: 'Ada' })
    assert.deepEqual(await second.getMany(['user:2', 'missing']), [{ name: 'Grace' }, undefined])
    let loads = 0
    const load = async () => ++loads
    assert.equal(await second.getOrSet('count', load, { ttl: TTL }), 1)
    assert.equal(await new Cacheable({ secondary: secondary() }).getOrSet('count', load), 1, 'a third instance finds it in TinyKV')
    assert.equal(loads, 1)
    await until('user:3 to expire in TinyKV', async () => !(await kv().namespace(ns).has('user:3')))
    assert.equal(await new Cacheable({ secondary: secondary() }).get('user:3'), undefined)
    assert.equal(await second.delete('user:1'), true)
    assert.equal(await kv().namespace(ns).has('user:1'), false)
  })

  test(`${label}: cacheable: an adapter given straight to Cacheable works as well`, async () => {
    const ns = fresh()
    const cache = new Cacheable({ secondary: new KeyvTinyKV(kv()), namespace: ns })
    await cache.set('k', 'v', TTL)
    assert.deepEqual(await kv().namespace(ns).keys(), [`${ns}:k`], "Keyv's prefix, in the namespace of the same name")
    assert.equal(await new Cacheable({ secondary: new KeyvTinyKV(kv()), namespace: ns }).get('k'), 'v')
  })
})
