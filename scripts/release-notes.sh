#!/usr/bin/env bash
# The release notes of VERSION: its section of CHANGELOG.md (Keep a Changelog), heading left out.
#   scripts/release-notes.sh 0.2.0
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:?usage: scripts/release-notes.sh VERSION}"
notes=$(awk -v v="$version" '
  /^## \[/ { on = index($0, "## [" v "]") == 1; next }
  /^\[[^]]+\]: / { next }
  on { print }
' CHANGELOG.md)
if [ -z "$(printf '%s' "$notes" | tr -d '[:space:]')" ]; then
  echo "release-notes: CHANGELOG.md has no section for $version" >&2
  exit 1
fi
printf '%s\n' "$notes"
