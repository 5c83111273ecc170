// Namespace views hold their namespace while they live; once every view of a namespace is
// collected and its keys are gone, the store reuses its id. So an app that opens
// kv.namespace('user:' + id) per request never runs out of the 65,536 ids a store has.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const require = createRequire(import.meta.url)
const index = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'index.js')
const { TinyKV } = require(index)

const script = `
const { TinyKV } = require(${JSON.stringify(index)})
const settle = async () => { for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)) } }
;(async () => {
  const kv = new TinyKV()
  kv.namespace('keep').set('a', 'kept')
  const N = 70000
  for (let i = 0; i < N; i++) {
    const v = kv.namespace('user:' + i)
    v.set('session', 'x')
    v.delete('session')
    if (i % 5000 === 4999) await settle()
  }
  await settle()
  const later = kv.namespace('after').set('k', 'v') && kv.namespace('after').get('k')
  console.log(JSON.stringify({
    opened: N,
    kept: kv.namespace('keep').get('a'),
    listed: kv.stats().namespaces.map((n) => n.name),
    later,
  }))
})()
`

test('views that come and go never use up the namespace ids', () => {
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.equal(out.opened, 70000, 'more namespaces than a store has ids, one after another')
  assert.equal(out.kept, 'kept', 'a collected view leaves its keys where they were')
  assert.deepEqual(out.listed.sort(), ['after', 'keep'])
  assert.equal(out.later, 'v')
})

test('a namespace stays itself while a view holds it, even with no keys', () => {
  const kv = new TinyKV()
  const a = kv.namespace('a')
  const b = kv.namespace('b')
  a.set('k', '1')
  a.delete('k')
  b.set('k', '2')
  a.set('k', '3')
  assert.equal(b.get('k'), '2')
  assert.equal(a.get('k'), '3')
  assert.equal(kv.namespace('a').get('k'), '3')
})

test('namespace names with whitespace or control characters are refused with a RangeError', () => {
  const kv = new TinyKV()
  for (const name of ['two words', 'line\r\nforged:1', 'tab\there', 'nul\0', '\u2028']) {
    assert.throws(
      () => kv.namespace(name),
      (e) => e instanceof RangeError && /^TinyKV\.namespace: invalid namespace name/.test(e.message),
      JSON.stringify(name),
    )
    assert.throws(() => new TinyKV({ namespace: name }), RangeError)
  }
  assert.equal(kv.namespace('café:1').namespaceName, 'café:1')
})
