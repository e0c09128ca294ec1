#!/usr/bin/env bash
# Instructions per status read, counted by valgrind's callgrind: unlike requests/s, the count
# does not move with whatever else the machine is doing, so a change to the hot path can be
# judged on a busy machine (how the layers' cost was found; BENCHMARKS.md, issue 20).
#
#   bash bench/instructions.sh [rest|server-fn|bare]   (default rest; after scripts/build_release.sh)
#
# Starts the release server (or bench's bare_server) under callgrind with instrumentation off,
# warms it up for 3 s, counts 5 s of `status_rest.lua` / `status_server_fn.lua` / `constant.lua`
# at 8 connections, and prints instructions per request (user space only: the kernel's share of
# each request is the same for all three). The profile stays in target/callgrind/ for
# `callgrind_annotate --inclusive=yes`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
which=${1:-rest}
command -v valgrind >/dev/null || { echo "valgrind missing: sudo apt-get install valgrind" >&2; exit 1; }
[ -x target/release/server ] || { echo "build first: bash scripts/build_release.sh" >&2; exit 1; }
cargo build --release --locked -p bench --bin fixtures --bin bare_server --quiet
out=target/callgrind
mkdir -p "$out"
work=$(mktemp -d /tmp/scanpay-instructions.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
profile="$out/$which.out"
rm -f "$profile"*
callgrind=(valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$profile")
case "$which" in
  rest | server-fn)
    LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site DATABASE_URL="sqlite://$work/db" \
      SCANPAY_AUTOPAY=off SCANPAY_PAYMENT_TTL_SECS=3600 SCANPAY_RECONCILE_SECS=3000 RUST_LOG=warn \
      SCANPAY_RATE_LIMIT=off "${callgrind[@]}" target/release/server >"$work/server.log" 2>&1 &
    ready="$base/healthz" script=status_rest.lua
    [ "$which" = server-fn ] && script=status_server_fn.lua ;;
  bare)
    "${callgrind[@]}" target/release/bare_server "$port" >"$work/server.log" 2>&1 &
    ready="$base/api/pay/x/status" script=constant.lua ;;
  *) echo "usage: bash bench/instructions.sh [rest|server-fn|bare]" >&2; exit 2 ;;
esac
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 600); do curl -fs "$ready" >/dev/null 2>&1 && break; sleep 0.1; done
if [ "$which" = bare ]; then echo x >"$work/ids"; else target/release/fixtures "$base" payments 200 >"$work/ids"; fi
wrk -t1 -c8 -d3s -s "bench/lua/$script" "$base" -- "$work/ids" 1 >/dev/null
callgrind_control -i on "$pid" >/dev/null
result=$(wrk -t1 -c8 -d5s -s "bench/lua/$script" "$base" -- "$work/ids" 1 | grep '^RESULT')
callgrind_control -i off "$pid" >/dev/null
callgrind_control -d "$pid" >/dev/null
requests=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$result")
dump=$(ls -S "$profile"* | head -1)
total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "$which: $requests requests counted, $((total / requests)) instructions per request (profile: $dump)"
