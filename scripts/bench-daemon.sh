#!/usr/bin/env bash
# Compares `tinykv serve` with a redis-server this script starts itself, on this machine, in one
# run: redis-benchmark SET/GET/INCR, over TCP and the Unix socket, with -P 1 and -P 16, -c 50.
# Prints a table of requests/s (best and median of the rounds), the tinykv/redis ratios, and for
# each server the CPU time and voluntary context switches per request. Then a SCAN table: both
# servers are flushed and loaded with SCAN_N keys, and each walks them all (SCAN with COUNT
# 10 and 100 from cursor 0 until it returns 0, one call at a time), timed in seconds, best and
# median of the rounds, with the distinct keys each walk returned.
#
# Fairness: both servers get the same treatment. They alternate round by round, in ABBA order
# (redis first in odd rounds, tinykv first in even ones), so drift in background load hits both
# alike; and on machines with 2+ cores both servers are pinned to the same CPU (SERVER_CPUS) and
# redis-benchmark to another (CLIENT_CPUS), so neither server's throughput depends on where the
# scheduler happened to put it next to the client.
#
# Needs redis-server and redis-benchmark (Debian: redis-server, redis-tools).
# Env: N (requests per unpipelined run, default 200000), PIPE_N (requests per -P 16 run,
#      default 5 x N: at ~1M requests/s, N alone would be a 0.2 s run, mostly connection setup
#      and scheduler noise), ROUNDS (runs per cell, default 3),
#      PIN (1 = pin as above, the default when taskset exists and there are 2+ cores; 0 = don't),
#      SERVER_CPUS (default 0), CLIENT_CPUS (default 1),
#      SCAN_N (keys for the SCAN walks, default 200000; 0 skips them), SCAN_COUNTS (default
#      "10 100"), SCAN_ONLY (1 = skip the redis-benchmark table),
#      TINYKV_BIN (skip the build and use this binary), TINYKV_ARGS (extra `serve` flags),
#      CARGO_TARGET_DIR, BENCH_JSON (also write both tables, with the machine and the run, to
#      this file for docs/benchmarks.md's charts; needs node).
set -euo pipefail

N=${N:-200000}
PIPE_N=${PIPE_N:-$((N * 5))}
ROUNDS=${ROUNDS:-3}
SERVER_CPUS=${SERVER_CPUS:-0}
CLIENT_CPUS=${CLIENT_CPUS:-1}
if [[ -z "${PIN:-}" ]]; then
  if command -v taskset >/dev/null && (($(nproc) >= 2)); then PIN=1; else PIN=0; fi
fi
server_pin=() client_pin=()
if [[ $PIN == 1 ]]; then
  server_pin=(taskset -c "$SERVER_CPUS")
  client_pin=(taskset -c "$CLIENT_CPUS")
fi
SCAN_N=${SCAN_N:-200000}
SCAN_COUNTS=${SCAN_COUNTS:-10 100}
SCAN_ONLY=${SCAN_ONLY:-0}
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

# The run record is taken before anything starts, so its load average is the machine's own.
json_rows=() json_scan=()
if [[ -n "${BENCH_JSON:-}" ]]; then
  run_info=$(node "$root/benchmark/report/run-info.mjs" start \
    "N=$N PIPE_N=$PIPE_N ROUNDS=$ROUNDS SCAN_N=$SCAN_N${TINYKV_ARGS:+ TINYKV_ARGS='$TINYKV_ARGS'} scripts/bench-daemon.sh" "$TINYKV_BIN")
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
"${server_pin[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --unixsocket "$work/redis.sock" --unixsocketperm 700 \
  --save "" --appendonly no --daemonize no --dir "$work" --logfile "$work/redis.log" &
redis_pid=$!
pids+=("$redis_pid")

tinykv_port=$(free_port)
# shellcheck disable=SC2086 # TINYKV_ARGS is a list of flags
"${server_pin[@]}" "$TINYKV_BIN" serve --socket "$work/tinykv.sock" --port "$tinykv_port" ${TINYKV_ARGS:-} >"$work/tinykv.out" 2>"$work/tinykv.log" &
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
# Voluntary context switches (sleeps) of all of a process's threads so far.
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ { n += $2 } END { print n + 0 }'; }

# One redis-benchmark run against server process $1; prints "requests/s cpu-ticks switches".
# Args: pid test pipeline conn-flags...
rps() {
  local pid=$1 test=$2 pipe=$3 n=$N before after sw_before sw_after r
  shift 3
  if ((pipe > 1)); then n=$PIPE_N; fi
  before=$(ticks "$pid")
  sw_before=$(switches "$pid")
  r=$("${client_pin[@]}" redis-benchmark "$@" -t "$test" -n "$n" -c "$CLIENTS" -P "$pipe" -r 100000 --csv 2>/dev/null |
    awk -F'","' 'NR==2 { gsub(/"/, "", $2); print int($2) }')
  after=$(ticks "$pid")
  sw_after=$(switches "$pid")
  echo "${r:-0} $((after - before)) $((sw_after - sw_before))"
}

# Median of the numbers given as arguments (the lower middle one for an even count).
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# best: the best round; med: the median round (ratios are tinykv/redis). us/req and cs/1k: server
# CPU time per request and voluntary context switches per 1000 requests over all rounds, which
# load from other processes disturbs far less than requests/s.
fmt='%-5s %-5s %-3s %9s %9s %6s %9s %9s %6s %6s %6s %6s %6s\n'
# shellcheck disable=SC2059 # the format is a constant
if [[ $SCAN_ONLY != 1 ]]; then
printf "$fmt" test conn P "redis" "tinykv" "best" "redis" "tinykv" "median" "us/req" "" "cs/1k" ""
# shellcheck disable=SC2059
printf "$fmt" "" "" "" "best" "best" "ratio" "median" "median" "ratio" redis tinykv redis tinykv
fi
worst=""
worst_median=""
conns=(tcp unix)
[[ $SCAN_ONLY == 1 ]] && conns=()
for conn in "${conns[@]}"; do
  for pipe in 1 16; do
    for test in "${TESTS[@]}"; do
      if [[ $conn == tcp ]]; then
        rflags=(-p "$redis_port"); tflags=(-p "$tinykv_port")
      else
        rflags=(-s "$work/redis.sock"); tflags=(-s "$work/tinykv.sock")
      fi
      n=$N
      if ((pipe > 1)); then n=$PIPE_N; fi
      # Alternate the two servers round by round, in ABBA order, so load from elsewhere and
      # any first-or-second advantage hit both alike.
      rs=() ts=() rcpu=0 tcpu=0 rsw=0 tsw=0
      for round in $(seq 1 "$ROUNDS"); do
        for who in redis tinykv; do
          if ((round % 2 == 0)); then who=$([[ $who == redis ]] && echo tinykv || echo redis); fi
          if [[ $who == redis ]]; then
            read -r x c w < <(rps "$redis_pid" "$test" "$pipe" "${rflags[@]}")
            rs+=("$x") rcpu=$((rcpu + c)) rsw=$((rsw + w))
          else
            read -r x c w < <(rps "$tinykv_pid" "$test" "$pipe" "${tflags[@]}")
            ts+=("$x") tcpu=$((tcpu + c)) tsw=$((tsw + w))
          fi
        done
      done
      r=$(printf '%s\n' "${rs[@]}" | sort -n | tail -1)
      t=$(printf '%s\n' "${ts[@]}" | sort -n | tail -1)
      rm_=$(median "${rs[@]}")
      tm=$(median "${ts[@]}")
      ratio=$(awk -v t="$t" -v r="$r" 'BEGIN { if (r > 0) printf "%.2f", t / r; else print "n/a" }')
      mratio=$(awk -v t="$tm" -v r="$rm_" 'BEGIN { if (r > 0) printf "%.2f", t / r; else print "n/a" }')
      per_req='BEGIN { printf "%.2f", c * 1e6 / hz / (n * k) }'
      rus=$(awk -v c="$rcpu" -v n="$n" -v k="$ROUNDS" -v hz="$hz" "$per_req")
      tus=$(awk -v c="$tcpu" -v n="$n" -v k="$ROUNDS" -v hz="$hz" "$per_req")
      per_k='BEGIN { printf "%.0f", w * 1000 / (n * k) }'
      rcs=$(awk -v w="$rsw" -v n="$n" -v k="$ROUNDS" "$per_k")
      tcs=$(awk -v w="$tsw" -v n="$n" -v k="$ROUNDS" "$per_k")
      # shellcheck disable=SC2059
      printf "$fmt" "$test" "$conn" "$pipe" "$r" "$t" "${ratio}x" "$rm_" "$tm" "${mratio}x" "$rus" "$tus" "$rcs" "$tcs"
      json_rows+=("{\"test\":\"$test\",\"transport\":\"$conn\",\"pipeline\":$pipe,\"requests\":$n,\"redis\":{\"best\":$r,\"median\":$rm_,\"usPerReq\":$rus,\"switchesPer1k\":$rcs},\"tinykv\":{\"best\":$t,\"median\":$tm,\"usPerReq\":$tus,\"switchesPer1k\":$tcs}}")
      if [[ -z "$worst" ]] || awk -v a="$ratio" -v b="$worst" 'BEGIN { exit !(a < b) }'; then worst=$ratio; fi
      if [[ -z "$worst_median" ]] || awk -v a="$mratio" -v b="$worst_median" 'BEGIN { exit !(a < b) }'; then worst_median=$mratio; fi
    done
  done
done
pinning="unpinned"
[[ $PIN == 1 ]] && pinning="servers on CPU $SERVER_CPUS, client on CPU $CLIENT_CPUS"
if [[ $SCAN_ONLY != 1 ]]; then
  echo "N=$N per run (PIPE_N=$PIPE_N pipelined), $ROUNDS alternating rounds, -c $CLIENTS, $(nproc) cores, $pinning, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "lowest ratio: best ${worst}x, median ${worst_median}x"
fi

# A full SCAN walk over TCP (SCAN cursor COUNT n from 0 until the cursor is 0, one call at a
# time, as `redis-cli --scan` does; redis-cli 7.0 has no --count); prints "seconds
# distinct-keys". Args: port count.
scan_walk() {
  "${client_pin[@]}" python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, count = int(sys.argv[1]), sys.argv[2].encode()
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
f = s.makefile("rb")
def bulk():
    n = int(f.readline()[1:])
    v = f.read(n + 2)[:-2]
    return v
keys, cursor, t0 = set(), b"0", time.perf_counter()
while True:
    s.sendall(b"*4\r\n$4\r\nSCAN\r\n$%d\r\n%s\r\n$5\r\nCOUNT\r\n$%d\r\n%s\r\n" % (len(cursor), cursor, len(count), count))
    f.readline()  # *2
    cursor = bulk()
    for _ in range(int(f.readline()[1:])):
        keys.add(bulk())
    if cursor == b"0":
        break
print("%.2f %d" % (time.perf_counter() - t0, len(keys)))
PY
}

if ((SCAN_N > 0)); then
  # The same SCAN_N keys in both servers, loaded through redis-cli --pipe.
  awk -v n="$SCAN_N" 'BEGIN { for (i = 0; i < n; i++) { k = "scan:" i; printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n", length(k), k } }' >"$work/scan.resp"
  for port in "$redis_port" "$tinykv_port"; do
    redis-cli -p "$port" FLUSHALL >/dev/null
    redis-cli -p "$port" --pipe <"$work/scan.resp" >/dev/null
  done
  sfmt='%-6s %9s %9s %7s %9s %9s %7s %9s %9s\n'
  echo
  # shellcheck disable=SC2059
  printf "$sfmt" COUNT "redis s" "tinykv s" "best" "redis s" "tinykv s" "median" "redis" "tinykv"
  # shellcheck disable=SC2059
  printf "$sfmt" "" best best ratio median median ratio keys keys
  for count in $SCAN_COUNTS; do
    rs=() ts=() rk=0 tk=0
    for round in $(seq 1 "$ROUNDS"); do
      for who in redis tinykv; do
        if ((round % 2 == 0)); then who=$([[ $who == redis ]] && echo tinykv || echo redis); fi
        if [[ $who == redis ]]; then
          read -r x rk < <(scan_walk "$redis_port" "$count")
          rs+=("$x")
        else
          read -r x tk < <(scan_walk "$tinykv_port" "$count")
          ts+=("$x")
        fi
      done
    done
    r=$(printf '%s\n' "${rs[@]}" | sort -n | head -1)
    t=$(printf '%s\n' "${ts[@]}" | sort -n | head -1)
    rm_=$(printf '%s\n' "${rs[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    tm=$(printf '%s\n' "${ts[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    ratio=$(awk -v t="$t" -v r="$r" 'BEGIN { if (r > 0) printf "%.2f", t / r; else print "n/a" }')
    mratio=$(awk -v t="$tm" -v r="$rm_" 'BEGIN { if (r > 0) printf "%.2f", t / r; else print "n/a" }')
    # shellcheck disable=SC2059
    printf "$sfmt" "$count" "$r" "$t" "${ratio}x" "$rm_" "$tm" "${mratio}x" "$rk" "$tk"
    json_scan+=("{\"count\":$count,\"redis\":{\"best\":$r,\"median\":$rm_,\"keys\":$rk},\"tinykv\":{\"best\":$t,\"median\":$tm,\"keys\":$tk}}")
  done
  echo "SCAN: full walks of $SCAN_N keys over TCP, one call at a time, $ROUNDS alternating rounds, seconds (lower is better; ratio tinykv/redis), $pinning"
fi

if [[ -n "${BENCH_JSON:-}" ]]; then
  # rows: requests/s (best and median of the rounds), server CPU us per request and voluntary
  # context switches per 1000 requests; scan: seconds per full walk (best and median).
  join() { local IFS=,; echo "$*"; }
  printf '{"harness":"daemon","run":%s,"params":{"clients":%s,"rounds":%s,"requests":%s,"pipelinedRequests":%s,"pinning":"%s","redisServer":"%s","tinykvArgs":"%s","scanKeys":%s},"results":{"rows":[%s],"scan":[%s]}}' \
    "$run_info" "$CLIENTS" "$ROUNDS" "$N" "$PIPE_N" "$pinning" "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')" "${TINYKV_ARGS:-}" "$SCAN_N" \
    "$(join "${json_rows[@]}")" "$(join "${json_scan[@]}")" | node "$root/benchmark/report/run-info.mjs" write "$BENCH_JSON"
fi
