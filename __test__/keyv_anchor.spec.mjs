// The anchor's own suite under `npm test`: @keyv/test-suite (run by vitest 4, see
// test-suites/keyv/) on the Keyv adapter, over an in-process store and over the TinyKV daemon.
// The checks expected are the anchor's, listed by calling its suite functions here with a
// recorder; each must have passed in each file, and nothing may fail or be skipped.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite'
import { tinykvBin } from './helpers/servers.mjs'

const root = resolve(import.meta.dirname, '..')

/** The titles of the checks the anchor defines for one store, in order. */
function anchorChecks() {
  const titles = []
  const recorder = { it: (title) => titles.push(title), beforeEach() {}, afterEach() {} }
  keyvTestSuite(recorder, class {}, () => ({}))
  keyvIteratorTests(recorder, class {}, () => ({}))
  return titles
}

test('@keyv/test-suite passes in full on KeyvTinyKV, in-process and on the daemon', (t) => {
  const expected = anchorChecks().sort()
  assert.ok(expected.length > 0, 'the anchor defines checks')
  const dir = mkdtempSync(join(tmpdir(), 'tinykv-keyv-anchor-'))
  try {
    const report = join(dir, 'report.json')
    const run = spawnSync(
      process.execPath,
      [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'test-suites/keyv/vitest.config.mjs', '--reporter=json', `--outputFile=${report}`],
      { cwd: root, encoding: 'utf8', env: { ...process.env, TINYKV_BIN: tinykvBin(), NO_COLOR: '1' } },
    )
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`.slice(-4000))
    const results = JSON.parse(readFileSync(report, 'utf8'))
    assert.equal(results.numFailedTests, 0)
    assert.equal(results.numPendingTests + results.numTodoTests, 0, 'nothing skipped')
    const files = Object.fromEntries(results.testResults.map((f) => [basename(f.name), f.assertionResults]))
    assert.deepEqual(Object.keys(files).sort(), ['daemon.test.mjs', 'in-process.test.mjs'])
    for (const [file, checks] of Object.entries(files)) {
      const passed = checks.filter((c) => c.status === 'passed').map((c) => c.title)
      const anchorPassed = passed.filter((title) => expected.includes(title)).sort()
      assert.deepEqual(anchorPassed, expected, `${file}: every anchor check passed`)
      t.diagnostic(`${file}: ${anchorPassed.length}/${expected.length} @keyv/test-suite checks passed (${passed.length} tests in the file)`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
