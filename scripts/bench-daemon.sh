#!/usr/bin/env bash
# Compares `tinykv serve` with a redis-server this script starts itself, on this machine, in one
# run: redis-benchmark SET/GET/INCR, over TCP and the Unix socket, with -P 1 and -P 16, -c 50.
# Prints a table of requests/s and the tinykv/redis ratio.
#
# Needs redis-server and redis-benchmark (Debian: redis-server, redis-tools).
# Env: N (requests per run, default 200000), ROUNDS (runs per cell, best kept, default 3),
#      TINYKV_BIN (skip the build and use this binary), TINYKV_ARGS (extra `serve` flags),
#      CARGO_TARGET_DIR.
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
redis_pid=$!
pids+=("$redis_pid")

tinykv_port=$(free_port)
# shellcheck disable=SC2086 # TINYKV_ARGS is a list of flags
"$TINYKV_BIN" serve --socket "$work/tinykv.sock" --port "$tinykv_port" ${TINYKV_ARGS:-} >"$work/tinykv.out" 2>"$work/tinykv.log" &
tinykv_pid=$!
pids+=("$tinykv_pid")

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

# CPU time (user + system, in clock ticks) a process has used so far.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# One redis-benchmark run against server process $1; prints "requests/s cpu-ticks-used".
# Args: pid test pipeline conn-flags...
rps() {
  local pid=$1 test=$2 pipe=$3 before after r
  shift 3
  before=$(ticks "$pid")
  r=$(redis-benchmark "$@" -t "$test" -n "$N" -c "$CLIENTS" -P "$pipe" -r 100000 --csv 2>/dev/null |
    awk -F'","' 'NR==2 { gsub(/"/, "", $2); print int($2) }')
  after=$(ticks "$pid")
  echo "${r:-0} $((after - before))"
}

# rps: best of the rounds. us/req: server CPU time per request over all rounds (user + system),
# which load from other processes disturbs far less than requests/s.
fmt='%-5s %-5s %-3s %10s %10s %7s %9s %9s\n'
# shellcheck disable=SC2059 # the format is a constant
printf "$fmt" test conn P redis tinykv ratio "redis us" "tinykv us"
# shellcheck disable=SC2059
printf "$fmt" ---- ---- -- ----- ------ ----- -------- ---------
worst=""
for conn in tcp unix; do
  for pipe in 1 16; do
    for test in "${TESTS[@]}"; do
      if [[ $conn == tcp ]]; then
        rflags=(-p "$redis_port"); tflags=(-p "$tinykv_port")
      else
        rflags=(-s "$work/redis.sock"); tflags=(-s "$work/tinykv.sock")
      fi
      # Alternate the two servers round by round, so load from elsewhere hits both alike.
      r=0 t=0 rcpu=0 tcpu=0
      for _ in $(seq 1 "$ROUNDS"); do
        read -r x c < <(rps "$redis_pid" "$test" "$pipe" "${rflags[@]}")
        (( x > r )) && r=$x
        rcpu=$((rcpu + c))
        read -r x c < <(rps "$tinykv_pid" "$test" "$pipe" "${tflags[@]}")
        (( x > t )) && t=$x
        tcpu=$((tcpu + c))
      done
      ratio=$(awk -v t="$t" -v r="$r" 'BEGIN { if (r > 0) printf "%.2f", t / r; else print "n/a" }')
      rus=$(awk -v c="$rcpu" -v n="$N" -v k="$ROUNDS" -v hz="$hz" 'BEGIN { printf "%.2f", c * 1e6 / hz / (n * k) }')
      tus=$(awk -v c="$tcpu" -v n="$N" -v k="$ROUNDS" -v hz="$hz" 'BEGIN { printf "%.2f", c * 1e6 / hz / (n * k) }')
      # shellcheck disable=SC2059
      printf "$fmt" "$test" "$conn" "$pipe" "$r" "$t" "${ratio}x" "$rus" "$tus"
      if [[ -z "$worst" ]] || awk -v a="$ratio" -v b="$worst" 'BEGIN { exit !(a < b) }'; then worst=$ratio; fi
    done
  done
done
echo "N=$N per run, best of $ROUNDS alternating runs, -c $CLIENTS, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); lowest ratio ${worst}x"
