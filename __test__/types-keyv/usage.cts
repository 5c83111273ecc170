// tinykv/keyv from CommonJS (as a NestJS 11 app compiles), with Keyv and cache-manager.
import Keyv = require('keyv')
import cacheManager = require('cache-manager')
import tinykv = require('tinykv')
import keyvAdapter = require('tinykv/keyv')

async function main(): Promise<string> {
  const keyv = new Keyv.Keyv({ store: new keyvAdapter.KeyvTinyKV(process.env.TINYKV_URL) })
  const cache = cacheManager.createCache({ stores: [keyvAdapter.createKeyv(await tinykv.open(), { namespace: 'pages' }), keyv] })
  // @ts-expect-error a number is not a store
  new keyvAdapter.KeyvTinyKV(42)
  return cache.wrap('page:/', async () => 'html', 60_000)
}

export = main
