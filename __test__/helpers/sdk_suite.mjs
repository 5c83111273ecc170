// The shared AsyncTinyKV suite: the same calls with the same expected answers, run by
// sdk_*.spec.mjs against every backend (in-process, the TinyKV daemon, redis-server, a Redis
// Cluster). Each test works in a namespace of its own, so backends whose root view differs
// (on Redis the root is the whole database) answer alike. TTLs are compared within a tolerance:
// the remote clocks run on their own.
import { test } from 'node:test'
import assert from 'node:assert/strict'

const TTL = 60_000
const inTtl = (ms, ttl = TTL) => assert.ok(ms > ttl - 5_000 && ms <= ttl, `ttl ${ms} not within (${ttl - 5_000}, ${ttl}]`)

/** Defines the suite; `kv()` returns the root handle opened by the spec's `before`. */
let n = 0
export function sharedSuite(label, kv) {
  const fresh = () => kv().namespace(`t${process.pid}_${++n}`)

  test(`${label}: get, set, getBuffer, has, delete`, async () => {
    const s = fresh()
    assert.equal(await s.set('k', 'v1'), true)
    assert.equal(await s.get('k'), 'v1')
    assert.deepEqual(await s.getBuffer('k'), Buffer.from('v1'))
    assert.equal(await s.get('missing'), undefined)
    assert.equal(await s.getBuffer('missing'), undefined)
    assert.equal(await s.has('k'), true)
    assert.equal(await s.has('missing'), false)
    assert.equal(await s.delete('k'), true)
    assert.equal(await s.delete('k'), false)
    assert.equal(await s.get('k'), undefined)
  })

  test(`${label}: values: strings, numbers, Buffers, typed arrays, UTF-8`, async () => {
    const s = fresh()
    await s.set('n', 42)
    assert.equal(await s.get('n'), '42')
    const bytes = Buffer.from([0xff, 0x00, 0x80, 0x0a])
    await s.set('b', bytes)
    assert.deepEqual(await s.getBuffer('b'), bytes)
    await s.set('u8', new Uint8Array([1, 2, 3]))
    assert.deepEqual(await s.getBuffer('u8'), Buffer.from([1, 2, 3]))
    await s.set('utf8', 'héllo ✓ 😀')
    assert.equal(await s.get('utf8'), 'héllo ✓ 😀')
    await s.set('empty', '')
    assert.equal(await s.get('empty'), '')
  })

  test(`${label}: set options: nx, xx, ttl, keepTtl`, async () => {
    const s = fresh()
    assert.equal(await s.set('k', 'a', { xx: true }), false)
    assert.equal(await s.get('k'), undefined)
    assert.equal(await s.set('k', 'a', { nx: true, ttl: TTL }), true)
    assert.equal(await s.set('k', 'b', { nx: true }), false)
    assert.equal(await s.get('k'), 'a')
    inTtl(await s.ttl('k'))
    assert.equal(await s.set('k', 'c', { xx: true, keepTtl: true }), true)
    assert.equal(await s.get('k'), 'c')
    inTtl(await s.ttl('k'))
    assert.equal(await s.set('k', 'd'), true)
    assert.equal(await s.ttl('k'), -1, 'a plain set clears the TTL')
    assert.equal(await s.ttl('missing'), -2)
  })

  test(`${label}: expire and persist`, async () => {
    const s = fresh()
    assert.equal(await s.expire('missing', 1000), false)
    await s.set('k', 'v')
    assert.equal(await s.persist('k'), false, 'no TTL to remove')
    assert.equal(await s.expire('k', TTL), true)
    inTtl(await s.ttl('k'))
    assert.equal(await s.persist('k'), true)
    assert.equal(await s.ttl('k'), -1)
    assert.equal(await s.persist('missing'), false)
  })

  test(`${label}: incr and decr, with number and bigint steps`, async () => {
    const s = fresh()
    assert.equal(await s.incr('c'), 1)
    assert.equal(await s.incr('c', 41), 42)
    assert.equal(await s.decr('c'), 41)
    assert.equal(await s.decr('c', 50), -9)
    const big = await s.incr('c', 2n ** 62n)
    assert.equal(typeof big, 'bigint')
    assert.equal(big, 2n ** 62n - 9n)
    assert.equal(await s.decr('c', 2n ** 62n), -9n)
    assert.equal(await s.get('c'), '-9')
    await s.set('text', 'abc')
    await assert.rejects(s.incr('text'), /value is not an integer or out of range/)
    assert.equal(await s.get('text'), 'abc')
  })

  test(`${label}: JSON`, async () => {
    const s = fresh()
    const doc = { a: 1, b: [true, null, 'x'], c: { d: 'é' } }
    assert.equal(await s.setJSON('j', doc, { ttl: TTL }), true)
    assert.deepEqual(await s.getJSON('j'), doc)
    inTtl(await s.ttl('j'))
    assert.equal(await s.getJSON('missing'), undefined)
    await s.set('notjson', '{')
    await assert.rejects(s.getJSON('notjson'), SyntaxError)
  })

  test(`${label}: mget and mset`, async () => {
    const s = fresh()
    await s.mset([['a', '1'], ['b', 2]])
    await s.mset({ c: 'three', d: Buffer.from('four') })
    assert.deepEqual(await s.mget(['a', 'b', 'nope', 'c', 'd']), ['1', '2', undefined, 'three', 'four'])
    assert.deepEqual(await s.mget([]), [])
    await s.mset([['t1', 'x'], ['t2', 'y']], { ttl: TTL })
    inTtl(await s.ttl('t1'))
    inTtl(await s.ttl('t2'))
    const many = Array.from({ length: 200 }, (_, i) => [`m${i}`, `v${i}`])
    await s.mset(many)
    assert.deepEqual(await s.mget(many.map(([k]) => k)), many.map(([, v]) => v))
  })

  test(`${label}: keys, size and clear of a namespace; namespaces are separate`, async () => {
    const a = fresh()
    const b = fresh()
    assert.equal(a.namespaceName.startsWith('t'), true)
    await a.mset({ 'user:1': 'x', 'user:2': 'y', 'order:1': 'z', 'we*rd?': 'w' })
    await b.set('user:1', 'other')
    assert.deepEqual((await a.keys()).sort(), ['order:1', 'user:1', 'user:2', 'we*rd?'])
    assert.deepEqual((await a.keys('user:*')).sort(), ['user:1', 'user:2'])
    assert.deepEqual(await a.keys('we\\*rd\\?'), ['we*rd?'])
    assert.equal(await a.size(), 4)
    assert.equal(await b.size(), 1)
    assert.equal(await b.get('user:1'), 'other')
    assert.equal(await a.get('user:1'), 'x')
    await a.clear()
    assert.equal(await a.size(), 0)
    assert.deepEqual(await a.keys(), [])
    assert.equal(await b.get('user:1'), 'other', 'clear leaves other namespaces alone')
    const again = kv().namespace(b.namespaceName)
    assert.equal(await again.get('user:1'), 'other', 'a second handle on a namespace sees its keys')
  })

  test(`${label}: getOrSet loads once for concurrent callers`, async () => {
    const s = fresh()
    let calls = 0
    let release
    const gate = new Promise((r) => (release = r))
    const loader = async () => {
      calls++
      await gate
      return `loaded${calls}`
    }
    const waiting = Array.from({ length: 20 }, () => s.getOrSet('g', loader, { ttl: TTL }))
    release()
    assert.deepEqual(await Promise.all(waiting), Array(20).fill('loaded1'))
    assert.equal(calls, 1)
    assert.equal(await s.get('g'), 'loaded1')
    inTtl(await s.ttl('g'))
    assert.equal(await s.getOrSet('g', () => 'never'), 'loaded1', 'a hit does not call the loader')
    const failing = () => Promise.reject(new Error('backend down'))
    const both = await Promise.allSettled([s.getOrSet('f', failing), s.getOrSet('f', failing)])
    assert.deepEqual(both.map((r) => r.status), ['rejected', 'rejected'])
    assert.equal(await s.has('f'), false, 'a failed load stores nothing')
    assert.equal(await s.getOrSet('f', () => 'second try'), 'second try')
  })

  test(`${label}: stats has the TinyKVStats shape and counts hits`, async () => {
    const s = fresh()
    await s.set('k', 'v')
    const before = await kv().stats()
    await s.get('k')
    await s.get('missing')
    const after = await kv().stats()
    for (const f of ['hits', 'misses', 'hitRatio', 'sets', 'deletes', 'expired', 'evicted', 'keys', 'usedMemory', 'tableMemory']) {
      assert.equal(typeof after[f], 'number', f)
    }
    assert.ok(after.hits >= before.hits + 1, `hits ${before.hits} -> ${after.hits}`)
    assert.ok(after.misses >= before.misses + 1, `misses ${before.misses} -> ${after.misses}`)
    assert.ok(after.keys >= 1)
    assert.ok(['lru', 'lfu', 'volatile-ttl', 'noeviction'].includes(after.evictionPolicy))
    assert.ok(Array.isArray(after.namespaces))
  })

  test(`${label}: wrong argument types reject with TypeError or RangeError`, async () => {
    const s = fresh()
    await assert.rejects(s.set(1, 'v'), { name: 'TypeError', message: 'TinyKV.set: key must be a string, got number' })
    await assert.rejects(s.set('k', {}), { name: 'TypeError', message: 'TinyKV.set: value must be a string, Buffer or number, got object' })
    await assert.rejects(s.set('k', 'v', { ttl: -1 }), RangeError)
    await assert.rejects(s.set('k', 'v', { nx: true, xx: true }), RangeError)
    await assert.rejects(s.expire('k', 0), RangeError)
    await assert.rejects(s.incr('k', 1.5), RangeError)
    await assert.rejects(s.get('\uD800'), TypeError)
    await assert.rejects(s.get(undefined), TypeError)
    await assert.rejects(s.mget('k'), TypeError)
    await assert.rejects(s.keys(3), TypeError)
    await assert.rejects(s.mset([['a']]), TypeError)
    await assert.rejects(s.setJSON('k', undefined), TypeError)
    await assert.rejects(s.getOrSet('k', 'not a function'), TypeError)
    assert.throws(() => s.namespace(''), RangeError)
    assert.equal(await s.size(), 0, 'nothing was written')
  })
}
