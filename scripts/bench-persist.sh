#!/usr/bin/env bash
# Persistence side by side with redis-server, in one run, on the same data: N keys (default
# 1,000,000) with 100-byte values, a tenth with a TTL, loaded into both with `redis-cli --pipe`.
# Measures SAVE time, load time at startup (Redis's own "DB loaded from disk" line, TinyKV's
# "snapshot loaded" line), file sizes, GET/SET p99 from redis-benchmark while idle and during
# back-to-back BGSAVEs, and the `tinykv export | tinykv import` round trip in keys/s. Prints a
# Markdown table. Usage: scripts/bench-persist.sh [N]   (TINYKV_BIN to use another binary;
# BENCH_JSON=FILE also writes the table, with the machine and the run, for docs/benchmarks.md)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
BIN=${TINYKV_BIN:-target/release/tinykv}
[ -x "$BIN" ] || cargo build --release --bin tinykv
for tool in redis-server redis-cli redis-benchmark; do
  command -v "$tool" >/dev/null || { echo "bench-persist: $tool is not installed" >&2; exit 1; }
done

# The run record is taken before anything starts, so its load average is the machine's own.
if [ -n "${BENCH_JSON:-}" ]; then
  run_info=$(node benchmark/report/run-info.mjs start \
    "${BENCH_N:+BENCH_N=$BENCH_N }scripts/bench-persist.sh $N" "$BIN")
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
wait_ping() { # port
  for _ in $(seq 1 6000); do
    [ "$(redis-cli -p "$1" PING 2>/dev/null)" = PONG ] && return 0
    sleep 0.01
  done
  echo "bench-persist: nothing answers on port $1" >&2
  return 1
}
field() { # port section field
  redis-cli -p "$1" INFO "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2 }'
}

echo "== generating $N SETs (100-byte values, 10% with a 1 h TTL)" >&2
# Keys in redis-benchmark's format (key:%012d), so its GETs hit and its SETs overwrite.
awk -v n="$N" 'BEGIN {
  # 1000 random 100-byte values (none compresses: the RDB compresses each value alone).
  srand(18); chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
  for (j = 0; j < 1000; j++) { s = ""; for (c = 0; c < 100; c++) s = s substr(chars, int(rand() * 62) + 1, 1); vals[j] = s }
  for (i = 0; i < n; i++) {
    k = sprintf("key:%012d", i); v = vals[i % 1000]
    if (i % 10 == 0) printf "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n$2\r\nPX\r\n$7\r\n3600000\r\n", length(k), k, v
    else printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n", length(k), k, v
  }
}' > "$work/data.resp"

start_redis() {
  redis-server --port "$RP" --bind 127.0.0.1 --dir "$work/redis" --dbfilename dump.rdb \
    --save '' --appendonly no --logfile "$work/redis.log" --daemonize no &
  pids+=($!)
  wait_ping "$RP"
}
# Starts a daemon and sets TINYKV_PORT to its TCP port. Called directly, not in $(...), so that
# its PID reaches `pids` and cleanup stops it.
start_tinykv() { # name extra-args...
  local name=$1; shift
  "$BIN" serve --socket "$work/$name.sock" --port 0 "$@" >"$work/$name.out" 2>>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 1 6000); do
    grep -q 'listening on tcp:' "$work/$name.out" 2>/dev/null && break
    sleep 0.01
  done
  TINYKV_PORT=$(sed -n 's/.*listening on tcp:127.0.0.1:\([0-9]*\).*/\1/p' "$work/$name.out" | head -1)
}

# p99 of GET and SET from redis-benchmark on port $1 (CSV: test, rps, avg, min, p50, p95, p99, max).
bench() {
  redis-benchmark -p "$1" -t set,get -n "${BENCH_N:-200000}" -c 50 -r "$N" -d 100 --csv 2>/dev/null |
    tr -d '"' | awk -F, '$1 == "SET" { s = $7 } $1 == "GET" { g = $7 } END { printf "%s %s", g, s }'
}
# The same while BGSAVE runs back to back; also prints how many saves overlapped the run.
bench_during_bgsave() {
  local port=$1 flag saves=0
  flag="$work/bench-running"
  touch "$flag"
  (
    while [ -e "$flag" ]; do
      redis-cli -p "$port" BGSAVE >/dev/null 2>&1 || true
      while [ "$(field "$port" persistence rdb_bgsave_in_progress)" = 1 ]; do sleep 0.02; done
      echo x >>"$work/saves-$port"
    done
  ) &
  local saver=$!
  sleep 0.2
  local out
  out=$(bench "$port")
  rm -f "$flag"
  wait "$saver" 2>/dev/null || true
  saves=$(wc -l <"$work/saves-$port" 2>/dev/null || echo 0)
  echo "$out $saves"
}

mkdir -p "$work/redis" "$work/tinykv"
RP=$(free_port)

echo "== redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')" >&2
start_redis
redis-cli -p "$RP" --pipe <"$work/data.resp" >/dev/null
t0=$(now_ns); redis-cli -p "$RP" SAVE >/dev/null; t1=$(now_ns)
r_save=$(secs "$t0" "$t1")
r_size=$(stat -c %s "$work/redis/dump.rdb")
redis-cli -p "$RP" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
wait "${pids[-1]}" 2>/dev/null || true
rm -f "$work/redis.log"
start_redis
r_load=$(sed -n 's/.*DB loaded from disk: \([0-9.]*\) seconds.*/\1/p' "$work/redis.log" | tail -1)
r_keys=$(redis-cli -p "$RP" DBSIZE)
read -r r_get_idle r_set_idle <<<"$(bench "$RP")"
read -r r_get_bg r_set_bg r_saves <<<"$(bench_during_bgsave "$RP")"
redis-cli -p "$RP" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
wait "${pids[-1]}" 2>/dev/null || true

echo "== tinykv ($BIN)" >&2
snap="$work/tinykv/dump.snap"
start_tinykv t1 --snapshot "$snap"
TP=$TINYKV_PORT
redis-cli -p "$TP" --pipe <"$work/data.resp" >/dev/null
t0=$(now_ns); redis-cli -p "$TP" SAVE >/dev/null; t1=$(now_ns)
t_save=$(secs "$t0" "$t1")
t_size=$(stat -c %s "$snap")
# The round trip: a second daemon, export piped into import.
start_tinykv t2
TP2=$TINYKV_PORT
t0=$(now_ns)
"$BIN" export -p "$TP" 2>/dev/null | "$BIN" import - -p "$TP2" 2>"$work/import.err"
t1=$(now_ns)
rt_keys=$(redis-cli -p "$TP2" DBSIZE)
rt_secs=$(secs "$t0" "$t1")
rt_rate=$(awk -v k="$rt_keys" -v s="$rt_secs" 'BEGIN { printf "%.0f", k / s }')
jsonl_size=$("$BIN" export -p "$TP" 2>/dev/null | wc -c)
redis-cli -p "$TP2" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
redis-cli -p "$TP" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
sleep 0.5
start_tinykv t3 --snapshot "$snap"
TP=$TINYKV_PORT
wait_ping "$TP"
t_load=$(sed -n 's/.*snapshot loaded: .* in \([0-9.]*\) s.*/\1/p' "$work/t3.log" | tail -1)
t_keys=$(redis-cli -p "$TP" DBSIZE)
read -r t_get_idle t_set_idle <<<"$(bench "$TP")"
read -r t_get_bg t_set_bg t_saves <<<"$(bench_during_bgsave "$TP")"
redis-cli -p "$TP" SHUTDOWN NOSAVE >/dev/null 2>&1 || true

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
cat <<EOF

$N keys, 100-byte values, 10% with TTLs; $(nproc) cores; redis-benchmark -c 50 -n ${BENCH_N:-200000} -d 100.

| measure | redis-server | TinyKV |
| --- | ---: | ---: |
| SAVE (s) | $r_save | $t_save |
| load at startup (s) | $r_load ($r_keys keys) | $t_load ($t_keys keys) |
| snapshot file | $(mb "$r_size") (RDB) | $(mb "$t_size") (JSONL export: $(mb "$jsonl_size")) |
| GET p99 ms, idle | $r_get_idle | $t_get_idle |
| GET p99 ms, during BGSAVE | $r_get_bg ($r_saves saves) | $t_get_bg ($t_saves saves) |
| SET p99 ms, idle | $r_set_idle | $t_set_idle |
| SET p99 ms, during BGSAVE | $r_set_bg | $t_set_bg |
| export \| import round trip | - | $rt_rate keys/s ($rt_keys keys in $rt_secs s) |
EOF

if [ -n "${BENCH_JSON:-}" ]; then
  num() { echo "${1:-null}"; } # a measure the logs did not show is null, not a broken file
  side() { # save load keys bytes get-idle get-bgsave set-idle set-bgsave saves
    printf '{"saveS":%s,"loadS":%s,"keysLoaded":%s,"fileBytes":%s,"p99ms":{"getIdle":%s,"getDuringBgsave":%s,"setIdle":%s,"setDuringBgsave":%s},"bgsaves":%s}' \
      "$(num "$1")" "$(num "$2")" "$(num "$3")" "$(num "$4")" "$(num "$5")" "$(num "$6")" "$(num "$7")" "$(num "$8")" "$(num "$9")"
  }
  printf '{"harness":"persist","run":%s,"params":{"keys":%s,"valueBytes":100,"ttlShare":0.1,"benchmarkRequests":%s,"clients":50,"redisServer":"%s"},"results":{"redis":%s,"tinykv":%s,"jsonlBytes":%s,"exportImport":{"keys":%s,"seconds":%s,"keysPerS":%s}}}' \
    "$run_info" "$N" "${BENCH_N:-200000}" "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')" \
    "$(side "$r_save" "$r_load" "$r_keys" "$r_size" "$r_get_idle" "$r_get_bg" "$r_set_idle" "$r_set_bg" "$r_saves")" \
    "$(side "$t_save" "$t_load" "$t_keys" "$t_size" "$t_get_idle" "$t_get_bg" "$t_set_idle" "$t_set_bg" "$t_saves")" \
    "$(num "$jsonl_size")" "$(num "$rt_keys")" "$(num "$rt_secs")" "$(num "$rt_rate")" |
    node benchmark/report/run-info.mjs write "$BENCH_JSON"
fi
