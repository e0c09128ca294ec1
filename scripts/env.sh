# Source me: selects the toolchain and tools that scripts/setup.sh installed.
# shellcheck shell=bash
_scanpay_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if command -v rustup >/dev/null 2>&1 && rustup toolchain list 2>/dev/null | grep -q '^debian-web'; then
  export RUSTUP_TOOLCHAIN=debian-web
fi
# binaryen's wasm-opt from npm must come before anything else named wasm-opt.
export PATH="$_scanpay_root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
unset _scanpay_root
