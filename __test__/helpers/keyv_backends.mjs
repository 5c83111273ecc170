// The two stores the Keyv specs run on: an in-process store and the TinyKV daemon (started on
// a temp Unix socket by the spec's `before`). `each(fn)` defines fn's tests for both, with
// `kv()` the root AsyncTinyKV opened for that backend.
import { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { open } from 'tinykv'
import { startDaemon } from './servers.mjs'

export function eachBackend(define) {
  let daemon
  const stores = {}
  before(async () => {
    daemon = await startDaemon()
    stores['in-process'] = await open()
    stores.daemon = await open({ url: `unix://${daemon.sock}` })
  })
  after(async () => {
    await Promise.all(Object.values(stores).map((s) => s.close()))
    await daemon?.stop()
  })
  let n = 0
  for (const label of ['in-process', 'daemon']) {
    // A namespace of its own per test, so the tests of one file share the store but no keys.
    define(label, {
      kv: () => stores[label],
      fresh: () => `t${process.pid}_${++n}`,
      url: () => (label === 'daemon' ? `unix://${daemon.sock}` : undefined),
    })
  }
}

/** Polls `check` until true (a bounded wait for a TTL to pass); fails after `ms`. */
export async function until(what, check, ms = 5_000) {
  for (const end = Date.now() + ms; Date.now() < end; await delay(20)) if (await check()) return
  assert.fail(`gave up waiting for ${what}`)
}
