// kv.save / kv.load and new TinyKV({ snapshot, saveInterval }): every kind of value round-trips
// key by key (TTLs within 1 s) through the same snapshot format the daemon writes; a bad file,
// a newer format version or a load that does not fit under 'noeviction' changes nothing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const require = createRequire(import.meta.url)
const { TinyKV } = require(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'index.js'))

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tinykv-persist-'))

/** Every kind of value, in three namespaces, some with TTLs. @param {any} kv */
function fill(kv) {
  const big = Buffer.alloc(512 * 1024, 7)
  kv.set('text', 'hello world')
  kv.set('binary', Buffer.from([0, 255, 128, 10]))
  kv.set('counter', 41)
  kv.set('negative', -9007199254740991)
  kv.set('empty', '')
  kv.set('big', big, { ttl: 3_600_000 })
  kv.set('ключ:ü:🔑', 'значение ✓')
  kv.set('soon', 'x', { ttl: 600_000 })
  kv.namespace('sessions').set('user:1', '{"id":1}', { ttl: 86_400_000 })
  kv.namespace('sessions').set('user:2', '{"id":2}')
  kv.namespace('3').set('db3', 'three')
}

/** Every entry as [ns, key] -> [value as Buffer, ttl ms]. @param {any} kv */
function dump(kv) {
  /** @type {Map<string, [Buffer, number]>} */
  const out = new Map()
  for (const ns of ['default', 'sessions', '3']) {
    const v = ns === 'default' ? kv : kv.namespace(ns)
    for (const k of v.keys('*')) out.set(`${ns}/${k}`, [v.getBuffer(k), v.ttl(k)])
  }
  return out
}

/** @param {Map<string, [Buffer, number]>} got @param {Map<string, [Buffer, number]>} want */
function assertSame(got, want) {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort())
  for (const [k, [v, ttl]] of want) {
    const [gv, gttl] = /** @type {[Buffer, number]} */ (got.get(k))
    assert.ok(gv.equals(v), `${k}: value differs`)
    if (ttl < 0) assert.equal(gttl, ttl, `${k}: ttl`)
    else assert.ok(Math.abs(gttl - ttl) <= 1000, `${k}: ttl ${gttl} vs ${ttl}`)
  }
}

test('kv.save and kv.load round-trip every kind of value, key by key', () => {
  const dir = tmp()
  const file = path.join(dir, 'cache.snap')
  const a = new TinyKV()
  fill(a)
  const want = dump(a)
  const saved = a.save(file)
  assert.equal(saved.keys, 11)
  assert.equal(saved.bytes, fs.statSync(file).size)
  const b = new TinyKV()
  const r = b.load(file)
  assert.deepEqual([r.loaded, r.expired, r.existing], [11, 0, 0])
  assertSame(dump(b), want)
  assert.equal(b.incr('counter'), 42) // still a counter
  // A second load without options refuses (the keys exist) and changes nothing.
  assert.throws(() => b.load(file), /TinyKV\.load: .*entry \d+: key ".*" already exists/)
  assert.equal(b.get('counter'), '42')
  assert.equal(b.load(file, { skipExisting: true }).existing, 11)
  assert.equal(b.get('counter'), '42')
  assert.equal(b.load(file, { replace: true }).loaded, 11)
  assert.equal(b.get('counter'), '41')
  fs.rmSync(dir, { recursive: true })
})

test('kv.saveAsync writes the same snapshot off the event loop', async () => {
  const dir = tmp()
  const file = path.join(dir, 'async.snap')
  const a = new TinyKV()
  fill(a)
  const want = dump(a)
  const pending = a.saveAsync(file)
  assert.ok(pending instanceof Promise)
  const r = await pending
  assert.equal(r.keys, 11)
  const b = new TinyKV()
  b.load(file)
  assertSame(dump(b), want)
  await assert.rejects(a.saveAsync(path.join(dir, 'no', 'such', 'dir.snap')), /TinyKV\.saveAsync: cannot write/)
  fs.rmSync(dir, { recursive: true })
})

test('new TinyKV({ snapshot, saveInterval }) restarts warm and saves on its own', async () => {
  const dir = tmp()
  const file = path.join(dir, 'warm.snap')
  const a = new TinyKV({ snapshot: file, saveInterval: 20 })
  assert.equal(a.size, 0) // no file yet: starts empty
  fill(a)
  const want = dump(a)
  for (let i = 0; i < 500 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 10))
  assert.ok(fs.existsSync(file), 'the interval saver wrote the snapshot')
  a.close()
  const b = new TinyKV({ snapshot: file })
  assertSame(dump(b), want)
  fs.rmSync(dir, { recursive: true })
})

test('a JSONL file (tinykv export) loads too; a bad line names itself and changes nothing', () => {
  const dir = tmp()
  const file = path.join(dir, 'in.jsonl')
  const future = Date.now() + 60_000
  fs.writeFileSync(
    file,
    [
      '{"key":"a","value":"1"}',
      `{"ns":"sessions","expiresAt":${future},"value":"s","key":"b"}`,
      '{"key":"gone","value":"x","expiresAt":1000}',
      '{"key":"/w==","keyEncoding":"base64","value":"AP4=","encoding":"base64"}',
    ].join('\n') + '\n',
  )
  const kv = new TinyKV()
  const r = kv.load(file)
  assert.deepEqual([r.loaded, r.expired], [3, 1])
  assert.equal(kv.get('a'), '1')
  assert.ok(Math.abs(kv.namespace('sessions').ttl('b') - 60_000) <= 1000)
  fs.appendFileSync(file, '{"key":"c"}\n')
  const before = kv.size
  assert.throws(() => kv.load(file, { replace: true }), /TinyKV\.load: .*line 5: missing field `value`/)
  assert.equal(kv.size, before)
  fs.rmSync(dir, { recursive: true })
})

test('a newer format version and a damaged file are refused with a clear message', () => {
  const dir = tmp()
  const file = path.join(dir, 'x.snap')
  const a = new TinyKV()
  a.set('k', 'v')
  a.save(file)
  const bytes = fs.readFileSync(file)
  bytes[8] = 7
  fs.writeFileSync(file, bytes)
  assert.throws(() => new TinyKV().load(file), /snapshot format version 7 is newer than this TinyKV reads \(up to 1\)/)
  assert.throws(() => new TinyKV({ snapshot: file }), /new TinyKV: options\.snapshot: .*version 7 is newer/)
  bytes[8] = 1
  bytes[bytes.length - 10] ^= 1
  fs.writeFileSync(file, bytes)
  assert.throws(() => new TinyKV().load(file), /checksum mismatch/)
  assert.throws(() => new TinyKV().load(path.join(dir, 'missing.snap')), /cannot read .*missing\.snap/)
  fs.rmSync(dir, { recursive: true })
})

test("under 'noeviction' a load that does not fit throws and leaves the store as it was", () => {
  const dir = tmp()
  const file = path.join(dir, 'many.snap')
  const src = new TinyKV()
  for (let i = 0; i < 100; i++) src.set(`k${i}`, 'v')
  src.save(file)
  const kv = new TinyKV({ maxEntries: 60, evictionPolicy: 'noeviction' })
  kv.set('mine', 'kept')
  assert.throws(() => kv.load(file), /noeviction.*nothing was loaded/)
  assert.equal(kv.size, 1)
  assert.equal(kv.get('mine'), 'kept')
  // Under LRU the same load evicts to fit.
  const lru = new TinyKV({ maxEntries: 60 })
  const r = lru.load(file)
  assert.equal(lru.size, 60)
  assert.equal(r.evicted, 40)
  fs.rmSync(dir, { recursive: true })
})

test('options are checked', () => {
  assert.throws(() => new TinyKV({ saveInterval: 10 }), /options\.saveInterval needs options\.snapshot/)
  assert.throws(() => new TinyKV({ snapshot: 5 }), /options\.snapshot must be a file path/)
  assert.throws(() => new TinyKV({ snapshot: '/tmp/x', saveInterval: 0 }), /at least 1 ms/)
})
