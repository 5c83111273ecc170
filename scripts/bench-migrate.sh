#!/usr/bin/env bash
# `tinykv migrate` against each target's own bulk-loading path, on this machine, in one run:
# N keys (default 200000) with 100-byte values, loaded into a `tinykv serve` this script starts,
# then moved
#   - into a redis-server: by `tinykv migrate`, and by `redis-cli --pipe` (Redis's mass-insertion
#     path) fed the same keys and values as a RESP file of SETs; once with no TTLs (migrate
#     sends those as MSETs) and once with every key expiring in an hour (both send
#     `SET key value PXAT at`, from a second source daemon holding the same keys with TTLs);
#   - into PostgreSQL: by `tinykv migrate`, and by `psql \copy` of the same rows from CSV into
#     the same table.
# Each cell is the best of ROUNDS runs (default 3), the target emptied before each. Prints keys/s
# and the ratio tinykv/baseline. Needs redis-server, redis-tools and PostgreSQL (initdb and
# postgres from /usr/lib/postgresql/*/bin or PATH); as root, PostgreSQL runs as user tinykv-pg
# (created if missing). Env: N, ROUNDS, TINYKV_BIN (skip the build and use this binary),
# BENCH_JSON (also write the table, with the machine and the run, to this file for
# docs/benchmarks.md's charts; needs node).
set -euo pipefail
N=${N:-200000}
ROUNDS=${ROUNDS:-3}
cd "$(dirname "$0")/.."
if [[ -z "${TINYKV_BIN:-}" ]]; then
  cargo build --release --quiet
  TINYKV_BIN=target/release/tinykv
fi
# The run record is taken before anything starts, so its load average is the machine's own.
if [[ -n "${BENCH_JSON:-}" ]]; then
  run_info=$(node benchmark/report/run-info.mjs start "N=$N ROUNDS=$ROUNDS scripts/bench-migrate.sh" "$TINYKV_BIN")
fi
dir=$(mktemp -d)
chmod 755 "$dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_until() { for _ in $(seq 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "timed out: $*" >&2; exit 1; }
now() { date +%s.%N; }

# The data, as RESP for --pipe and as CSV for \copy.
python3 - "$N" "$dir" <<'EOF'
import sys, time
n, d = int(sys.argv[1]), sys.argv[2]
at = str(int(time.time() * 1000) + 3_600_000).encode()
with open(f"{d}/data.resp", "wb") as resp, open(f"{d}/data.csv", "w") as csv, \
        open(f"{d}/ttl.resp", "wb") as ttl:
    for i in range(n):
        k = f"key:{i}".encode()
        v = f"{i:0>100}".encode()
        resp.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
        ttl.write(b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$4\r\nPXAT\r\n$%d\r\n%s\r\n"
                  % (len(k), k, len(v), v, len(at), at))
        csv.write(f"default,\\x{k.hex()},\\x{v.hex()},\n")
EOF

# The source daemon, loaded through the protocol.
"$TINYKV_BIN" serve --socket "$dir/t.sock" --log-level warn &
pids+=($!)
wait_until redis-cli -s "$dir/t.sock" PING
redis-cli -s "$dir/t.sock" --pipe <"$dir/data.resp" >/dev/null
# The second source: the same keys, each with a TTL.
"$TINYKV_BIN" serve --socket "$dir/ttl.sock" --log-level warn &
pids+=($!)
wait_until redis-cli -s "$dir/ttl.sock" PING
redis-cli -s "$dir/ttl.sock" --pipe <"$dir/ttl.resp" >/dev/null

# Redis.
rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" >/dev/null &
pids+=($!)
wait_until redis-cli -p "$rport" PING

# PostgreSQL.
pgbin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort | tail -1 || command -v initdb)")
as_pg=()
if [[ $(id -u) == 0 ]]; then
  id tinykv-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin tinykv-pg
  chown tinykv-pg "$dir"
  as_pg=(setpriv --reuid=tinykv-pg --regid=tinykv-pg --init-groups)
fi
"${as_pg[@]}" "$pgbin/initdb" -A trust -U postgres -D "$dir/pg" --no-sync >/dev/null
pport=$(free_port)
"${as_pg[@]}" "$pgbin/postgres" -D "$dir/pg" -p "$pport" -k "$dir" -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off >/dev/null 2>&1 &
pids+=($!)
psql_() { "$pgbin/psql" -h 127.0.0.1 -p "$pport" -U postgres -d postgres -qAt "$@"; }
wait_until psql_ -c 'SELECT 1'
pg_url="postgres://postgres@127.0.0.1:$pport/postgres"
"$TINYKV_BIN" migrate -s "$dir/t.sock" --to "$pg_url" --dry-run >/dev/null # creates the table

best() { sort -g | head -1; }
time_it() { local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now); echo "$t1 - $t0" | bc -l; }
declare -A secs
for ((r = 1; r <= ROUNDS; r++)); do
  redis-cli -p "$rport" FLUSHALL >/dev/null
  secs[redis_pipe]+="$(time_it sh -c "redis-cli -p $rport --pipe <$dir/data.resp")"$'\n'
  redis-cli -p "$rport" FLUSHALL >/dev/null
  secs[redis_migrate]+="$(time_it "$TINYKV_BIN" migrate -s "$dir/t.sock" --to "redis://127.0.0.1:$rport")"$'\n'
  [[ $(redis-cli -p "$rport" DBSIZE) == "$N" ]] || { echo "redis holds the wrong count" >&2; exit 1; }
  redis-cli -p "$rport" FLUSHALL >/dev/null
  secs[ttl_pipe]+="$(time_it sh -c "redis-cli -p $rport --pipe <$dir/ttl.resp")"$'\n'
  redis-cli -p "$rport" FLUSHALL >/dev/null
  secs[ttl_migrate]+="$(time_it "$TINYKV_BIN" migrate -s "$dir/ttl.sock" --to "redis://127.0.0.1:$rport")"$'\n'
  [[ $(redis-cli -p "$rport" DBSIZE) == "$N" && $(redis-cli -p "$rport" PTTL key:7) -gt 0 ]] ||
    { echo "redis holds the wrong count, or no TTLs" >&2; exit 1; }
  psql_ -c 'TRUNCATE tinykv_entries'
  secs[pg_copy]+="$(time_it psql_ -c "\\copy tinykv_entries FROM '$dir/data.csv' CSV")"$'\n'
  psql_ -c 'TRUNCATE tinykv_entries'
  secs[pg_migrate]+="$(time_it "$TINYKV_BIN" migrate -s "$dir/t.sock" --to "$pg_url")"$'\n'
  [[ $(psql_ -c 'SELECT count(*) FROM tinykv_entries') == "$N" ]] || { echo "postgres holds the wrong count" >&2; exit 1; }
done

rate() { printf '%.0f' "$(echo "$N / $1" | bc -l)"; }
printf '\n%s keys, 100-byte values, best of %s\n\n' "$N" "$ROUNDS"
printf '| target | baseline | baseline keys/s | tinykv migrate keys/s | ratio |\n|---|---|---|---|---|\n'
json_rows=()
for t in redis ttl pg; do
  case $t in
    redis) base=redis_pipe name='redis-cli --pipe' label=redis-server ;;
    ttl) base=ttl_pipe name='redis-cli --pipe' label='redis-server, keys with TTLs' ;;
    pg) base=pg_copy name='psql \copy (CSV)' label=PostgreSQL ;;
  esac
  b=$(printf '%s' "${secs[$base]}" | best)
  m=$(printf '%s' "${secs[${t}_migrate]}" | best)
  printf '| %s | %s | %s | %s | %.2f |\n' "$label" "$name" "$(rate "$b")" "$(rate "$m")" "$(echo "$b / $m" | bc -l)"
  json_rows+=("{\"target\":\"$label\",\"baseline\":\"${name//\\/\\\\}\",\"baselineKeysPerS\":$(rate "$b"),\"migrateKeysPerS\":$(rate "$m"),\"baselineS\":$(printf '%.4f' "$b"),\"migrateS\":$(printf '%.4f' "$m")}")
done

if [[ -n "${BENCH_JSON:-}" ]]; then
  join() { local IFS=,; echo "$*"; }
  printf '{"harness":"migrate","run":%s,"params":{"keys":%s,"valueBytes":100,"rounds":%s,"redisServer":"%s","postgres":"%s"},"results":{"rows":[%s]}}' \
    "$run_info" "$N" "$ROUNDS" "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')" "$("$pgbin/postgres" --version | awk '{ print $NF }')" \
    "$(join "${json_rows[@]}")" | node benchmark/report/run-info.mjs write "$BENCH_JSON"
fi
