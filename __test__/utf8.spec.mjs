// Strings cross the N-API boundary exactly: every argument the addon reads into a fixed buffer
// (key, value, namespace name, pattern, mget's joined batch, option words) is written and read
// back at every length around every buffer size, built from 1-, 2-, 3- and 4-byte characters,
// and compared with the string that went in. V8 copies whole characters only, so a character
// that straddles a buffer's end is where a shortcut would cut a string short. Keys and values
// are checked on a private store and on a named (worker-shared) one, whose reads differ.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { TinyKV } = require('../index.js')

/** One character of each UTF-8 width: 1, 2, 3 and 4 bytes (the last a surrogate pair). */
const WIDTHS = ['a', 'é', '€', '😀']

/** The addon's buffer sizes in UTF-8 bytes (raw.rs, ops.rs), and the return-path limits. */
const KEY_STACK = 256 // keys, patterns, mset and mget keys, info, namespace names
const VALUE_STACK = 1024 // set and setJSON values
const MGET_STACK = 4096 // mget's joined batch
const COPY_OUT = 512 // get copies values up to this size out of the store

const utf8 = (s) => Buffer.byteLength(s, 'utf8')

/**
 * Strings whose UTF-8 length runs from `size - 8` to `size + 8` bytes, for every width:
 * ASCII filler then one character of that width placed at every byte offset around `size`,
 * then a tail that makes each string distinct from its neighbours.
 */
function around(size, tail = '') {
  const out = []
  for (const c of WIDTHS) {
    const w = utf8(c)
    for (let end = size - 8; end <= size + 8; end++) {
      const pad = end - w
      if (pad < 0) continue
      out.push('a'.repeat(pad) + c + tail)
      // The same width repeated up to the boundary, so several characters sit near it.
      const n = Math.floor(end / w)
      out.push(c.repeat(n) + 'a'.repeat(end - n * w) + tail)
    }
  }
  return out
}

/** A seeded generator, so a failure names a case that reproduces. */
function rng(seed) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A random string of mixed widths of about `bytes` UTF-8 bytes. */
function mixed(next, bytes) {
  let s = ''
  while (utf8(s) < bytes) s += WIDTHS[Math.floor(next() * WIDTHS.length)]
  return s
}

/**
 * The key and value tests run on a private store and on a named one: a named store is built
 * for worker threads, and its reads skip the shard lock (a path of their own in the store).
 */
let named = 0
const STORES = [
  ['a private store', () => new TinyKV()],
  ['a named store', () => new TinyKV({ name: `utf8-${++named}` })],
]

for (const [where, open] of STORES) {
  test(`keys of every length around the key buffer read back exactly and never collide, on ${where}`, () => {
    const kv = open()
    const keys = [...around(KEY_STACK, ':1'), ...around(KEY_STACK, ':2'), ...around(KEY_STACK + 2)]
    const next = rng(1)
    for (let i = 0; i < 200; i++) keys.push(mixed(next, KEY_STACK - 8 + (i % 16)))
    const unique = [...new Set(keys)]
    unique.forEach((k, i) => assert.equal(kv.set(k, `v${i}`), true))
    assert.equal(kv.size, unique.length, 'every distinct key is its own entry')
    unique.forEach((k, i) => {
      assert.equal(kv.get(k), `v${i}`, `get of a ${utf8(k)}-byte key`)
      assert.equal(kv.has(k), true)
      assert.equal(kv.ttl(k), -1)
      assert.equal(kv.expire(k, 60_000), true)
      assert.equal(kv.persist(k), true)
      assert.equal(kv.info(k).size > 0, true)
      assert.equal(kv.getBuffer(k).toString(), `v${i}`)
    })
    const listed = new Set(kv.keys())
    assert.deepEqual([...listed].sort(), [...unique].sort(), 'keys() returns the keys as set')
    unique.forEach((k) => assert.equal(kv.delete(k), true))
    assert.equal(kv.size, 0)
    kv.close()
  })
}

test('getOrSet reads keys around the key buffer exactly, on a hit and on a miss', async () => {
  const kv = new TinyKV()
  const keys = [...new Set([...around(KEY_STACK, ':1'), ...around(KEY_STACK, ':2'), ...around(KEY_STACK + 2)])]
  keys.forEach((k, i) => kv.set(k, `v${i}`, { ttl: 3_600_000 }))
  for (const [i, k] of keys.entries()) {
    assert.equal(await kv.getOrSet(k, () => 'loaded'), `v${i}`, `hit on a ${utf8(k)}-byte key`)
    // A staleTtl takes the one-lookup fresh path (the key's TTL and value read together).
    const fresh = await kv.getOrSet(k, () => 'loaded', { ttl: 3_600_000, staleTtl: 1000 })
    assert.equal(fresh, `v${i}`, `fresh hit on a ${utf8(k)}-byte key`)
  }
  kv.clear()
  for (const [i, k] of keys.entries()) {
    assert.equal(await kv.getOrSet(k, async () => `l${i}`), `l${i}`, `miss on a ${utf8(k)}-byte key`)
  }
  keys.forEach((k, i) => assert.equal(kv.get(k), `l${i}`, 'the loaded value is stored under the same key'))
  assert.equal(kv.size, keys.length)
})

test('counters at keys around the key buffer stay apart', () => {
  const kv = new TinyKV()
  const keys = [...new Set(around(KEY_STACK, 'x').concat(around(KEY_STACK, 'y')))]
  keys.forEach((k, i) => kv.incr(k, i + 1))
  keys.forEach((k, i) => assert.equal(kv.get(k), String(i + 1)))
  keys.forEach((k, i) => assert.equal(kv.decr(k, i + 1), 0))
})

for (const [where, open] of STORES) {
  test(`values of every length around the value buffers read back exactly, on ${where}`, () => {
    const kv = open()
    const next = rng(2)
    const values = [...around(VALUE_STACK), ...around(COPY_OUT), ...around(KEY_STACK)]
    for (let i = 0; i < 100; i++) values.push(mixed(next, VALUE_STACK - 8 + (i % 16)))
    values.push('Привет, мир! '.repeat(100))
    values.forEach((v, i) => {
      kv.set(`k${i}`, v)
      assert.equal(kv.get(`k${i}`), v, `get of a ${utf8(v)}-byte value`)
      assert.equal(kv.getBuffer(`k${i}`).toString('utf8'), v)
      kv.setJSON(`j${i}`, { v })
      assert.deepEqual(kv.getJSON(`j${i}`), { v })
      kv.set(`t${i}`, v, { ttl: 60_000 })
      assert.equal(kv.get(`t${i}`), v)
    })
    const keys = values.map((_, i) => `k${i}`)
    assert.deepEqual(kv.mget(keys), values)
    kv.close()
  })
}

test('mset reads keys and values around their buffers exactly, from pairs and objects', () => {
  const kv = new TinyKV()
  const keys = [...new Set(around(KEY_STACK, '!'))]
  const values = around(VALUE_STACK).slice(0, keys.length)
  kv.mset(keys.map((k, i) => [k, values[i % values.length]]))
  keys.forEach((k, i) => assert.equal(kv.get(k), values[i % values.length]))
  const other = kv.namespace('objects')
  other.mset(Object.fromEntries(keys.map((k, i) => [k, `o${i}`])))
  keys.forEach((k, i) => assert.equal(other.get(k), `o${i}`))
  assert.equal(other.size, keys.length)
})

test('mget batches around the joined-key buffer return every value in order', () => {
  const kv = new TinyKV()
  for (const c of WIDTHS) {
    for (let shift = 0; shift < 24; shift++) {
      // 16 keys of about 256 bytes: the join passes 4096 bytes with a `c` at every offset.
      const keys = []
      for (let i = 0; i < 16; i++) {
        const body = c.repeat(Math.floor((MGET_STACK / 16 - 4) / utf8(c)))
        keys.push(`${'a'.repeat(shift)}${body}#${i}`)
      }
      const batch = keys.join('\0')
      assert.ok(utf8(batch) > MGET_STACK - 40, `the batch reaches the buffer: ${utf8(batch)}`)
      keys.forEach((k, i) => kv.set(k, `${c}${shift}:${i}`))
      const want = keys.map((_, i) => `${c}${shift}:${i}`)
      assert.deepEqual(kv.mget(keys), want)
      // A missing key whose name differs only past the boundary stays missing.
      const missing = keys.map((k) => k + '?')
      assert.deepEqual(kv.mget(missing), missing.map(() => undefined))
    }
  }
})

test('namespace names around the name buffer keep tenants apart', () => {
  const kv = new TinyKV()
  // Names are at most 256 bytes: every name from 240 to 256 bytes with a character of each
  // width ending at every offset, two tenants per prefix.
  const names = []
  for (const c of WIDTHS) {
    for (let end = KEY_STACK - 16; end <= KEY_STACK; end++) {
      const pad = end - utf8(c)
      names.push('t'.repeat(pad) + c)
      if (pad >= 1) names.push('t'.repeat(pad - 1) + c + 'u')
    }
  }
  const unique = [...new Set(names)].filter((n) => utf8(n) <= KEY_STACK)
  unique.forEach((n, i) => kv.namespace(n).set('secret', `s${i}`))
  unique.forEach((n, i) => {
    assert.equal(kv.namespace(n).get('secret'), `s${i}`, `tenant ${utf8(n)} bytes`)
    assert.equal(new TinyKV({ namespace: n }).get('secret'), undefined, 'a new store is empty')
  })
  const listed = kv.stats().namespaces.map((n) => n.name)
  assert.deepEqual(listed.sort(), [...unique].sort(), 'stats names every tenant as written')
})

test('keys(pattern) reads patterns around the key buffer exactly', () => {
  const kv = new TinyKV()
  const keys = [...new Set(around(KEY_STACK, 'p'))]
  keys.forEach((k) => kv.set(k, '1'))
  for (const k of keys) {
    assert.deepEqual(kv.keys(k), [k], `pattern of ${utf8(k)} bytes`)
    // A pattern that only shares the prefix before the boundary matches nothing.
    assert.deepEqual(kv.keys(k.slice(0, -1) + 'q'), [])
  }
})

test('keys and names that are not well-formed UTF-16 are refused, not merged', () => {
  const kv = new TinyKV()
  const lone = ['\uD800', '\uDFFF', 'a\uD83Db', '\uDE00\uD83D', 'x'.repeat(300) + '\uD800']
  const isLone = (e) => e instanceof TypeError && /lone surrogate/.test(e.message)
  for (const k of lone) {
    assert.throws(() => kv.set(k, 'a'), isLone)
    assert.throws(() => kv.get(k), isLone)
    assert.throws(() => kv.has(k), isLone)
    assert.throws(() => kv.delete(k), isLone)
    assert.throws(() => kv.incr(k), isLone)
    assert.throws(() => kv.ttl(k), isLone)
    assert.throws(() => kv.info(k), isLone)
    assert.throws(() => kv.mget(['ok', k]), (e) => isLone(e) && /keys\[1\]/.test(e.message))
    assert.throws(() => kv.mset([[k, 'v']]), isLone)
    assert.throws(() => kv.keys(k), isLone)
    assert.throws(() => kv.namespace(k), isLone)
    assert.throws(() => new TinyKV({ namespace: k }), isLone)
  }
  assert.equal(kv.size, 0, 'nothing was written')
  // U+FFFD itself and well-formed pairs are ordinary keys.
  kv.set('\uFFFD', 'replacement')
  kv.set('\uD83D\uDE00', 'pair')
  assert.equal(kv.get('\uFFFD'), 'replacement')
  assert.equal(kv.get('😀'), 'pair')
  assert.deepEqual(kv.mget(['\uFFFD', '😀']), ['replacement', 'pair'])
})

test('values keep lone surrogates as U+FFFD, as TextEncoder does', () => {
  const kv = new TinyKV()
  const v = 'a\uD800b' + 'c'.repeat(2000) + '\uDFFF'
  kv.set('v', v)
  const want = new TextDecoder().decode(new TextEncoder().encode(v))
  assert.equal(kv.get('v'), want)
  assert.notEqual(kv.get('v'), v)
})

test('a string value past the store limit is refused before it is copied', () => {
  const kv = new TinyKV()
  assert.throws(
    () => kv.set('big', 'é'.repeat(300e6)),
    (e) => e instanceof RangeError && /600000000 bytes, larger than the limit/.test(e.message),
  )
  assert.equal(kv.has('big'), false)
})

test('a stored value too long for a JS string throws RangeError from get, and getBuffer works', () => {
  const kv = new TinyKV()
  // V8's string limit in Node 20 is 2^29 - 24 characters; the store takes up to 512 MiB.
  const len = 2 ** 29 - 23
  kv.set('huge', Buffer.alloc(len, 0x61))
  assert.equal(kv.has('huge'), true)
  assert.throws(
    () => kv.get('huge'),
    (e) => e instanceof RangeError && /too long for a JS string.*getBuffer/.test(e.message),
  )
  assert.throws(() => kv.mget(['huge']), RangeError)
  assert.equal(kv.getBuffer('huge').length, len)
  kv.delete('huge')
})
