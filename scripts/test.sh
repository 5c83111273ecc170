#!/usr/bin/env bash
# Every test: the Rust unit and integration tests, then the addon build and the node:test suites
# (the addon API, the npx bin, and ioredis against the daemon). The README's test command and
# what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --all-targets
[ -d node_modules ] || npm ci --no-audit --no-fund
for lock in examples/*/package-lock.json; do
  [ -e "$lock" ] || continue
  d=$(dirname "$lock")
  [ -d "$d/node_modules" ] || npm ci --no-audit --no-fund --prefix "$d"
done
npm run build
# The generated bindings are committed; a build must not change them.
git diff --exit-code -- index.js index.d.ts
npm test
