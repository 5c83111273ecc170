// Named stores shared by every worker_thread: one store, seen alike from every thread, with a
// handle count; exact totals under concurrent writers; workers terminated mid-write.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { MessageChannel } from 'node:worker_threads'
import { TinyKV, native, index, run, spawn, message } from './worker-helpers.mjs'

const handles = (name) => TinyKV.openStores().find((s) => s.name === name)?.handles ?? 0

test('sets and deletes in one thread are seen in another', async () => {
  const kv = new TinyKV({ name: 'vis', maxEntries: 1000 })
  kv.set('from-main', 'm')
  const seen = await run(`
    const kv = new TinyKV({ name: 'vis' })
    const got = kv.get('from-main')
    kv.set('from-worker', 'w')
    kv.namespace('other').set('k', 'in-other')
    const deleted = kv.delete('from-main')
    return { got, deleted, size: kv.size }
  `)
  assert.deepEqual(seen, { got: 'm', deleted: true, size: 1 })
  assert.equal(kv.get('from-worker'), 'w')
  assert.equal(kv.get('from-main'), undefined)
  assert.equal(kv.namespace('other').get('k'), 'in-other', 'namespace views are the same store')
  const st = kv.stats()
  assert.equal(st.sets, 3)
  assert.equal(st.deletes, 1)
  assert.equal(st.keys, 2)
  assert.match(kv.metrics(), /tinykv_keys 2/)
  kv.close()
  assert.equal(handles('vis'), 0)
})

test('TTL expiry is seen by every thread (manual clock)', async () => {
  native.__testManualClockStore('ttl', 1_000_000)
  const kv = new TinyKV({ name: 'ttl' })
  kv.set('short', 'x', { ttl: 100 })
  kv.set('long', 'y', { ttl: 10_000 })
  const w = spawn(`
    const kv = new TinyKV({ name: 'ttl' })
    send({ before: [kv.get('short'), kv.ttl('short')] })
    await next()
    return [kv.get('short'), kv.ttl('short'), kv.get('long')]
  `)
  assert.deepEqual((await message(w, (m) => 'before' in m)).before, ['x', 100])
  native.__testAdvanceClock('ttl', 101)
  w.postMessage('advanced')
  assert.deepEqual((await message(w, (m) => 'done' in m)).done, [undefined, -2, 'y'])
  assert.equal(kv.get('short'), undefined)
  assert.equal(kv.stats().expired, 1)
  kv.close()
})

test('eviction by one thread caps the store for all', async () => {
  const kv = new TinyKV({ name: 'evict', maxEntries: 100 })
  const r = await run(`
    const kv = new TinyKV({ name: 'evict', maxEntries: 100 })
    for (let i = 0; i < 250; i++) kv.set('k' + i, 'v')
    return kv.size
  `)
  assert.equal(r, 100)
  assert.equal(kv.size, 100)
  assert.equal(kv.stats().evicted, 150)
  assert.equal(kv.get('k249'), 'v', 'the newest entry stays (LRU)')
  kv.close()
})

test('options that differ from the running store are refused, naming each', () => {
  const kv = new TinyKV({ name: 'opts', maxEntries: 10, evictionPolicy: 'lfu' })
  assert.throws(
    () => new TinyKV({ name: 'opts', maxEntries: 20, evictionPolicy: 'lfu', defaultTtl: 5 }),
    {
      name: 'RangeError',
      message:
        "new TinyKV: store 'opts' is already open with other options: maxEntries (running: 10, given: 20), " +
        'defaultTtl (running: none, given: 5); omit them or pass the running values',
    },
  )
  assert.equal(handles('opts'), 1, 'a refused opener holds nothing')
  const same = new TinyKV({ name: 'opts', maxEntries: 10, namespace: 'n' })
  const bare = new TinyKV({ name: 'opts' })
  assert.equal(handles('opts'), 3)
  assert.throws(() => new TinyKV({ name: '' }), { name: 'RangeError', message: /options.name must not be empty/ })
  assert.throws(() => new TinyKV({ name: 5 }), { name: 'TypeError', message: /options.name must be a string/ })
  for (const h of [kv, same, bare]) h.close()
  assert.equal(handles('opts'), 0)
})

test('an option getter that opens the same store runs outside the registry lock', () => {
  const inner = []
  const options = {
    name: 'reentrant',
    get maxEntries() {
      inner.push(new TinyKV({ name: 'reentrant' }))
      return 10
    },
  }
  // The getter's store opened first (unbounded), so this opener's maxEntries conflicts.
  assert.throws(() => new TinyKV(options), { name: 'RangeError', message: /maxEntries \(running: unbounded, given: 10\)/ })
  assert.equal(handles('reentrant'), inner.length)
  for (const h of inner) h.close()
  assert.equal(handles('reentrant'), 0)
})

test('close in one thread never breaks another; the last close frees the store', async () => {
  const kv = new TinyKV({ name: 'life' })
  kv.set('a', '1')
  const r = await run(`
    const mine = new TinyKV({ name: 'life' })
    const view = mine.namespace('v')
    const during = TinyKV.openStores().find((s) => s.name === 'life').handles
    mine.close()
    let threw = ''
    try { view.get('a') } catch (e) { threw = e.message }
    return { during, threw }
  `)
  assert.deepEqual(r, { during: 2, threw: 'TinyKV.get: the store is closed' })
  assert.equal(kv.get('a'), '1', 'the main thread still works')
  assert.equal(handles('life'), 1)
  kv.close()
  assert.equal(handles('life'), 0)
  const fresh = new TinyKV({ name: 'life' })
  assert.equal(fresh.get('a'), undefined, 'the freed store is gone; the name opens a new one')
  fresh.close()
})

test('a handle ended by its worker exiting is released', async () => {
  const kv = new TinyKV({ name: 'exit' })
  await run(`new TinyKV({ name: 'exit' }).set('w', '1'); new TinyKV({ name: 'exit' })`)
  assert.equal(handles('exit'), 1, "the worker's two unclosed handles were released at its teardown")
  assert.equal(kv.get('w'), '1')
  kv.close()
})

test('exact INCR totals from 4 workers x 100k', async () => {
  const kv = new TinyKV({ name: 'incr' })
  const per = await Promise.all(
    [0, 1, 2, 3].map((id) =>
      run(
        `
      const kv = new TinyKV({ name: 'incr' })
      for (let i = 0; i < 100_000; i++) { kv.incr('total'); kv.incr('w' + data.id) }
      return kv.get('w' + data.id)
    `,
        { id },
      ),
    ),
  )
  assert.deepEqual(per, ['100000', '100000', '100000', '100000'])
  assert.equal(kv.incr('total', 0), 400_000)
  kv.close()
})

test('a handle sent by postMessage is refused with a clear error', () => {
  const kv = new TinyKV({ name: 'post' })
  const { port1, port2 } = new MessageChannel()
  assert.throws(() => port1.postMessage(kv), {
    name: 'TypeError',
    message: /cannot be cloned or sent to another thread \(postMessage\); open the same store there by name/,
  })
  assert.throws(() => structuredClone({ nested: kv.namespace('x') }), TypeError)
  port1.close()
  port2.close()
  kv.close()
})

// Run in a child process, so a crash shows as its exit status instead of killing the runner.
const terminateScript = `
const { Worker } = require('node:worker_threads')
const { TinyKV } = require(${JSON.stringify(index)})
const N = 100000
const src = \`
const { parentPort, workerData } = require('node:worker_threads')
const { TinyKV } = require(workerData.index)
const kv = new TinyKV({ name: 'term', maxEntries: 1000000 })
const me = 'w' + workerData.id
parentPort.postMessage('started')
for (let i = 0; i < workerData.n; i++) {
  kv.incr(me)
  kv.set(me + ':last', String(i))
  if (i % 100 === 0) kv.namespace('ns' + (i % 3)).incr('n')
}
parentPort.postMessage('finished')
\`
;(async () => {
  const kv = new TinyKV({ name: 'term', maxEntries: 1000000 })
  const finished = new Set()
  let next = 0
  const one = (id) => new Promise((resolve) => {
    const w = new Worker(src, { eval: true, workerData: { index: ${JSON.stringify(index)}, id, n: N } })
    w.on('message', (m) => {
      if (m === 'finished') finished.add(id)
      // Terminate at a different point in each worker's run; every tenth runs to the end.
      if (m === 'started' && id % 10 !== 9) setTimeout(() => w.terminate(), (id % 7) * 3)
    })
    w.on('error', (e) => { console.error('worker error', e); process.exitCode = 3 })
    w.on('exit', resolve)
  })
  const lane = async () => { while (next < 100) await one(next++) }
  await Promise.all(Array.from({ length: 8 }, lane))
  const counts = []
  const lasts = []
  for (let id = 0; id < 100; id++) {
    counts.push(Number(kv.get('w' + id) ?? 0))
    lasts.push(kv.get('w' + id + ':last'))
  }
  const store = TinyKV.openStores().find((s) => s.name === 'term')
  console.log(JSON.stringify({ finished: [...finished], counts, lasts, handles: store.handles, size: kv.size }))
})()
`

test('100 workers terminated mid-write: no crash, exact counts for those that finished', () => {
  const out = spawnSync(process.execPath, ['-e', terminateScript], { encoding: 'utf8', timeout: 120_000 })
  assert.equal(out.signal, null, `no crash (stderr: ${out.stderr})`)
  assert.equal(out.status, 0, out.stderr)
  const r = JSON.parse(out.stdout)
  for (let id = 9; id < 100; id += 10) assert.ok(r.finished.includes(id), `worker ${id} ran to the end`)
  for (const id of r.finished) {
    assert.equal(r.counts[id], 100_000, `worker ${id} finished with its exact count`)
    assert.equal(r.lasts[id], '99999')
  }
  for (const c of r.counts) assert.ok(c >= 0 && c <= 100_000, `a count within bounds: ${c}`)
  assert.equal(r.handles, 1, "every terminated worker's handles were released")
  assert.ok(r.counts.some((c) => c > 0 && c < 100_000), 'some workers were terminated mid-write')
  console.log(`finished ${r.finished.length}/100; counts of the terminated: ${r.counts.filter((c, i) => !r.finished.includes(i)).join(' ')}`)
})
