import 'reflect-metadata'
import { NestFactory } from '@nestjs/core'
import { AppModule } from './app.module'

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule)
  // On SIGTERM/SIGINT Nest runs onModuleDestroy, which closes the cache's TinyKV store.
  app.enableShutdownHooks()
  const port = Number(process.env.PORT ?? 3000)
  await app.listen(port, '127.0.0.1')
  console.log(`listening on http://127.0.0.1:${port} (cache: ${process.env.TINYKV_URL || 'TinyKV in-process'})`)
}

void main()
