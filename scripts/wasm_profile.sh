#!/usr/bin/env bash
# Where the payment page's WASM bytes go, by function and by crate (twiggy), after
# `bash scripts/build_release.sh`. The shipped WASM has no names (wasm-opt drops them), so this
# redoes the release's last two steps on cargo's output with the same arguments as cargo-leptos
# (`wasm-bindgen --target=web --keep-lld-exports --no-demangle`, `wasm-opt -Oz
# --enable-bulk-memory --enable-nontrapping-float-to-int`), adding only `-g`: the code is the
# shipped code byte for byte (the file without `-g` has the shipped size), plus a name section.
#   bash scripts/wasm_profile.sh [rows]      (needs `cargo install twiggy`)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
rows=${1:-40}
input=target/front/wasm32-unknown-unknown/wasm-release/frontend_split.wasm
out=target/wasm-profile
[ -f "$input" ] || { echo "no $input: run bash scripts/build_release.sh" >&2; exit 1; }
command -v twiggy >/dev/null || { echo "twiggy missing: cargo install twiggy" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out"
wasm-bindgen --target=web --keep-lld-exports --no-demangle --out-name=scanpay --out-dir="$out" "$input"
wasm-opt -Oz -g --enable-bulk-memory --enable-nontrapping-float-to-int \
  "$out/scanpay_bg.wasm" -o "$out/names.wasm"
echo "name-keeping copy: $out/names.wasm (twiggy top/dominators/paths/garbage on it)"
twiggy top -n "$rows" "$out/names.wasm"
# By crate: each item goes to the first crate its name mentions (`<T as Trait>::f` to T's).
twiggy top -n 1000000 -f csv "$out/names.wasm" >"$out/top.csv"
python3 - "$out/top.csv" <<'EOF'
import collections, csv, re, sys
sizes = collections.Counter()
for row in csv.DictReader(open(sys.argv[1])):
    name = row["Name"]
    if "function names" in name:
        continue
    crate = re.search(r"([a-z_][a-z0-9_]*)\[[0-9a-f]{8,}\]", name)
    key = "data segments" if name.startswith("data segment") else crate.group(1) if crate else "(other: glue, tables, types)"
    sizes[key] += int(row["ShallowSize"])
total = sum(sizes.values())
print(f"\n| crate | bytes (raw, no names) | % |\n|---|---|---|")
for key, size in sizes.most_common(25):
    print(f"| {key} | {size:,} | {100 * size / total:.1f} |")
print(f"| total | {total:,} | |")
EOF
