// kv.metrics() (Prometheus text), checked by value and by promtool; the Express example serves it
// (__test__/example_express.spec.mjs).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { TinyKV } = require('../index.js')

/** `name{labels} value` lines of a Prometheus text, as a Map from series to number. */
function samples(text) {
  const out = new Map()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    out.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return out
}

function filled() {
  const kv = new TinyKV({ maxEntries: 1000, maxMemory: '1mb' })
  const sessions = kv.namespace('sessions')
  kv.set('a', '1')
  kv.set('b', 'two')
  sessions.set('s1', 'x'.repeat(100), { ttl: 60_000 })
  kv.get('a')
  kv.get('a')
  kv.get('nope')
  kv.delete('b')
  return kv
}

test('metrics() reports the same numbers as stats()', () => {
  const kv = filled()
  const text = kv.metrics()
  const s = kv.stats()
  const m = samples(text)
  const expect = {
    tinykv_keyspace_hits_total: 2,
    tinykv_keyspace_misses_total: 1,
    tinykv_sets_total: 3,
    tinykv_deletes_total: 1,
    tinykv_expired_keys_total: 0,
    tinykv_evicted_keys_total: 0,
    tinykv_keys: 2,
    tinykv_used_memory_bytes: s.usedMemory,
    tinykv_table_memory_bytes: s.tableMemory,
    tinykv_max_memory_bytes: 1024 * 1024,
    tinykv_max_entries: 1000,
    'tinykv_namespace_keys{namespace="default"}': 1,
    'tinykv_namespace_keys{namespace="sessions"}': 1,
  }
  for (const [series, v] of Object.entries(expect)) assert.equal(m.get(series), v, `${series} in\n${text}`)
  const sessionBytes = s.namespaces.find((n) => n.name === 'sessions').bytes
  assert.equal(m.get('tinykv_namespace_bytes{namespace="sessions"}'), sessionBytes)
  assert.ok(sessionBytes >= 100)
  assert.match(text, /^# TYPE tinykv_keyspace_hits_total counter$/m)
  assert.match(text, /^# TYPE tinykv_used_memory_bytes gauge$/m)
  assert.doesNotMatch(text, /# EOF/)
  // A fresh snapshot each call.
  kv.get('a')
  assert.equal(samples(kv.metrics()).get('tinykv_keyspace_hits_total'), 3)
  kv.close()
  assert.throws(() => kv.metrics(), /TinyKV\.metrics: the store is closed/)
})

test('metrics() passes promtool check metrics', () => {
  const kv = filled()
  const text = kv.metrics()
  const out = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  if (out.error?.code === 'ENOENT') {
    assert.fail('promtool is not installed: install it (Debian: apt-get install prometheus) to run this test')
  }
  assert.ifError(out.error)
  assert.equal(out.status, 0, `promtool check metrics failed:\n${out.stdout}${out.stderr}\non:\n${text}`)
  assert.equal((out.stdout + out.stderr).trim(), '', 'promtool found nothing to warn about')
})
