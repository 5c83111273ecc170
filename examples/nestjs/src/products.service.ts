import { Inject, Injectable, NotFoundException } from '@nestjs/common'
import { CACHE_MANAGER } from '@nestjs/cache-manager'
import type { Cache } from '@nestjs/cache-manager'
import { priceTtl } from './settings'

export interface Product {
  id: string
  name: string
  /** Which load from the "database" produced this answer (a cached answer keeps its number). */
  load: number
}

/** Products and their prices, from a stand-in database that counts its reads. */
@Injectable()
export class ProductsService {
  /** Reads of the "database" so far: what the cache saves. */
  loads = 0
  private readonly prices = new Map<string, number>([['1', 999], ['2', 1499]])

  constructor(@Inject(CACHE_MANAGER) private readonly cache: Cache) {}

  /** A product as the database has it (the controller's CacheInterceptor caches the page). */
  async find(id: string): Promise<Product> {
    if (!/^\d+$/.test(id)) throw new NotFoundException(`no product ${id}`)
    this.loads++
    return { id, name: `Product ${id}`, load: this.loads }
  }

  /** A product's price in cents, cached by this service itself for `PRICE_TTL_MS`. */
  async price(id: string): Promise<{ id: string; cents: number; load: number }> {
    return this.cache.wrap(priceKey(id), async () => {
      const cents = this.prices.get(id)
      if (cents === undefined) throw new NotFoundException(`no price for product ${id}`)
      this.loads++
      return { id, cents, load: this.loads }
    }, priceTtl())
  }

  /** Changes a price and drops the cached one, so the next read sees the change. */
  async setPrice(id: string, cents: number): Promise<void> {
    this.prices.set(id, cents)
    await this.cache.del(priceKey(id))
  }
}

const priceKey = (id: string): string => `price:${id}`
