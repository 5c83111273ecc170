// A store that is garbage collected frees itself: its reaper thread goes away.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const index = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'index.js')

const script = `
const { TinyKV } = require(${JSON.stringify(index)})
const fs = require('node:fs')
const threads = () => fs.readdirSync('/proc/self/task').length
const settle = async () => { for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)) } }
;(async () => {
  await settle()
  const base = threads()
  let stores = Array.from({ length: 20 }, () => { const kv = new TinyKV(); kv.namespace('v').set('a', 'b'); return kv })
  const grown = threads()
  stores = null
  // Finalizers run after a GC, on a later turn of the event loop: poll (bounded) until done.
  let after = threads()
  for (let i = 0; i < 50 && after !== base; i++) { await settle(); after = threads() }
  const closed = Array.from({ length: 20 }, () => new TinyKV())
  const grown2 = threads()
  for (const kv of closed) kv.close()
  const afterClose = threads()
  console.log(JSON.stringify({ base, grown, after, grown2, afterClose }))
})()
`

test('collected and closed stores stop their reaper threads', { skip: process.platform !== 'linux' }, () => {
  const out = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' })
  assert.equal(out.status, 0, out.stderr)
  const r = JSON.parse(out.stdout)
  assert.equal(r.grown - r.base, 20, 'one reaper thread per store')
  assert.equal(r.after, r.base, 'GC freed the stores and joined their reapers')
  assert.equal(r.grown2 - r.after, 20)
  assert.equal(r.afterClose, r.after, 'close() joined the reapers')
})
