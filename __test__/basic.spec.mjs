// Every data member of TinyKV, asserting on values.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { TinyKV } = require('../index.js')

test('get/set strings, misses are undefined', () => {
  const kv = new TinyKV()
  assert.equal(kv.get('a'), undefined)
  assert.equal(kv.set('a', 'hello'), true)
  assert.equal(kv.get('a'), 'hello')
  assert.equal(kv.set('a', 'world'), true)
  assert.equal(kv.get('a'), 'world')
  assert.equal(kv.get(''), undefined)
  assert.equal(kv.set('', 'empty key'), true)
  assert.equal(kv.get(''), 'empty key')
})

test('unicode keys and values round-trip', () => {
  const kv = new TinyKV()
  const key = 'clé:日本:🔑'
  const value = 'välue — 値 — 🚀'
  kv.set(key, value)
  assert.equal(kv.get(key), value)
  assert.equal(kv.get('clé:日本'), undefined)
  assert.deepEqual(kv.getBuffer(key), Buffer.from(value, 'utf8'))
})

test('a non-ASCII character anywhere in a short value comes back intact', () => {
  // get picks a one-byte string for all-ASCII values; the check reads 8 bytes at a time with
  // an overlapping last word, so cover every position around the word edges.
  const kv = new TinyKV()
  for (let len = 1; len <= 40; len++) {
    for (let at = 0; at < len; at++) {
      const value = 'a'.repeat(at) + 'é' + 'b'.repeat(len - at - 1)
      kv.set('v', value)
      assert.equal(kv.get('v'), value, `length ${len}, non-ASCII at ${at}`)
    }
    const ascii = 'c'.repeat(len)
    kv.set('v', ascii)
    assert.equal(kv.get('v'), ascii)
  }
  assert.deepEqual(kv.mget(['v', 'w']), ['c'.repeat(40), undefined])
  kv.set('w', 'x'.repeat(30) + '\u00ff')
  assert.deepEqual(kv.mget(['v', 'w']), ['c'.repeat(40), 'x'.repeat(30) + '\u00ff'])
})

test('long keys and values take the heap path', () => {
  const kv = new TinyKV()
  const key = 'k'.repeat(5000)
  const value = 'v'.repeat(200_000) + 'é'
  kv.set(key, value)
  assert.equal(kv.get(key), value)
  assert.equal(kv.get(key.slice(1)), undefined)
  assert.equal(kv.getBuffer(key).length, 200_002)
})

test('Buffer, typed array and number values', () => {
  const kv = new TinyKV()
  const bin = Buffer.from([0, 1, 2, 255, 254])
  kv.set('bin', bin)
  assert.deepEqual(kv.getBuffer('bin'), bin)
  kv.set('u8', new Uint8Array([104, 105]))
  assert.equal(kv.get('u8'), 'hi')
  kv.set('u16', new Uint16Array([0x6968]))
  assert.equal(kv.get('u16'), 'hi')
  kv.set('int', 42)
  assert.equal(kv.get('int'), '42')
  assert.deepEqual(kv.getBuffer('int'), Buffer.from('42'))
  kv.set('neg', -7)
  assert.equal(kv.get('neg'), '-7')
  kv.set('float', 3.25)
  assert.equal(kv.get('float'), '3.25')
  kv.set('big', 1e21)
  assert.equal(kv.get('big'), '1e+21')
  assert.equal(kv.getBuffer('missing'), undefined)
})

test('has and delete', () => {
  const kv = new TinyKV()
  assert.equal(kv.has('a'), false)
  kv.set('a', '1')
  assert.equal(kv.has('a'), true)
  assert.equal(kv.delete('a'), true)
  assert.equal(kv.delete('a'), false)
  assert.equal(kv.has('a'), false)
  assert.equal(kv.get('a'), undefined)
})

test('nx and xx', () => {
  const kv = new TinyKV()
  assert.equal(kv.set('a', '1', { xx: true }), false)
  assert.equal(kv.has('a'), false)
  assert.equal(kv.set('a', '1', { nx: true }), true)
  assert.equal(kv.set('a', '2', { nx: true }), false)
  assert.equal(kv.get('a'), '1')
  assert.equal(kv.set('a', '3', { xx: true }), true)
  assert.equal(kv.get('a'), '3')
  assert.equal(kv.set('a', '4', { nx: false, xx: false }), true)
  assert.equal(kv.get('a'), '4')
})

test('set options are read from any object, as a plain property read would', () => {
  const kv = new TinyKV()
  // Inherited options and getters count; the getter runs once per set.
  assert.equal(kv.set('a', '1', Object.create({ nx: true })), true)
  assert.equal(kv.set('a', '2', Object.create({ nx: true })), false)
  let reads = 0
  const timed = { get ttl() { reads++; return 60_000 } }
  assert.equal(kv.set('t', 'v', timed), true)
  assert.equal(reads, 1)
  const ttl = kv.ttl('t')
  assert.ok(ttl > 59_000 && ttl <= 60_000, `ttl ${ttl}`)
  class Opts { constructor () { this.xx = true } }
  assert.equal(kv.set('missing', 'v', new Opts()), false)
  assert.equal(kv.set('a', '3', new Opts()), true)
  // null and undefined options mean defaults; a ttl of undefined means no TTL.
  assert.equal(kv.set('t', 'w', null), true)
  assert.equal(kv.ttl('t'), -1, 'a plain set drops the TTL')
  assert.equal(kv.set('t', 'x', { ttl: undefined, keepTtl: false }), true)
  assert.equal(kv.ttl('t'), -1)
  assert.deepEqual([kv.get('a'), kv.get('t')], ['3', 'x'])
  // A getter that throws propagates, and nothing is written.
  const bad = { get nx() { throw new Error('boom') } }
  assert.throws(() => kv.set('b', 'v', bad), /boom/)
  assert.equal(kv.has('b'), false)
})

test('incr and decr', () => {
  const kv = new TinyKV()
  assert.equal(kv.incr('n'), 1)
  assert.equal(kv.incr('n'), 2)
  assert.equal(kv.incr('n', 10), 12)
  assert.equal(kv.decr('n'), 11)
  assert.equal(kv.decr('n', 20), -9)
  assert.equal(kv.incr('n', -1), -10)
  assert.equal(kv.get('n'), '-10')
  assert.equal(kv.decr('fresh'), -1)
  kv.set('s', '41')
  assert.equal(kv.incr('s'), 42)
  kv.set('i', 7)
  assert.equal(kv.incr('i', 3), 10)
  kv.set('text', 'abc')
  assert.throws(() => kv.incr('text'), (e) => e instanceof Error && /not an integer/.test(e.message))
  assert.equal(kv.get('text'), 'abc')
  kv.set('max', '9223372036854775807')
  assert.throws(() => kv.incr('max'), (e) => e instanceof RangeError && /overflow/.test(e.message))
  assert.throws(() => kv.incr('n', 1.5), RangeError)
  assert.throws(() => kv.incr('n', '2'), TypeError)
})

test('incr and decr with a bigint step are exact over the 64-bit range', () => {
  const kv = new TinyKV()
  const big = 2n ** 53n + 1n // not a safe integer: a number would round it
  assert.equal(kv.incr('b', big), big)
  assert.equal(kv.incr('b', 1n), big + 1n)
  assert.equal(kv.get('b'), String(big + 1n))
  assert.equal(kv.decr('b', 2n), big - 1n)
  assert.equal(typeof kv.incr('b'), 'number', 'a number step still answers with a number')
  kv.set('top', '9223372036854775806')
  assert.equal(kv.incr('top', 1n), 2n ** 63n - 1n)
  assert.throws(() => kv.incr('top', 1n), (e) => e instanceof RangeError && /overflow/.test(e.message))
  assert.equal(kv.get('top'), '9223372036854775807', 'a refused step leaves the value')
  assert.equal(kv.decr('low', -(2n ** 63n) + 1n), 2n ** 63n - 1n)
  // decr of -2^63 would need +2^63: an overflow, not a wrapped or panicked negation.
  assert.throws(() => kv.decr('zero', -(2n ** 63n)), (e) => e instanceof RangeError && /overflow/.test(e.message))
  assert.equal(kv.has('zero'), false)
  assert.equal(kv.incr('neg', -(2n ** 63n)), -(2n ** 63n))
  assert.throws(() => kv.incr('n', 2n ** 63n), (e) => e instanceof RangeError && /64-bit/.test(e.message))
  assert.throws(() => kv.incr('n', -(2n ** 63n) - 1n), RangeError)
  assert.throws(() => kv.decr('n', Symbol('x')), (e) => e instanceof TypeError && /number or a bigint, got symbol/.test(e.message))
})

test('mget and mset', () => {
  const kv = new TinyKV()
  kv.mset([['a', '1'], ['b', 2], ['c', Buffer.from('three')]])
  assert.deepEqual(kv.mget(['a', 'b', 'c', 'missing', 'a']), ['1', '2', 'three', undefined, '1'])
  kv.mset({ x: 'X', y: 'Y' })
  assert.deepEqual(kv.mget(['x', 'y']), ['X', 'Y'])
  assert.deepEqual(kv.mget([]), [])
  const many = Array.from({ length: 1000 }, (_, i) => ['k' + i, 'v' + i])
  kv.mset(many)
  const got = kv.mget(many.map(([k]) => k))
  assert.deepEqual(got, many.map(([, v]) => v))
  kv.mset([['t1', 'a'], ['t2', 'b']], { ttl: 60_000 })
  assert.ok(kv.ttl('t1') > 59_000 && kv.ttl('t1') <= 60_000)
  assert.throws(() => kv.mset([['ok', '1'], [2, 'bad']]), TypeError)
  assert.equal(kv.has('ok'), false, 'mset checks every entry before writing any')
  assert.throws(() => kv.mset([['only-key']]), TypeError)
  assert.throws(() => kv.mset('nope'), TypeError)
  assert.throws(() => kv.mget('a'), TypeError)
  assert.throws(() => kv.mget(['a', 1]), /keys\[1\] must be a string/)
})

test('keys with glob patterns, size and clear', () => {
  const kv = new TinyKV()
  for (const k of ['user:1', 'user:2', 'user:10', 'item:1']) kv.set(k, 'x')
  assert.deepEqual(kv.keys().sort(), ['item:1', 'user:1', 'user:10', 'user:2'])
  assert.deepEqual(kv.keys('user:*').sort(), ['user:1', 'user:10', 'user:2'])
  assert.deepEqual(kv.keys('user:?').sort(), ['user:1', 'user:2'])
  assert.deepEqual(kv.keys('nothing*'), [])
  assert.equal(kv.size, 4)
  kv.delete('item:1')
  assert.equal(kv.size, 3)
  assert.equal(kv.clear(), undefined)
  assert.equal(kv.size, 0)
  assert.deepEqual(kv.keys(), [])
  assert.equal(kv.get('user:1'), undefined)
})

test('getJSON and setJSON', () => {
  const kv = new TinyKV()
  const obj = { id: 1, name: 'Ada', tags: ['a', 'b'], nested: { ok: true, n: null } }
  assert.equal(kv.setJSON('o', obj), true)
  assert.deepEqual(kv.getJSON('o'), obj)
  assert.equal(kv.get('o'), JSON.stringify(obj))
  assert.equal(kv.getJSON('missing'), undefined)
  kv.setJSON('arr', [1, 2, 3], { ttl: 10_000 })
  assert.deepEqual(kv.getJSON('arr'), [1, 2, 3])
  assert.ok(kv.ttl('arr') > 0)
  assert.equal(kv.setJSON('o', { other: 1 }, { nx: true }), false)
  kv.set('num', 5)
  assert.equal(kv.getJSON('num'), 5)
  kv.set('bad', '{not json')
  assert.throws(() => kv.getJSON('bad'), SyntaxError)
  assert.throws(() => kv.setJSON('u', undefined), TypeError)
  assert.throws(() => kv.setJSON('f', () => 1), TypeError)
  const cyc = {}
  cyc.self = cyc
  assert.throws(() => kv.setJSON('c', cyc), TypeError) // JSON.stringify's own TypeError
})

test('namespaces: views over the same store with separate keys', () => {
  const kv = new TinyKV({ maxEntries: 100 })
  const users = kv.namespace('users')
  const items = kv.namespace('items')
  assert.equal(kv.namespaceName, 'default')
  assert.equal(users.namespaceName, 'users')
  assert.ok(users instanceof TinyKV)
  kv.set('a', 'default-a')
  users.set('a', 'users-a')
  assert.equal(kv.get('a'), 'default-a')
  assert.equal(users.get('a'), 'users-a')
  assert.equal(items.get('a'), undefined)
  // Every one-key method of a view acts on the view's namespace only.
  assert.deepEqual(users.getBuffer('a'), Buffer.from('users-a'))
  assert.equal(items.getBuffer('a'), undefined)
  assert.equal(items.has('a'), false)
  assert.equal(items.delete('a'), false)
  assert.equal(items.expire('a', 1000), false)
  assert.equal(users.expire('a', 1000), true)
  assert.ok(users.ttl('a') > 0 && users.ttl('a') <= 1000)
  assert.equal(kv.ttl('a'), -1, 'the default namespace key keeps no TTL')
  assert.equal(kv.persist('a'), false)
  assert.equal(users.persist('a'), true)
  assert.equal(items.incr('n', 5), 5)
  assert.equal(kv.get('n'), undefined)
  items.setJSON('j', { v: 1 })
  assert.equal(users.getJSON('j'), undefined)
  assert.deepEqual(items.getJSON('j'), { v: 1 })
  assert.equal(items.delete('n'), true)
  assert.equal(items.delete('j'), true)
  assert.equal(users.size, 1)
  assert.deepEqual(users.keys(), ['a'])
  users.clear()
  assert.equal(users.get('a'), undefined)
  assert.equal(kv.get('a'), 'default-a')
  const again = kv.namespace('users')
  users.set('b', '1')
  assert.equal(again.get('b'), '1', 'same name, same namespace')
  const named = new TinyKV({ namespace: 'tenant1' })
  assert.equal(named.namespaceName, 'tenant1')
  named.set('k', 'v')
  assert.equal(named.namespace('default').get('k'), undefined)
  assert.throws(() => kv.namespace(''), RangeError)
  assert.throws(() => kv.namespace(1), TypeError)
})

test('stats is a typed snapshot', () => {
  const kv = new TinyKV({ maxEntries: 1000, maxMemory: '1mb' })
  kv.set('a', '1')
  kv.set('b', '2')
  kv.namespace('other').set('c', '3')
  kv.get('a')
  kv.get('zz')
  kv.delete('b')
  const s = kv.stats()
  assert.equal(s.hits, 1)
  assert.equal(s.misses, 1)
  assert.equal(s.sets, 3)
  assert.equal(s.deletes, 1)
  assert.equal(s.keys, 2)
  assert.equal(s.maxEntries, 1000)
  assert.equal(s.maxMemory, 1024 * 1024)
  assert.equal(s.hitRatio, 0.5)
  assert.equal(s.evicted, 0)
  assert.equal(s.expired, 0)
  assert.equal(s.evictionPolicy, 'lru')
  assert.ok(s.tableMemory > 0, `tableMemory ${s.tableMemory}`)
  const names = s.namespaces.map((n) => n.name).sort()
  assert.deepEqual(names, ['default', 'other'])
  for (const n of s.namespaces) {
    assert.equal(n.keys, 1)
    assert.ok(n.bytes > 0, `${n.name} bytes ${n.bytes}`)
  }
  // usedMemory is every entry allocation (header, key, value) plus the tables.
  const nsBytes = s.namespaces.reduce((a, n) => a + n.bytes, 0)
  assert.equal(s.usedMemory, nsBytes + s.tableMemory)
  assert.deepEqual(Object.keys(s).sort(), ['deletes', 'evicted', 'evictionPolicy', 'expired', 'hitRatio', 'hits', 'keys', 'maxEntries', 'maxMemory', 'misses', 'namespaces', 'sets', 'tableMemory', 'usedMemory'])
})

test('maxEntries evicts down to the cap', () => {
  const kv = new TinyKV({ maxEntries: 100 })
  for (let i = 0; i < 1000; i++) kv.set('k' + i, 'v' + i)
  assert.equal(kv.size, 100)
  assert.equal(kv.stats().evicted, 900)
  assert.equal(kv.get('k999'), 'v999', 'the newest entry survives')
})

test('two instances are independent', () => {
  const a = new TinyKV()
  const b = new TinyKV()
  a.set('k', 'from-a')
  assert.equal(b.get('k'), undefined)
  b.set('k', 'from-b')
  assert.equal(a.get('k'), 'from-a')
  assert.equal(b.get('k'), 'from-b')
  a.clear()
  assert.equal(b.get('k'), 'from-b')
  a.close()
  assert.equal(b.get('k'), 'from-b')
  assert.equal(a.closed, true)
  assert.equal(b.closed, false)
})

test('methods work detached and through the prototype', async () => {
  const kv = new TinyKV()
  const { get, set } = kv
  set('d', 'detached')
  assert.equal(get('d'), 'detached')
  assert.equal(TinyKV.prototype.get.call(kv, 'd'), 'detached')
  assert.equal(TinyKV.prototype.set.call(kv, 'p', 'proto', { nx: true }), true)
  assert.equal(kv.get('p'), 'proto')
  assert.deepEqual(TinyKV.prototype.mget.call(kv, ['d', 'p', 'x']), ['detached', 'proto', undefined])
  assert.equal(TinyKV.prototype.incr.call(kv, 'c', 2), 2)
  assert.equal(await TinyKV.prototype.getOrSet.call(kv, 'd', () => 'unused'), 'detached')
  // The one enumerable own property is the getter that makes structured clone refuse a handle.
  assert.deepEqual(Object.keys(kv), ['shareByName'], 'per-instance methods are not enumerable')
})

test('close frees the store; later calls throw; close twice is harmless', () => {
  const kv = new TinyKV()
  const view = kv.namespace('v')
  kv.set('a', '1')
  assert.equal(kv.closed, false)
  kv.close()
  assert.equal(kv.closed, true)
  assert.equal(view.closed, true)
  kv.close()
  for (const call of [() => kv.get('a'), () => kv.set('a', '1'), () => kv.has('a'), () => kv.size, () => kv.stats(), () => view.get('a'), () => kv.mget(['a'])]) {
    assert.throws(call, (e) => e instanceof Error && /closed/.test(e.message))
  }
})
