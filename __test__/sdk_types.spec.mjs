// The SDK's published declarations under strict TypeScript, from ESM and CommonJS files: the
// AsyncTinyKV interface, open()'s and the client's options, the errors; and every
// `@ts-expect-error` line (a wrong option among them) must be an error.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')

test('the SDK declarations type-check as users write them, and misuse is a type error', () => {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, '__test__', 'types-sdk', 'tsconfig.json')], { encoding: 'utf8' })
  assert.equal(r.stdout + r.stderr, '', 'tsc reports no errors')
  assert.equal(r.status, 0)
})
