// Helpers for the worker_threads suites (shared.spec.mjs, get-or-set.spec.mjs): run a body of
// code in a worker with the built addon loaded, and talk to it by messages.
import { Worker } from 'node:worker_threads'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { createRequire } from 'node:module'

export const index = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'index.js')
const require = createRequire(import.meta.url)
export const { TinyKV } = require(index)
export const native = require(index)

/**
 * Starts a worker running `body` (an async function body) with `TinyKV`, `data` (its
 * workerData), `send(msg)`, `next()` (the next message from the parent) and `sleep(ms)`.
 * The body's return value is posted as `{ done: value }`, its error as `{ error: message }`.
 */
export function spawn(body, data = {}) {
  const src = `
const { parentPort, workerData } = require('node:worker_threads')
const { TinyKV } = require(workerData.index)
const data = workerData.data
const send = (m) => parentPort.postMessage(m)
const inbox = []
const takers = []
parentPort.on('message', (m) => (takers.length ? takers.shift()(m) : inbox.push(m)))
const next = () => (inbox.length ? Promise.resolve(inbox.shift()) : new Promise((r) => takers.push(r)))
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
;(async () => { ${body} })().then(
  (v) => { send({ done: v }); parentPort.close() },
  (e) => { send({ error: String(e && e.stack || e) }); parentPort.close() },
)
`
  const w = new Worker(src, { eval: true, workerData: { index, data } })
  // Every message is kept until taken: several can arrive in one turn of the event loop.
  const inbox = []
  let wake = () => {}
  w.on('message', (m) => {
    inbox.push(m)
    wake()
  })
  w.on('error', (e) => {
    inbox.push({ error: String(e && e.stack || e) })
    wake()
  })
  w.take = async (pred) => {
    for (;;) {
      const i = inbox.findIndex((m) => (m && m.error) || pred(m))
      if (i >= 0) return inbox.splice(i, 1)[0]
      await new Promise((r) => (wake = r))
    }
  }
  return w
}

/** The next message from `w` that satisfies `pred` (default: any). */
export async function message(w, pred = () => true) {
  const m = await w.take(pred)
  if (m && m.error) throw new Error(`worker failed: ${m.error}`)
  return m
}

/** Runs `body` in a worker and resolves to what it returned. */
export async function run(body, data) {
  const w = spawn(body, data)
  const exited = once(w, 'exit')
  const m = await message(w, (m) => m && 'done' in m)
  await exited
  return m.done
}
