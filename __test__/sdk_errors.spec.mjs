// Bad input to the SDK: unknown URL schemes fail at open() with a clear message (and never echo
// a password), wrong types are TypeErrors thrown before anything is sent (proven against a
// client whose server is gone), and a server error reply rejects with the server's message.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { open, TinyKVConnectionError, TinyKVReplyError, TinyKVError } from 'tinykv'
import { TinyKVClient } from 'tinykv/client'
import { startDaemon } from './helpers/servers.mjs'

let daemon
before(async () => {
  daemon = await startDaemon()
})
after(() => daemon.stop())

test('a URL with an unknown scheme fails at open() and says what works', async () => {
  await assert.rejects(open({ url: 'http://user:hunter2@127.0.0.1:6379' }), (err) => {
    assert.equal(err.name, 'TypeError')
    assert.match(err.message, /unsupported URL scheme 'http:'/)
    assert.match(err.message, /unix:\/\/\/path\/to\/tinykv\.sock, redis:\/\/host:port, rediss:\/\/host:port/)
    assert.doesNotMatch(err.message, /hunter2/, 'the password is masked')
    return true
  })
  await assert.rejects(open({ url: 'localhost:6379' }), /unsupported URL scheme 'localhost:'/)
  await assert.rejects(open({ url: 'not a url' }), { name: 'TypeError', message: /'not a url' is not a URL/ })
  await assert.rejects(open({ url: 'unix://' }), /names no socket path/)
  await assert.rejects(open({ url: 42 }), TypeError)
  await assert.rejects(open({ url: 'redis://127.0.0.1:1', cluster: ['127.0.0.1:2'] }), /url or cluster, not both/)
  await assert.rejects(open({ url: `unix://${daemon.sock}`, resp: 4 }), RangeError)
  await assert.rejects(open({ url: `unix://${daemon.sock}`, pool: 0 }), RangeError)
  await assert.rejects(open({ url: `unix://${daemon.sock}`, commandTimeout: -1 }), RangeError)
  await assert.rejects(open(null), TypeError)
})

test('no server at the address: open() rejects with a connection error that names it', async () => {
  await assert.rejects(open({ url: `unix://${daemon.dir}/nothing.sock` }), (err) => {
    assert.ok(err instanceof TinyKVConnectionError)
    assert.ok(err instanceof TinyKVError)
    assert.equal(err.code, 'ECONNECTION')
    assert.match(err.message, /cannot connect to unix:.*nothing\.sock/)
    return true
  })
})

test('a server error reply rejects with the server message; the connection stays usable', async () => {
  const kv = await TinyKVClient.connect({ url: `unix://${daemon.sock}` })
  try {
    await kv.set('text', 'abc')
    await assert.rejects(kv.incr('text'), (err) => {
      assert.ok(err instanceof TinyKVReplyError)
      assert.equal(err.message, 'ERR value is not an integer or out of range')
      assert.equal(err.command, 'INCRBY')
      assert.equal(err.code, 'EREPLY')
      return true
    })
    await assert.rejects(kv.incr('big', 2n ** 63n - 1n).then(() => kv.incr('big')), /overflow/)
    assert.equal(await kv.get('text'), 'abc')
  } finally {
    await kv.close()
  }
})

test('wrong types are TypeErrors before anything is sent, even with no connection', async () => {
  const own = await startDaemon()
  const kv = await open({ url: `unix://${own.sock}`, offlineQueue: false })
  await own.stop()
  try {
    await assert.rejects(kv.get('k'), TinyKVConnectionError, 'the server is gone: a well-formed call fails on the connection')
    await assert.rejects(kv.set(1, 'v'), { name: 'TypeError', message: 'TinyKV.set: key must be a string, got number' })
    await assert.rejects(kv.set('k', null), { name: 'TypeError', message: 'TinyKV.set: value must be a string, Buffer or number, got null' })
    await assert.rejects(kv.set('k', 'v', { ttl: 'soon' }), { name: 'TypeError', message: 'TinyKV.set: options.ttl must be a number of milliseconds, got string' })
    await assert.rejects(kv.incr('k', '1'), { name: 'TypeError', message: 'TinyKV.incr: by must be a number or a bigint, got string' })
    await assert.rejects(kv.incr('k', 2n ** 64n), RangeError)
    await assert.rejects(kv.mset({ a: undefined }), { name: 'TypeError', message: 'TinyKV.mset: entries.a must be a string, Buffer or number, got undefined' })
    await assert.rejects(kv.mget(['a', 2]), { name: 'TypeError', message: 'TinyKV.mget: keys[1] must be a string, got number' })
    await assert.rejects(kv.expire('k', Number.NaN), RangeError)
    await assert.rejects(kv.getOrSet('k', () => 'v', { ttl: 0 }), RangeError)
    assert.throws(() => kv.namespace('two words'), RangeError)
  } finally {
    await kv.close()
  }
})

test('close() ends every handle; commands after it fail with a connection error', async () => {
  const kv = await open({ url: `unix://${daemon.sock}` })
  const ns = kv.namespace('later')
  await ns.set('k', 'v')
  await kv.close()
  await kv.close()
  await assert.rejects(ns.get('k'), (err) => err instanceof TinyKVConnectionError && /closed by close\(\)/.test(err.message))
})
