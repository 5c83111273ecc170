// The client when the daemon fails under it: killed in the middle of 1,000 in-flight commands
// (every promise settles, the client reconnects by itself once the daemon is back), the bounded
// offline queue and fail-fast policies, and the per-command timeout against a stopped process.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { open, TinyKVConnectionError, TinyKVTimeoutError } from 'tinykv'
import { startDaemon } from './helpers/servers.mjs'

test('kill the daemon under 1,000 in-flight commands: all settle, then the client reconnects', { timeout: 60_000 }, async () => {
  const daemon = await startDaemon()
  const kv = await open({ url: `unix://${daemon.sock}`, commandTimeout: 2_000 })
  try {
    await kv.set('warm', '1')
    // 1,000 commands issued 100 a tick; SIGKILL goes out after the 300th, so some are answered,
    // some are in flight when the socket dies, and the last ones are issued while it is down.
    const inflight = []
    let exited
    for (let i = 0; i < 1000; i++) {
      const p = i % 2 ? kv.incr('n') : kv.set(`k${i}`, 'x'.repeat(100))
      p.catch(() => {}) // settled below; this only keeps an early rejection from counting as unhandled
      inflight.push(p)
      if (i === 300) exited = daemon.kill()
      if (i % 100 === 99) await new Promise((r) => setImmediate(r))
    }
    await exited
    const settled = await Promise.allSettled(inflight)
    const resolved = settled.filter((r) => r.status === 'fulfilled').length
    const rejected = settled.filter((r) => r.status === 'rejected')
    for (const r of rejected) assert.ok(r.reason instanceof TinyKVConnectionError, `${r.reason?.name}: ${r.reason?.message}`)
    assert.equal(resolved + rejected.length, 1000)
    assert.ok(resolved >= 1 && rejected.length >= 1, `${resolved} resolved, ${rejected.length} rejected: the kill came mid-flight`)
    console.log(`# kill mid-flight: ${resolved} resolved, ${rejected.length} rejected with TinyKVConnectionError`)

    await daemon.start()
    assert.equal(await kv.set('after', 'back'), true, 'a command issued while reconnecting waits for the reconnect')
    assert.equal(await kv.get('after'), 'back')
  } finally {
    await kv.close()
    await daemon.stop()
  }
})

test('while disconnected: a bounded queue waits for the reconnect, past the bound it fails fast', { timeout: 60_000 }, async () => {
  const daemon = await startDaemon()
  const kv = await open({ url: `unix://${daemon.sock}`, offlineQueue: 5, commandTimeout: 20_000 })
  const fast = await open({ url: `unix://${daemon.sock}`, offlineQueue: false })
  try {
    await daemon.kill()
    // Wait until both clients have seen the close (until then a command is written to a dead
    // socket and fails as in flight).
    while (kv.connected || fast.connected) await new Promise((r) => setImmediate(r))
    await assert.rejects(fast.get('x'), (err) => err instanceof TinyKVConnectionError && /offlineQueue is false/.test(err.message))
    const waits = Array.from({ length: 8 }, (_, i) => kv.set(`q${i}`, String(i)))
    const early = await Promise.race([Promise.allSettled(waits.slice(5)), new Promise((r) => setImmediate(() => r('pending')))])
    assert.notEqual(early, 'pending', 'commands past the bound settle at once')
    for (const r of early) {
      assert.equal(r.status, 'rejected')
      assert.ok(r.reason instanceof TinyKVConnectionError)
      assert.match(r.reason.message, /5 commands already wait for it \(offlineQueue: 5\)/)
    }
    await daemon.start()
    assert.deepEqual(await Promise.all(waits.slice(0, 5)), [true, true, true, true, true])
    assert.deepEqual(await kv.mget(['q0', 'q4', 'q5']), ['0', '4', undefined])
  } finally {
    await kv.close()
    await fast.close()
    await daemon.stop()
  }
})

test('a stopped daemon: a command rejects with TinyKVTimeoutError after commandTimeout, open() after connectTimeout', { timeout: 60_000 }, async () => {
  const daemon = await startDaemon()
  const kv = await open({ url: `unix://${daemon.sock}`, commandTimeout: 300 })
  try {
    await kv.set('k', 'v')
    daemon.proc.kill('SIGSTOP')
    await assert.rejects(kv.get('k'), (err) => {
      assert.ok(err instanceof TinyKVTimeoutError, err.message)
      assert.equal(err.code, 'ETIMEDOUT')
      assert.match(err.message, /no reply within 300 ms \(commandTimeout\)/)
      return true
    })
    await assert.rejects(open({ url: `unix://${daemon.sock}`, connectTimeout: 300 }), (err) => {
      assert.ok(err instanceof TinyKVConnectionError, err.message)
      assert.match(err.message, /no connection within 300 ms \(connectTimeout\)/, 'the kernel accepts, the handshake gets no answer')
      return true
    })
    daemon.proc.kill('SIGCONT')
    assert.equal(await kv.get('k'), 'v')
  } finally {
    daemon.proc.kill('SIGCONT')
    await kv.close()
    await daemon.stop()
  }
})
