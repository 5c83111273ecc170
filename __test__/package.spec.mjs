// The package as a user installs it: its public entry exports the TinyKV class and the SDK
// (open, the client, its errors, the namespace mapping) and nothing internal, from CommonJS and
// ESM alike; and every locked package accepts this Node, so
// `npm install` prints no engine warnings.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import semver from 'semver'

const require = createRequire(import.meta.url)
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

const PUBLIC = [
  'DEFAULT_POOL',
  'DEFAULT_SEPARATOR',
  'DualWriteTinyKV',
  'LocalTinyKV',
  'TinyKV',
  'TinyKVClient',
  'TinyKVConnectionError',
  'TinyKVError',
  'TinyKVReplyError',
  'TinyKVTimeoutError',
  'dualWrite',
  'fromRedisKey',
  'namespacePrefix',
  'open',
  'toRedisKey',
]

test('the public entry exports TinyKV and the SDK and nothing internal, from CommonJS and ESM', async () => {
  const cjs = require('tinykv')
  assert.deepEqual(Object.keys(cjs).sort(), PUBLIC)
  assert.equal(cjs.TinyKV, require('../lib/index.js').TinyKV, 'the class is lib/index.js\'s')
  const esm = await import('tinykv')
  assert.deepEqual(Object.keys(esm).filter((k) => k !== 'default' && k !== '__esModule').sort(), PUBLIC)
  assert.equal(esm.TinyKV, cjs.TinyKV)
  const kv = new esm.TinyKV()
  kv.set('k', 'v')
  assert.equal(kv.get('k'), 'v')
})

test('every locked package accepts this Node, so npm install warns of no engine', () => {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'))
  const refused = Object.entries(lock.packages)
    .filter(([, p]) => p.engines && typeof p.engines.node === 'string')
    .filter(([, p]) => !semver.satisfies(process.version, p.engines.node, { includePrerelease: true }))
    .map(([name, p]) => `${name || '(root)'} wants node ${p.engines.node}`)
  assert.deepEqual(refused, [])
})
