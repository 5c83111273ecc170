// Bad options and arguments get TypeError / RangeError naming the problem; panics become Errors.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const require = createRequire(import.meta.url)
const { TinyKV } = require('../index.js')
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

function throwsWith(fn, Cls, re) {
  assert.throws(fn, (e) => {
    assert.equal(e.constructor, Cls, `expected ${Cls.name}, got ${e.constructor.name}: ${e.message}`)
    assert.match(e.message, re)
    return true
  })
}

test('constructor options are validated and named', () => {
  throwsWith(() => new TinyKV('big'), TypeError, /options must be an object/)
  throwsWith(() => new TinyKV({ maxEntries: 0 }), RangeError, /maxEntries must be a positive integer/)
  throwsWith(() => new TinyKV({ maxEntries: -5 }), RangeError, /maxEntries/)
  throwsWith(() => new TinyKV({ maxEntries: 1.5 }), RangeError, /maxEntries/)
  throwsWith(() => new TinyKV({ maxEntries: Infinity }), RangeError, /maxEntries/)
  throwsWith(() => new TinyKV({ maxEntries: '10' }), TypeError, /maxEntries must be a number/)
  throwsWith(() => new TinyKV({ maxMemory: 'lots' }), RangeError, /maxMemory 'lots'/)
  throwsWith(() => new TinyKV({ maxMemory: '1.5mb' }), RangeError, /maxMemory/)
  throwsWith(() => new TinyKV({ maxMemory: 0 }), RangeError, /maxMemory/)
  throwsWith(() => new TinyKV({ maxMemory: '0mb' }), RangeError, /maxMemory/)
  throwsWith(() => new TinyKV({ maxMemory: true }), TypeError, /maxMemory/)
  throwsWith(() => new TinyKV({ defaultTtl: 0 }), RangeError, /defaultTtl/)
  throwsWith(() => new TinyKV({ defaultTtl: -1 }), RangeError, /defaultTtl/)
  throwsWith(() => new TinyKV({ defaultTtl: NaN }), RangeError, /defaultTtl/)
  throwsWith(() => new TinyKV({ defaultTtl: '1s' }), TypeError, /defaultTtl/)
  throwsWith(() => new TinyKV({ namespace: '' }), RangeError, /namespace/)
  throwsWith(() => new TinyKV({ namespace: 7 }), TypeError, /namespace/)
  throwsWith(() => new TinyKV({ maxEntires: 10 }), TypeError, /unknown option 'maxEntires'/)
})

test('valid option forms are accepted', () => {
  for (const [opts, mem] of [[{ maxMemory: '64mb' }, 64 * 1024 * 1024], [{ maxMemory: '2KB' }, 2048], [{ maxMemory: 5000 }, 5000], [{ maxMemory: '1g' }, 1 << 30]]) {
    assert.equal(new TinyKV(opts).stats().maxMemory, mem)
  }
  assert.equal(new TinyKV(undefined).stats().maxEntries, undefined)
  assert.equal(new TinyKV(null).size, 0)
  assert.equal(new TinyKV({ maxEntries: 5, defaultTtl: 1000, namespace: 'x' }).namespaceName, 'x')
})

test('wrong argument types are TypeErrors with clear messages', () => {
  const kv = new TinyKV()
  throwsWith(() => kv.get(1), TypeError, /TinyKV\.get: key must be a string, got number/)
  throwsWith(() => kv.get(), TypeError, /got undefined/)
  throwsWith(() => kv.set(null, 'x'), TypeError, /TinyKV\.set: key must be a string, got null/)
  throwsWith(() => kv.set('k', { a: 1 }), TypeError, /value must be a string, Buffer or number, got object/)
  throwsWith(() => kv.set('k'), TypeError, /got undefined/)
  throwsWith(() => kv.set('k', true), TypeError, /got boolean/)
  throwsWith(() => kv.set('k', NaN), RangeError, /finite/)
  throwsWith(() => kv.set('k', 'v', 5), TypeError, /options must be an object/)
  throwsWith(() => kv.set('k', 'v', { ttl: '5' }), TypeError, /options\.ttl/)
  throwsWith(() => kv.set('k', 'v', { ttl: 0 }), RangeError, /options\.ttl/)
  throwsWith(() => kv.set('k', 'v', { nx: 1 }), TypeError, /options\.nx must be a boolean/)
  throwsWith(() => kv.set('k', 'v', { nx: true, xx: true }), RangeError, /nx and options\.xx/)
  throwsWith(() => kv.set('k', 'v', { ttl: 5, keepTtl: true }), RangeError, /keepTtl/)
  throwsWith(() => kv.has({}), TypeError, /TinyKV\.has/)
  throwsWith(() => kv.delete(Symbol('s')), TypeError, /TinyKV\.delete: key must be a string, got symbol/)
  throwsWith(() => kv.expire('k', 'soon'), TypeError, /ttl/)
  throwsWith(() => kv.expire('k', -1), RangeError, /ttl/)
  throwsWith(() => kv.ttl(5), TypeError, /TinyKV\.ttl/)
  throwsWith(() => kv.persist(5), TypeError, /TinyKV\.persist/)
  throwsWith(() => kv.incr(5), TypeError, /TinyKV\.incr/)
  throwsWith(() => kv.decr('k', 'x'), TypeError, /TinyKV\.decr: by must be a number/)
  throwsWith(() => kv.keys(5), TypeError, /pattern must be a string/)
  throwsWith(() => kv.getBuffer(5), TypeError, /TinyKV\.getBuffer/)
  throwsWith(() => kv.getJSON(5), TypeError, /TinyKV\.get/)
  throwsWith(() => kv.setJSON(5, {}), TypeError, /TinyKV\.setJSON/)
  // Nothing was written by the failed calls.
  assert.equal(kv.size, 0)
})

test('oversized keys are RangeErrors from the store', () => {
  const kv = new TinyKV()
  throwsWith(() => kv.set('k'.repeat(70_000), 'v'), RangeError, /^TinyKV\.set: key is 70000 bytes/)
})

test("the store's own errors name the method, as argument errors do", () => {
  const kv = new TinyKV()
  kv.set('text', 'abc')
  throwsWith(() => kv.incr('text'), Error, /^TinyKV\.incr: value is not an integer or out of range$/)
  throwsWith(() => kv.decr('text', 2n), Error, /^TinyKV\.decr: value is not an integer/)
  kv.set('max', 9007199254740991)
  throwsWith(() => kv.incr('max', 2n ** 63n - 1n), RangeError, /^TinyKV\.incr: increment or decrement would overflow/)
  throwsWith(() => kv.setJSON('u', undefined), TypeError, /^TinyKV\.setJSON: value has no JSON form \(got undefined\)$/)
  throwsWith(() => kv.setJSON('f', () => 1), TypeError, /no JSON form \(got function\)/)
  assert.equal(kv.get('text'), 'abc')
})

test('a Rust panic becomes a JS Error, and the process lives on', () => {
  const file = readdirSync(root).find((f) => /^tinykv\..*\.node$/.test(f))
  const native = require(path.join(root, file))
  throwsWith(() => native.__testPanic(true), Error, /panic/)
  throwsWith(() => native.__testPanic(false), Error, /panic/)
  const kv = new TinyKV()
  kv.set('still', 'alive')
  assert.equal(kv.get('still'), 'alive')
})

/** The field names of `interface NAME { ... }` in index.d.ts. */
function documentedFields(name) {
  const dts = readFileSync(path.join(root, 'index.d.ts'), 'utf8')
  const body = dts.match(new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`))
  assert.ok(body, `index.d.ts declares ${name}`)
  return [...body[1].matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1])
}

test('the options index.d.ts documents are exactly the ones the constructor reads', () => {
  const names = documentedFields('TinyKVOptions')
  assert.deepEqual(names.sort(), ['defaultTtl', 'evictionPolicy', 'maxEntries', 'maxMemory', 'name', 'namespace'])
  for (const name of names) {
    // A wrong type is reported under the option's own name, so the parser reads it.
    throwsWith(() => new TinyKV({ [name]: Symbol('x') }), TypeError, new RegExp(`options\\.${name} must be`))
  }
  throwsWith(() => new TinyKV({ maxEntires: 5 }), TypeError, /unknown option 'maxEntires'/)
})

test('the set options index.d.ts documents are exactly the ones set reads, on every path', () => {
  const names = documentedFields('SetOptions')
  assert.deepEqual(names.sort(), ['keepTtl', 'nx', 'ttl', 'xx'])
  const kv = new TinyKV()
  const paths = {
    'the instance method (JS wrapper)': (o) => kv.set('k', 'v', o),
    'the prototype method': (o) => TinyKV.prototype.set.call(kv, 'k', 'v', o),
    setJSON: (o) => kv.setJSON('k', 1, o),
    mset: (o) => kv.mset([['k', 'v']], o),
  }
  for (const [where, call] of Object.entries(paths)) {
    for (const name of names) {
      assert.throws(
        () => call({ [name]: Symbol('x') }),
        (e) => e instanceof TypeError && new RegExp(`options\\.${name} must be`).test(e.message),
        `${where} reads options.${name}`,
      )
    }
  }
  assert.equal(kv.size, 0)
})
