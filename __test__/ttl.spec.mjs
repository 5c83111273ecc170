// TTLs with real time and short durations.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { TinyKV } = require('../index.js')

test('ttl answers: -2 missing, -1 no TTL, else remaining ms', () => {
  const kv = new TinyKV()
  assert.equal(kv.ttl('missing'), -2)
  kv.set('p', 'x')
  assert.equal(kv.ttl('p'), -1)
  kv.set('t', 'x', { ttl: 5000 })
  const left = kv.ttl('t')
  assert.ok(left > 4900 && left <= 5000, `ttl ${left}`)
})

test('entries expire after their ttl', async () => {
  const kv = new TinyKV()
  kv.set('short', 'x', { ttl: 150 })
  kv.set('long', 'y', { ttl: 10_000 })
  assert.equal(kv.get('short'), 'x')
  assert.equal(kv.has('short'), true)
  await sleep(300)
  assert.equal(kv.get('short'), undefined)
  assert.equal(kv.has('short'), false)
  assert.equal(kv.ttl('short'), -2)
  assert.equal(kv.get('long'), 'y')
})

test('the reaper removes expired entries nobody reads', async () => {
  const kv = new TinyKV()
  for (let i = 0; i < 50; i++) kv.set('k' + i, 'v', { ttl: 20 })
  assert.equal(kv.size, 50)
  await sleep(400)
  assert.equal(kv.size, 0)
  assert.equal(kv.stats().expired, 50)
})

test('defaultTtl applies to writes without a ttl', async () => {
  const kv = new TinyKV({ defaultTtl: 150 })
  kv.set('a', '1')
  kv.set('b', '2', { ttl: 10_000 })
  assert.ok(kv.ttl('a') > 0 && kv.ttl('a') <= 150)
  await sleep(300)
  assert.equal(kv.get('a'), undefined)
  assert.equal(kv.get('b'), '2')
})

test('expire and persist', async () => {
  const kv = new TinyKV()
  assert.equal(kv.expire('missing', 100), false)
  assert.equal(kv.persist('missing'), false)
  kv.set('a', '1')
  assert.equal(kv.persist('a'), false, 'no TTL to remove')
  assert.equal(kv.expire('a', 150), true)
  assert.ok(kv.ttl('a') > 0)
  kv.set('b', '2')
  kv.expire('b', 150)
  assert.equal(kv.persist('b'), true)
  assert.equal(kv.ttl('b'), -1)
  await sleep(300)
  assert.equal(kv.get('a'), undefined)
  assert.equal(kv.get('b'), '2')
})

test('set clears a TTL unless keepTtl', () => {
  const kv = new TinyKV()
  kv.set('a', '1', { ttl: 10_000 })
  kv.set('a', '2')
  assert.equal(kv.ttl('a'), -1)
  kv.set('b', '1', { ttl: 10_000 })
  kv.set('b', '2', { keepTtl: true })
  assert.equal(kv.get('b'), '2')
  assert.ok(kv.ttl('b') > 9000)
})

test('fractional ttl rounds up', () => {
  const kv = new TinyKV()
  kv.set('a', '1', { ttl: 1000.2 })
  const left = kv.ttl('a')
  assert.ok(left > 990 && left <= 1001, `ttl ${left}`)
})
