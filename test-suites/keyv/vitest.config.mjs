// The anchor suite, @keyv/test-suite, run by vitest 4 on the Keyv adapter (ts/keyv.ts, built to
// dist/): once on an in-process store, once on the TinyKV daemon that setup.mjs starts.
// `npm run test:keyv` runs it; __test__/keyv_anchor.spec.mjs runs it under `npm test`.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // Vitest keeps its results cache here; the default would be node_modules/ beside `root`.
  cacheDir: fileURLToPath(new URL('../../node_modules/.vite', import.meta.url)),
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['*.test.mjs'],
    globalSetup: ['./setup.mjs'],
    // Each file holds one store; their tests share it, so they run one after another.
    sequence: { concurrent: false },
  },
})
