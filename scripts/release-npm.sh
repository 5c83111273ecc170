#!/usr/bin/env bash
# The npm release, napi-rs's way: the main package `tinykv` (JS, types, loader; no binary) and
# one package per platform (@tinykv/binding-<platform>, one .node each) that the main package
# names as optionalDependencies, so npm installs only the one that fits the machine.
#
#   scripts/release-npm.sh --artifacts DIR --pack DIR [--only TRIPLE]...
#   scripts/release-npm.sh --artifacts DIR --publish
#
# DIR holds the build jobs' tinykv.<platform>.node files (in any subfolders). In a stage under
# target/ (package.json is never edited in place): `napi artifacts` moves each into
# npm/<platform>/, `napi pre-publish` checks every platform package is complete and writes the
# optionalDependencies, then each package is packed into --pack's DIR, or published with
# provenance (--publish: in GitHub Actions with an npm token; each package.json then names the
# workflow's repository, which npm's provenance check requires). --only limits the targets to
# those given (to pack what one machine can build); a release takes all of napi.targets.
set -euo pipefail
cd "$(dirname "$0")/.."

artifacts="" pack="" publish=0 only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --artifacts) artifacts=$(cd "${2:?--artifacts needs a dir}" && pwd); shift 2 ;;
    --pack) mkdir -p "${2:?--pack needs a dir}"; pack=$(cd "$2" && pwd); shift 2 ;;
    --publish) publish=1; shift ;;
    --only) only+=("${2:?--only needs a target triple}"); shift 2 ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "release-npm: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$artifacts" ] || { echo "release-npm: --artifacts DIR is required" >&2; exit 2; }
if [ -n "$pack" ] && [ "$publish" = 1 ] || [ -z "$pack" ] && [ "$publish" = 0 ]; then
  echo "release-npm: give one of --pack DIR and --publish" >&2
  exit 2
fi

if [ "$publish" = 1 ] && [ -z "${GITHUB_REPOSITORY:-}" ]; then
  echo "release-npm: --publish runs in GitHub Actions (GITHUB_REPOSITORY names the repository)" >&2
  exit 2
fi

napi="$PWD/node_modules/.bin/napi"
mkdir -p target
stage=$(mktemp -d "$PWD/target/npm-stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# The main package exactly as `npm pack` has it, with the platform package dirs beside it.
npm pack --silent --pack-destination "$stage" >/dev/null
tar -xzf "$stage"/tinykv-*.tgz -C "$stage"
rm "$stage"/tinykv-*.tgz
cp -R npm "$stage/package/npm"
cd "$stage/package"

config=()
if [ ${#only[@]} -gt 0 ]; then
  node -e 'console.log(JSON.stringify({ targets: process.argv.slice(1) }))' "${only[@]}" >"$stage/napi-targets.json"
  config=(--config-path "$stage/napi-targets.json")
fi
"$napi" artifacts "${config[@]}" --output-dir "$artifacts" --npm-dir npm
# The stage sits in this repository's target/, so pre-publish's `git log` reads its commit.
"$napi" pre-publish "${config[@]}" --npm-dir npm --tag-style npm --skip-optional-publish

if [ "$publish" = 1 ]; then
  # npm checks a provenance statement against package.json's repository, which the committed
  # package.json leaves out until the project has a public home: the repository this workflow
  # runs in is that home, so every package published from it names it.
  repo="git+${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY.git"
  for manifest in package.json npm/*/package.json; do
    node -e '
      const fs = require("fs")
      const [file, url] = process.argv.slice(1)
      const pkg = JSON.parse(fs.readFileSync(file, "utf8"))
      pkg.repository = { type: "git", url }
      fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n")
    ' "$manifest" "$repo"
  done
fi

for dir in npm/*/; do
  [ -n "$(find "$dir" -name '*.node' -print -quit)" ] || continue  # a target not in --only
  if [ "$publish" = 1 ]; then
    (cd "$dir" && npm publish --provenance --access public)
  else
    (cd "$dir" && npm pack --silent --pack-destination "$pack")
  fi
done
if [ "$publish" = 1 ]; then
  npm publish --provenance --access public
else
  npm pack --silent --pack-destination "$pack"
fi
