// tinykv/keyv's published declarations under strict TypeScript with Keyv, cache-manager and
// cacheable, from ESM and CommonJS files (types-keyv/): what the README and the NestJS example
// write type-checks, and every `@ts-expect-error` line (a misuse) must be an error.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')

test('tinykv/keyv type-checks with Keyv, cache-manager and cacheable from ESM and CommonJS', () => {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, '__test__', 'types-keyv', 'tsconfig.json')], { encoding: 'utf8' })
  assert.equal(r.stdout + r.stderr, '', 'tsc reports no errors')
  assert.equal(r.status, 0)
})
