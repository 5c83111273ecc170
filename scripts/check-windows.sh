#!/usr/bin/env bash
# The Windows build, checked from Linux: cross-builds tinykv.exe for x86_64-pc-windows-gnu
# (MinGW), runs it under Wine in a throwaway prefix, and talks to it with redis-cli and with its
# own client: `serve` on TCP (a free port), SET/GET/INCR/EXPIRE/PTTL/DEL, INFO, a snapshot
# saved at shutdown and loaded at the next start, the one-shot CLI and the piped REPL, the
# refusals of Unix sockets (--socket, -s, unix://: exit 2), and Ctrl-C (SIGINT, which Wine
# turns into the console's Ctrl-C event) as a graceful shutdown. Then, unless --no-tests,
# the unit tests and the integration tests that need no Unix socket, server or promtool
# (architecture, hit_ratio, repl, store_*) run under Wine.
#
#   scripts/check-windows.sh [--no-tests]
#
# Needs: rustup's x86_64-pc-windows-gnu target, gcc-mingw-w64-x86-64, wine and wine64, redis-cli
# (.ci/run installs them on Debian). The release addon and binary for Windows are built for
# msvc on a Windows runner (.github/workflows/build.yml); this is the check that runs here.
set -euo pipefail
cd "$(dirname "$0")/.."

unit=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-tests) unit=0; shift ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-windows: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

target=x86_64-pc-windows-gnu
# A password in the environment would let `serve --bind 0.0.0.0` below start.
unset TINYKV_PASSWORD REDISCLI_AUTH
for tool in wine wineserver x86_64-w64-mingw32-gcc redis-cli; do
  command -v "$tool" >/dev/null || { echo "check-windows: $tool not found" >&2; exit 1; }
done

echo "== cross-build tinykv.exe ($target, release)"
cargo build --release --locked --target "$target" --bin tinykv
exe="$PWD/${CARGO_TARGET_DIR:-target}/$target/release/tinykv.exe"

# A prefix of our own, removed at the end with its wineserver; WINEDEBUG=-all keeps Wine's own
# complaints (no display, no 32-bit Wine) out of the output, and the empty overrides stop
# wineboot from offering to install Mono and Gecko.
work=$(mktemp -d "${TMPDIR:-/tmp}/tinykv-wine.XXXXXX")
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  timeout 30 wineserver -k 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== wine prefix"
timeout 180 wineboot --init >"$work/wineboot.log" 2>&1 || true
system32="$WINEPREFIX/drive_c/windows/system32"
[ -d "$system32" ] || { cat "$work/wineboot.log" >&2; echo "check-windows: wineboot made no prefix" >&2; exit 1; }
# Rust's std (1.78 and later) imports ProcessPrng from bcryptprimitives.dll, which Wine gained
# only in 9.x; Debian 12 has Wine 8. A stand-in over RtlGenRandom goes into this prefix only.
if [ ! -e "$system32/bcryptprimitives.dll" ]; then
  cat >"$work/bcryptprimitives.c" <<'EOF'
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, n)) return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
EOF
  printf 'LIBRARY bcryptprimitives.dll\nEXPORTS\n    ProcessPrng\n' >"$work/bcryptprimitives.def"
  x86_64-w64-mingw32-gcc -O2 -shared -o "$system32/bcryptprimitives.dll" \
    "$work/bcryptprimitives.c" "$work/bcryptprimitives.def" -ladvapi32
fi

fail() { echo "check-windows: FAIL: $*" >&2; exit 1; }
# Runs tinykv.exe under Wine with a time limit.
tkv() { timeout 60 wine "$exe" "$@"; }
# `expect NAME WANT GOT`: one check, said when it passes.
expect() { [ "$3" = "$2" ] || fail "$1: expected '$2', got '$3'"; echo "ok  $1"; }

said=$(tkv --version | tr -d '\r')
expect "tinykv.exe --version" "tinykv $(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)" "$said"

echo "== Unix sockets are refused with a usage error (exit 2)"
# `run_status CMD...`: CMD's exit status and stderr, for commands that are meant to fail.
run_status() { set +e; "$@" >/dev/null 2>"$work/err"; status=$?; set -e; }
for args in "serve --socket $work/t.sock" "-s $work/t.sock PING" "-u unix://$work/t.sock PING"; do
  # shellcheck disable=SC2086 # the words of $args are the arguments
  run_status tkv $args
  expect "tinykv $args: exit status" 2 "$status"
  grep -q "Unix sockets are not supported on Windows" "$work/err" || fail "tinykv $args: $(cat "$work/err")"
done
run_status tkv serve --bind 0.0.0.0 --port 0
expect "serve --bind 0.0.0.0 without a password: exit status" 1 "$status"
grep -q "without --requirepass" "$work/err" || fail "serve --bind 0.0.0.0: $(cat "$work/err")"

snapshot=$(timeout 30 winepath -w "$work/snapshot.tkv" | tr -d '\r')
port=""
# Starts the daemon on a free port with the snapshot and waits (at most 30 s) for its address.
start() {
  : >"$work/serve.out"
  wine "$exe" serve --port 0 --snapshot "$snapshot" --save-on-shutdown >"$work/serve.out" 2>"$work/serve.err" &
  server_pid=$!
  for _ in $(seq 150); do
    port=$(sed -n 's/^tinykv listening on tcp:127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.out")
    [ -n "$port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  cat "$work/serve.err" >&2
  fail "the daemon did not say where it listens"
}
# Sends SIGINT (Wine's Ctrl-C) and waits (at most 20 s) for a clean exit.
stop() {
  kill -INT "$server_pid"
  for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$server_pid" 2>/dev/null && fail "the daemon is still running 20 s after Ctrl-C"
  set +e; wait "$server_pid"; status=$?; set -e
  server_pid=""
  expect "Ctrl-C: exit status" 0 "$status"
  grep -q "shut down cleanly" "$work/serve.err" || fail "no clean shutdown: $(cat "$work/serve.err")"
}
cli() { timeout 20 redis-cli -p "$port" "$@"; }

echo "== serve on TCP, redis-cli"
start
echo "listening on 127.0.0.1:$port"
expect "SET" OK "$(cli SET k hello)"
expect "GET" hello "$(cli GET k)"
expect "INCR" 1 "$(cli INCR n)"
expect "INCR again" 2 "$(cli INCR n)"
expect "EXPIRE" 1 "$(cli EXPIRE k 100)"
pttl=$(cli PTTL k)
if [ "$pttl" -le 90000 ] || [ "$pttl" -gt 100000 ]; then fail "PTTL: $pttl, not within (90000, 100000]"; fi
echo "ok  PTTL ($pttl)"
expect "DEL" 1 "$(cli DEL k)"
expect "GET after DEL" "" "$(cli GET k)"
expect "INFO tcp_port" "tcp_port:$port" "$(cli INFO server | tr -d '\r' | grep '^tcp_port:')"
cli INFO cpu | tr -d '\r' | grep -Eq '^used_cpu_user:[0-9]+\.[0-9]{6}$' || fail "INFO cpu: $(cli INFO cpu)"
echo "ok  INFO cpu"
expect "BGSAVE" "Background saving started" "$(cli BGSAVE)"

echo "== the CLI: one-shot and the piped REPL"
expect "tinykv -p PORT SET" OK "$(tkv -p "$port" SET kept across-restarts | tr -d '\r')"
expect "tinykv -p PORT GET" 2 "$(tkv -p "$port" GET n | tr -d '\r')"
expect "tinykv -u redis://... GET" 2 "$(tkv -u "redis://127.0.0.1:$port" GET n | tr -d '\r')"
repl=$(printf 'SET r 1\nINCR r\nGET r\n' | tkv -p "$port" | tr -d '\r')
expect "piped REPL" "$(printf 'OK\n2\n2')" "$repl"

echo "== Ctrl-C, the snapshot saved at shutdown and loaded at start"
stop
[ -s "$work/snapshot.tkv" ] || fail "no snapshot at $work/snapshot.tkv"
start
expect "GET after a restart" across-restarts "$(cli GET kept)"
stop

if [ "$unit" = 1 ]; then
  echo "== unit and store tests under Wine"
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine timeout 1200 \
    cargo test --locked --target "$target" --lib --test architecture --test hit_ratio --test repl \
    --test 'store_*'
fi
echo "check-windows: all passed"
