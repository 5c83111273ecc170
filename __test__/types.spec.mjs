// The published declarations as a user's TypeScript sees them: `tsc --strict` over
// types/usage.ts, whose tsconfig sets `types: []` (as a project that lists only its own type
// packages does), so index.d.ts must bring Node's types itself; and the incr/decr result type
// follows the step's type, with every @ts-expect-error line required to be an error. The same
// run checks the addon's JS wrappers (src/node/js/*.js) with checkJs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

test('index.d.ts and the JS wrappers type-check under strict TypeScript with no ambient types', () => {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, '__test__', 'types', 'tsconfig.json')], {
    encoding: 'utf8',
  })
  assert.equal(r.stdout + r.stderr, '', 'tsc reports no errors')
  assert.equal(r.status, 0)
})
