// tinykv/next's two Next.js handlers driven directly with the values Next hands them (an
// APP_PAGE with a Buffer and a Map of Buffers, an APP_ROUTE, a FETCH; a 'use cache' entry with a
// ReadableStream), against the in-process store and a real daemon started on loopback. Tag
// revalidation is checked across processes: a child process revalidates, this one reads.
// The end-to-end run under `next build` / `next start` is example_nextjs.spec.mjs.
import { test, before, after, describe } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { createCacheHandler, createUseCacheHandler } from 'tinykv/next'
import DefaultCacheHandler from 'tinykv/next/cache-handler'
import defaultUseCacheHandler from 'tinykv/next/use-cache-handler'
import { startDaemon } from './helpers/servers.mjs'
// Internal: closes the connections the handlers opened, so this process can exit.
import { closeNextStores } from '../dist/next/store.js'

let daemon, dir
before(async () => {
  daemon = await startDaemon()
  dir = mkdtempSync(join(tmpdir(), 'tinykv-next-'))
})
after(async () => {
  await closeNextStores()
  await daemon?.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** A `.next/server` directory whose build is `id`, as Next passes it to the handler. */
function buildDir(id) {
  const server = join(dir, id, 'server')
  mkdirSync(server, { recursive: true })
  writeFileSync(join(dir, id, 'BUILD_ID'), id)
  return server
}

const appPage = (tags) => ({
  kind: 'APP_PAGE',
  html: '<html><body>héllo</body></html>',
  rscData: Buffer.from([0, 1, 2, 254, 255]),
  headers: { 'x-next-cache-tags': tags.join(','), 'set-cookie': ['a=1', 'b=2'] },
  postponed: undefined,
  status: 200,
  segmentData: new Map([['/_tree', Buffer.from('tree')], ['/_index', Buffer.from([9, 8, 7])]]),
})

const bytesOf = async (stream) => {
  const chunks = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}
/** Resolves once the clock has moved past the current millisecond (a write in the same ms as a revalidation counts as before it). */
async function nextMillisecond() {
  const now = Date.now()
  while (Date.now() === now) await new Promise((r) => setImmediate(r))
}
const streamOf = (bytes) => new ReadableStream({ start: (c) => { c.enqueue(new Uint8Array(bytes)); c.close() } })

/** Runs `code` (an ES module body with `url` in scope) in a separate Node process. */
function inChild(url, code) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const url = ${JSON.stringify(url)}\n${code}`], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  return r.stdout
}

for (const where of ['in-process', 'daemon']) {
  describe(`on the ${where} store`, () => {
    // A namespace of its own per run, so nothing another test wrote is in the way.
    const options = () => ({ url: where === 'daemon' ? `unix://${daemon.sock}` : '', namespace: `t-${randomUUID()}` })

    test('an APP_PAGE entry comes back exactly: Buffers, a Map of Buffers, undefined fields, header arrays, its lifetime', async () => {
      const Handler = createCacheHandler(options())
      const h = new Handler({ serverDistDir: buildDir('b1') })
      const value = appPage(['_N_T_/layout', 'posts'])
      const cacheControl = { revalidate: 60, expire: 3600 }
      const before = Date.now()
      await h.set('/posts', value, { cacheControl })
      const got = await new Handler({ serverDistDir: buildDir('b1') }).get('/posts', { kind: 'APP_PAGE', isFallback: false })
      assert.deepEqual(got.value, value)
      assert.ok(Buffer.isBuffer(got.value.rscData) && Buffer.isBuffer(got.value.segmentData.get('/_index')))
      assert.ok('postponed' in got.value)
      assert.deepEqual(got.cacheControl, cacheControl)
      assert.ok(got.lastModified >= before && got.lastModified <= Date.now(), `lastModified ${got.lastModified}`)
      assert.equal(await h.get('/other', { kind: 'APP_PAGE', isFallback: false }), null)
    })

    test('an APP_ROUTE body and a FETCH entry round-trip; a null value (a cached 404) too', async () => {
      const h = new (createCacheHandler(options()))({ serverDistDir: buildDir('b1') })
      const route = { kind: 'APP_ROUTE', body: Buffer.from('{"ok":true}'), status: 201, headers: { 'content-type': 'application/json' } }
      await h.set('/api/x', route, { cacheControl: { revalidate: false, expire: undefined } })
      assert.deepEqual((await h.get('/api/x', { kind: 'APP_ROUTE', isFallback: false })).value, route)
      const fetched = { kind: 'FETCH', data: { headers: { a: 'b' }, body: 'eyJ4IjoxfQ==', url: 'https://example.test/x', status: 200 }, revalidate: 30 }
      await h.set('f1', fetched, { fetchCache: true, tags: ['t1'], fetchUrl: 'https://example.test/x' })
      const got = await h.get('f1', { kind: 'FETCH', tags: ['t1'], softTags: [] })
      assert.deepEqual(got.value, fetched)
      assert.equal(got.cacheControl, undefined)
      await h.set('/missing', null, { cacheControl: { revalidate: 60, expire: 120 } })
      assert.equal((await h.get('/missing', { kind: 'APP_PAGE', isFallback: false })).value, null)
    })

    test("entries are scoped by the build's ID: another build does not see them", async () => {
      const o = options()
      await new (createCacheHandler(o))({ serverDistDir: buildDir('old') }).set('/', appPage([]), { cacheControl: { revalidate: 60, expire: 600 } })
      assert.equal(await new (createCacheHandler(o))({ serverDistDir: buildDir('new') }).get('/', { kind: 'APP_PAGE', isFallback: false }), null)
      assert.notEqual(await new (createCacheHandler(o))({ serverDistDir: buildDir('old') }).get('/', { kind: 'APP_PAGE', isFallback: false }), null)
    })

    test('revalidateTag expires the pages that list the tag (explicit or implicit) and no others', async () => {
      const Handler = createCacheHandler(options())
      const h = new Handler({ serverDistDir: buildDir('b1') })
      const cc = { cacheControl: { revalidate: 3600, expire: 86400 } }
      await h.set('/a', appPage(['_N_T_/a', 'posts']), cc)
      await h.set('/b', appPage(['_N_T_/b', 'users']), cc)
      await h.revalidateTag('posts')
      assert.equal(await h.get('/a', { kind: 'APP_PAGE', isFallback: false }), null)
      assert.notEqual(await h.get('/b', { kind: 'APP_PAGE', isFallback: false }), null)
      await h.revalidateTag(['_N_T_/b'])
      assert.equal(await h.get('/b', { kind: 'APP_PAGE', isFallback: false }), null)
      // A page rendered after the revalidation is fresh again.
      await nextMillisecond()
      await h.set('/a', appPage(['_N_T_/a', 'posts']), cc)
      assert.notEqual(await h.get('/a', { kind: 'APP_PAGE', isFallback: false }), null)
    })

    test("a FETCH entry expires by its own tags and by the page's soft tags", async () => {
      const h = new (createCacheHandler(options()))({ serverDistDir: buildDir('b1') })
      const value = { kind: 'FETCH', data: { headers: {}, body: 'x', url: 'u' }, revalidate: 60 }
      await h.set('k', value, { fetchCache: true, tags: ['products'] })
      const ctx = { kind: 'FETCH', tags: ['products'], softTags: ['_N_T_/shop'] }
      assert.notEqual(await h.get('k', ctx), null)
      await h.revalidateTag('_N_T_/shop')
      assert.equal(await h.get('k', ctx), null)
      await h.set('k', value, { fetchCache: true, tags: ['products'] })
      await h.revalidateTag('products')
      assert.equal(await h.get('k', { kind: 'FETCH', softTags: [] }), null, 'the tags stored with the entry count even when the read names none')
    })

    test("revalidateTag with a profile (stale-while-revalidate) serves the page once more as stale; a page with no revalidate window re-renders", async () => {
      const h = new (createCacheHandler(options()))({ serverDistDir: buildDir('b1') })
      await h.set('/swr', appPage(['news']), { cacheControl: { revalidate: 60, expire: 3600 } })
      await h.set('/static', appPage(['news']), { cacheControl: { revalidate: false, expire: undefined } })
      await h.revalidateTag(['news'], { expire: 3600 })
      const got = await h.get('/swr', { kind: 'APP_PAGE', isFallback: false })
      const now = Date.now()
      // Next computes stale as lastModified + revalidate*1000 < now, and a blocking re-render as lastModified + expire*1000 < now.
      assert.ok(got.lastModified + 60_000 < now, `stale: ${now - got.lastModified} ms old`)
      assert.ok(got.lastModified + 3_600_000 > now, 'not past expire')
      assert.equal(await h.get('/static', { kind: 'APP_PAGE', isFallback: false }), null)
    })

    test('revalidateTag in another process is seen by the next read here', async () => {
      const o = options()
      if (o.url === '') return // an in-process store is one process's by definition
      const h = new (createCacheHandler(o))({ serverDistDir: buildDir('b1') })
      await h.set('/shared', appPage(['shared']), { cacheControl: { revalidate: 3600, expire: 86400 } })
      assert.notEqual(await h.get('/shared', { kind: 'APP_PAGE', isFallback: false }), null)
      inChild(o.url, `
        const { createCacheHandler } = await import('tinykv/next')
        const H = createCacheHandler({ url, namespace: ${JSON.stringify(o.namespace)} })
        await new H({}).revalidateTag('shared')
        process.exit(0)`)
      assert.equal(await h.get('/shared', { kind: 'APP_PAGE', isFallback: false }), null)
    })

    test("'use cache': the value stream's bytes and the metadata come back, a new stream per get", async () => {
      const h = createUseCacheHandler(options())
      const bytes = Buffer.from([1, 2, 3, 0, 255, ...Buffer.from('payload')])
      const timestamp = Date.now()
      await h.set('key-1', Promise.resolve({ value: streamOf(bytes), tags: ['posts'], stale: 300, timestamp, expire: 3600, revalidate: 900 }))
      for (let i = 0; i < 2; i++) {
        const got = await h.get('key-1', ['_N_T_/layout'])
        assert.deepEqual({ ...got, value: undefined }, { value: undefined, tags: ['posts'], stale: 300, timestamp, expire: 3600, revalidate: 900 })
        assert.deepEqual(await bytesOf(got.value), bytes)
      }
      assert.equal(await h.get('missing', []), undefined)
    })

    test("'use cache': a get waits for a set still streaming its value; an entry with expire 0 is not kept", async () => {
      const h = createUseCacheHandler(options())
      let release
      const slow = new ReadableStream({ start: (c) => { c.enqueue(new Uint8Array([7])); release = () => c.close() } })
      const setting = h.set('slow', Promise.resolve({ value: slow, tags: [], stale: 1, timestamp: Date.now(), expire: 60, revalidate: 30 }))
      const reading = h.get('slow', [])
      await new Promise((r) => setImmediate(r))
      release()
      await setting
      assert.deepEqual(await bytesOf((await reading).value), Buffer.from([7]))
      await h.set('dynamic', Promise.resolve({ value: streamOf(Buffer.from('x')), tags: [], stale: 0, timestamp: Date.now(), expire: 0, revalidate: 0 }))
      assert.equal(await h.get('dynamic', []), undefined)
    })

    test("'use cache': updateTags expires tagged entries, getExpiration reports when, a profile marks them stale (revalidate -1)", async () => {
      const h = createUseCacheHandler(options())
      const entry = (tags) => ({ value: streamOf(Buffer.from('v')), tags, stale: 60, timestamp: Date.now() - 5, expire: 3600, revalidate: 600 })
      await h.set('a', Promise.resolve(entry(['posts'])))
      await h.set('b', Promise.resolve(entry(['users'])))
      assert.equal(await h.getExpiration(['posts', 'never']), 0)
      const before = Date.now()
      await h.updateTags(['posts'])
      const expiredAt = await h.getExpiration(['posts', 'never'])
      assert.ok(expiredAt >= before && expiredAt <= Date.now(), `expiration ${expiredAt}`)
      assert.equal(await h.get('a', []), undefined)
      assert.equal((await h.get('b', [])).revalidate, 600)
      await h.updateTags(['users'], { expire: 3600 })
      const stale = await h.get('b', [])
      assert.equal(stale.revalidate, -1)
      assert.equal(await h.getExpiration(['users']), 0, 'an expiry an hour away has not happened yet')
    })
  })
}

test("'use cache': an updateTags in another process over the daemon expires the entry here", async () => {
  const url = `unix://${daemon.sock}`
  const namespace = `t-${randomUUID()}`
  const h = createUseCacheHandler({ url, namespace })
  await h.set('k', Promise.resolve({ value: streamOf(Buffer.from('v')), tags: ['feed'], stale: 60, timestamp: Date.now() - 5, expire: 3600, revalidate: 600 }))
  assert.notEqual(await h.get('k', []), undefined)
  inChild(url, `
    const { createUseCacheHandler } = await import('tinykv/next')
    await createUseCacheHandler({ url, namespace: ${JSON.stringify(namespace)} }).updateTags(['feed'])
    process.exit(0)`)
  assert.equal(await h.get('k', []), undefined)
})

test('in-process, every thread of the process shares the cache (a named store)', async () => {
  const namespace = `t-${randomUUID()}`
  const h = new (createCacheHandler({ url: '', namespace }))({ serverDistDir: buildDir('b1') })
  await h.set('/threads', appPage(['x']), { cacheControl: { revalidate: 60, expire: 600 } })
  const worker = new Worker(
    `import { createCacheHandler } from 'tinykv/next'
     import { parentPort, workerData } from 'node:worker_threads'
     const h = new (createCacheHandler({ url: '', namespace: workerData.namespace }))({ serverDistDir: workerData.server })
     const got = await h.get('/threads', { kind: 'APP_PAGE', isFallback: false })
     parentPort.postMessage(got && got.value.html)`,
    { eval: true, type: 'module', workerData: { namespace, server: buildDir('b1') } },
  )
  const [html] = await Promise.all([new Promise((ok, fail) => worker.once('message', ok).once('error', fail))])
  await worker.terminate()
  assert.equal(html, appPage([]).html)
})

test('the default exports are ready for next.config: a class and a handler object with the contract methods', () => {
  assert.equal(typeof DefaultCacheHandler, 'function')
  const instance = new DefaultCacheHandler({})
  for (const m of ['get', 'set', 'revalidateTag', 'resetRequestCache']) assert.equal(typeof instance[m], 'function', m)
  for (const m of ['get', 'set', 'refreshTags', 'getExpiration', 'updateTags']) assert.equal(typeof defaultUseCacheHandler[m], 'function', m)
})

test('options of the wrong type throw a TypeError naming the option, where the handler is made', () => {
  assert.throws(() => createCacheHandler({ url: 6380 }), { name: 'TypeError', message: /options\.url must be a string/ })
  assert.throws(() => createUseCacheHandler({ namespace: '' }), { name: 'TypeError', message: /options\.namespace must be a non-empty string/ })
  assert.throws(() => createCacheHandler({ maxMemory: true }), { name: 'TypeError', message: /options\.maxMemory/ })
  assert.throws(() => createCacheHandler('redis://x'), { name: 'TypeError', message: /options must be an object/ })
})

test('with the daemon down, a read is a miss and a write is skipped (each warned), and a revalidation fails loudly', async (t) => {
  const warnings = []
  t.mock.method(console, 'warn', (line) => warnings.push(line))
  const url = `unix://${join(dir, 'nobody-listens.sock')}`
  const h = new (createCacheHandler({ url, namespace: 'down' }))({ serverDistDir: buildDir('b1') })
  assert.equal(await h.get('/x', { kind: 'APP_PAGE', isFallback: false }), null)
  await h.set('/x', appPage([]), { cacheControl: { revalidate: 60, expire: 600 } })
  await assert.rejects(h.revalidateTag('x'))
  const u = createUseCacheHandler({ url, namespace: 'down' })
  assert.equal(await u.get('k', []), undefined)
  assert.equal(await u.getExpiration(['x']), 0)
  await assert.rejects(u.updateTags(['x']))
  assert.ok(warnings.some((w) => /^tinykv\/next: reading \/x failed/.test(w)), warnings.join('\n'))
  assert.ok(warnings.some((w) => /^tinykv\/next: storing \/x failed/.test(w)), warnings.join('\n'))
})
