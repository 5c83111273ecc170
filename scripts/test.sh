#!/usr/bin/env bash
# Every test: the Rust unit and integration tests, then (when the Node package is present) the
# addon build and the node:test suites. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --all-targets
if [ -f package.json ]; then
  [ -d node_modules ] || npm ci --no-audit --no-fund
  npm run build
  node --test __test__/
fi
