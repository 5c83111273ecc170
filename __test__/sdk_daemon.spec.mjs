// The shared AsyncTinyKV suite against a real `tinykv serve`: over the Unix socket (RESP2), and
// over TCP with a password and RESP3; plus what only the daemon has (SELECT-name namespaces).
import { before, after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { open, TinyKVClient } from 'tinykv'
import Redis from 'ioredis'
import { startDaemon } from './helpers/servers.mjs'
import { sharedSuite } from './helpers/sdk_suite.mjs'

const password = 'sdk-test-secret'
let daemon
before(async () => {
  daemon = await startDaemon(['--requirepass', password])
})
after(() => daemon.stop())

describe('daemon over the Unix socket, RESP2', () => {
  let kv
  before(async () => {
    kv = await open({ url: `unix://${daemon.sock}`, password })
  })
  after(() => kv.close())
  sharedSuite('daemon unix', () => kv)

  test('daemon unix: open() finds the daemon and its namespaces are SELECT names', async () => {
    assert.equal(kv.backend, 'tinykv')
    assert.ok(kv instanceof TinyKVClient)
    await kv.namespace('sessions').set('s1', 'alive')
    const r = new Redis({ path: daemon.sock, password })
    try {
      await r.call('SELECT', 'sessions')
      assert.equal(await r.get('s1'), 'alive', 'the same key, seen by another client in SELECT sessions')
      assert.equal(await r.get('sessions:s1'), null, 'no prefix on the daemon')
    } finally {
      r.disconnect()
    }
  })
})

describe('daemon over TCP with AUTH in the URL, RESP3, a pool of 3', () => {
  let kv
  before(async () => {
    kv = await open({ url: `redis://:${password}@127.0.0.1:${daemon.port}`, resp: 3, pool: 3 })
  })
  after(() => kv.close())
  sharedSuite('daemon tcp resp3', () => kv)

  test('daemon tcp: a wrong password fails at open() with the server reply', async () => {
    await assert.rejects(open({ url: `redis://:wrong@127.0.0.1:${daemon.port}` }), (err) => {
      assert.equal(err.name, 'TinyKVConnectionError')
      assert.match(err.message, /WRONGPASS|invalid password|AUTH/i)
      return true
    })
  })
})
