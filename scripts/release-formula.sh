#!/usr/bin/env bash
# Formula/tinykv.rb made installable for one release: homepage, url (the release's source
# tarball) and its sha256 written in where the formula says, printed to stdout.
#   scripts/release-formula.sh --homepage URL --url URL --tarball FILE
# The release workflow makes the tarball with `git archive`, attaches it, and attaches this.
set -euo pipefail
cd "$(dirname "$0")/.."

homepage="" url="" tarball=""
while [ $# -gt 0 ]; do
  case "$1" in
    --homepage) homepage="${2:?--homepage needs a value}"; shift 2 ;;
    --url) url="${2:?--url needs a value}"; shift 2 ;;
    --tarball) tarball="${2:?--tarball needs a file}"; shift 2 ;;
    *) echo "release-formula: unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$homepage" ] || [ -z "$url" ] || [ -z "$tarball" ]; then
  echo "release-formula: --homepage, --url and --tarball are all required" >&2
  exit 2
fi
[ -f "$tarball" ] || { echo "release-formula: no such file: $tarball" >&2; exit 1; }
if command -v sha256sum >/dev/null; then sum=$(sha256sum "$tarball"); else sum=$(shasum -a 256 "$tarball"); fi

marker='  # homepage, url, sha256: written by scripts/release-formula.sh for each release.'
grep -qxF "$marker" Formula/tinykv.rb || { echo "release-formula: Formula/tinykv.rb lost its marker line" >&2; exit 1; }
awk -v marker="$marker" -v homepage="$homepage" -v url="$url" -v sha="${sum%% *}" '
  $0 == marker { printf "  homepage \"%s\"\n  url \"%s\"\n  sha256 \"%s\"\n", homepage, url, sha; next }
  { print }
' Formula/tinykv.rb
