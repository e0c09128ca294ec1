#!/usr/bin/env bash
# What a shopper downloads for the payment page (target/site/pkg after
# `scripts/build_release.sh`): JS, WASM and CSS, raw / gzip -9 / brotli -q 11. Exits non-zero when the brotli
# total is above the budget in bytes (first argument). With `--split` builds the JS imports the
# split loader (`__wasm_split.<hash>.js`) on every page, so it counts; the lazy chunks
# (`split_*.wasm`: the home page's order form) are listed below the total, not in it.
#   bash scripts/bundle_size.sh [budget_bytes]
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-}
pkg=target/site/pkg
# The release build hashes the names (`js: <hash>` lines in target/release/hash.txt).
name_of() {
  local hash
  hash=$(sed -n "s/^$1: *//p" target/release/hash.txt 2>/dev/null || true)
  echo "$pkg/scanpay${hash:+.$hash}.$1"
}
[ -f "$(name_of wasm)" ] || { echo "no $(name_of wasm): run bash scripts/build_release.sh" >&2; exit 1; }
printf '| file | raw | gzip | brotli |\n|---|---|---|---|\n'
total_raw=0 total_gz=0 total_br=0
split_hash=$(sed -n 's/^split: *//p' target/release/hash.txt 2>/dev/null || true)
files=("$(name_of js)" "$(name_of wasm)" "$(name_of css)")
[ -n "$split_hash" ] && [ -f "$pkg/__wasm_split.$split_hash.js" ] && files+=("$pkg/__wasm_split.$split_hash.js")
for f in "${files[@]}"; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9c "$f" | wc -c)
  br=$(brotli -q 11 -c "$f" | wc -c)
  printf '| %s | %d | %d | %d |\n' "$(basename "$f")" "$raw" "$gz" "$br"
  total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz)) total_br=$((total_br + br))
done
printf '| **total** | %d | %d | %d |\n' "$total_raw" "$total_gz" "$total_br"
for f in "$pkg"/split_*.wasm; do
  [ -f "$f" ] || continue
  printf '| (loaded by the home page only) %s | %d | %d | %d |\n' "$(basename "$f")" \
    "$(stat -c %s "$f")" "$(gzip -9c "$f" | wc -c)" "$(brotli -q 11 -c "$f" | wc -c)"
done
if [ -n "$budget" ] && [ "$total_br" -gt "$budget" ]; then
  echo "bundle: $total_br bytes brotli, over the budget of $budget" >&2
  exit 1
fi
