// getOrSet: read-through with one loader call per key in the whole process (every thread
// sharing a named store), errors passed to every waiter, a loading thread terminated
// mid-load, and stale-while-revalidate on a manual clock.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TinyKV, native, spawn, message } from './worker-helpers.mjs'

test('a hit returns the value itself with no loader call; a miss loads and stores', async () => {
  const kv = new TinyKV()
  let calls = 0
  const loader = async (key) => {
    calls++
    return 'v:' + key
  }
  const first = kv.getOrSet('k', loader, { ttl: 60_000 })
  assert.ok(first instanceof Promise, 'a miss answers a Promise')
  assert.equal(await first, 'v:k')
  assert.equal(kv.get('k'), 'v:k')
  assert.ok(kv.ttl('k') > 59_000 && kv.ttl('k') <= 60_000)
  assert.equal(kv.getOrSet('k', loader), 'v:k', 'a hit answers the value, no Promise')
  assert.equal(calls, 1)
  assert.deepEqual(await kv.getOrSetBuffer('b', () => Buffer.from([1, 2, 3])), Buffer.from([1, 2, 3]))
  assert.deepEqual(kv.getOrSetBuffer('b', loader), Buffer.from([1, 2, 3]))
  assert.equal(await kv.getOrSet('n', () => 42), '42')
  const obj = { a: [1, 'x'] }
  assert.equal(await kv.getOrSetJSON('j', async () => obj), obj, 'the leader gets its own value')
  assert.deepEqual(kv.getOrSetJSON('j', loader), obj)
  assert.equal(kv.get('j'), '{"a":[1,"x"]}')
  assert.equal(calls, 1)
  kv.close()
})

test('bad arguments reject with errors that name them', async () => {
  const kv = new TinyKV()
  await assert.rejects(kv.getOrSet('k', 'nope'), { name: 'TypeError', message: /loader must be a function/ })
  await assert.rejects(kv.getOrSet(5, () => 'v'), { name: 'TypeError', message: /TinyKV.getOrSet: key/ })
  await assert.rejects(kv.getOrSet('k', () => 'v', { ttl: -1 }), { name: 'RangeError', message: /options.ttl/ })
  await assert.rejects(kv.getOrSet('k', () => 'v', { staleTtl: 5 }), {
    name: 'RangeError',
    message: 'TinyKV.getOrSet: options.staleTtl needs a ttl (or the store\'s defaultTtl)',
  })
  await assert.rejects(kv.getOrSet('k', () => ({})), { name: 'TypeError', message: /value must be a string/ })
  await assert.rejects(kv.getOrSetJSON('k', () => undefined), { name: 'TypeError', message: /no JSON form/ })
  assert.equal(kv.has('k'), false, 'nothing was stored')
  assert.equal(await kv.getOrSet('k', () => 'ok'), 'ok', 'and no flight was left behind')
  kv.close()
})

test('single flight: 4 workers x 50 concurrent getOrSet on one cold key call the loader once', async () => {
  const kv = new TinyKV({ name: 'flight' })
  const workers = [0, 1, 2, 3].map((id) =>
    spawn(
      `
      const kv = new TinyKV({ name: 'flight' })
      let go
      const released = new Promise((r) => (go = r))
      const loader = async () => {
        kv.incr('loader-calls')
        await released
        return 'loaded-by-' + data.id
      }
      const calls = Array.from({ length: 50 }, () => kv.getOrSet('cold', loader, { ttl: 60_000 }))
      send('issued')
      // The loader runs in one worker only; every worker is released, so whichever leads
      // finishes. Meanwhile this thread's event loop keeps running: it receives this message.
      await next()
      go()
      return Promise.all(calls)
    `,
      { id },
    ),
  )
  for (const w of workers) await message(w, (m) => m === 'issued')
  for (const w of workers) w.postMessage('go')
  const results = (await Promise.all(workers.map((w) => message(w, (m) => 'done' in m)))).flatMap((m) => m.done)
  assert.equal(results.length, 200)
  assert.equal(kv.get('loader-calls'), '1', 'exactly one loader call in the process')
  assert.match(results[0], /^loaded-by-[0-3]$/)
  assert.deepEqual(new Set(results), new Set([results[0]]), 'all 200 got the one value')
  assert.equal(kv.get('cold'), results[0])
  kv.close()
})

test('a loader error reaches every waiter in every thread, nothing is cached, the next call retries', async () => {
  const kv = new TinyKV({ name: 'errors' })
  let release
  const gate = new Promise((r) => (release = r))
  const leading = kv.getOrSet('e', async () => {
    await gate
    throw new Error('db down')
  })
  const w = spawn(`
    const kv = new TinyKV({ name: 'errors' })
    const p = kv.getOrSet('e', () => 'never')
    send('waiting')
    return p.then(() => 'resolved?', (e) => e.message)
  `)
  await message(w, (m) => m === 'waiting')
  const sameThread = kv.getOrSet('e', () => 'never')
  release()
  await assert.rejects(leading, { message: 'db down' }, 'the leader gets its own error')
  await assert.rejects(sameThread, { message: 'TinyKV.getOrSet: the loader failed: db down' })
  assert.equal((await message(w, (m) => 'done' in m)).done, 'TinyKV.getOrSet: the loader failed: db down')
  assert.equal(kv.has('e'), false)
  assert.equal(await kv.getOrSet('e', async () => 'recovered'), 'recovered')
  kv.close()
})

test('a loading thread terminated mid-load releases its waiters with an error', async () => {
  const kv = new TinyKV({ name: 'term-load' })
  const leader = spawn(`
    const kv = new TinyKV({ name: 'term-load' })
    kv.getOrSet('slow', () => new Promise(() => {}))
    send('leading')
    await new Promise(() => setInterval(() => {}, 1000))
  `)
  await message(leader, (m) => m === 'leading')
  const waiter = spawn(`
    const kv = new TinyKV({ name: 'term-load' })
    const p = kv.getOrSet('slow', () => 'unused')
    send('waiting')
    let first
    try { await p; first = 'resolved?' } catch (e) { first = e.message }
    return { first, retry: await kv.getOrSet('slow', async () => 'second try') }
  `)
  await message(waiter, (m) => m === 'waiting')
  await leader.terminate()
  const r = (await message(waiter, (m) => 'done' in m)).done
  assert.deepEqual(r, {
    first: 'TinyKV.getOrSet: the thread running the loader exited before it finished; call again to retry',
    retry: 'second try',
  })
  assert.equal(kv.get('slow'), 'second try')
  kv.close()
})

test('a waiting thread terminated mid-wait is skipped; the other waiters still get the value', async () => {
  const kv = new TinyKV({ name: 'term-wait' })
  let release
  const leading = kv.getOrSet('k', () => new Promise((r) => (release = () => r('value'))))
  const waiting = ['doomed', 'survivor'].map(() =>
    spawn(`
      const kv = new TinyKV({ name: 'term-wait' })
      const p = kv.getOrSet('k', () => 'unused')
      send('waiting')
      return await p
    `),
  )
  for (const w of waiting) await message(w, (m) => m === 'waiting')
  await waiting[0].terminate()
  const same = kv.getOrSet('k', () => 'unused')
  release()
  assert.equal(await leading, 'value')
  assert.equal(await same, 'value')
  assert.equal((await message(waiting[1], (m) => 'done' in m)).done, 'value')
  kv.close()
  await assert.rejects(kv.getOrSet('k', () => 'v'), { message: 'TinyKV.getOrSet: the store is closed' })
})

test('stale-while-revalidate: a stale value is answered at once while one caller refreshes it', async () => {
  native.__testManualClockStore('swr', 1_000_000)
  const kv = new TinyKV({ name: 'swr' })
  const opts = { ttl: 1000, staleTtl: 5000 }
  let calls = 0
  let release = () => {}
  const loader = () => {
    calls++
    const n = calls
    return n === 1 ? 'v1' : new Promise((r) => (release = () => r('v' + n)))
  }
  assert.equal(await kv.getOrSet('k', loader, opts), 'v1')
  assert.equal(kv.ttl('k'), 6000, 'stored for ttl + staleTtl')
  native.__testAdvanceClock('swr', 999)
  assert.equal(await kv.getOrSet('k', loader, opts), 'v1', 'fresh: no reload')
  assert.equal(calls, 1)
  native.__testAdvanceClock('swr', 1)
  // Stale now: answered at once, one background refresh, other callers (any thread) get v1.
  assert.equal(await kv.getOrSet('k', loader, opts), 'v1')
  assert.equal(calls, 2)
  const other = await (async () => {
    const w = spawn(`return new TinyKV({ name: 'swr' }).getOrSet('k', () => 'worker', ${JSON.stringify(opts)})`)
    return (await message(w, (m) => 'done' in m)).done
  })()
  assert.equal(other, 'v1', 'a stale read in another thread does not start a second refresh')
  assert.equal(await kv.getOrSet('k', loader, opts), 'v1')
  assert.equal(calls, 2)
  release()
  await new Promise((r) => setImmediate(r))
  assert.equal(kv.get('k'), 'v2')
  assert.equal(await kv.getOrSet('k', loader, opts), 'v2')
  assert.equal(kv.ttl('k'), 6000, 'the refresh wrote a new ttl + staleTtl')
  native.__testAdvanceClock('swr', 6001)
  const reload = kv.getOrSet('k', loader, opts)
  assert.ok(reload instanceof Promise, 'past ttl + staleTtl it is a miss')
  release()
  assert.equal(await reload, 'v3')
  assert.equal(calls, 3)
  kv.close()
})
