// The app end to end through Nest's testing module and supertest, on whichever store
// TINYKV_URL names (none: in-process). Short TTLs so the expiry can be watched.
import 'reflect-metadata'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { Test } from '@nestjs/testing'
import type { INestApplication } from '@nestjs/common'
import { CACHE_MANAGER } from '@nestjs/cache-manager'
import type { Cache } from '@nestjs/cache-manager'
import request from 'supertest'
import type { AsyncTinyKV } from 'tinykv'
import { KeyvTinyKV } from 'tinykv/keyv'
import { AppModule } from '../src/app.module'
import { ProductsService } from '../src/products.service'

process.env.PRODUCT_TTL_MS = '1000'
process.env.PRICE_TTL_MS = '60000'

let app: INestApplication
let service: ProductsService
let store: AsyncTinyKV

before(async () => {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile()
  app = moduleRef.createNestApplication()
  await app.init()
  service = app.get(ProductsService)
  const cache = app.get<Cache>(CACHE_MANAGER)
  // The TinyKV store under Nest's cache, to look at what the app stored.
  store = await (cache.stores[0]!.store as KeyvTinyKV).ready()
  await cache.clear()
})

after(() => app.close())

/** Polls `check` until true; fails after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await delay(25)) if (await check()) return
  assert.fail(`gave up waiting for ${what}`)
}

test('the cache is TinyKV: in-process, or the daemon when TINYKV_URL is set', () => {
  assert.equal(store.backend, process.env.TINYKV_URL ? 'tinykv' : 'in-process')
  assert.equal(store.namespaceName, 'http-cache')
})

test('a second GET is served from the cache, with the @CacheTTL in the store', async () => {
  const first = await request(app.getHttpServer()).get('/products/7').expect(200)
  assert.deepEqual(first.body, { id: '7', name: 'Product 7', load: service.loads })
  const loads = service.loads
  const second = await request(app.getHttpServer()).get('/products/7').expect(200)
  assert.deepEqual(second.body, first.body)
  assert.equal(service.loads, loads, 'the service was not called again')
  const ttl = await store.ttl('/products/7')
  assert.ok(ttl > 0 && ttl <= 1000, `the entry's TTL in TinyKV (${ttl} ms) is the route's @CacheTTL`)
})

test('the cached page expires after its @CacheTTL and is loaded again', async () => {
  const first = await request(app.getHttpServer()).get('/products/8').expect(200)
  assert.equal(await store.has('/products/8'), true)
  await until('the cached page to expire', async () => !(await store.has('/products/8')))
  const again = await request(app.getHttpServer()).get('/products/8').expect(200)
  assert.ok(again.body.load > first.body.load, 'a fresh load after the TTL')
})

test('the service caches prices with wrap, and a price change drops the cached one', async () => {
  const first = await request(app.getHttpServer()).get('/products/1/price').expect(200)
  assert.equal(first.body.cents, 999)
  const cached = await request(app.getHttpServer()).get('/products/1/price').expect(200)
  assert.deepEqual(cached.body, first.body, 'the same load answered twice')
  assert.equal(await store.has('price:1'), true)
  await request(app.getHttpServer()).put('/products/1/price').send({ cents: 899 }).expect(204)
  assert.equal(await store.has('price:1'), false)
  const changed = await request(app.getHttpServer()).get('/products/1/price').expect(200)
  assert.equal(changed.body.cents, 899)
  assert.ok(changed.body.load > first.body.load)
})

test('bad input gets a 400 and unknown products a 404, and neither is cached', async () => {
  await request(app.getHttpServer()).put('/products/1/price').send({ cents: 'cheap' }).expect(400)
  await request(app.getHttpServer()).get('/products/abc').expect(404)
  await request(app.getHttpServer()).get('/products/3/price').expect(404)
  assert.equal(await store.has('/products/abc'), false)
  assert.equal(await store.has('price:3'), false)
})
