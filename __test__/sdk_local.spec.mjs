// The shared AsyncTinyKV suite against the in-process backend (open() with no url), plus what
// only it has: the store options reach the native class.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { open, LocalTinyKV, TinyKV } from 'tinykv'
import { sharedSuite } from './helpers/sdk_suite.mjs'

let kv
before(async () => {
  kv = await open({ maxMemory: '64mb', maxEntries: 10_000 })
})
after(() => kv.close())

sharedSuite('in-process', () => kv)

test('in-process: open() with no url is the native store, with its options', async () => {
  assert.equal(kv.backend, 'in-process')
  assert.ok(kv instanceof LocalTinyKV)
  assert.ok(kv.sync instanceof TinyKV)
  const stats = await kv.stats()
  assert.equal(stats.maxEntries, 10_000)
  assert.equal(stats.maxMemory, 64 * 1024 * 1024)
  const empty = await open({ url: '' })
  assert.equal(empty.backend, 'in-process', 'an empty url (an unset variable) is in-process too')
  await empty.close()
  await assert.rejects(open({ maxMemory: 'lots' }), RangeError)
})

test('in-process: close() closes every handle; a second close is harmless', async () => {
  const own = await open()
  const ns = own.namespace('x')
  await ns.set('k', 'v')
  await own.close()
  await own.close()
  await assert.rejects(ns.get('k'), /closed/)
})
