import { BadRequestException, Body, Controller, Get, HttpCode, Param, Put, UseInterceptors } from '@nestjs/common'
import { CacheInterceptor, CacheTTL } from '@nestjs/cache-manager'
import { ProductsService } from './products.service'
import type { Product } from './products.service'
import { productTtl } from './settings'

@Controller('products')
export class ProductsController {
  constructor(private readonly products: ProductsService) {}

  /** Cached by URL for `PRODUCT_TTL_MS`: a repeat request never reaches the service. */
  @Get(':id')
  @UseInterceptors(CacheInterceptor)
  @CacheTTL(() => productTtl())
  find(@Param('id') id: string): Promise<Product> {
    return this.products.find(id)
  }

  /** Cached by the service (cache manager's `wrap`), not by the interceptor. */
  @Get(':id/price')
  price(@Param('id') id: string) {
    return this.products.price(id)
  }

  @Put(':id/price')
  @HttpCode(204)
  async setPrice(@Param('id') id: string, @Body() body: { cents?: unknown }): Promise<void> {
    if (typeof body?.cents !== 'number' || !Number.isInteger(body.cents) || body.cents < 0) {
      throw new BadRequestException('body must be { "cents": a non-negative integer }')
    }
    await this.products.setPrice(id, body.cents)
  }
}
