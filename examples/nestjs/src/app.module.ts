import { Module } from '@nestjs/common'
import { CacheModule } from '@nestjs/cache-manager'
import { KeyvTinyKV } from 'tinykv/keyv'
import { ProductsController } from './products.controller'
import { ProductsService } from './products.service'

@Module({
  imports: [
    CacheModule.registerAsync({
      isGlobal: true,
      useFactory: () => ({
        // TinyKV behind Nest's cache: in this process, or the TinyKV daemon when TINYKV_URL is
        // set (unix:///path/tinykv.sock or redis://host:port). Entries live in the TinyKV
        // namespace 'http-cache'; Nest closes the store on shutdown.
        stores: [new KeyvTinyKV({ url: process.env.TINYKV_URL, namespace: 'http-cache' })],
        ttl: 60_000,
      }),
    }),
  ],
  controllers: [ProductsController],
  providers: [ProductsService],
})
export class AppModule {}
