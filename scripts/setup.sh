#!/usr/bin/env bash
# Installs whatever scanpay needs that this machine lacks, following ../shared/TOOLCHAIN.md.
# Idempotent: every step checks first, so a warm machine finishes in seconds.
# Prints what it installs and why. Source scripts/env.sh afterwards for PATH and toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
t0=$(date +%s)

# Versions: cargo-leptos from TOOLCHAIN.md, wasm-bindgen-cli must equal the crate in Cargo.lock.
CARGO_LEPTOS_VERSION=0.3.11
wasm_bindgen_version() {
  if [ -f Cargo.lock ]; then
    awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock
  else
    sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml | head -1
  fi
}

SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

# 1. Debian packages: Rust 1.96 (rustc-web) with its std source, lld for wasm, Chromium, CJK fonts,
#    brotli (size reports, precompressed assets), wrk and bc (benchmarks), PostgreSQL (integration
#    tests on the second engine).
pkgs=(rustc-web cargo-web rust-web-src rustfmt-web rust-web-clippy lld-22 chromium fonts-noto-cjk fonts-noto-color-emoji brotli wrk bc postgresql curl ca-certificates pkg-config)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages (not present: ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's binaryen (wasm-opt 108) breaks hydration; it must not be on PATH.
if dpkg -s binaryen >/dev/null 2>&1; then
  say "removing Debian's binaryen: its wasm-opt 108 produces WASM that fails to hydrate"
  $SUDO apt-get remove -y -qq binaryen >/dev/null
fi

# 2. The Debian toolchain as a rustup toolchain named debian-web.
if command -v rustup >/dev/null 2>&1; then
  if ! rustup toolchain list | grep -q '^debian-web'; then
    say "linking Debian's rustc-web as rustup toolchain debian-web (stable has no wasm32 std here)"
    rustup toolchain link debian-web /usr
  fi
  export RUSTUP_TOOLCHAIN=debian-web
fi
# rustfmt/clippy for the debian toolchain come from the host rustup toolchain when missing.
SYSROOT=$(rustc --print sysroot)

# 3. wasm32 standard library, built once from rust-web-src into the sysroot.
WASM_LIB="$SYSROOT/lib/rustlib/wasm32-unknown-unknown/lib"
if ! ls "$WASM_LIB"/libstd-*.rlib >/dev/null 2>&1; then
  say "building the wasm32 standard library into $WASM_LIB (no download server for rustup targets)"
  tmp=$(mktemp -d)
  mkdir -p "$tmp/src"
  cat >"$tmp/Cargo.toml" <<'TOML'
[package]
name = "wasm_std_seed"
version = "0.0.0"
edition = "2021"
[lib]
crate-type = ["rlib"]
[profile.release]
lto = true
codegen-units = 1
panic = "abort"
debug = false
TOML
  echo 'pub fn seed() -> u32 { 1 }' >"$tmp/src/lib.rs"
  (cd "$tmp" && RUSTC_BOOTSTRAP=1 cargo build -q --release --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort)
  $SUDO mkdir -p "$WASM_LIB"
  find "$tmp/target/wasm32-unknown-unknown/release/deps" -name '*.rlib' ! -name 'libwasm_std_seed-*' -exec $SUDO cp {} "$WASM_LIB/" \;
  rm -rf "$tmp"
fi

# 4. Linker for wasm32: rust-lld from LLVM 22.
LLD="$SYSROOT/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"
if [ ! -x "$LLD" ]; then
  say "linking lld-22 as rust-lld (the wasm32 linker)"
  $SUDO mkdir -p "$(dirname "$LLD")"
  $SUDO ln -sf /usr/lib/llvm-22/bin/lld "$LLD"
fi

# Faster tool builds: the tools run the same without LTO (TOOLCHAIN.md: 26 -> 14.5 min).
tool_build_env=(CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1)
export PATH="$HOME/.cargo/bin:$PATH"

# 5. wasm-bindgen-cli, exactly the version of the wasm-bindgen crate.
WB=$(wasm_bindgen_version)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB" ]; then
  say "installing wasm-bindgen-cli $WB (must match the wasm-bindgen crate; no prebuilt download here)"
  # Without --locked: its lockfile names a webpki-roots release the registry does not serve.
  env "${tool_build_env[@]}" cargo install -q wasm-bindgen-cli --version "$WB" --force
fi

# 6. cargo-leptos.
if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (builds from source, ~15 min on 2 cores)"
  env "${tool_build_env[@]}" cargo install -q cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --force
fi

# 7. cargo-deny: the supply-chain gate (deny.toml).
CARGO_DENY_VERSION=0.20.2
if [ "$(cargo deny --version 2>/dev/null | awk '{print $2}')" != "$CARGO_DENY_VERSION" ]; then
  say "installing cargo-deny $CARGO_DENY_VERSION (the supply-chain check; builds from source, ~4 min)"
  env "${tool_build_env[@]}" cargo install -q cargo-deny --version "$CARGO_DENY_VERSION" --locked --force
fi

# 8. npm: wasm-opt (binaryen@132; Debian's breaks hydration) and Playwright, from the committed lockfile.
if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ ! -d end2end/node_modules/@playwright/test ] \
   || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  say "installing end2end npm packages (Playwright test runner, binaryen's wasm-opt)"
  (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
fi

say "ready in $(( $(date +%s) - t0 )) s"
