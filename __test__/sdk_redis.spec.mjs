// The shared AsyncTinyKV suite against a real redis-server (RESP2, then RESP3), and how
// namespaces become key prefixes there.
import { before, after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { open, toRedisKey } from 'tinykv'
import Redis from 'ioredis'
import { startRedis } from './helpers/servers.mjs'
import { sharedSuite } from './helpers/sdk_suite.mjs'

let redis
before(async () => {
  redis = await startRedis()
})
after(() => redis.stop())

for (const resp of [2, 3]) {
  describe(`redis-server, RESP${resp}`, () => {
    let kv
    before(async () => {
      kv = await open({ url: `redis://127.0.0.1:${redis.port}`, resp })
    })
    after(() => kv.close())
    sharedSuite(`redis resp${resp}`, () => kv)
  })
}

test('redis: namespaces are key prefixes, through the one mapping', async () => {
  const kv = await open({ url: `redis://127.0.0.1:${redis.port}` })
  const dashed = await open({ url: `redis://127.0.0.1:${redis.port}`, namespaceSeparator: '/' })
  const r = new Redis({ port: redis.port })
  try {
    assert.equal(kv.backend, 'redis')
    await kv.namespace('sessions').set('s1', 'alive')
    assert.equal(toRedisKey('sessions', 's1'), 'sessions:s1')
    assert.equal(await r.get('sessions:s1'), 'alive')
    await dashed.namespace('sessions').set('s2', 'slash')
    assert.equal(await r.get('sessions/s2'), 'slash')
    await kv.set('root', 'r')
    assert.equal(await r.get('root'), 'r', 'the default namespace has no prefix')
    assert.deepEqual(await kv.namespace('sessions').keys(), ['s1'])
  } finally {
    r.disconnect()
    await kv.close()
    await dashed.close()
  }
})
