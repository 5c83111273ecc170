#!/usr/bin/env bash
# Compares `tinykv serve` with a redis-server this script starts itself, on this machine, in one
# run: redis-benchmark SET/GET/INCR, over TCP and the Unix socket, with -P 1 and -P 16, -c 50.
# Prints a table of requests/s and the tinykv/redis ratio.
#
# Needs redis-server and redis-benchmark (Debian: redis-server, redis-tools).
# Env: N (requests per run, default 200000), ROUNDS (runs per cell, best kept, default 3),
#      TINYKV_BIN (skip the build and use this binary), CARGO_TARGET_DIR.
set -euo pipefail

N=${N:-200000}
ROUNDS=${ROUNDS:-3}
CLIENTS=50
TESTS=(set get incr)
root=$(cd "$(dirname "$0")/.." && pwd)

for tool in redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "bench-daemon: $tool not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
done

if [[ -z "${TINYKV_BIN:-}" ]]; then
  (cd "$root" && cargo build --release --quiet --bin tinykv)
  TINYKV_BIN="${CARGO_TARGET_DIR:-$root/target}/release/tinykv"
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --unixsocket "$work/redis.sock" --unixsocketperm 700 \
  --save "" --appendonly no --daemonize no --dir "$work" --logfile "$work/redis.log" &
pids+=($!)

tinykv_port=$(free_port)
"$TINYKV_BIN" serve --socket "$work/tinykv.sock" --port "$tinykv_port" >"$work/tinykv.out" 2>"$work/tinykv.log" &
pids+=($!)

wait_up() { # args: redis-cli connection flags
  for _ in $(seq 1 100); do
    if redis-cli "$@" PING 2>/dev/null | grep -q PONG; then return 0; fi
    sleep 0.1
  done
  echo "bench-daemon: server did not start ($*)" >&2
  return 1
}
wait_up -p "$redis_port"
wait_up -s "$work/redis.sock"
wait_up -p "$tinykv_port"
wait_up -s "$work/tinykv.sock"

# Best requests/s of $ROUNDS runs for one cell. Args: test pipeline conn-flags...
rps() {
  local test=$1 pipe=$2 best=0 r
  shift 2
  for _ in $(seq 1 "$ROUNDS"); do
    r=$(redis-benchmark "$@" -t "$test" -n "$N" -c "$CLIENTS" -P "$pipe" -r 100000 --csv 2>/dev/null |
      awk -F'","' 'NR==2 { gsub(/"/, "", $2); print int($2) }')
    [[ -n "$r" && "$r" -gt "$best" ]] && best=$r
  done
  echo "$best"
}

printf '%-5s %-5s %-3s %12s %12s %7s\n' test conn P redis tinykv ratio
printf '%-5s %-5s %-3s %12s %12s %7s\n' ---- ---- -- ----- ------ -----
worst=""
for conn in tcp unix; do
  for pipe in 1 16; do
    for test in "${TESTS[@]}"; do
      if [[ $conn == tcp ]]; then
        rflags=(-p "$redis_port"); tflags=(-p "$tinykv_port")
      else
        rflags=(-s "$work/redis.sock"); tflags=(-s "$work/tinykv.sock")
      fi
      r=$(rps "$test" "$pipe" "${rflags[@]}")
      t=$(rps "$test" "$pipe" "${tflags[@]}")
      ratio=$(awk -v t="$t" -v r="$r" 'BEGIN { if (r > 0) printf "%.2f", t / r; else print "n/a" }')
      printf '%-5s %-5s %-3s %12s %12s %6sx\n' "$test" "$conn" "$pipe" "$r" "$t" "$ratio"
      if [[ -z "$worst" ]] || awk -v a="$ratio" -v b="$worst" 'BEGIN { exit !(a < b) }'; then worst=$ratio; fi
    done
  done
done
echo "N=$N per run, best of $ROUNDS, -c $CLIENTS, $(nproc) cores; lowest ratio ${worst}x"
