// @keyv/test-suite on KeyvTinyKV over an in-process store (the sync TinyKV class). Every
// adapter the suite makes shares the one store, as the adapters of one app do.
import * as test from 'vitest'
import Keyv from 'keyv'
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite'
import { TinyKV } from 'tinykv'
import { KeyvTinyKV } from 'tinykv/keyv'

const kv = new TinyKV()
const store = () => new KeyvTinyKV(kv)

keyvTestSuite(test, Keyv, store)
keyvIteratorTests(test, Keyv, store)
