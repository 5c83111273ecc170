// maxMemory, eviction policies and per-entry access data (kv.info), asserting on values.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { TinyKV } = require('../index.js')

const OOM = "OOM command not allowed when used memory > 'maxmemory'."
const value = (i) => ('value:' + i).padEnd(100, '.')

test('maxMemory caps usedMemory at every point of a load', () => {
  const cap = 1024 * 1024
  const kv = new TinyKV({ maxMemory: '1mb' })
  assert.equal(kv.stats().maxMemory, cap)
  let peak = 0
  const N = 30_000
  for (let i = 0; i < N; i++) {
    kv.set('key:' + i, value(i))
    if (i % 250 === 0) {
      const used = kv.stats().usedMemory
      assert.ok(used <= cap, `usedMemory ${used} > cap ${cap} after ${i + 1} sets`)
      peak = Math.max(peak, used)
    }
  }
  const s = kv.stats()
  assert.ok(s.usedMemory <= cap, `final usedMemory ${s.usedMemory}`)
  // The cap is used, not just respected: close to full, and the rest was evicted.
  assert.ok(peak > cap * 0.9, `peak ${peak} is far below the cap`)
  assert.ok(s.keys > 1000 && s.keys < N, `keys ${s.keys}`)
  assert.equal(s.keys + s.evicted, N)
  assert.equal(kv.size, s.keys)
  assert.equal(kv.get('key:' + (N - 1)), value(N - 1), 'the newest entry survives')
  assert.equal(kv.get('key:0'), undefined, 'the oldest entry was evicted')
  // 100-byte values plus keys and table: each entry costs well over 100 bytes.
  assert.ok(s.usedMemory / s.keys > 130, `bytes per entry ${s.usedMemory / s.keys}`)
})

test('usedMemory grows with the data and falls back on delete and clear', () => {
  const kv = new TinyKV()
  const empty = kv.stats()
  kv.set('big', 'x'.repeat(10_000))
  const withBig = kv.stats()
  assert.ok(kv.info('big').size >= 10_000, `size ${kv.info('big').size}`)
  // The growth is the entry's allocations plus any table the insert made.
  assert.equal(withBig.usedMemory - empty.usedMemory, kv.info('big').size + withBig.tableMemory - empty.tableMemory)
  kv.delete('big')
  const afterDelete = kv.stats()
  assert.equal(afterDelete.usedMemory, afterDelete.tableMemory, 'only the tables stay charged')
  for (let i = 0; i < 100; i++) kv.set('k' + i, 'v')
  kv.clear()
  assert.equal(kv.stats().usedMemory, kv.stats().tableMemory)
  assert.equal(kv.stats().keys, 0)
})

test('evictionPolicy is validated and named', () => {
  for (const p of ['lru', 'lfu', 'volatile-ttl', 'noeviction']) {
    assert.equal(new TinyKV({ evictionPolicy: p, maxEntries: 10 }).stats().evictionPolicy, p)
  }
  assert.equal(new TinyKV().stats().evictionPolicy, 'lru')
  for (const bad of ['LRU', 'random', 'allkeys-lru', '']) {
    assert.throws(() => new TinyKV({ evictionPolicy: bad }), (e) => {
      assert.equal(e.constructor, RangeError)
      assert.match(e.message, /options\.evictionPolicy must be 'lru', 'lfu', 'volatile-ttl' or 'noeviction'/)
      return true
    })
  }
  assert.throws(() => new TinyKV({ evictionPolicy: 1 }), (e) => e instanceof TypeError && /options\.evictionPolicy must be a string, got number/.test(e.message))
})

test('noeviction: a write that needs room throws the OOM error; reads keep working', () => {
  const cap = 64 * 1024
  const kv = new TinyKV({ maxMemory: '64kb', evictionPolicy: 'noeviction' })
  // Fill to the brim: a refusal can come early from one shard's table needing to grow while
  // other shards still have room, so keep writing and count.
  const written = []
  let refused = 0
  for (let i = 0; i < 2000; i++) {
    try {
      kv.set('key:' + i, value(i))
      written.push(i)
    } catch (e) {
      assert.equal(e.constructor, Error)
      assert.match(e.message, /^TinyKV\.\w+: OOM command not allowed/)
      refused++
    }
  }
  assert.ok(refused > 1000, `refused ${refused}`)
  assert.ok(written.length > 100, `only ${written.length} writes fit in 64kb`)
  const s = kv.stats()
  assert.equal(s.evicted, 0)
  assert.equal(s.keys, written.length)
  assert.ok(s.usedMemory <= cap, `usedMemory ${s.usedMemory}`)
  assert.ok(s.usedMemory > cap * 0.8, `usedMemory ${s.usedMemory}: the cap was not filled`)
  // Every written entry is still there and readable; refused keys are absent.
  for (const i of written) assert.equal(kv.get('key:' + i), value(i))
  assert.equal(kv.size, written.length)
  // A value bigger than the room left cannot fit anywhere.
  const room = cap - s.usedMemory
  assert.throws(() => kv.set('another', 'x'.repeat(room + 1)), (e) => e.message.endsWith(`: ${OOM}`))
  assert.throws(() => kv.mset([['m1', 'x'.repeat(room + 1)], ['m2', 'y']]), (e) => e.message.endsWith(`: ${OOM}`))
  assert.equal(kv.has('m2'), false)
  // Freeing room lets writes in again.
  kv.clear()
  assert.equal(kv.set('fits', 'now'), true)
  assert.equal(kv.get('fits'), 'now')
})

test('volatile-ttl evicts only entries with a TTL, soonest expiry first', () => {
  // Eviction samples, so which TTL entry goes is approximate: count over many stores.
  let newKept = 0
  for (let r = 0; r < 20; r++) {
    const kv = new TinyKV({ maxEntries: 40, evictionPolicy: 'volatile-ttl' })
    for (let i = 0; i < 20; i++) kv.set('p' + i, 'x')
    for (let i = 0; i < 20; i++) kv.set('t' + i, 'x', { ttl: 60_000 + i * 1000 })
    for (let i = 0; i < 10; i++) kv.set('n' + i, 'x', { ttl: 600_000 })
    assert.equal(kv.size, 40)
    assert.equal(kv.stats().evicted, 10)
    for (let i = 0; i < 20; i++) assert.equal(kv.get('p' + i), 'x', 'entries without a TTL are never evicted')
    for (let i = 0; i < 10; i++) newKept += kv.has('n' + i)
    kv.close()
  }
  // Exact volatile-ttl would keep all 200 latest-expiring entries; sampling keeps nearly all.
  assert.ok(newKept >= 190, `kept ${newKept} of 200 latest-expiring entries`)
})

test('volatile-ttl refuses a write that needs room when no entry has a TTL', () => {
  const kv = new TinyKV({ maxEntries: 5, evictionPolicy: 'volatile-ttl' })
  for (let i = 0; i < 5; i++) kv.set('p' + i, 'x')
  assert.throws(() => kv.set('p5', 'x'), (e) => e.constructor === Error && e.message.endsWith(`: ${OOM}`))
  assert.equal(kv.size, 5)
  assert.equal(kv.stats().evicted, 0)
  assert.equal(kv.set('p0', 'updated'), true, 'overwriting needs no room')
  assert.equal(kv.get('p0'), 'updated')
})

// Hot keys read many times, then a flood of one-off keys: lfu keeps the hot set, lru does not.
function hotKeysKept(evictionPolicy) {
  const kv = new TinyKV({ maxEntries: 200, evictionPolicy })
  const hot = Array.from({ length: 20 }, (_, i) => 'hot:' + i)
  for (const k of hot) kv.set(k, 'h')
  for (let r = 0; r < 100; r++) for (const k of hot) kv.get(k)
  for (let i = 0; i < 2000; i++) kv.set('cold:' + i, 'c')
  assert.equal(kv.size, 200)
  return hot.filter((k) => kv.has(k)).length
}

test('lfu keeps frequently read keys through a scan; lru loses them', () => {
  assert.equal(hotKeysKept('lfu'), 20)
  assert.ok(hotKeysKept('lru') <= 2, 'lru keeps only recent keys')
})

test('info(key): idle time, frequency, ttl, size, isInt', async () => {
  const kv = new TinyKV()
  assert.equal(kv.info('missing'), undefined)
  kv.set('s', 'hello')
  const a = kv.info('s')
  assert.deepEqual(Object.keys(a).sort(), ['frequency', 'idleMs', 'isInt', 'size', 'ttl'])
  assert.equal(a.ttl, -1)
  assert.equal(a.isInt, false)
  assert.ok(a.idleMs < 200, `idleMs ${a.idleMs}`)
  assert.ok(a.frequency >= 5 && a.frequency <= 6, `frequency ${a.frequency}`)
  // One allocation: 16-byte header + namespace id (2 bytes) + 's' + 'hello' = 24 bytes, in
  // a 32-byte block of the entry allocator (blocks are multiples of 8 bytes, at least 32).
  assert.equal(a.size, 32)
  assert.equal(kv.info('s').frequency, a.frequency, 'info is not an access')
  assert.equal(kv.stats().hits, 0, 'info is not a read')

  kv.set('n', 42)
  assert.equal(kv.info('n').isInt, true)
  // An integer takes 8 bytes after the key: 16 + 2 + 1 + 8 = 27, a 32-byte block.
  assert.equal(kv.info('n').size, 32)
  kv.set('long-integer-key-0123456789', 42)
  assert.equal(kv.info('long-integer-key-0123456789').size, 56, '16 + 2 + 27 + 8 = 53 -> 56')
  // A TTL costs an 8-byte expiry word in front of the header while the key has one.
  kv.expire('long-integer-key-0123456789', 60_000)
  assert.equal(kv.info('long-integer-key-0123456789').size, 64, '8 + 53 = 61 -> 64')
  kv.persist('long-integer-key-0123456789')
  assert.equal(kv.info('long-integer-key-0123456789').size, 56)
  kv.incr('c')
  assert.equal(kv.info('c').isInt, true)

  kv.set('t', 'x', { ttl: 60_000 })
  const t = kv.info('t').ttl
  assert.ok(t > 59_000 && t <= 60_000, `ttl ${t}`)

  kv.set('big', 'x'.repeat(1000))
  assert.ok(kv.info('big').size >= 1000 + 16)

  for (let i = 0; i < 200; i++) kv.get('s')
  assert.ok(kv.info('s').frequency > a.frequency, 'reads raise the LFU counter')

  await sleep(350)
  assert.ok(kv.info('t').idleMs >= 200, `idleMs ${kv.info('t').idleMs} after 350 ms`)
  kv.get('t')
  assert.ok(kv.info('t').idleMs < 200, 'a read resets idle time')

  kv.set('short', 'x', { ttl: 20 })
  await sleep(60)
  assert.equal(kv.info('short'), undefined, 'expired entries have no info')
  assert.throws(() => kv.info(5), (e) => e instanceof TypeError && /TinyKV\.info: key must be a string, got number/.test(e.message))
  kv.close()
  assert.throws(() => kv.info('s'), /closed/)
})

test('namespaces are charged separately and listed in stats', () => {
  const kv = new TinyKV({ maxMemory: '10mb' })
  const users = kv.namespace('users')
  for (let i = 0; i < 10; i++) users.set('u' + i, 'x'.repeat(100))
  kv.set('d', 'y')
  const s = kv.stats()
  const byName = Object.fromEntries(s.namespaces.map((n) => [n.name, n]))
  assert.equal(byName.users.keys, 10)
  assert.equal(byName.default.keys, 1)
  assert.ok(byName.users.bytes >= 10 * 100, `users bytes ${byName.users.bytes}`)
  assert.equal(byName.default.bytes, kv.info('d').size)
  assert.equal(users.info('d'), undefined, 'info reads this handle\'s namespace')
})
