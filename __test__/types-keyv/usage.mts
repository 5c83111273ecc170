// tinykv/keyv from ESM, as the README and examples/nestjs write it, with Keyv, cache-manager and
// cacheable: createKeyv()'s Keyv must be the ESM Keyv cache-manager's ESM types expect.
import Keyv from 'keyv'
import { createCache } from 'cache-manager'
import { Cacheable } from 'cacheable'
import { TinyKV, open } from 'tinykv'
import { KeyvTinyKV, createKeyv } from 'tinykv/keyv'
import type { CreateKeyvOptions, KeyvTinyKVInput } from 'tinykv/keyv'

const render = async (path: string): Promise<string> => `<html>${path}</html>`

const keyv = new Keyv({ store: new KeyvTinyKV({ url: process.env.TINYKV_URL }) })
const cache = createCache({ stores: [createKeyv(process.env.TINYKV_URL, { namespace: 'pages' }), keyv] })
const page: string = await cache.wrap('page:/', () => render('/'), 60_000)
const cacheable = new Cacheable({ secondary: new KeyvTinyKV(new TinyKV()) })
const typed = createKeyv<{ a: number }>(await open(), { ttl: 1_000 })
const value: { a: number } | undefined = await typed.get('x')
const inputs: KeyvTinyKVInput[] = [undefined, '', 'unix:///tmp/t.sock', { url: 'redis://h:1', pool: 2 }, new TinyKV(), await open()]
const options: CreateKeyvOptions = { namespace: 'n', ttl: 5 }

// @ts-expect-error a number is not a store
new KeyvTinyKV(42)
// @ts-expect-error createKeyv sets useKeyPrefix itself
createKeyv(undefined, { useKeyPrefix: true })

export { page, cacheable, value, inputs, options }
