// rediss://: the shared AsyncTinyKV suite against a redis-server that speaks only TLS (a CA and
// certificate made here by openssl), and a server the client cannot verify refused at open().
import { before, after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { open, TinyKVConnectionError } from 'tinykv'
import { startRedisTls } from './helpers/servers.mjs'
import { sharedSuite } from './helpers/sdk_suite.mjs'

let redis
before(async () => {
  redis = await startRedisTls()
})
after(() => redis?.stop())

describe('redis-server over TLS (rediss://, RESP3)', () => {
  let kv
  before(async () => {
    kv = await open({ url: `rediss://localhost:${redis.port}`, tls: { ca: redis.ca }, resp: 3 })
  })
  after(() => kv.close())
  sharedSuite('redis tls', () => kv)
})

test('rediss:// to a server whose certificate does not verify fails at open()', async () => {
  await assert.rejects(open({ url: `rediss://localhost:${redis.port}` }), (err) => {
    assert.ok(err instanceof TinyKVConnectionError)
    assert.match(err.message, /certificate/i)
    return true
  })
})
