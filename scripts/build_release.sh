#!/usr/bin/env bash
# The release build: the page's WASM and JS, the CSS, the server, and brotli/gzip copies of the
# static files (scripts/precompress.sh).
#
# The WASM is built against a standard library rebuilt with panic=immediate-abort: panic
# messages and the formatting machinery behind them leave the bundle (about 13 KB of its
# brotli size); a panic in the page then stops it with "unreachable" instead of a message.
# `-Zfmt-debug=none` (every `{:?}` prints nothing: the page shows no Debug output, only texts
# from i18n.rs) and `-Zlocation-detail=none` (no source file names) take 5 KB more.
# `--split` with `--cfg wasm_split` moves the home page's order form (a lazy island) into its own
# WASM file, which the payment page never loads: 7 KB less for it.
# Rebuilding std needs -Zbuild-std (about a minute, once per clean target directory), which this
# stable toolchain allows under RUSTC_BOOTSTRAP=1 — set for the WASM build only, never for the
# server. `cargo leptos watch` builds as usual and keeps panic messages.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
RUSTC_BOOTSTRAP=1 \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none --cfg wasm_split" \
  cargo leptos build --release --frontend-only --split --lib-cargo-args=-Zbuild-std=std,panic_abort
cargo leptos build --release --server-only
bash scripts/precompress.sh
