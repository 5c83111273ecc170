// @keyv/test-suite on KeyvTinyKV over the TinyKV daemon started by setup.mjs, reached through
// open({ url }) as an app would; Keyv namespaces are the daemon's namespaces (SELECT name).
import * as test from 'vitest'
import Keyv from 'keyv'
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite'
import { open } from 'tinykv'
import { KeyvTinyKV } from 'tinykv/keyv'

const kv = await open({ url: test.inject('tinykvUrl') })
test.afterAll(() => kv.close())
test.it('the store is the daemon', () => test.expect(kv.backend).toBe('tinykv'))

const store = () => new KeyvTinyKV(kv)

keyvTestSuite(test, Keyv, store)
keyvIteratorTests(test, Keyv, store)
