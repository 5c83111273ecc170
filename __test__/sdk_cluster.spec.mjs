// The shared AsyncTinyKV suite against a 3-master Redis Cluster started here on loopback
// (redis-server in cluster mode, joined by redis-cli --cluster create).
import { before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { open } from 'tinykv'
import { startCluster } from './helpers/servers.mjs'
import { sharedSuite } from './helpers/sdk_suite.mjs'

let cluster, kv
before(async () => {
  cluster = await startCluster()
  kv = await open({ cluster: cluster.ports.map((p) => `redis://127.0.0.1:${p}`) })
})
after(async () => {
  await kv?.close()
  await cluster?.stop()
})

sharedSuite('redis cluster', () => kv)

test('redis cluster: keys land on every master and come back through SCAN of each', async () => {
  assert.equal(kv.backend, 'redis-cluster')
  const s = kv.namespace('spread')
  const keys = Array.from({ length: 300 }, (_, i) => `k${i}`)
  await s.mset(keys.map((k) => [k, k]))
  assert.deepEqual((await s.keys()).sort(), [...keys].sort())
  assert.equal(await s.size(), 300)
  assert.deepEqual(await s.mget(keys), keys)
})
