#!/usr/bin/env bash
# The daemon's release archive for one target, for people who do not use Node:
# tinykv-vVERSION-TARGET.tar.gz (the `tinykv` binary, LICENSE, README.md in a folder of the same
# name), or for a Windows target tinykv-vVERSION-TARGET.zip with `tinykv.exe` (made by `zip`, or
# by 7-Zip where there is no zip, as in Git Bash on GitHub's Windows runners), then SHA256SUMS
# rewritten over every archive in the output dir. The release workflow runs it once per target,
# then once more with --sums-only where all the archives meet.
#
#   scripts/release-archive.sh [--target TRIPLE] [--binary PATH] [--out DIR]
#   scripts/release-archive.sh --sums-only [--out DIR]
#
# --target defaults to rustc's host triple; without --binary the binary is built with
# `cargo build --release --locked --target TRIPLE --bin tinykv`. --out defaults to target/release-archives.
set -euo pipefail
cd "$(dirname "$0")/.."

target="" binary="" out="target/release-archives" sums_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="${2:?--target needs a value}"; shift 2 ;;
    --binary) binary="${2:?--binary needs a value}"; shift 2 ;;
    --out) out="${2:?--out needs a value}"; shift 2 ;;
    --sums-only) sums_only=1; shift ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "release-archive: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"

# sha256sum on Linux, shasum on macOS: the same "HASH  FILE" lines.
sha256() { if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }

write_sums() {
  (
    cd "$out"
    shopt -s nullglob
    archives=(tinykv-v*.tar.gz tinykv-v*.zip)
    [ ${#archives[@]} -gt 0 ] || { echo "release-archive: no archives in $out" >&2; exit 1; }
    sha256 "${archives[@]}" >SHA256SUMS.tmp
    mv SHA256SUMS.tmp SHA256SUMS
  )
  echo "$out/SHA256SUMS"
}

if [ "$sums_only" = 1 ]; then
  write_sums
  exit 0
fi

[ -n "$target" ] || target=$(rustc -vV | sed -n 's/^host: //p')
# The crate's version: the first `version =` of Cargo.toml is [package]'s.
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || { echo "release-archive: no version in Cargo.toml" >&2; exit 1; }
# Windows: the binary is tinykv.exe, and the archive a .zip (what Explorer opens).
exe=""
case "$target" in *-windows-*) exe=".exe" ;; esac

if [ -z "$binary" ]; then
  cargo build --release --locked --target "$target" --bin tinykv
  binary="${CARGO_TARGET_DIR:-target}/$target/release/tinykv$exe"
fi
[ -x "$binary" ] || { echo "release-archive: $binary is not an executable" >&2; exit 1; }

# A binary for this machine must say the version it is archived under.
host=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p' || true)
if [ "$target" = "$host" ]; then
  said=$("$binary" --version)
  [ "$said" = "tinykv $version" ] || { echo "release-archive: $binary says '$said', not 'tinykv $version'" >&2; exit 1; }
fi

name="tinykv-v$version-$target"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
cp "$binary" "$stage/$name/tinykv$exe"
chmod 0755 "$stage/$name/tinykv$exe"
cp LICENSE README.md "$stage/$name/"
# Reproducible: every file stamped with the commit's time, and gzip keeps no name or time of its
# own (zip -X no extra attributes), so the same commit and binary give the same bytes (and the
# same SHA256SUMS line).
stamp=$(TZ=UTC git log -1 --date=format-local:%Y%m%d%H%M.%S --format=%cd 2>/dev/null || echo 200001010000.00)
TZ=UTC touch -t "$stamp" "$stage/$name" "$stage/$name"/*
# Written beside, then renamed: an interrupted run leaves no half-written archive.
if [ -n "$exe" ]; then
  archive="$out/$name.zip"
  abs_tmp="$(cd "$out" && pwd)/$name.zip.tmp"
  rm -f "$abs_tmp"
  if command -v zip >/dev/null; then
    (cd "$stage" && TZ=UTC zip -q -X -r "$abs_tmp" "$name")
  else
    (cd "$stage" && 7z a -tzip -bd -bso0 "$abs_tmp" "$name")
  fi
else
  archive="$out/$name.tar.gz"
  tar -cf - -C "$stage" "$name" | gzip -n >"$archive.tmp"
fi
mv "$archive.tmp" "$archive"
echo "$archive"
write_sums
