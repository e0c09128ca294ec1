#!/usr/bin/env bash
# scanpay's benchmarks, against the release build on loopback, each bounded in time; prints a
# table (markdown). The load comes from wrk (Debian), the test data from `bench/src/bin/fixtures.rs`.
#
#   bash bench/run.sh           every benchmark (~4 min after the build)
#   bash bench/run.sh --quick   the size budget and a 5-second smoke load that must finish
#                               without errors (run by scripts/test.sh; no timing assertions)
#   bash bench/run.sh --help    this text
#
# Not run by this script (each is its own command; BENCHMARKS.md has how and the numbers):
#   ./target/release/live_bench 10000   live updates with HTTP clients: polling, long-poll, SSE
#   bash bench/instructions.sh          instructions per status read under callgrind (rest,
#                                       server-fn or bare): steady on a busy machine
#   node bench/browser_latency.mjs      paid → 支付成功 on screen in Chromium, per transport
#                                       (--transports=poll,longpoll,sse,ws --n=20; starts the
#                                       release server on port 4217)
#
# Numbers vary with the machine; BENCHMARKS.md has this machine's and what changed them.
set -euo pipefail
cd "$(dirname "$0")/.."
# The payment page's JS + WASM + CSS, brotli, may not grow past this: issue 21's goal of 64 KB,
# a little above its measured size (scripts/bundle_size.sh after scripts/build_release.sh), so a
# real growth fails. Lower it when the page shrinks; raise it only with a reason (the steps are
# in BENCHMARKS.md, "Issue 21").
# Lowered from 122,700 (measured 120,333) on 2026-12-06: no server-function client and no
# serde_json in the pages' WASM (issue 21).
# With the WebSocket transport merged (+1.7 KB: its hook and the socket's handlers): 87,400.
# Lowered to 81,000 (measured 79,409): wasm-streams' unused JavaScript exports out of the WASM
# and JS glue (vendor/wasm-streams, issue 21).
# Lowered to 76,500 (measured 74,965): the watcher's hooks without the Signal wrapper, Callbacks
# and the Memo of the whole answer (issue 21).
# Lowered to 64,000, issue 21's goal (measured 63,615): 重新支付 a plain form post (the watcher is
# never rebuilt in place), one view for every state, the JS-only buttons hidden, not built.
BUNDLE_BUDGET_BYTES=64000
mode=full
case "${1:-}" in
  --quick) mode=quick ;;
  "") ;;
  -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
  *) echo "usage: bash bench/run.sh [--quick|--help]" >&2; exit 2 ;;
esac

bash scripts/setup.sh >/dev/null
source scripts/env.sh
# wrk opens one connection per -c; each server process needs a descriptor per connection too.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "$mode" = full ]; then
  bash scripts/build_release.sh >/dev/null
  # The real protocols' benchmark runs the standalone sandbox as its own process.
  cargo build --release --locked -p bench --bin provider_bench -p sandbox --bin scanpay-sandbox --quiet
fi
[ -x target/release/server ] || { echo "build first: bash scripts/build_release.sh" >&2; exit 1; }
# Quick mode does not build the server: it must not smoke-test one older than its sources.
stale=$(find app server payments sandbox frontend style Cargo.toml Cargo.lock -type f -newer target/release/server \
  -not -path '*/target/*' -print -quit)
if [ -n "$stale" ]; then
  echo "target/release/server is older than $stale: run bash scripts/build_release.sh" >&2
  exit 1
fi
# A failed build stops the run (set -e): an old fixtures or bare_server must not run instead.
cargo build --release --locked -p bench --bin fixtures --bin bare_server --quiet

work=$(mktemp -d /tmp/scanpay-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server NAME DATABASE_URL: the release server with demo auto-pay off and payments that stay
# pending for the whole run; reconciliation is pushed out so it does not run during a benchmark.
# wrk is one client: the per-client rate limit is lifted (every other limit stays on).
start_server() {
  local port
  port=$(free_port)
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site DATABASE_URL="$2" \
    SCANPAY_AUTOPAY=off SCANPAY_PAYMENT_TTL_SECS=3600 SCANPAY_RECONCILE_SECS=3000 RUST_LOG=warn \
    SCANPAY_RATE_LIMIT=off target/release/server >"$work/$1.log" 2>&1 &
  pids+=($!)
  server_pid=$!
  base="http://127.0.0.1:$port"
  for _ in $(seq 1 200); do
    curl -fs "$base/healthz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "server $1 did not start:" >&2
  cat "$work/$1.log" >&2
  exit 1
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# Payments the server has committed since it started (all methods): its own count on /metrics.
payments_count() { curl -fs "$base/metrics" | awk '/^scanpay_payments_created_total[{ ]/ {n += $NF} END {printf "%d\n", n}'; }

# load NAME SCRIPT URL CONNECTIONS SECONDS IDS: one wrk run; appends a row to the results.
load() {
  local name=$1 script=$2 url=$3 connections=$4 seconds=$5 ids=${6:-/dev/null} threads=2 out
  out=$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --timeout 5s -s "bench/lua/$script" "$url" -- "$ids" "$threads")
  local result
  result=$(grep '^RESULT' <<<"$out") || { echo "$out" >&2; exit 1; }
  eval "${result#RESULT }"
  # shellcheck disable=SC2154 # set by the eval above
  printf '| %s | %d | %s | %s | %.2f | %.2f | %s |\n' "$name" "$connections" "$rps" "$requests" \
    "$(bc -l <<<"$p50_us/1000")" "$(bc -l <<<"$p99_us/1000")" "$errors" >>"$work/table"
  last_rps=$rps last_errors=$errors last_requests=$requests
}

printf '| benchmark | connections | requests/s | requests | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|---|\n' >"$work/table"
notes=()

if [ "$mode" = quick ]; then
  bash scripts/bundle_size.sh "$BUNDLE_BUDGET_BYTES"
  start_server smoke "sqlite://$work/smoke.db"
  target/release/fixtures "$base" orders 2000 >"$work/orders"
  before=$(payments_count)
  load "smoke: create_payment, current_or_new_payment, page, order" smoke.lua "$base" 16 5 "$work/orders"
  cat "$work/table"
  after=$(payments_count)
  if [ "$last_errors" != 0 ] || [ "$after" -le "$before" ]; then
    echo "smoke load: $last_errors errors" >&2
    exit 1
  fi
  curl -fs "$base/healthz" >/dev/null || { echo "smoke load: the server stopped answering" >&2; exit 1; }
  echo "smoke load: $last_requests requests without errors; payments $before → $after"
  exit 0
fi

# 1. Status read: the bare handler, then REST and the server function, at 64 and 256 connections.
bare_port=$(free_port)
target/release/bare_server "$bare_port" &
pids+=($!)
sleep 0.5
start_server sqlite "sqlite://$work/bench.db"
rss_idle=$(rss_kib "$server_pid")
target/release/fixtures "$base" payments 1000 >"$work/payments"
declare -A rps_of
for c in 64 256; do
  load "bare Axum handler (constant)" constant.lua "http://127.0.0.1:$bare_port" "$c" 5 "$work/payments"
  rps_of[bare$c]=$last_rps
  load "status read, REST" status_rest.lua "$base" "$c" 5 "$work/payments"
  rps_of[rest$c]=$last_rps
  load "status read, server function" status_server_fn.lua "$base" "$c" 5 "$work/payments"
  rps_of[fn$c]=$last_rps
  notes+=("status read at $c connections: REST $(bc <<<"100*${rps_of[rest$c]}/${rps_of[bare$c]}") %, server function $(bc <<<"100*${rps_of[fn$c]}/${rps_of[bare$c]}") % of the bare handler")
done
# Latency under load rather than at saturation (bench/lua/pacing.lua: each of 256 connections
# asks every 0–8 ms at random, ~50,000 requests/s; 10 s so the first connections' setup weighs
# less), where it measures the server, not wrk's queue.
load "bare Axum handler, paced (~50,000/s)" constant_paced.lua "http://127.0.0.1:$bare_port" 256 10 "$work/payments"
p99_bare_paced=$p99_us
load "status read, REST, paced (~50,000/s)" status_rest_paced.lua "$base" 256 10 "$work/payments"
p99_rest_paced=$p99_us
load "status read, server function, paced (~50,000/s)" status_server_fn_paced.lua "$base" 256 10 "$work/payments"
notes+=("status read p99 at 256 connections, paced (~50,000 requests/s): REST $(printf %.2f "$(bc -l <<<"$p99_rest_paced/1000")") ms, server function $(printf %.2f "$(bc -l <<<"$p99_us/1000")") ms (the bare handler's own: $(printf %.2f "$(bc -l <<<"$p99_bare_paced/1000")") ms, this machine's floor at that load)")

# 2. create_payment on SQLite: a pool of fresh orders, each paid for once.
target/release/fixtures "$base" orders 30000 >"$work/orders"
before=$(payments_count)
load "create_payment, SQLite" create_payment.lua "$base" 64 5 "$work/orders"
after=$(payments_count)
notes+=("create_payment on SQLite: $((after - before)) payments stored for $last_requests answered requests ($last_errors errors)")
stored=$after
rss_pending=$(rss_kib "$server_pid")

# 3. Server-rendered payment page: time to first byte, one request at a time.
head -300 "$work/orders" | while read -r order; do
  curl -s -o /dev/null -w '%{time_starttransfer}\n' "$base/orders/$order/pay"
done | sort -n >"$work/ttfb"
ttfb_p50=$(awk '{a[NR]=$1} END {printf "%.2f", a[int(NR*0.5)]*1000}' "$work/ttfb")
ttfb_p99=$(awk '{a[NR]=$1} END {printf "%.2f", a[int(NR*0.99)]*1000}' "$work/ttfb")
printf '| payment page (SSR), time to first byte | 1 | — | 300 | %s | %s | 0 |\n' "$ttfb_p50" "$ttfb_p99" >>"$work/table"
load "payment page (SSR), whole page" page.lua "$base" 64 5 "$work/orders"

# 4. create_payment on PostgreSQL (a throwaway cluster with durable commits).
source scripts/postgres.sh
start_throwaway_postgres durable >/dev/null
# postgres.sh sets its own EXIT trap; the servers must still be stopped.
trap 'cleanup; stop_throwaway_postgres' EXIT
start_server postgres "$SCANPAY_TEST_POSTGRES_URL"
target/release/fixtures "$base" orders 20000 >"$work/pg-orders"
before=$(payments_count)
load "create_payment, PostgreSQL" create_payment.lua "$base" 64 5 "$work/pg-orders"
after=$(payments_count)
notes+=("create_payment on PostgreSQL: $((after - before)) payments stored for $last_requests answered requests ($last_errors errors)")

echo
cat "$work/table"
echo
printf '| server memory | RSS |\n|---|---|\n'
printf '| idle (SQLite, just started) | %d KiB |\n' "$rss_idle"
printf '| with %d payments stored, all pending, after the loads above | %d KiB |\n' "$stored" "$rss_pending"
echo
bash scripts/bundle_size.sh || true
echo
for note in "${notes[@]}"; do echo "- $note"; done

# 5. The real protocols through the adapters and the sandbox (bench/src/bin/provider_bench.rs:
# its own servers on fresh SQLite files, ~2.5 min); the servers above are stopped first.
cleanup
stop_throwaway_postgres
pids=()
work=$(mktemp -d /tmp/scanpay-bench.XXXXXX)
echo
target/release/provider_bench
